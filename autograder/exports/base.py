"""What every exporter of the course shares: nbgrader's ``ExportPlugin`` traits plus the course directory.

An exporter runs under ``nbgrader export --exporter autograder.exports.<Name>`` (nbgrader's ``ExportApp`` makes it
with itself as parent, so the course directory and the ``--to``, ``--assignment`` and ``--student`` options come
from there) or under ``python -m autograder export``, which sets the same traits. Without ``--to``, files go to the
course's ``exports/`` folder (they are student data, like the gradebook). Files are written whole to a
temporary name and then renamed, so a reader never sees half of one.
"""
from __future__ import annotations

__all__ = ["CourseExportPlugin", "EXPORTS_DIR", "write_text_atomic", "safe_name"]

import os
import tempfile

from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from . import rows

#: the course's folder for exported files (student data, like the gradebook)
EXPORTS_DIR = "exports"


def write_text_atomic(path: str, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder; returns ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def safe_name(name: str) -> str | None:
    """``name`` when it can be one folder or file name (not empty, not hidden, no separator, no NUL), else None.

    Example:
        >>> safe_name("ana"), safe_name("../x"), safe_name(".hidden")
        ('ana', None, None)
    """
    if not isinstance(name, str) or not name or name.startswith(".") or "\x00" in name or "/" in name \
            or (os.altsep and os.altsep in name) or os.sep in name or len(name) > 255:
        return None
    return name


class CourseExportPlugin(ExportPlugin):
    """An nbgrader ``ExportPlugin`` that knows the course directory (for the grading log) and reports what it wrote."""

    course_root = Unicode("", help="the nbgrader course directory (default: the exporting app's, else the folder "
                                   "of an SQLite gradebook)").tag(config=True)
    missing = Unicode("", help="what a student without a submission gets in an LMS file: '' leaves the cell "
                               "empty (the LMS keeps what it has), '0' gives zero as nbgrader's CSV does"
                      ).tag(config=True)

    #: the default of ``to``: a file or a folder in the course's ``exports/`` folder
    default_to = "grades.csv"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.written: list[str] = []       # files written by the last export
        self.problems: list[str] = []      # what could not be exported or matched, one line each

    def destination(self, gradebook) -> str:
        """``to``, else ``<course>/exports/<default_to>`` (student data: kept beside the gradebook)."""
        return self.to or os.path.join(self.root(gradebook), EXPORTS_DIR, self.default_to)

    def root(self, gradebook) -> str:
        """The course directory: ``course_root``, the parent app's course directory, or the gradebook's folder."""
        if self.course_root:
            return os.path.abspath(self.course_root)
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is not None and getattr(coursedir, "root", None):
            return os.path.abspath(coursedir.root)
        url = str(gradebook.engine.url)
        if url.startswith("sqlite:///"):
            return os.path.dirname(os.path.abspath(url[len("sqlite:///"):]))
        return os.getcwd()

    def assignments(self, gradebook) -> list:
        return rows.select_assignments(gradebook, [str(a) for a in self.assignment])

    def students(self, gradebook) -> list:
        return rows.select_students(gradebook, [str(s) for s in self.student])

    def total_text(self, total: rows.Total) -> str:
        """The score written for a total: full precision, or ``missing`` for a student without a submission."""
        return rows.number(total.score) if total.submitted else self.missing

    def report(self, line: str) -> None:
        self.problems.append(line)
        self.log.warning("%s", line)
