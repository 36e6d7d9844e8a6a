"""The only writer of grades: nbgrader's Gradebook API, one transaction per submission.

Two stores, both written only by the trusted grading process:

* nbgrader's gradebook (``gradebook.db`` unless the course config says otherwise): the scores
  of the autograded test cells (``auto_score``), the state of the hand-graded written answers,
  a short comment on each answer cell, and formgrader's "flagged" mark when there are flags. formgrader, ``generate_feedback`` and ``export``
  read it as if ``nbgrader autograde`` had filled it.
* the grading log, ``grading_log/<assignment>/<student>.json`` next to the gradebook: what the
  gradebook cannot hold (per-case verdicts, flags, faults, the secret seed, the notebook's
  hash), and ``grading_log/<assignment>/runs.jsonl``, one line per graded submission and run,
  so that a regrade can be reproduced with the same seed if asked.

Order (matters for resuming): the gradebook transaction is committed first, the log file is
replaced atomically second. A crash between the two leaves a submission that the next run
grades again, which is harmless because grading is idempotent.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import warnings
from dataclasses import dataclass

from nbgrader.api import (BaseCell, Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment,
                          SubmittedNotebook)
from nbgrader.utils import parse_utc
from sqlalchemy import event
from sqlalchemy.exc import OperationalError, SAWarning

from . import inert

LOG_DIR = "grading_log"


@dataclass(frozen=True)
class ScoreChange:
    """A score that a regrade changed."""
    student: str
    grade_id: str
    old: float | None
    new: float | None

    def __str__(self) -> str:
        fmt = lambda x: "-" if x is None else f"{x:g}"  # noqa: E731
        return f"{self.student} {self.grade_id}: {fmt(self.old)} -> {fmt(self.new)}"


def open_gradebook(db_url: str, course_id: str) -> Gradebook:
    """Open an existing gradebook; refuse to create one (that is generate_assignment's job)."""
    if db_url.startswith("sqlite:///"):
        path = db_url[len("sqlite:///"):]
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no gradebook at {path}; run `nbgrader generate_assignment` first")
    return Gradebook(db_url, course_id)


@contextlib.contextmanager
def batch_mode(gb: Gradebook):
    """Cheaper commits while a batch runs, for an SQLite gradebook.

    Each submission is still one committed transaction, but in write-ahead-log mode with
    ``synchronous=NORMAL`` a commit is an append instead of two fsyncs: what is committed
    survives a crash or interruption of the grader (it is in the operating system's hands);
    only a power cut could undo the last few commits, never corrupt the file. The usual
    rollback journal is put back at the end, so nbgrader finds the file as it left it.
    """
    if gb.engine.dialect.name != "sqlite":
        yield gb
        return

    def pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    gb.db.remove()
    gb.engine.dispose()
    try:
        with gb.engine.connect() as conn:
            mode = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar() or "delete").lower()
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except OperationalError:   # another program holds the file (formgrader?): keep its mode
        yield gb
        return
    if mode not in ("delete", "truncate", "persist", "memory", "wal", "off"):
        mode = "delete"
    event.listen(gb.engine, "connect", pragmas)
    gb.engine.dispose()
    try:
        yield gb
    finally:
        gb.db.remove()
        event.remove(gb.engine, "connect", pragmas)
        gb.engine.dispose()
        try:
            with gb.engine.connect() as conn:
                conn.exec_driver_sql(f"PRAGMA journal_mode={mode}")
        except OperationalError:   # busy: the file stays in WAL mode, which nbgrader reads just as well
            pass


def check_assignment(gb: Gradebook, assignment: str, notebook: str) -> None:
    """The assignment and its notebook must be in the gradebook (made by generate_assignment)."""
    try:
        gb.find_notebook(notebook, assignment)
    except MissingEntry:
        raise LookupError(f"the gradebook has no notebook {notebook!r} in assignment {assignment!r}; "
                          "run `nbgrader generate_assignment` first") from None


def stored_scores(gb: Gradebook, assignment: str, notebook: str, student: str) -> dict[str, float | None] | None:
    """grade_id -> auto_score of a student's submission, or None when there is no submission."""
    try:
        sub = gb.find_submission_notebook(notebook, assignment, student)
    except MissingEntry:
        return None
    return {g.name: g.auto_score for g in sub.grades}


def ensure_submission(gb: Gradebook, assignment: str, notebook: str, student: str):
    """The student's SubmittedNotebook, creating the student and an ungraded submission if needed.

    Creating commits (nbgrader's ``add_student`` / ``add_submission`` do), which is harmless:
    an ungraded submission is what nbgrader itself leaves before it runs a notebook.
    """
    try:
        gb.find_student(student)
    except MissingEntry:
        gb.add_student(student)
    try:
        gb.find_submission(assignment, student)
    except MissingEntry:
        with warnings.catch_warnings():
            # nbgrader's add_submission builds rows before adding them to the session; SQLAlchemy
            # warns about it (nbgrader autograde shows the same warning). The rows are stored.
            warnings.simplefilter("ignore", SAWarning)
            gb.add_submission(assignment, student)
    return gb.find_submission_notebook(notebook, assignment, student)


