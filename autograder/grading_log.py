"""The grading log: what the gradebook cannot hold, one JSON file per graded submission.

``grading_log/<assignment>/<student>.json`` next to the gradebook holds per-case verdicts, flags, faults, the
secret seed and the notebook's hash; ``grading_log/<assignment>/runs.jsonl`` gets one line per graded
submission and run, so that a regrade can be reproduced with the same seed if asked. Written only by the
trusted grading process, after the gradebook transaction (see :mod:`autograder.gradebook`).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os

from . import inert
from .atomic_files import replace_file, write_all

LOG_DIR = "grading_log"


def log_dir(course_root: str, assignment: str) -> str:
    return os.path.join(course_root, LOG_DIR, assignment)


def result_record(result) -> dict:
    """The JSON-safe part of a SubmissionResult (no notebook, no values returned by student code).

    Every string encodes as UTF-8 (:func:`autograder.inert.json_safe`: a lone surrogate, from an exception
    message or a folder name that is not UTF-8, is written as a visible escape); control characters are
    kept (JSON escapes them), so the log says exactly what the submission produced."""
    rec = {name: getattr(result, name) for name in _logged_fields(type(result))}
    rec["cases"] = {gid: [_case_fields(c) for c in crs] for gid, crs in result.cases.items()}
    text = json.dumps(rec, default=str, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:      # a lone surrogate somewhere: every string made safe
        return inert.json_safe(json.loads(text))
    return json.loads(text)         # every string encodes already: json_safe would change nothing


@functools.lru_cache(maxsize=None)
def _logged_fields(cls) -> tuple[str, ...]:
    """The names of the fields of dataclass ``cls`` that the log keeps (metadata ``log`` not False)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("log", True))


@functools.lru_cache(maxsize=None)
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _case_fields(case) -> dict:
    """A case verdict's fields (a flat dataclass: what ``dataclasses.asdict`` gives, without its deep copy)."""
    return {name: getattr(case, name) for name in _field_names(type(case))}


def write_record(course_root: str, result) -> None:
    """Replace the student's log file, then append the run line (seed included). The files are ASCII
    JSON with no lone surrogate: readable by any strict UTF-8 reader."""
    rec = result_record(result)
    d = log_dir(course_root, result.assignment)
    replace_file(d, f"{result.student}.json", json.dumps(rec, sort_keys=True).encode("ascii"))
    line = {k: rec[k] for k in ("student", "timestamp", "seed", "graded_at", "notebook_sha256", "scores",
                                "flags", "errors")}
    fd = os.open(os.path.join(d, "runs.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        write_all(fd, (json.dumps(line, sort_keys=True) + "\n").encode("ascii"))
    finally:
        os.close(fd)


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
