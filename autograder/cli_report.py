"""``rnngrad-grader report <set>``: the class report of a graded problem set (HTML, Markdown, PNGs)."""
from __future__ import annotations

import os

from .cli_grade import course_root
from .course import check_set_known
from .inert import terminal

HELP = "write the class report of a graded problem set: score plots, common mistakes, flagged submissions"


def add_arguments(parser) -> None:
    parser.add_argument("assignment", help="problem-set id, e.g. ps1_softmax")
    parser.add_argument("--course", default=None,
                        help="nbgrader course directory (default: the one that contains the current folder)")
    parser.add_argument("--out", default=None,
                        help="folder for report.html, report.md and figures/ (default: <course>/reports/<set>)")
    parser.add_argument("--no-similarity", action="store_true",
                        help="leave out the similarity check of the submitted code")


def main(args) -> int:
    check_set_known(args.assignment)
    course = course_root(args)
    from .report import write_report       # (after the checks: a mistyped command answers at once)

    out = args.out or os.path.join(course, "reports", args.assignment)
    paths = write_report(course, args.assignment, out, similarity=not args.no_similarity)
    print(f"{terminal(args.assignment)}: class report")
    print(f"  HTML      {terminal(paths['html'])}")
    print(f"  Markdown  {terminal(paths['markdown'])}")
    print(f"  figures   {terminal(os.path.dirname(paths['figures'][0]))} ({len(paths['figures'])} PNG)")
    flagged = ", ".join(terminal(s, 80) for s in sorted(paths["flagged"])) or "none"
    print(f"  flagged   {len(paths['flagged'])}: {terminal(flagged, 4000)}")
    if paths["flagged"]:
        print(f"  gradebook {_mark_in_gradebook(course, args.assignment, paths['flagged'])}")
    return 0


def _mark_in_gradebook(course: str, assignment: str, flagged) -> str:
    """Mark the report's flagged submissions as flagged in nbgrader's gradebook (what formgrader lists);
    what happened, as one line."""
    from .course import CourseError, load_course
    from .gradebook import mark_flagged

    try:
        c = load_course(course, assignment)
        newly = mark_flagged(c.db_url, c.course_id, c.notebook_name, assignment, flagged)
    except (CourseError, FileNotFoundError) as exc:
        return f"not marked as flagged: {terminal(exc, 300)}"
    return f"marked as flagged for formgrader: {len(newly)} newly, {len(flagged) - len(newly)} already"
