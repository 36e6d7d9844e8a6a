"""The instructor's review in the demo, done through nbgrader's gradebook as formgrader does it.

* :func:`flag_reported`: every submission that a class report flags (static and behaviour flags, similar code,
  code pasted from the course package) gets formgrader's ``flagged`` mark on its submitted notebook. The grader
  already marks the flags it finds while grading; similarity is found by the report, across the class.
* :class:`HandGrading`: one written derivation, its student's text and the grader's score and comment
  (``demo_data/hand_grading.json`` and ``demo_data/derivations/<set>.md``); :meth:`HandGrading.apply` stores
  them as formgrader's grade and comment boxes do (``manual_score``, ``manual_comment``).
"""
from __future__ import annotations

__all__ = ["HandGrading", "hand_grading_for", "flag_reported"]

import json
from dataclasses import dataclass

from .demo_students import DATA, DemoStudent


@dataclass(frozen=True)
class HandGrading:
    """The grader's mark on one written answer of one student."""
    assignment: str
    student: str
    cell: str                 # the written answer's grade_id
    answer: str               # the student's text (Markdown)
    manual_score: float
    comment: str

    def answer_into(self, students: list[DemoStudent]) -> DemoStudent:
        """Put the student's text into their submission (and the mark into the roster); returns the student."""
        found = next((s for s in students if s.student == self.student), None)
        if found is None:
            raise LookupError(f"student: expected one of {', '.join(s.student for s in students)}, "
                              f"got {self.student!r}")
        found.answers[self.cell] = self.answer
        found.hand_graded = {"cell": self.cell, "manual_score": self.manual_score, "comment": self.comment}
        found.description += f"; {self.cell} graded by hand"
        return found

    def apply(self, course: str) -> float:
        """Store the score and comment in the gradebook as formgrader does; returns the cell's maximum score.

        Raises ValueError when the score is not within the cell's points.
        """
        from nbgrader.api import Gradebook

        from .demo_course import nbgrader_api

        api = nbgrader_api(course)
        with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
            grade = gb.find_grade(self.cell, self.assignment, self.assignment, self.student)
            if not 0 <= self.manual_score <= grade.max_score:
                raise ValueError(f"manual_score: expected 0 to {grade.max_score:g} for {self.cell}, "
                                 f"got {self.manual_score!r}")
            # formgrader's GradeHandler.put and CommentHandler.put
            grade.manual_score = self.manual_score
            grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
            gb.find_comment(self.cell, self.assignment, self.assignment, self.student).manual_comment = self.comment
            gb.db.commit()
            return float(grade.max_score)


def hand_grading_for(assignment: str) -> HandGrading:
    """The derivation the demo's grader marks by hand in ``assignment``.

    Example:
        >>> hand_grading_for("ps1_softmax").cell
        'derivation_1'
    """
    with open(DATA / "hand_grading.json", encoding="utf-8") as fh:
        data = json.load(fh)
    if assignment not in data["sets"]:
        raise LookupError(f"assignment: expected one of {', '.join(data['sets'])}, got {assignment!r}")
    mark = data["sets"][assignment]
    answer = (DATA / "derivations" / f"{assignment}.md").read_text(encoding="utf-8")
    return HandGrading(assignment, data["student"], data["cell"], answer, float(mark["manual_score"]),
                       mark["comment"])


def flag_reported(course: str, assignment: str, students) -> list[str]:
    """Set formgrader's ``flagged`` on the submitted notebook of each of ``students`` (those a report flags);
    returns the ones that were not flagged yet, sorted (what ``rnngrad-grader report`` does too)."""
    from .course import load_course
    from .gradebook import mark_flagged

    c = load_course(course, assignment)
    return mark_flagged(c.db_url, c.course_id, c.notebook_name, assignment, students)
