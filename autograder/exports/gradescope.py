"""Gradescope-style ``results.json`` per submission: ``<to>/<assignment>/<student>/results.json``.

The file follows Gradescope's autograder specification: ``score`` is nbgrader's score after the late penalty
(it is what Gradescope records), and ``tests`` lists, for each autograded question the grading log knows, one
test per case (name, score, max_score, output, visibility), then one per other graded cell (the written
answers, with the grader's comment as output), then the late penalty as a test of negative score. Visible
cases are ``"visible"``; hidden cases are ``"after_published"`` (students see them once the grades are
published) and their output is the feedback's fixed sentence, never a value the student's code returned, so
no hidden input reaches the file. When a grader changed a question's score, an ``adjustment`` test makes the
question's tests add up to the gradebook's score. Numbers keep every digit.
"""
from __future__ import annotations

__all__ = ["GradescopeExportPlugin", "results_for", "case_tests"]

import json
import os

from nbgrader.api import BaseCell, Comment, SubmittedAssignment, SubmittedNotebook

from .. import feedback, grading_log
from ..specs import CaseResult
from . import rows
from .base import CourseExportPlugin, safe_name, write_text_atomic

HIDDEN = "after_published"
VISIBLE = "visible"
#: a question's case points and its gradebook score differing by more than this get an adjustment test
ADJUSTMENT_TOLERANCE = 1e-9


def _specs(assignment: str) -> dict:
    """grade_id -> Spec of an assignment the course's specs know, else {}."""
    from ..specs import specs_for

    try:
        return {s.grade_id: s for s in specs_for(assignment)}
    except Exception:   # an assignment without specs: its questions are exported without cases
        return {}


def _case(raw) -> CaseResult | None:
    try:
        c = CaseResult(**raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(c.case, str) or not isinstance(c.passed, bool) \
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (c.points, c.max_points)):
        return None
    return c


def case_tests(spec, cases: list) -> list[dict]:
    """One Gradescope test per case of a graded function (hidden ones visible after publication).

    Args:
        spec: the function's Spec (its published case names decide what is visible).
        cases: the case records of the grading log (dicts of :class:`~autograder.specs.CaseResult`'s fields).
    """
    published = set(spec.published_names)
    tests = []
    for raw in cases:
        c = _case(raw) if isinstance(raw, dict) else None
        if c is None:
            continue
        hidden = c.case not in published
        tests.append({"name": f"{spec.function}: {'hidden' if hidden else 'visible'} case {c.case}",
                      "score": float(c.points) if c.passed else 0.0, "max_score": float(c.max_points),
                      "output": feedback.case_line(c, hidden, spec).strip(),
                      "visibility": HIDDEN if hidden else VISIBLE})
    return tests


def results_for(total: rows.Total, questions: list[rows.QuestionScore], comments: dict[str, str],
                record: dict | None, specs: dict) -> dict:
    """The results.json content of one submission.

    Args:
        total: the submission's total (nbgrader's score and penalty).
        questions: its graded cells.
        comments: cell name -> the comment nbgrader shows (manual, else automatic).
        record: its grading-log record, or None (graded by ``nbgrader autograde``).
        specs: grade_id -> Spec of the assignment.
    """
    logged = record.get("cases") if isinstance(record, dict) and isinstance(record.get("cases"), dict) else {}
    tests = []
    order = {gid: k for k, gid in enumerate(specs)}
    for q in sorted(questions, key=lambda q: (order.get(q.question, len(order)), q.question)):
        spec = specs.get(q.question)
        cases = case_tests(spec, logged.get(q.question) or []) if spec is not None else []
        if cases:
            tests.extend(cases)
            diff = q.score - sum(t["score"] for t in cases)
            if abs(diff) > ADJUSTMENT_TOLERANCE:
                tests.append({"name": f"{spec.function}: adjustment by the grader", "score": diff, "max_score": 0.0,
                              "output": comments.get(spec.function) or "", "visibility": HIDDEN})
            continue
        written = q.cell_type == "markdown"
        tests.append({"name": q.question, "score": q.score, "max_score": q.max_score,
                      "output": comments.get(q.question) or "", "visibility": VISIBLE if written else HIDDEN})
    if total.late_submission_penalty:
        tests.append({"name": "late submission penalty", "score": -total.late_submission_penalty, "max_score": 0.0,
                      "output": "nbgrader's late-submission policy", "visibility": VISIBLE})
    return {"score": total.score, "output": f"{total.assignment}: {total.score!r} of {total.max_score!r} points",
            "tests": tests,
            "extra_data": {"assignment": total.assignment, "student": total.student, "raw_score": total.raw_score,
                           "late_submission_penalty": total.late_submission_penalty,
                           "max_score": total.max_score}}


def _comments(gradebook, assignment, student: str) -> dict[str, str]:
    query = gradebook.db.query(BaseCell.name, Comment.comment)\
        .join(Comment, Comment.cell_id == BaseCell.id)\
        .join(SubmittedNotebook, Comment.notebook_id == SubmittedNotebook.id)\
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)\
        .filter(SubmittedAssignment.assignment_id == assignment.id, SubmittedAssignment.student_id == student)
    return {name: text for name, text in query if text}


class GradescopeExportPlugin(CourseExportPlugin):
    """nbgrader exporter: a Gradescope ``results.json`` per submission, under the folder ``to`` (default
    ``exports/gradescope`` in the course)."""

    default_to = "gradescope"

    def export(self, gradebook) -> None:
        root, dest = self.root(gradebook), self.destination(gradebook)
        students = self.students(gradebook)
        self.written = []
        for a in self.assignments(gradebook):
            specs = _specs(a.name)
            totals = rows.totals(gradebook, a, students)
            questions: dict[str, list] = {}
            for q in rows.question_scores(gradebook, a, students):
                questions.setdefault(q.student, []).append(q)
            for s in students:
                total = totals[s.id]
                if not total.submitted:
                    continue
                if safe_name(a.name) is None or safe_name(s.id) is None:
                    self.report(f"{a.name}/{s.id}: not exported (the name cannot be a folder)")
                    continue
                record = grading_log.read_record(root, a.name, s.id)
                data = results_for(total, questions.get(s.id, []), _comments(gradebook, a, s.id), record, specs)
                path = os.path.join(dest, a.name, s.id, "results.json")
                self.written.append(write_text_atomic(path, json.dumps(data, indent=1, ensure_ascii=True) + "\n"))
        self.log.info("Wrote %d Gradescope results files under %s", len(self.written), dest)
