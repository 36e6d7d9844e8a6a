"""The only writer of grades: nbgrader's Gradebook API, one transaction per submission or per batch.

Two stores, both written only by the trusted grading process:

* nbgrader's gradebook (``gradebook.db`` unless the course config says otherwise; written by
  :mod:`autograder.gradebook_writes`, re-exported here): the scores
  of the autograded test cells (``auto_score``), the state of the hand-graded written answers,
  a short comment on each answer cell, the submission time and nbgrader's late-submission penalty
  (:mod:`autograder.late`: the course's due date, extensions and ``LateSubmissionPlugin``), and
  formgrader's "flagged" mark with the kinds of flags in the flagged cells' comments
  (:mod:`autograder.flag_comments`). formgrader, ``generate_feedback`` and ``export`` read it as if
  ``nbgrader autograde`` had filled it; manual scores and comments are never touched.
* the grading log (:mod:`autograder.grading_log`, re-exported here): what the gradebook cannot hold
  (per-case verdicts, full flag texts, faults, the secret seed, the notebook's hash).

Order (matters for resuming): the gradebook transaction (of one submission, or of a batch of them:
:func:`write_grades_many`, :mod:`autograder.writer`) is committed first, each submission's log file
is replaced atomically second. A crash between the two leaves submissions that the next run grades
again, which is harmless because grading is idempotent.
"""
from __future__ import annotations

__all__ = ["ScoreChange", "open_gradebook", "batch_mode", "check_assignment", "stored_scores", "ensure_submission",
           "ensure_submissions", "write_grades", "write_grades_many", "already_graded", "LOG_DIR", "log_dir",
           "result_record", "write_record", "read_record", "load_records", "mark_flagged"]

import contextlib
import os

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from .gradebook_writes import (ScoreChange, ensure_submission, ensure_submissions, write_grades,
                               write_grades_many)
from .grading_log import LOG_DIR, load_records, log_dir, read_record, result_record, write_record


def open_gradebook(db_url: str, course_id: str) -> Gradebook:
    """Open an existing gradebook; refuse to create one (that is generate_assignment's job)."""
    if db_url.startswith("sqlite:///"):
        path = db_url[len("sqlite:///"):]
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no gradebook at {path}; run `nbgrader generate_assignment` first")
    return Gradebook(db_url, course_id)


def mark_flagged(db_url: str, course_id: str, notebook: str, assignment: str, students) -> list[str]:
    """Set formgrader's ``flagged`` on the submitted notebook of each of ``students`` (e.g. those a class
    report flags for similar code, which grading one submission alone cannot see).

    Returns:
        The students that were not flagged yet, sorted; a student without a submission is skipped.
    """
    newly = []
    with open_gradebook(db_url, course_id) as gb:
        for student in sorted(students):
            try:
                sub = gb.find_submission_notebook(notebook, assignment, student)
            except MissingEntry:
                continue
            if not sub.flagged:
                sub.flagged = True
                newly.append(student)
        gb.db.commit()
    return newly


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