def ensure_submissions(gb: Gradebook, assignment: str, students: list[str]) -> None:
    """Create, in one transaction, the students and ungraded submissions that do not exist yet.

    The rows are the ones ``Gradebook.add_submission`` makes (a submitted notebook per notebook
    of the assignment, a grade per graded cell, a comment per answer and task cell), built from
    nbgrader's own model classes; one commit for the batch instead of two per student.
    """
    students = list(dict.fromkeys(students))
    if not students:
        return
    try:
        with gb.db.no_autoflush:
            known = {sid for (sid,) in gb.db.query(Student.id).filter(Student.id.in_(students))}
            for sid in students:
                if sid not in known:
                    gb.db.add(Student(id=sid))
            target = gb.find_assignment(assignment)
            have = {sid for (sid,) in gb.db.query(SubmittedAssignment.student_id)
                    .filter(SubmittedAssignment.assignment_id == target.id,
                            SubmittedAssignment.student_id.in_(students))}
            for sid in students:
                if sid in have:
                    continue
                submission = SubmittedAssignment(assignment_id=target.id, student_id=sid)
                gb.db.add(submission)
                for nb in target.notebooks:
                    snb = SubmittedNotebook(notebook_id=nb.id, assignment=submission)
                    gb.db.add(snb)
                    for cell in nb.grade_cells:
                        gb.db.add(Grade(cell_id=cell.id, notebook=snb))
                    for cell in nb.solution_cells:
                        gb.db.add(Comment(cell_id=cell.id, notebook=snb))
                    for cell in nb.task_cells:
                        gb.db.add(Comment(cell_id=cell.id, notebook=snb))
                        gb.db.add(Grade(cell_id=cell.id, notebook=snb))
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise


def write_grades(gb: Gradebook, result, notebook: str) -> list[ScoreChange]:
    """Store one graded submission in one transaction and return the scores that changed.

    ``result`` is a :class:`autograder.grade.SubmissionResult`. Autograded test cells get
    ``auto_score``; a hand-graded written answer gets ``auto_score`` 0 when it is missing or
    left as released (nbgrader's "No response"), and otherwise stays for the instructor
    (``auto_score`` None, ``needs_manual_grade`` True). As in nbgrader, a grade that also has a
    manual score is marked for review.
    """
    assignment, student = result.assignment, result.student
    try:
        try:
            sub = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            sub = ensure_submission(gb, assignment, notebook, student)
        changes = []
        # one query for the grades with their cell names (instead of one lazy load per grade)
        grades = gb.db.query(Grade, BaseCell.name).join(BaseCell, Grade.cell_id == BaseCell.id)\
            .filter(Grade.notebook_id == sub.id).all()
        comments = gb.db.query(Comment, BaseCell.name).join(BaseCell, Comment.cell_id == BaseCell.id)\
            .filter(Comment.notebook_id == sub.id).all()
        if result.timestamp:
            sub.assignment.timestamp = parse_utc(result.timestamp)
        if result.flags:
            sub.flagged = True      # formgrader's flag; never cleared here (the instructor may have set it)
        for grade, gid in grades:
            if gid in result.scores:
                new = float(result.scores[gid])
            elif gid in result.written:
                new = None if result.written[gid] == "answered" else 0.0
            else:  # a graded cell the pipeline does not know: never leave it pending by accident
                new = 0.0
            if grade.auto_score != new:
                changes.append(ScoreChange(student, gid, grade.auto_score, new))
            grade.auto_score = new
            grade.needs_manual_grade = grade.manual_score is not None or new is None
        for comment, name in comments:
            text = result.comments.get(name)
            comment.auto_comment = None if text is None else inert.unicode_safe(text)
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise
    return changes


# -- the grading log ------------------------------------------------------------------------

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


def already_graded(gb: Gradebook, course_root: str, assignment: str, notebook: str, student: str,
                   timestamp: str | None, notebook_sha256: str | None) -> bool:
    """True when the log says this exact submission (same timestamp and notebook bytes) was graded
    and the gradebook still holds a score for every autograded cell."""
    rec = read_record(course_root, assignment, student)
    if rec is None or rec.get("timestamp") != timestamp or rec.get("notebook_sha256") != notebook_sha256:
        return False
    stored = stored_scores(gb, assignment, notebook, student)
    if stored is None:
        return False
    return all(stored.get(gid) == score for gid, score in rec.get("scores", {}).items())
