"""Writing graded submissions into nbgrader's gradebook: scores, comments, flags, late penalties.

Part of :mod:`autograder.gradebook` (which re-exports every name here): :func:`write_grades` stores one
submission in one transaction, :func:`write_grades_many` a batch of them in one transaction (read with a
few queries for the whole batch), :func:`ensure_submissions` creates the rows nbgrader keeps for ungraded
submissions. Manual scores and comments are never touched.
"""
from __future__ import annotations

__all__ = ["ScoreChange", "ensure_submission", "ensure_submissions", "write_grades", "write_grades_many"]

import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from nbgrader.api import (BaseCell, Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment,
                          SubmittedNotebook)
from nbgrader.utils import parse_utc
from sqlalchemy import bindparam, null, select, update
from sqlalchemy.exc import SAWarning

from . import inert
from .flag_comments import comments_with_flags
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
    return write_grades_many(gb, [result], notebook, course_root, late_policy)[0]


def write_grades_many(gb: Gradebook, results, notebook: str, course_root: str | None = None,
                      late_policy: LatePolicy | None = None) -> list[list[ScoreChange]]:
    """Store several graded submissions (as :func:`write_grades` does each) in ONE transaction.

    Either all of them are committed or none (an error rolls the whole batch back).

    Returns:
        The changed scores of each result, in the order of ``results``.

    Example: ``write_grades_many(gb, [res_ana, res_ben], "ps1_softmax")`` -> ``[[], [ScoreChange(...)]]``.
    """
    if late_policy is None:
        late_policy = policy_for(course_root) if course_root else LatePolicy(None)
    results = list(results)
    if not results:
        return []
    try:
        assignment = results[0].assignment
        if any(r.assignment != assignment for r in results):
            raise ValueError("write_grades_many: results of one assignment expected, got "
                             f"{sorted({r.assignment for r in results})}")
        subs = _submitted_notebooks(gb, assignment, notebook, [r.student for r in results])
        missing = [r.student for r in results if r.student not in subs]
        if missing:     # created (and committed) as empty submissions first, as ensure_submission does
            ensure_submissions(gb, assignment, missing)
            subs = _submitted_notebooks(gb, assignment, notebook, [r.student for r in results])
        ids = [sub.id for sub in subs.values()]
        grades, comments = _cells_by_notebook(gb, Grade, ids), _cells_by_notebook(gb, Comment, ids)
        out, grade_rows, comment_rows = [], [], []
        for result in results:
            sid = subs[result.student].id
            changes, new_grades, new_comments = _staged_cells(result, grades.get(sid, []), comments.get(sid, []))
            out.append(changes)
            grade_rows += new_grades
            comment_rows += new_comments
        # the cells first (one statement each for the batch), so that a late policy reads the new scores
        if grade_rows:
            gb.db.execute(update(Grade.__table__).where(Grade.__table__.c.id == bindparam("row_id"))
                          .values(auto_score=bindparam("auto_score"),
                                  needs_manual_grade=bindparam("needs_manual_grade")), grade_rows)
        if comment_rows:
            gb.db.execute(update(Comment.__table__).where(Comment.__table__.c.id == bindparam("row_id"))
                          .values(auto_comment=bindparam("auto_comment")), comment_rows)
        with gb.db.no_autoflush:    # the late policy flushes when it needs to
            for result in results:
                _stage_submission(gb, result, subs[result.student], late_policy)
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise
    return out


def _submitted_notebooks(gb: Gradebook, assignment: str, notebook: str, students: list[str]) -> dict:
    """student -> SubmittedNotebook of ``notebook`` in ``assignment``, with its submission and assignment
    loaded (one query for them all; nbgrader's lazy loads would take two per student)."""
    from nbgrader.api import Assignment, Notebook
    from sqlalchemy.orm import contains_eager

    found = {}
    for start in range(0, len(students), 500):      # SQLite's limit on the parameters of one statement
        chunk = students[start:start + 500]
        rows = (gb.db.query(SubmittedNotebook)
                .join(SubmittedNotebook.assignment).join(SubmittedAssignment.assignment)
                .join(SubmittedNotebook.notebook)
                .filter(Assignment.name == assignment, Notebook.name == notebook,
                        Notebook.assignment_id == Assignment.id, SubmittedAssignment.student_id.in_(chunk))
                .options(contains_eager(SubmittedNotebook.assignment).contains_eager(SubmittedAssignment.assignment))
                .all())
        found.update((sub.assignment.student_id, sub) for sub in rows)
    return found


