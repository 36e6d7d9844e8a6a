"""Each student's feedback as one file to upload to an LMS: ``<to>/<assignment>/<student>.html`` (or ``.zip``);
``<to>`` is the course's ``exports/feedback/`` unless given.

The pages are nbgrader's own: :func:`write_feedback_bundles` runs ``generate_feedback`` (nbgrader's
``GenerateFeedback`` through its API, on the autograded notebooks and the gradebook), then copies each
student's page to one file named after the student. An assignment with several notebooks gets one zip per
student holding its pages. What a page can show is what the autograded notebook and the gradebook's comments
hold (see :mod:`autograder.feedback`): visible cases in full, hidden cases by name and fixed sentences only, so
no hidden input reaches a bundle. Only regular files are copied (links are skipped).
"""
from __future__ import annotations

__all__ = ["Bundles", "write_feedback_bundles", "bundle_student"]

import glob
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field

from .base import EXPORTS_DIR, safe_name

#: largest feedback page copied into a bundle (bytes); a larger one is reported instead
MAX_PAGE_BYTES = 50 * 1024 * 1024


@dataclass
class Bundles:
    """What :func:`write_feedback_bundles` did."""
    written: dict[str, str] = field(default_factory=dict)     # student -> bundle path
    problems: list[str] = field(default_factory=list)         # one line per student left out, and why


def _course(course_root: str):
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    root = os.path.abspath(course_root)
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    except ConfigFileNotFound:
        config = None
    coursedir = CourseDirectory(config=config) if config is not None else CourseDirectory()
    coursedir.root = root
    return coursedir, config


def _autograded_students(coursedir, assignment: str) -> list[str]:
    pattern = coursedir.format_path(coursedir.autograded_directory, "*", assignment)
    found = []
    for path in glob.glob(pattern):
        student = os.path.basename(os.path.dirname(path))
        if os.path.isdir(path) and not os.path.islink(path) and safe_name(student):
            found.append(student)
    return sorted(found)


def _pages(folder: str) -> list[str]:
    """The regular ``.html`` files of a feedback folder, relative, sorted (links and other files skipped)."""
    out = []
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if name.endswith(".html") and stat.S_ISREG(st.st_mode) and st.st_size <= MAX_PAGE_BYTES:
                out.append(os.path.relpath(full, folder))
    return out


def _place(tmp: str, path: str) -> str:
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def write_feedback_bundles(course_root: str, assignment: str, to: str | None = None,
                           students: list[str] | None = None) -> Bundles:
    """Generate nbgrader's feedback for ``assignment`` and write one bundle per student.

    Args:
        course_root: the nbgrader course directory.
        assignment: the problem set's id.
        to: the folder of the bundles (default ``<course_root>/exports/feedback``); bundles go under
            ``<to>/<assignment>/``.
        students: only these students (default: every autograded submission).

    Returns:
        a :class:`Bundles`: student -> path, and the students left out with the reason.

    Raises:
        RuntimeError: nbgrader's generate_feedback failed (its log is in the message).
    """
    from nbgrader.apps.api import NbGraderAPI

    coursedir, config = _course(course_root)
    if safe_name(assignment) is None:
        raise ValueError(f"assignment: expected a problem-set id usable as a folder name, got {assignment!r}")
    api = NbGraderAPI(coursedir=coursedir, config=config) if config is not None else NbGraderAPI(coursedir=coursedir)
    available = _autograded_students(coursedir, assignment)
    wanted = available if students is None else [s for s in dict.fromkeys(students)]
    report = Bundles()
    for s in wanted:
        if s not in available:
            report.problems.append(f"{s}: no autograded submission of {assignment}")
    todo = [s for s in wanted if s in available]
    if not todo:
        return report
    runs = [api.generate_feedback(assignment, None, force=True)] if students is None else \
        [api.generate_feedback(assignment, s, force=True) for s in todo]
    failed = [r for r in runs if not r.get("success")]
    if failed:
        raise RuntimeError("nbgrader generate_feedback failed:\n" + "\n".join(
            str(r.get("error") or r.get("log") or "")[-2000:] for r in failed))
    out_dir = os.path.join(to or os.path.join(coursedir.root, EXPORTS_DIR, "feedback"), assignment)
    for s in todo:
        folder = coursedir.format_path(coursedir.feedback_directory, s, assignment)
        path = bundle_student(folder, out_dir, s)
        if path is None:
            report.problems.append(f"{s}: nbgrader wrote no feedback page")
        else:
            report.written[s] = path
    return report


def bundle_student(folder: str, out_dir: str, student: str) -> str | None:
    """One student's feedback pages in ``folder`` as ``<out_dir>/<student>.html`` (one page) or ``.zip``
    (several, under ``<student>/``); returns the path, or None when the folder has no page.

    Example: ``bundle_student("feedback/ana/ps1_softmax", "exports/feedback/ps1_softmax", "ana")``
    -> ``"exports/feedback/ps1_softmax/ana.html"``.
    """
    pages = _pages(folder) if os.path.isdir(folder) and not os.path.islink(folder) else []
    if not pages:
        return None
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".tmp-")
    os.close(fd)
    try:
        if len(pages) == 1:
            shutil.copyfile(os.path.join(folder, pages[0]), tmp, follow_symlinks=False)
            return _place(tmp, os.path.join(out_dir, f"{student}.html"))
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for page in pages:
                zf.write(os.path.join(folder, page), arcname=f"{student}/{page}")
        return _place(tmp, os.path.join(out_dir, f"{student}.zip"))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
