"""``python -m autograder demo``: build a demo class and run the instructor's whole workflow on it."""
from __future__ import annotations

import os
import sys

from .inert import scrub, terminal

HELP = "build a demo class (course, submissions) and run release, grading, feedback, export and reports"


def add_arguments(parser) -> None:
    parser.add_argument("--dir", default="demo_class",
                        help="folder to create the demo in (default: ./demo_class; must not hold a course yet)")
    parser.add_argument("--sets", default=None,
                        help="comma-separated problem sets (default: all five)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")


def main(args) -> int:
    from .demo import DEFAULT_SETS, grade_table, run_demo

    sets = [s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else list(DEFAULT_SETS)
    unknown = [s for s in sets if s not in DEFAULT_SETS]
    if unknown or not sets:
        print(f"unknown problem set(s): {', '.join(unknown) or '(none given)'}; "
              f"choose from {', '.join(DEFAULT_SETS)}", file=sys.stderr)
        return 2
    try:
        result = run_demo(args.dir, sets, workers=args.workers, out=sys.stdout)
    except FileExistsError as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"interrupted; {terminal(args.dir)} is left half made: remove it, then run the "
                                "same command again") from None
    def rel(path: str) -> str:
        """Relative to the current folder when inside it, else absolute."""
        r = os.path.relpath(path)
        return terminal(path if r.startswith("..") else r)
    print()
    print(scrub(grade_table(result), keep="\n", limit=None))
    print()
    print(f"done in {result.seconds['total']:.0f} s. Where things are:")
    print(f"  course directory     {rel(result.course)}")
    print(f"  submissions          {rel(os.path.join(result.course, 'submitted'))}/<student>/<set>/")
    print(f"  who is who           {rel(os.path.join(result.directory, 'demo_class.json'))}")
    print(f"  gradebook            {rel(os.path.join(result.course, 'gradebook.db'))}")
    print(f"  grading log          {rel(os.path.join(result.course, 'grading_log'))}/<set>/")
    print(f"  feedback (HTML)      {rel(os.path.join(result.course, 'feedback'))}/<student>/<set>/<set>.html")
    print(f"  grades (CSV export)  {rel(result.csv)}")
    for assignment, paths in result.reports.items():
        print(f"  report {terminal(assignment):<13} {rel(paths['html'])} (+ report.md, figures/)")
    return 0
