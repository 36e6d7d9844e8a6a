"""The demo's course directory: a copy of the course sources, released with nbgrader, with a late policy, a due
date and the class's submissions as nbgrader's ``collect`` leaves them.

:func:`make_course` copies ``assignments/`` (sources only) and runs nbgrader's ``generate_assignment``;
:func:`add_late_policy` copies the demo's late-submission plugin (``demo_data/demo_late_policy.py``) into the
course and names it in the course's ``nbgrader_config.py``; :func:`set_due_date` gives a set its due date in the
gradebook, as formgrader's "Manage Assignments" page does; :func:`write_submissions` writes
``submitted/<student>/<set>/<set>.ipynb`` and ``timestamp.txt``, each notebook made from the released one with
the student's text put in the answer cells (the cells' metadata stays as released).
"""
from __future__ import annotations

__all__ = ["RUN_STATE", "COURSE_SOURCE", "START", "DUE", "LATE_STUDENT", "LATE_BY", "POINTS_PER_HOUR",
           "LATE_PLUGIN", "nbgrader_api", "make_course", "add_late_policy", "set_due_date", "build_notebook",
           "write_submissions", "save_roster"]

import datetime
import json
import os
import shutil
import sys
from pathlib import Path

from .demo_students import DATA, REPO, DemoStudent
from .notebook import grade_id

COURSE_SOURCE = REPO / "assignments"
#: never copied from the repository's course folder: they belong to a course run, not to its sources
RUN_STATE = {"gradebook.db", "gradebook.db-journal", "gradebook.db-wal", "gradebook.db-shm", "release",
             "submitted", "autograded", "feedback", "grading_log", "grades.csv", "reports", "exports",
             "__pycache__", ".ipynb_checkpoints"}

UTC = datetime.timezone.utc
#: the first submission's time; the others follow a few minutes apart
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: the due date of the run's first set (the other sets have none)
DUE = datetime.datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
#: who hands in the first set late, and how late
LATE_STUDENT = "correct_worked"
LATE_BY = datetime.timedelta(hours=2, minutes=30)
#: the late policy: points off per started hour late (nbgrader clips the penalty to the score)
POINTS_PER_HOUR = 1.0
#: the plugin class, as the course's nbgrader_config.py names it
LATE_PLUGIN = "demo_late_policy.PointsPerStartedHour"
#: time between two on-time submissions
SPACING = datetime.timedelta(minutes=7)


def nbgrader_api(course: str):
    """nbgrader's own API on the course directory (the same code as the nbgrader commands)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader runs `alembic` when it creates a gradebook: it must be found next to this interpreter
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    root = os.path.abspath(course)
    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    cd = CourseDirectory(config=config)
    cd.root = root
    return NbGraderAPI(cd, config=config)


def make_course(directory: str, sets, source: Path = COURSE_SOURCE) -> str:
    """Copy the course sources into ``directory/course`` and release each set with nbgrader; returns the course."""
    course = os.path.join(directory, "course")
    if os.path.exists(course):
        raise FileExistsError(f"{course} exists; choose an empty --dir")
    shutil.copytree(source, course, ignore=lambda d, names: [n for n in names if n in RUN_STATE])
    api = nbgrader_api(course)
    for assignment in sets:
        res = api.generate_assignment(assignment, force=True)
        if not res.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{res.get('error')}\n"
                               f"{res.get('log', '')}")
    return course


def add_late_policy(course: str, points_per_hour: float = POINTS_PER_HOUR) -> str:
    """Copy the demo's late plugin into the course and name it in its nbgrader_config.py; returns the plugin
    class's dotted name (``nbgrader autograde`` and the course's grader both apply it)."""
    module = LATE_PLUGIN.split(".")[0]
    shutil.copyfile(DATA / f"{module}.py", os.path.join(course, f"{module}.py"))
    cls = LATE_PLUGIN.split(".")[1]
    with open(os.path.join(course, "nbgrader_config.py"), "a", encoding="utf-8") as fh:
        fh.write(f"\n# late submissions: {points_per_hour:g} point(s) off per started hour past the due date "
                 f"({module}.py)\nc.AssignLatePenalties.plugin_class = {LATE_PLUGIN!r}\n"
                 f"c.{cls}.points_per_hour = {float(points_per_hour)!r}\n")
    return LATE_PLUGIN


def set_due_date(course: str, assignment: str, due: datetime.datetime) -> None:
    """The set's due date in the gradebook (what formgrader's "Manage Assignments" page sets)."""
    from nbgrader.api import Gradebook

    if due.tzinfo is None:
        raise ValueError(f"due: expected a time with its time zone, got {due}")
    api = nbgrader_api(course)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        gb.update_or_create_assignment(assignment, duedate=due)


def build_notebook(release: dict, student: DemoStudent) -> dict:
    """The release with the student's answer cells filled in (metadata as released) and added cells."""
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid in student.answers:
            cell["source"] = student.answers[gid]
        elif cell["cell_type"] == "markdown" and gid and gid.startswith("derivation_") \
                and student.kind in ("correct", "copy"):
            cell["source"] = "My derivation is written out on paper and summarised here: see the chapter's notation."
    for k, text in enumerate(student.added_cells):
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": f"added-{k}", "metadata": {},
                            "outputs": [], "source": text})
    return nb


def _stamp(when: datetime.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def write_submissions(course: str, assignment: str, students: list[DemoStudent],
                      start: datetime.datetime = START, due: datetime.datetime | None = None) -> list[str]:
    """submitted/<student>/<set>/ as nbgrader's collect leaves it; returns the folders.

    On-time submissions are a few minutes apart from ``start`` (before ``due`` when the set has a due date); a
    student with ``late_seconds`` hands in that long after ``due``. Each student's ``timestamp`` is set.
    """
    release_dir = os.path.join(course, "release", assignment)
    with open(os.path.join(release_dir, f"{assignment}.ipynb")) as fh:
        release = json.load(fh)
    late = [s.student for s in students if s.late_seconds]
    if late and due is None:
        raise ValueError(f"due: {', '.join(late)} hand(s) in late, so {assignment} needs a due date, got None")
    step = SPACING if due is None else min(SPACING, (due - start) / (len(students) + 1))
    folders = []
    for k, student in enumerate(students):
        folder = os.path.join(course, "submitted", student.student, assignment)
        shutil.copytree(release_dir, folder)
        with open(os.path.join(folder, f"{assignment}.ipynb"), "w") as fh:
            json.dump(build_notebook(release, student), fh, indent=1)
        when = due + datetime.timedelta(seconds=student.late_seconds) if student.late_seconds else start + k * step
        student.timestamp = _stamp(when)
        with open(os.path.join(folder, "timestamp.txt"), "w") as fh:
            fh.write(student.timestamp + "\n")
        folders.append(folder)
    return folders


def save_roster(directory: str, roster: dict[str, list[DemoStudent]]) -> str:
    """demo_class.json: who is who (what each demo student did, when, how it was hand-graded)."""
    path = os.path.join(directory, "demo_class.json")
    data = {a: [{k: v for k, v in vars(s).items() if k not in ("answers", "added_cells")} for s in students]
            for a, students in roster.items()}
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1)
    return path