def _cells_by_notebook(gb: Gradebook, model, notebook_ids: list[int]) -> dict[int, list[tuple]]:
    """notebook id -> [(row id, cell name, auto_score, manual_score)] of ``model`` (Grade; for Comment the scores
    are None) for every notebook of ``notebook_ids``: plain rows, a few statements for the whole batch."""
    table, cells = model.__table__, BaseCell.__table__
    scores = (table.c.auto_score, table.c.manual_score) if model is Grade else (null(), null())
    out: dict[int, list[tuple]] = {}
    for start in range(0, len(notebook_ids), 500):
        chunk = notebook_ids[start:start + 500]
        query = select(table.c.notebook_id, table.c.id, cells.c.name, *scores)\
            .join(cells, table.c.cell_id == cells.c.id).where(table.c.notebook_id.in_(chunk))
        for notebook_id, *row in gb.db.execute(query):
            out.setdefault(notebook_id, []).append(tuple(row))
    return out


def _staged_cells(result, grades: list[tuple], comments: list[tuple]) -> tuple[list[ScoreChange], list, list]:
    """The changed scores of one result, and the new values of its grade and comment rows (for ``update``)."""
    student = result.student
    changes, grade_rows, comment_rows = [], [], []
    for row_id, gid, old, manual in grades:
        if gid in result.scores:
            new = float(result.scores[gid])
        elif gid in result.written:
            new = None if result.written[gid] == "answered" else 0.0
        else:  # a graded cell the pipeline does not know: never leave it pending by accident
            new = 0.0
        if old != new:
            changes.append(ScoreChange(student, gid, old, new))
        # as in nbgrader, a grade that also has a manual score is marked for review
        grade_rows.append({"row_id": row_id, "auto_score": new,
                           "needs_manual_grade": manual is not None or new is None})
    names = [name for _, name, _, _ in comments]
    first = next((n for n in result.comments if n in names and n not in result.written), None)
    texts = comments_with_flags(result.comments, result.flags, names, first)
    for row_id, name, _, _ in comments:
        text = texts.get(name)
        comment_rows.append({"row_id": row_id, "auto_comment": None if text is None else inert.unicode_safe(text)})
    return changes, grade_rows, comment_rows


def _stage_submission(gb: Gradebook, result, sub, late_policy: LatePolicy) -> None:
    """The submission's own rows, changed in ``gb``'s session (not committed): time, flag, late penalty."""
    if result.timestamp:
        sub.assignment.timestamp = _parse_utc(result.timestamp)
    if result.flags:
        sub.flagged = True      # formgrader's flag; never cleared here (the instructor may have set it)
    problem = late_policy.assign(gb, sub, result.student)
    if problem is not None:
        result.errors.append(problem)
        sub.flagged = True


#: nbgrader's own timestamp.txt format in UTC ("2026-01-05 10:00:00.123456 UTC"), parsed without dateutil
_UTC_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? UTC", re.ASCII)


def _parse_utc(ts: str) -> datetime:
    """nbgrader's ``parse_utc`` of a submission's timestamp (a naive datetime in UTC), with a quick path for the
    format ``nbgrader submit`` writes; anything else goes to ``parse_utc`` itself.

    Example: ``_parse_utc("2026-01-05 10:00:00.5 UTC")`` -> ``datetime(2026, 1, 5, 10, 0, 0, 500000)``.
    """
    m = _UTC_STAMP.fullmatch(ts)
    if m is None:
        return parse_utc(ts)
    *ymdhms, frac = m.groups()
    try:
        return datetime(*map(int, ymdhms), int((frac or "0").ljust(6, "0")))
    except ValueError:          # out-of-range fields: as nbgrader reads them (or fails)
        return parse_utc(ts)
