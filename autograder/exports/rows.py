"""The gradebook as plain rows for the exporters: one total per student and assignment, one score per question.

Totals follow nbgrader's own ``CsvExportPlugin``: the raw score is ``SubmittedAssignment.score`` (every grade,
manual scores and extra credit included), the penalty is ``SubmittedAssignment.late_submission_penalty`` and
the score is ``max(0, raw - penalty)``. A student without a submission has ``submitted`` False (nbgrader's CSV
writes 0 for them; each exporter says what it writes). Each is read with one query per assignment.
"""
from __future__ import annotations

__all__ = ["Total", "QuestionScore", "select_assignments", "select_students", "totals", "question_scores",
           "number"]

import datetime
from dataclasses import dataclass

from nbgrader.api import (Assignment, BaseCell, Grade, Notebook, Student, SubmittedAssignment, SubmittedNotebook)
from sqlalchemy import func


@dataclass(frozen=True)
class Total:
    """One student's result on one assignment."""
    assignment: str
    student: str
    submitted: bool
    raw_score: float
    late_submission_penalty: float
    score: float                  # max(0, raw_score - late_submission_penalty), nbgrader's rule
    max_score: float
    timestamp: datetime.datetime | None
    flagged: bool
    needs_manual_grade: bool


@dataclass(frozen=True)
class QuestionScore:
    """One graded cell of one student's submitted notebook."""
    assignment: str
    notebook: str
    student: str
    question: str                 # the cell's grade_id
    cell_type: str                # "code" (autograded test) or "markdown" (written answer), as nbgrader says
    auto_score: float | None
    manual_score: float | None
    extra_credit: float | None
    score: float                  # nbgrader's Grade.score: the manual score if any, else the automatic one
    max_score: float
    needs_manual_grade: bool


def number(value) -> str:
    """A score as CSV text with every digit of the float kept ("" for None).

    Example:
        >>> number(1 / 3), number(15), number(None)
        ('0.3333333333333333', '15.0', '')
    """
    return "" if value is None else repr(float(value))


def select_assignments(gb, names=()) -> list:
    """The gradebook's assignments (ordered by due date, then name), only ``names`` when given.

    Raises LookupError naming an assignment that the gradebook does not have.
    """
    have = gb.assignments
    if not names:
        return list(have)
    by_name = {a.name: a for a in have}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise LookupError(f"the gradebook has no assignment {', '.join(map(repr, missing))}; "
                          f"it has {', '.join(sorted(by_name)) or 'none'}")
    return [by_name[n] for n in dict.fromkeys(names)]


def select_students(gb, ids=()) -> list:
    """The gradebook's students (ordered by last name, first name, id), only ``ids`` when given.

    Raises LookupError naming a student id that the gradebook does not have.
    """
    have = gb.db.query(Student).order_by(Student.last_name, Student.first_name, Student.id).all()
    if not ids:
        return have
    by_id = {s.id: s for s in have}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise LookupError(f"the gradebook has no student {', '.join(map(repr, missing[:10]))}")
    return [by_id[i] for i in dict.fromkeys(ids)]


def totals(gb, assignment, students) -> dict[str, Total]:
    """student id -> :class:`Total` of ``assignment`` (an nbgrader ``Assignment``) for each of ``students``."""
    flagged = func.max(SubmittedNotebook.flagged)
    query = gb.db.query(SubmittedAssignment.student_id, SubmittedAssignment.score,
                        SubmittedAssignment.late_submission_penalty, SubmittedAssignment.timestamp,
                        SubmittedAssignment.needs_manual_grade, flagged)\
        .outerjoin(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)\
        .filter(SubmittedAssignment.assignment_id == assignment.id)\
        .group_by(SubmittedAssignment.id)
    found = {row[0]: row for row in query}
    max_score = float(assignment.max_score or 0.0)
    out = {}
    for student in students:
        row = found.get(student.id)
        if row is None:
            out[student.id] = Total(assignment.name, student.id, False, 0.0, 0.0, 0.0, max_score, None, False, False)
            continue
        raw, penalty = float(row[1] or 0.0), float(row[2] or 0.0)
        out[student.id] = Total(assignment.name, student.id, True, raw, penalty, max(0.0, raw - penalty), max_score,
                                row[3], bool(row[5]), bool(row[4]))
    return out


def question_scores(gb, assignment, students) -> list[QuestionScore]:
    """Every grade of ``assignment`` for ``students``, by student (in the given order), notebook and cell name."""
    wanted = [s.id for s in students]
    query = gb.db.query(SubmittedAssignment.student_id, Notebook.name, BaseCell.name, Grade.cell_type,
                        Grade.auto_score, Grade.manual_score, Grade.extra_credit, Grade.score, Grade.max_score,
                        Grade.needs_manual_grade)\
        .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)\
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)\
        .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)\
        .join(BaseCell, Grade.cell_id == BaseCell.id)\
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)\
        .filter(Assignment.id == assignment.id)
    order = {sid: k for k, sid in enumerate(wanted)}
    rows = [QuestionScore(assignment.name, nb, sid, cell, cell_type or "", auto, manual, extra, float(score or 0.0),
                          float(top or 0.0), bool(pending))
            for sid, nb, cell, cell_type, auto, manual, extra, score, top, pending in query if sid in order]
    rows.sort(key=lambda r: (order[r.student], r.notebook, r.question))
    return rows
