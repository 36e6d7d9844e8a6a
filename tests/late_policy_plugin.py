"""A course's own late-submission plugin, copied into a test course and named in its nbgrader_config.py.

One point per started hour late (nbgrader clips the penalty to the notebook's score).
"""
import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PerHour(LateSubmissionPlugin):
    """``points_per_hour`` for every started hour past the due date."""

    points_per_hour = Float(1.0).tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return self.points_per_hour * math.ceil(total_seconds_late / 3600.0)


class Broken(LateSubmissionPlugin):
    """A plugin with a bug: the pipeline reports it and grades the class anyway."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        raise KeyError(student_id)
