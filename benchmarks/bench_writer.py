"""Capacity of the gradebook writer alone: submissions stored per second, batched and one at a time.

    python benchmarks/bench_writer.py                       # 2,000 submissions, batches of 50
    python benchmarks/bench_writer.py --submissions 5000 --batch-size 100 --json out.json

One course is made (a copy of ``assignments/``, ``nbgrader generate_assignment``), one real submission of
``ps1_softmax`` is graded to get a realistic result (scores, per-case verdicts, comments, the autograded
notebook), and ``--submissions`` students are added with their submission folders (only nbgrader's
``submission_secret.txt`` in each, which the writer copies). Then, with no grading going on, the writer stores
a copy of that result for every student, as a batch does: :class:`autograder.writer.ResultWriter` in
``--batch-size`` transactions (first the new scores, then again as a regrade), and, for comparison,
``autograder.batch.record`` one transaction per submission on ``--single`` of them. All writes run in the
gradebook's batch mode (write-ahead log), as during grading. Each run checks that every stored
submission has its scores in the gradebook, its autograded notebook and its log.

``--before DIR`` compares with an earlier writer in the same run: ``DIR`` holds earlier versions of
``autograder/feedback.py``, ``grading_log.py`` and ``gradebook_writes.py`` (e.g. from ``git show``), and the
batched runs are made with them and with the current ones, alternately, on other students of the same course.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from autograder import feedback, gradebook  # noqa: E402
from autograder.batch import record  # noqa: E402
from autograder.course import load_course  # noqa: E402
from autograder.grade import grade_assignment  # noqa: E402
from autograder.writer import ResultWriter, WriterStats  # noqa: E402
from redteam import factory  # noqa: E402
from redteam.corpus import Entry  # noqa: E402

ASSIGNMENT = factory.ASSIGNMENT
SECRET = "0123456789abcdef" * 8


def results_for(template, students: list[str]) -> list:
    """A copy of ``template`` for each student."""
    out = []
    for student in students:
        res = copy.copy(template)
        res.student = student
        res.errors, res.flags, res.changes = list(template.errors), list(template.flags), []
        out.append(res)
    return out


def add_students(course, students: list[str]) -> None:
    """Submission folders (the secret only) and the gradebook rows of ``students``."""
    for student in students:
        folder = course.submission_dir(student)
        os.makedirs(folder)
        with open(os.path.join(folder, "submission_secret.txt"), "w") as fh:
            fh.write(SECRET)
    with gradebook.open_gradebook(course.db_url, course.course_id) as gb:
        gradebook.ensure_submissions(gb, ASSIGNMENT, students)


def batched(course, results: list, batch_size: int) -> WriterStats:
    """Store ``results`` with the batch writer; returns its stats."""
    stats = WriterStats()
    with gradebook.open_gradebook(course.db_url, course.course_id) as gb, gradebook.batch_mode(gb):
        writer = ResultWriter(course, gb, batch_size=batch_size, batch_seconds=1e9, stats=stats)
        cpu = time.process_time()
        for res in results:
            writer.add(res)
            if writer.due:
                writer.flush()
        writer.flush()
        stats.cpu_seconds = time.process_time() - cpu
    return stats


def one_by_one(course, results: list) -> tuple[float, float]:
    """Wall and CPU seconds to store ``results`` with one transaction per submission (``record``)."""
    with gradebook.open_gradebook(course.db_url, course.course_id) as gb, gradebook.batch_mode(gb):
        start, cpu = time.perf_counter(), time.process_time()
        for res in results:
            record(course, gb, res)
        return time.perf_counter() - start, time.process_time() - cpu


#: the functions an earlier writer is made of: (module of the current writer, name, file of the earlier version)
WRITER_PARTS = [(feedback, "write_autograded", "feedback.py"), (gradebook, "write_record", "grading_log.py"),
                (gradebook, "write_grades_many", "gradebook_writes.py")]


def load_before(folder: str) -> dict:
    """The functions of :data:`WRITER_PARTS` as the files in ``folder`` define them (loaded inside ``autograder``,
    so that their relative imports resolve)."""
    out = {}
    for _, name, filename in WRITER_PARTS:
        spec = importlib.util.spec_from_file_location(f"autograder._before_{filename[:-3]}",
                                                      os.path.join(folder, filename))
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        out[name] = getattr(module, name)
    return out


@contextlib.contextmanager
def using(functions: dict):
    """The writer made of ``functions`` (from :func:`load_before`) for the duration of the block."""
    saved = {name: getattr(module, name) for module, name, _ in WRITER_PARTS}
    try:
        for module, name, _ in WRITER_PARTS:
            setattr(module, name, functions[name])
        yield
    finally:
        for module, name, _ in WRITER_PARTS:
            setattr(module, name, saved[name])


def compare(course, template, before: dict, n: int, batch_size: int, rounds: int) -> list[tuple]:
    """Rows (label, new-scores stats, regrade stats) of the earlier and the current writer, alternately, on
    ``n`` fresh students each, ``rounds`` times."""
    rows = []
    for r in range(rounds):
        for label in ("before", "now"):
            students = [f"{label[0]}{r}-{i:05d}" for i in range(n)]
            add_students(course, students)
            with using(before) if label == "before" else contextlib.nullcontext():
                new = batched(course, results_for(template, students), batch_size)
                again = batched(course, results_for(template, students), batch_size)
            check_stored(course, results_for(template, students))
            rows.append((f"{label}, round {r + 1}", new, again))
    return rows


def check_stored(course, results: list) -> None:
    with gradebook.open_gradebook(course.db_url, course.course_id) as gb:
        for res in results:
            got = gradebook.stored_scores(gb, ASSIGNMENT, ASSIGNMENT, res.student)
            assert got and all(got[gid] == score for gid, score in res.scores.items()), res.student
            assert gradebook.read_record(course.root, ASSIGNMENT, res.student)["scores"] == res.scores
            assert os.path.isfile(os.path.join(course.autograded_dir, res.student, ASSIGNMENT,
                                               f"{ASSIGNMENT}.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--single", type=int, default=300, help="submissions stored one transaction each")
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    parser.add_argument("--before", default=None, metavar="DIR",
                        help="also compare with the writer of these earlier files (see the module's notes)")
    parser.add_argument("--rounds", type=int, default=3, help="with --before: alternations")
    args = parser.parse_args(argv)
    before = load_before(args.before) if args.before else None
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as tmp:
        root = factory.make_course(tmp)
        factory.make_submission(root, "template", Entry("template", "correct"))
        template = grade_assignment(root, ASSIGNMENT, workers=1, seed=1)[0]
        course = load_course(root, ASSIGNMENT)
        batch_students = [f"b{i:05d}" for i in range(args.submissions)]
        single_students = [f"o{i:05d}" for i in range(args.single)]
        add_students(course, batch_students + single_students)
        first = results_for(template, batch_students)
        new = batched(course, first, args.batch_size)
        check_stored(course, first)
        again = batched(course, results_for(template, batch_students), args.batch_size)
        singles = results_for(template, single_students)
        single_seconds, single_cpu = one_by_one(course, singles)
        check_stored(course, singles)
        compared = compare(course, template, before, args.submissions, args.batch_size, args.rounds) if before else []
    rows = {
        "batched, new scores": (new.submissions, new.seconds, new.cpu_seconds, new.gradebook_seconds,
                                new.files_seconds),
        "batched, regrade": (again.submissions, again.seconds, again.cpu_seconds, again.gradebook_seconds,
                             again.files_seconds),
        "one transaction each": (args.single, single_seconds, single_cpu, None, None),
    }
    print(f"writer alone: {args.submissions} submissions, batches of {args.batch_size}; "
          f"notebook {len(template.autograded_text)} characters; load average {os.getloadavg()[0]:.1f}")
    print(f"{'writer':<22} {'subs':>5} {'seconds':>8} {'subs/s':>7} {'ms/sub':>6} {'cpu s':>6} {'subs/cpu-s':>10} "
          f"{'gradebook':>9} {'files':>6}")
    for name, (n, seconds, cpu, gb_s, files_s) in rows.items():
        split = f"{gb_s:9.3f} {files_s:6.3f}" if gb_s is not None else ""
        print(f"{name:<22} {n:>5} {seconds:8.3f} {n / seconds:7.1f} {1000 * seconds / n:6.2f} {cpu:6.3f} "
              f"{n / cpu:10.1f} {split}")
    if compared:
        print(f"earlier writer ({args.before}) and current one, alternately, {args.submissions} fresh students each:")
        print(f"{'writer':<18} {'new subs/s':>10} {'per cpu-s':>9} {'regrade subs/s':>14} {'per cpu-s':>9}")
        for label, new_, again_ in compared:
            print(f"{label:<18} {new_.per_second:10.1f} {new_.submissions / new_.cpu_seconds:9.1f} "
                  f"{again_.per_second:14.1f} {again_.submissions / again_.cpu_seconds:9.1f}")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({name: {"submissions": n, "seconds": s, "cpu_seconds": c, "gradebook_seconds": g,
                              "files_seconds": f} for name, (n, s, c, g, f) in rows.items()}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
