"""Per-question CSV: one row per student, assignment and graded cell, with every part of nbgrader's grade.

``nbgrader export --exporter autograder.exports.QuestionsExportPlugin --to questions.csv`` or
``python -m autograder export --format questions``. Columns: assignment, notebook, student_id, question (the
cell's grade_id), cell_type, auto_score, manual_score, extra_credit, score (nbgrader's: the manual score when
a grader gave one, else the automatic one, plus extra credit), max_score, needs_manual_grade. Students without
a submission have no rows. Late penalties apply to a whole notebook and are in the totals exports.
"""
from __future__ import annotations

__all__ = ["QuestionsExportPlugin", "COLUMNS", "questions_csv"]

import csv
import io

from . import rows
from .base import CourseExportPlugin, write_text_atomic

COLUMNS = ["assignment", "notebook", "student_id", "question", "cell_type", "auto_score", "manual_score",
           "extra_credit", "score", "max_score", "needs_manual_grade"]


def questions_csv(scores: list[rows.QuestionScore]) -> str:
    """The CSV text of ``scores`` (numbers with every digit kept).

    Example:
        >>> q = rows.QuestionScore("ps1", "ps1", "ana", "test_f", "code", 2.5, None, None, 2.5, 3.0, False)
        >>> questions_csv([q]).splitlines()[1]
        'ps1,ps1,ana,test_f,code,2.5,,,2.5,3.0,false'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for q in scores:
        writer.writerow([q.assignment, q.notebook, q.student, q.question, q.cell_type, rows.number(q.auto_score),
                         rows.number(q.manual_score), rows.number(q.extra_credit), rows.number(q.score),
                         rows.number(q.max_score), "true" if q.needs_manual_grade else "false"])
    return out.getvalue()


class QuestionsExportPlugin(CourseExportPlugin):
    """nbgrader exporter: the per-question CSV (default ``exports/questions.csv`` in the course)."""

    default_to = "questions.csv"

    def export(self, gradebook) -> None:
        students = self.students(gradebook)
        scores = [q for a in self.assignments(gradebook) for q in rows.question_scores(gradebook, a, students)]
        self.written = [write_text_atomic(self.destination(gradebook), questions_csv(scores))]
        self.log.info("Wrote %d question scores to %s", len(scores), self.written[0])
