"""Which folders of ``submitted/`` are students to grade: the scan and the check of a student id."""
from __future__ import annotations

import os

from .snapshot import shown

#: Longest student id (a folder name) that is graded; nbgrader stores it as the gradebook's key.
MAX_STUDENT_ID = 128


def student_id_problem(name: str) -> str | None:
    """Why a folder name of submitted/ cannot be a student id of the gradebook, or None when it can:
    it must be UTF-8 text of printable characters (no control or bidi characters), at most
    MAX_STUDENT_ID characters, not start with '.', and hold no path separator.

    >>> student_id_problem("ana") is None
    True
    >>> student_id_problem("../ana")
    'the folder name is empty, hidden or holds a path separator'
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the folder name is not UTF-8 text"
    if not name or name.startswith(".") or os.sep in name or (os.altsep and os.altsep in name):
        return "the folder name is empty, hidden or holds a path separator"
    if not name.isprintable():
        return "the folder name holds control or formatting characters"
    if len(name) > MAX_STUDENT_ID:
        return f"the folder name is longer than {MAX_STUDENT_ID} characters"
    return None


def scan_students(course) -> tuple[list[str], list[str]]:
    """(student ids with a submission of the assignment, sorted; reasons for folders left out).

    ``course``: a :class:`autograder.course.Course` (its ``submitted_dir`` and ``assignment`` are read).
    A folder of submitted/ is a student when it is a real folder (not a link) whose name can be a
    gradebook id (:func:`student_id_problem`) and that holds an entry named like the assignment
    (whatever it is: grading then says what is wrong with it). Entries that are not folders are
    ignored; nothing is opened or followed.
    """
    try:
        entries = list(os.scandir(course.submitted_dir))
    except OSError:
        return [], []
    students, refused = [], []
    for entry in entries:
        name = entry.name
        try:
            if name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            os.lstat(os.path.join(entry.path, course.assignment))
        except OSError:
            continue
        problem = student_id_problem(name)
        if problem is None:
            students.append(name)
        else:
            refused.append(f"submitted/{shown(name)} was not graded: {problem}")
    return sorted(students), sorted(refused)


def list_students(course) -> list[str]:
    """Student ids with a submission of the assignment (see :func:`scan_students`)."""
    return scan_students(course)[0]
