"""``rnngrad-grader grade <set>``: grade every submission of a problem set.

Run in the course directory (or pass ``--course``). Writes the course's ``.gitignore`` when it has none
(see :data:`autograder.course.GITIGNORE`). Prints one progress line (count, rate, ETA) that updates in place
on a terminal, then a table of totals with flags and faults, and, for a regrade, every score that changed.
``--dask [ADDRESS]`` grades on a dask.distributed cluster (:mod:`autograder.dask_backend`). Every value a
submission chose (its folder's name, flag and fault texts) is printed through
:func:`autograder.inert.terminal`: one line, no control character or escape sequence, bounded length.
"""
from __future__ import annotations

import sys
import time

from .course import check_course_root, check_set_known, find_course_root, write_gitignore
from .inert import terminal
from .points import points

#: longest flag or fault text printed on the terminal (the grading log and the report hold it whole)
MAX_LINE = 300

HELP = "grade every submission of a problem set into nbgrader's gradebook"


def add_arguments(parser) -> None:
    parser.add_argument("assignment", help="problem-set id, e.g. ps1_softmax")
    parser.add_argument("--course", default=None,
                        help="nbgrader course directory (default: the one that contains the current folder)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")
    parser.add_argument("--regrade", action="store_true",
                        help="grade again submissions already graded (same timestamp and notebook)")
    parser.add_argument("--student", action="append", dest="students", metavar="ID",
                        help="grade only this student (repeatable)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden cases (to reproduce a logged run; default: fresh and secret)")
    parser.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="grade on a dask.distributed cluster: without ADDRESS a LocalCluster of --workers "
                             "processes on this machine; with one (tcp://host:8786, tls://host:8786) an existing "
                             "cluster (see the README's \"Grading on a cluster\")")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def _fmt_time(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressLine:
    """Progress with ETA; rewrites one line on a terminal, prints a line per submission otherwise."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, p) -> None:
        r = p.result
        rate = p.done / p.elapsed if p.elapsed > 0 else 0.0
        state = "skipped" if r.skipped else "not graded" if r.not_graded else f"{points(r.total)}/{points(r.max_total)}"
        mark = " flagged" if r.flags else ""
        line = (f"[{p.done}/{p.total}] {100 * p.done / max(p.total, 1):3.0f}%  {rate:.1f}/s  "
                f"ETA {_fmt_time(p.eta)}  {terminal(r.student, 80)}: {state}{mark}")
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if p.done == p.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def course_root(args) -> str:
    """The course directory of a command: ``--course``, else the one that contains the current folder."""
    return check_course_root(args.course) if args.course else find_course_root(".")


def main(args) -> int:
    check_set_known(args.assignment)
    course = course_root(args)
    from .grade import grade_assignment    # (after the checks: a mistyped command answers at once)

    written = write_gitignore(course)
    if written:
        print(f"wrote {terminal(written)}: it keeps the course's student data out of git")
    start = time.monotonic()
    results = grade_assignment(course, args.assignment, students=args.students, workers=args.workers,
                               seed=args.seed, regrade=args.regrade, dask=args.dask,
                               progress=None if args.quiet else ProgressLine())
    elapsed = time.monotonic() - start
    graded = [r for r in results if not r.skipped and not r.not_graded]
    missed = [r for r in results if r.not_graded]
    print(f"{args.assignment}: graded {len(graded)}, skipped {len(results) - len(graded) - len(missed)} already "
          f"graded, in {elapsed:.1f} s")
    if missed:
        print(f"not graded (the next run grades them): {len(missed)}")
        for r in missed:
            print(f"  {terminal(r.student, 80):<20} {terminal(r.not_graded, MAX_LINE)}")
    for r in results:
        if r.skipped or r.not_graded:
            continue
        extra = []
        if r.flags:
            extra.append(f"{len(r.flags)} flag(s)")
        if r.errors:
            extra.append(f"{len(r.errors)} fault(s)")
        print(f"  {terminal(r.student, 80):<20} {points(r.total):>6} / {points(r.max_total)}"
              + (f"   {', '.join(extra)}" if extra else ""))
        for f in r.flags:
            print(f"      flag: {terminal(f, MAX_LINE)}")
        for e in r.errors:
            print(f"      fault: {terminal(e, MAX_LINE)}")
    changes = [c for r in graded for c in r.changes]
    if args.regrade:
        print(f"changed scores: {len(changes)}")
        for c in changes:
            print(f"  {terminal(c, MAX_LINE)}")
    return 0
