"""``python -m autograder demo``: build a demo class and run the instructor's whole workflow on it."""
from __future__ import annotations

import os
import sys

from .inert import scrub, terminal

HELP = ("build a demo class (course, submissions) and run release, grading with a late policy, reports and flags, "
        "hand grading, feedback and every export")


def add_arguments(parser) -> None:
    parser.add_argument("--dir", default="demo_class",
                        help="folder to create the demo in (default: ./demo_class; must not hold a course yet)")
    parser.add_argument("--sets", default=None,
                        help="comma-separated problem sets (default: all five; the first gets a due date, a late "
                             "submission and a derivation graded by hand)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")


def _review_lines(result) -> list[str]:
    """What the instructor's review did: the late penalty, the flags, the hand-graded derivation."""
    lines = []
    for assignment, due in result.due.items():
        late = {s: t.late_submission_penalty for s, t in result.totals.get(assignment, {}).items()
                if t.late_submission_penalty}
        shown = ", ".join(f"{terminal(s, 80)} -{p:g}" for s, p in sorted(late.items())) or "none"
        lines.append(f"late: {terminal(assignment, 80)} was due {due:%Y-%m-%d %H:%M} UTC; "
                     f"{terminal(result.late_policy, 80)} took off: {shown}")
    flagged = [f"{terminal(s, 80)} ({terminal(a, 80)})" for a, names in result.flagged.items() for s in names]
    if flagged:
        lines.append(f"flagged after the reports (similar or pasted code): {', '.join(flagged)}")
    hand = result.hand_grading
    if hand is not None:
        lines.append(f"graded by hand: {terminal(hand.student, 80)}'s {terminal(hand.cell, 80)} in "
                     f"{terminal(hand.assignment, 80)}: {hand.manual_score:g} of {result.hand_max or 0:g} points, comment: "
                     f"\"{terminal(hand.comment, 400)}\"")
    for line in result.export_problems:
        lines.append(f"export: {terminal(line, 300)}")
    return lines


def main(args) -> int:
    from .demo import DEFAULT_SETS, run_demo
    from .demo_summary import grade_table, where_lines

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
    for line in _review_lines(result):
        print(line)
    print()
    print(f"done in {result.seconds['total']:.0f} s. Where each output is:")
    for line in where_lines(result, rel):
        print(line)
    return 0
