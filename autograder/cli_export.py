"""``python -m autograder export --format canvas|moodle|questions|gradescope|feedback``: grades out of the gradebook.

The first four run the exporter of :mod:`autograder.exports` (the same classes ``nbgrader export --exporter``
takes) on the course's gradebook; ``feedback`` runs nbgrader's ``generate_feedback`` and writes one feedback
file per student (:mod:`autograder.exports.feedback_bundle`). Files go to the course's ``exports/`` folder
unless ``--to`` says otherwise. Prints each file written and each problem (rows of a Canvas CSV not matched,
students left out), every student-given value through :func:`autograder.inert.terminal`.
"""
from __future__ import annotations

from .course import CourseError
from .inert import terminal

HELP = "export grades (Canvas, Moodle, Gradescope, per-question CSV) or per-student feedback files for an LMS"
FORMATS = ("canvas", "moodle", "questions", "gradescope", "feedback")
#: files listed one by one on the terminal; past this, a count
MAX_LISTED = 20


def add_arguments(parser) -> None:
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("--course", default=None,
                        help="nbgrader course directory (default: the one that contains the current folder)")
    parser.add_argument("--assignment", action="append", dest="assignments", metavar="SET", default=[],
                        help="export only this problem set (repeatable; default: all; feedback needs one)")
    parser.add_argument("--student", action="append", dest="students", metavar="ID", default=[],
                        help="export only this student (repeatable; default: all)")
    parser.add_argument("--to", default="",
                        help="file (canvas, moodle, questions) or folder (gradescope, feedback) to write; default: "
                             "in the course's exports/ folder")
    parser.add_argument("--canvas-csv", default="", metavar="FILE",
                        help="a gradebook CSV exported from Canvas, to fill in (with --format canvas)")
    parser.add_argument("--missing", default="", metavar="TEXT",
                        help="score written for a student without a submission (default: empty, so the LMS keeps "
                             "its value; 0 as in nbgrader's grades.csv)")


def _config(root: str):
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    except ConfigFileNotFound:
        return None


def _print_files(paths) -> None:
    paths = list(paths)
    for p in paths[:MAX_LISTED]:
        print(f"  wrote {terminal(p, 300)}")
    if len(paths) > MAX_LISTED:
        print(f"  ... and {len(paths) - MAX_LISTED} more")


def _feedback(root: str, args) -> int:
    from .exports.feedback_bundle import write_feedback_bundles

    if len(args.assignments) != 1:
        raise CourseError("export --format feedback: give exactly one --assignment SET")
    done = write_feedback_bundles(root, args.assignments[0], to=args.to or None, students=args.students or None)
    print(f"{terminal(args.assignments[0], 80)}: feedback for {len(done.written)} student(s)")
    _print_files(done.written.values())
    for line in done.problems:
        print(f"  not written: {terminal(line, 300)}")
    return 0


def main(args) -> int:
    from nbgrader.coursedir import CourseDirectory

    from .cli_grade import course_root
    from .exports import FORMATS as EXPORTERS
    from .gradebook import open_gradebook

    root = course_root(args)
    if args.format == "feedback":
        return _feedback(root, args)
    if args.canvas_csv and args.format != "canvas":
        raise CourseError("--canvas-csv goes with --format canvas")
    config = _config(root)
    coursedir = CourseDirectory(config=config) if config is not None else CourseDirectory()
    coursedir.root = root
    traits = dict(to=args.to, assignment=args.assignments, student=args.students, course_root=root,
                  missing=args.missing)
    if args.format == "canvas":
        traits["template"] = args.canvas_csv
    plugin = EXPORTERS[args.format](config=config, **traits) if config is not None \
        else EXPORTERS[args.format](**traits)
    try:
        with open_gradebook(coursedir.db_url, coursedir.course_id) as gb:
            plugin.export(gb)
    except (LookupError, FileNotFoundError) as exc:     # an unknown set or student, no gradebook, no Canvas CSV
        raise CourseError(str(exc)) from None
    print(f"{args.format}: {len(plugin.written)} file(s)")
    _print_files(plugin.written)
    for line in plugin.problems:
        print(f"  {terminal(line, 300)}")
    return 0
