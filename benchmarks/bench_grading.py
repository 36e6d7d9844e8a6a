"""Throughput of grading a class: the trusted pipeline (sandbox on) against plain ``nbgrader autograde``.

    python benchmarks/bench_grading.py                  # 60 submissions of ps1_softmax, workers 1 and 2
    python benchmarks/bench_grading.py --students 90 --workers 1 2 --json out.json

One class is made once: a copy of ``assignments/`` in a temporary folder, ``nbgrader
generate_assignment``, then ``--students`` submissions cycling through the honest entries of
the red-team corpus plus wrong and unanswered ones (a realistic mix of right, partly right and
empty answers). Every run grades the same class from scratch in its own copy of that folder:

* ``nbgrader autograde <set>``: nbgrader executes every notebook in a Jupyter kernel (sequential);
* ``python -m autograder grade`` logic (``grade_assignment``) with 1 and 2 workers: every
  submission in its own sandboxed worker (bubblewrap, namespaces, rlimits) with fresh hidden cases.

Reported: wall seconds, submissions per second, speed-up over nbgrader, scaling from 1 to 2 workers, and
the CPU time spent per submission by every process involved (which does not depend on what else the
machine is doing, unlike the wall times).
Both graders must grade every submission: the script checks the gradebook of each run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from autograder.grade import grade_assignment  # noqa: E402
from redteam import factory  # noqa: E402
from redteam.corpus import ENTRIES, Entry  # noqa: E402

ASSIGNMENT = factory.ASSIGNMENT


def class_entries(n: int) -> list[tuple[str, Entry]]:
    """``n`` (student id, entry) pairs: the honest corpus entries, wrong and unanswered ones, in turn."""
    pool = [e for e in ENTRIES if e.name.startswith("honest_")]
    pool += [Entry("wrong", "wrong answers", base="wrong"), Entry("empty", "untouched", base="release")]
    return [(f"s{i:03d}_{pool[i % len(pool)].name}", pool[i % len(pool)]) for i in range(n)]


def make_class(root: str, n: int) -> str:
    course = factory.make_course(root)
    for student, entry in class_entries(n):
        factory.make_submission(course, student, entry, victim="s000_honest_correct")
    return course


def graded_count(course: str) -> int:
    """Submissions whose every autograded test cell has a score in the gradebook."""
    con = sqlite3.connect(os.path.join(course, "gradebook.db"))
    try:
        rows = con.execute(
            "SELECT s.student_id, MIN(g.auto_score IS NOT NULL) FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id "
            "JOIN base_cell c ON g.cell_id = c.id "
            "WHERE c.name LIKE 'test_%' GROUP BY s.student_id").fetchall()
    finally:
        con.close()
    return sum(1 for _, ok in rows if ok)


def cpu_seconds() -> float:
    """CPU time of this process and of every finished descendant (kernels, sandboxes, grading processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_nbgrader(course: str) -> tuple[float, float]:
    start, cpu = time.perf_counter(), cpu_seconds()
    factory.nbgrader(course, "autograde", ASSIGNMENT)
    return time.perf_counter() - start, cpu_seconds() - cpu


def run_pipeline(course: str, workers: int) -> tuple[float, float]:
    start, cpu = time.perf_counter(), cpu_seconds()
    grade_assignment(course, ASSIGNMENT, workers=workers)
    return time.perf_counter() - start, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-nbgrader", action="store_true", help="skip the nbgrader run")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        t = time.perf_counter()
        base = make_class(os.path.join(tmp, "base"), args.students)
        print(f"class of {args.students} submissions of {ASSIGNMENT} made in {time.perf_counter() - t:.1f} s "
              f"({os.cpu_count()} CPUs)")
        runs = []
        plans = ([("nbgrader autograde", None)] if not args.no_nbgrader else []) + \
                [(f"pipeline, {w} worker{'s' if w > 1 else ''}", w) for w in args.workers]
        for label, workers in plans:
            course = os.path.join(tmp, f"run{len(runs)}")
            shutil.copytree(base, course, symlinks=True)
            seconds, cpu = run_nbgrader(course) if workers is None else run_pipeline(course, workers)
            graded = graded_count(course)
            if graded != args.students:
                raise SystemExit(f"{label}: only {graded} of {args.students} submissions were graded")
            runs.append({"grader": label, "workers": workers, "seconds": round(seconds, 2),
                         "per_second": round(args.students / seconds, 2),
                         "cpu_ms_per_submission": round(1000 * cpu / args.students, 1)})

    ref = next((r for r in runs if r["workers"] is None), None)
    print(f"\n{'grader':<24} {'seconds':>8} {'subs/s':>8} {'vs nbgrader':>12} {'CPU ms/sub':>11}")
    for r in runs:
        ratio = f"{ref['seconds'] / r['seconds']:.1f}x" if ref else "-"
        r["speedup_vs_nbgrader"] = round(ref["seconds"] / r["seconds"], 2) if ref else None
        print(f"{r['grader']:<24} {r['seconds']:8.1f} {r['per_second']:8.2f} {ratio:>12} "
              f"{r['cpu_ms_per_submission']:11.0f}")
    by_workers = {r["workers"]: r for r in runs if r["workers"] is not None}
    if 1 in by_workers and 2 in by_workers:
        print(f"\nscaling 1 -> 2 workers: {by_workers[1]['seconds'] / by_workers[2]['seconds']:.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"students": args.students, "cpus": os.cpu_count(), "runs": runs}, fh, indent=1)


if __name__ == "__main__":
    main()
