"""The grading log: what the gradebook cannot hold, one JSON file per graded submission.

``grading_log/<assignment>/<student>.json`` next to the gradebook holds per-case verdicts, flags, faults, the
secret seed and the notebook's hash; ``grading_log/<assignment>/runs.jsonl`` gets one line per graded
submission and run, so that a regrade can be reproduced with the same seed if asked. Written only by the
trusted grading process, after the gradebook transaction (see :mod:`autograder.gradebook`).
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile

from . import inert

LOG_DIR = "grading_log"


def log_dir(course_root: str, assignment: str) -> str:
    return os.path.join(course_root, LOG_DIR, assignment)


def _atomic_write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)       # readers see the old file or the new one, never half of one
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def result_record(result) -> dict:
    """The JSON-safe part of a SubmissionResult (no notebook, no values returned by student code).

    Every string encodes as UTF-8 (:func:`autograder.inert.json_safe`: a lone surrogate, from an exception
    message or a folder name that is not UTF-8, is written as a visible escape); control characters are
    kept (JSON escapes them), so the log says exactly what the submission produced."""
    rec = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.metadata.get("log", True)}
    rec["cases"] = {gid: [dataclasses.asdict(c) for c in crs] for gid, crs in result.cases.items()}
    return inert.json_safe(json.loads(json.dumps(rec, default=str)))


def write_record(course_root: str, result) -> None:
    """Replace the student's log file, then append the run line (seed included). The files are ASCII
    JSON with no lone surrogate: readable by any strict UTF-8 reader."""
    rec = result_record(result)
    d = log_dir(course_root, result.assignment)
    _atomic_write(os.path.join(d, f"{result.student}.json"), json.dumps(rec, sort_keys=True))
    line = {k: rec[k] for k in ("student", "timestamp", "seed", "graded_at", "notebook_sha256", "scores",
                                "flags", "errors")}
    with open(os.path.join(d, "runs.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")


def read_record(course_root: str, assignment: str, student: str) -> dict | None:
    path = os.path.join(log_dir(course_root, assignment), f"{student}.json")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            rec = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return None
    return rec if isinstance(rec, dict) else None


def load_records(course_root: str, assignment: str) -> dict[str, dict]:
    """student -> log record, for every graded submission of an assignment (for class reports).

    A record of a folder name that is not UTF-8 holds an escaped form of it (:func:`result_record`); such
    a record is returned under the name the file has, the folder's own, as the grader saw it."""
    d = log_dir(course_root, assignment)
    out = {}
    if os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            if name.endswith(".json") and not name.startswith("."):
                rec = read_record(course_root, assignment, name[:-5])
                if rec is None:
                    continue
                student = rec.get("student")
                if not isinstance(student, str) or student == inert.unicode_safe(name[:-5]):
                    student = rec["student"] = name[:-5]
                out[student] = rec
    return out
