"""The demo's last step: nbgrader's feedback and every export of the gradebook, as the course's commands write them.

``grades.csv`` comes from nbgrader's ``CsvExportPlugin`` (``nbgrader export``); ``canvas``, ``moodle``,
``questions`` and ``gradescope`` from the exporters of :mod:`autograder.exports` (``rnngrad-grader export
--format ...``); ``feedback`` runs nbgrader's ``generate_feedback`` and writes one file per student
(``rnngrad-grader export --format feedback``). Every file goes where those commands put it by default.
"""
from __future__ import annotations

__all__ = ["FORMATS", "export_csv", "export_all", "gradebook_rows"]

import os

from .demo_course import nbgrader_api

#: every export the demo writes, in the order of ``rnngrad-grader export --format``
FORMATS = ("canvas", "moodle", "questions", "gradescope", "feedback")


def export_csv(course: str) -> str:
    """grades.csv of the whole gradebook, written by nbgrader's CSV export plugin (as ``nbgrader export``)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    api = nbgrader_api(course)
    path = os.path.join(course, "grades.csv")
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        CsvExportPlugin(to=path).export(gb)
    return path


def export_all(course: str, sets) -> tuple[dict[str, list[str]], list[str]]:
    """Every export of :data:`FORMATS` in the course's ``exports/`` folder.

    Returns (format -> files written, problem lines the exporters reported). The feedback pages nbgrader
    generates on the way are in ``feedback/<student>/<set>/``.
    """
    from nbgrader.api import Gradebook

    from .exports import FORMATS as EXPORTERS
    from .exports.feedback_bundle import write_feedback_bundles

    api = nbgrader_api(course)
    written: dict[str, list[str]] = {}
    problems: list[str] = []
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for fmt in FORMATS:
            if fmt not in EXPORTERS:
                continue
            plugin = EXPORTERS[fmt](config=api.config, course_root=course)
            plugin.export(gb)
            written[fmt] = list(plugin.written)
            problems += [f"{fmt}: {line}" for line in plugin.problems]
    written["feedback"] = []
    for assignment in sets:
        done = write_feedback_bundles(course, assignment)
        written["feedback"] += [done.written[s] for s in sorted(done.written)]
        problems += [f"feedback: {line}" for line in done.problems]
    return written, problems


def gradebook_rows(course: str, sets) -> tuple[dict, dict]:
    """(set -> student -> :class:`~autograder.exports.rows.Total`, set -> student -> sum of manual scores) as
    nbgrader's gradebook holds them after the review (late penalties, hand grading and flags included)."""
    from nbgrader.api import Gradebook

    from .exports import rows

    api = nbgrader_api(course)
    totals, manual = {}, {}
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        students = rows.select_students(gb)
        for a in rows.select_assignments(gb, list(sets)):
            totals[a.name] = rows.totals(gb, a, students)
            hand: dict[str, float] = {}
            for q in rows.question_scores(gb, a, students):
                if q.manual_score is not None:
                    hand[q.student] = hand.get(q.student, 0.0) + q.manual_score
            manual[a.name] = hand
    return totals, manual
