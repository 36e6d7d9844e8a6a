"""Moodle grade import CSV (Grades > Import > CSV file).

Columns: ``Username`` (the nbgrader id), ``ID number`` (the LMS user id nbgrader keeps, when set),
``Email address``, ``First name``, ``Last name``, then one column per assignment with nbgrader's score after the
late penalty, every digit kept (Moodle rounds to its own display precision). On import, map ``Username`` (or
``Email address``, ``ID number``) to the matching user field and each assignment column to its grade item.
A student without a submission gets ``missing`` ('' by default: Moodle leaves the grade as it is).
"""
from __future__ import annotations

__all__ = ["MoodleExportPlugin", "IDENTITY_COLUMNS"]

import csv
import io

from . import rows
from .base import CourseExportPlugin, write_text_atomic

IDENTITY_COLUMNS = ["Username", "ID number", "Email address", "First name", "Last name"]


class MoodleExportPlugin(CourseExportPlugin):
    """nbgrader exporter: a Moodle grade-import CSV (default ``exports/moodle_grades.csv`` in the course)."""

    default_to = "moodle_grades.csv"

    def export(self, gradebook) -> None:
        assignments, students = self.assignments(gradebook), self.students(gradebook)
        totals = {a.name: rows.totals(gradebook, a, students) for a in assignments}
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(IDENTITY_COLUMNS + [a.name for a in assignments])
        for s in students:
            writer.writerow([s.id, s.lms_user_id or "", s.email or "", s.first_name or "", s.last_name or ""]
                            + [self.total_text(totals[a.name][s.id]) for a in assignments])
        self.written = [write_text_atomic(self.destination(gradebook), buf.getvalue())]
        self.log.info("Wrote the Moodle grade import file %s", self.written[0])
