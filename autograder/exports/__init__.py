"""Grades out of nbgrader's gradebook for the places instructors and students use: nbgrader ``ExportPlugin`` classes.

Each exporter works with nbgrader's own command (``nbgrader export --exporter autograder.exports.CanvasExportPlugin
--to canvas.csv``) and with ``python -m autograder export --format canvas``:

* :class:`QuestionsExportPlugin` (``questions``): one CSV row per student and graded cell.
* :class:`CanvasExportPlugin` (``canvas``): a Canvas gradebook CSV, new or filled into one exported from Canvas.
* :class:`MoodleExportPlugin` (``moodle``): a Moodle grade-import CSV.
* :class:`GradescopeExportPlugin` (``gradescope``): a Gradescope ``results.json`` per submission.

:mod:`autograder.exports.feedback_bundle` writes each student's feedback as one file to upload to an LMS.
Scores are nbgrader's (manual scores, extra credit and late penalties included) with every digit kept.
"""
from .canvas import CanvasExportPlugin
from .gradescope import GradescopeExportPlugin
from .moodle import MoodleExportPlugin
from .questions import QuestionsExportPlugin

__all__ = ["CanvasExportPlugin", "GradescopeExportPlugin", "MoodleExportPlugin", "QuestionsExportPlugin", "FORMATS"]

#: ``--format`` name -> exporter class
FORMATS = {
    "canvas": CanvasExportPlugin,
    "moodle": MoodleExportPlugin,
    "questions": QuestionsExportPlugin,
    "gradescope": GradescopeExportPlugin,
}
