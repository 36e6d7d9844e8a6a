"""The demo course's late-submission policy: an nbgrader plugin, named in the course's nbgrader_config.py.

``points_per_hour`` points off for every started hour past the due date (nbgrader clips the penalty to the
notebook's score). The demo copies this file into its course directory; ``nbgrader autograde`` and the course's
grader import it from there::

    c.AssignLatePenalties.plugin_class = "demo_late_policy.PointsPerStartedHour"
    c.PointsPerStartedHour.points_per_hour = 1.0
"""
import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PointsPerStartedHour(LateSubmissionPlugin):
    """``points_per_hour`` points off for every started hour late.

    Example:
        >>> PointsPerStartedHour(points_per_hour=1.0).late_submission_penalty("ana", 15.0, 2.5 * 3600)
        3.0
    """

    points_per_hour = Float(1.0, help="points taken off for every started hour past the due date").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return self.points_per_hour * math.ceil(total_seconds_late / 3600.0)
