"""The only writer of grades: nbgrader's Gradebook API, one transaction per submission.

Two stores, both written only by the trusted grading process:

* nbgrader's gradebook (``gradebook.db`` unless the course config says otherwise): the scores
  of the autograded test cells (``auto_score``), the state of the hand-graded written answers,
  a short comment on each answer cell, the submission time and nbgrader's late-submission penalty
  (:mod:`autograder.late`: the course's due date, extensions and ``LateSubmissionPlugin``), and
  formgrader's "flagged" mark with the kinds of flags in the flagged cells' comments
  (:mod:`autograder.flag_comments`). formgrader, ``generate_feedback`` and ``export`` read it as if
  ``nbgrader autograde`` had filled it; manual scores and comments are never touched.
* the grading log (:mod:`autograder.grading_log`, re-exported here): what the gradebook cannot hold
  (per-case verdicts, full flag texts, faults, the secret seed, the notebook's hash).

Order (matters for resuming): the gradebook transaction is committed first, the log file is
replaced atomically second. A crash between the two leaves a submission that the next run
grades again, which is harmless because grading is idempotent.
"""
from __future__ import annotations

__all__ = ["ScoreChange", "open_gradebook", "batch_mode", "check_assignment", "stored_scores", "ensure_submission",
           "ensure_submissions", "write_grades", "already_graded", "LOG_DIR", "log_dir", "result_record",
           "write_record", "read_record", "load_records", "mark_flagged"]

import contextlib
import os
import warnings
from dataclasses import dataclass

from nbgrader.api import (BaseCell, Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment,
                          SubmittedNotebook)
from nbgrader.utils import parse_utc
from sqlalchemy import event
from sqlalchemy.exc import OperationalError, SAWarning

from . import inert
from .flag_comments import comments_with_flags
from .grading_log import LOG_DIR, load_records, log_dir, read_record, result_record, write_record
from .late import LatePolicy, policy_for
from .points import points


@dataclass(frozen=True)
class ScoreChange:
    """A score that a regrade changed."""
    student: str
    grade_id: str
    old: float | None
    new: float | None

    def __str__(self) -> str:
        fmt = lambda x: "-" if x is None else points(x)  # noqa: E731
        return f"{self.student} {self.grade_id}: {fmt(self.old)} -> {fmt(self.new)}"


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


def write_grades(gb: Gradebook, result, notebook: str, course_root: str | None = None,
                 late_policy: LatePolicy | None = None) -> list[ScoreChange]:
    """Store one graded submission in one transaction and return the scores that changed.

    ``result`` is a :class:`autograder.grade.SubmissionResult`. Autograded test cells get
    ``auto_score``; a hand-graded written answer gets ``auto_score`` 0 when it is missing or
    left as released (nbgrader's "No response"), and otherwise stays for the instructor
    (``auto_score`` None, ``needs_manual_grade`` True). As in nbgrader, a grade that also has a
    manual score is marked for review. Then, as ``nbgrader autograde`` does, the notebook's late
    penalty is set from its score (manual scores included) and the submission's lateness by
    ``late_policy`` (default: the policy of the course at ``course_root``, else nbgrader's default,
    no penalty); a policy that fails adds a fault to ``result.errors`` and flags the notebook.
    """
    assignment, student = result.assignment, result.student
    if late_policy is None:
        late_policy = policy_for(course_root) if course_root else LatePolicy(None)
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
        names = [name for _, name in comments]
        first = next((n for n in result.comments if n in names and n not in result.written), None)
        texts = comments_with_flags(result.comments, result.flags, names, first)
        for comment, name in comments:
            text = texts.get(name)
            comment.auto_comment = None if text is None else inert.unicode_safe(text)
        problem = late_policy.assign(gb, sub, student)
        if problem is not None:
            result.errors.append(problem)
            sub.flagged = True
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise
    return changes


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
