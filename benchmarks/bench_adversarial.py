"""Trusted-side cost per submission for the largest hostile notebooks, next to an honest one.

    python benchmarks/bench_adversarial.py            # every input, best of 3
    python benchmarks/bench_adversarial.py --repeat 1

The trusted side is everything ``grade_submission`` does outside the sandbox, timed step by step on
one submission folder: ``snapshot`` (copy of the folder), ``read`` (JSON and cell checks), ``inventory``
(comparison with the release), ``units`` (the code cells as the sandbox and the analysis take them),
``flags`` (static analysis of every code cell), ``rebuild`` (the autograded notebook). The sandbox is not started. Inputs, each a submission folder of ps1_softmax:

* ``honest``: the correct answers (the red-team corpus's ``honest_correct``);
* ``big_notebook``: a notebook of about 20 MB, as large as the cap allows (200 code cells of about 100 kB);
* ``many_cells``: 60,000 added code cells, each with a new grade_id and cell id (over the cell cap,
  so it is refused after parsing: what it costs is the reading);
* ``cells_at_cap``: 9,900 added code cells with new ids (just under the cap of 10,000 cells);
* ``import_cell``: one added cell of just under 1 MB of repeated ``import os`` lines;
* ``import_cells_20mb``: nineteen added cells of just under 1 MB of imports each (about 20 MB): the static
  analysis would take longer than the trusted side's deadline, which stops it (the row shows the bound);
* ``big_data_file``: the honest notebook next to a data file larger than the per-file cap.

Every step runs as in grading, under the trusted side's deadline (``TRUSTED_SECONDS``).

Printed: the seconds of each step and their total, best of ``--repeat`` runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from autograder import answer_code, autograded, notebook, snapshot  # noqa: E402
from autograder.grade import TRUSTED_SECONDS, Deadline, SubmissionResult, load_course  # noqa: E402
from autograder.integrity import static_flags, structure_flags  # noqa: E402
from redteam import factory  # noqa: E402
from redteam.corpus import Entry  # noqa: E402

ASSIGNMENT = factory.ASSIGNMENT


def _code(source: str, n: int, gid: str | None = None) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "id": f"bench{n}", "metadata": {},
            "outputs": [], "source": source}
    if gid is not None:
        cell["metadata"]["nbgrader"] = {"grade_id": gid, "solution": False, "grade": False, "locked": False}
    return cell


def inputs() -> dict[str, Entry]:
    """The submissions measured, as red-team entries (cells appended by a transform)."""
    big = "x = 1\n" + "# " + "y" * 100_000 + "\n"

    def add(cells_fn):
        return lambda cells: cells + cells_fn()
    return {
        "honest": Entry("honest", "correct answers"),
        "big_notebook": Entry("big_notebook", "about 20 MB", transform=add(
            lambda: [_code(big, n) for n in range(198)])),
        "many_cells": Entry("many_cells", "60,000 cells with new ids", transform=add(
            lambda: [_code("x = 1\n", n, f"new_{n}") for n in range(60_000)])),
        "cells_at_cap": Entry("cells_at_cap", "9,900 cells with new ids", transform=add(
            lambda: [_code(f"x{n} = np.zeros(3)\n", n, f"new_{n}") for n in range(9_900)])),
        "import_cell": Entry("import_cell", "1 MB of imports", transform=add(
            lambda: [_code("import os\n" * 99_000, 0)])),
        "import_cells_20mb": Entry("import_cells_20mb", "19 cells of 1 MB of imports", transform=add(
            lambda: [_code("import os\n" * 99_000, n) for n in range(19)])),
        "big_data_file": Entry("big_data_file", "a data file over the per-file cap"),
    }


def trusted_side(course, folder: str, tmp: str) -> dict[str, float]:
    """Seconds of each trusted step for one submission folder."""
    times: dict[str, float] = {}
    deadline = Deadline(TRUSTED_SECONDS)
    result = SubmissionResult(student="bench", assignment=ASSIGNMENT)
    t = time.perf_counter()
    copy = os.path.join(tmp, "copy")
    shutil.rmtree(copy, ignore_errors=True)
    snapshot.snapshot(folder, copy, first=(f"{ASSIGNMENT}.ipynb",), deadline=deadline)
    snapshot.file_sha256(os.path.join(copy, f"{ASSIGNMENT}.ipynb"))
    times["snapshot"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        nb = notebook.read_notebook(os.path.join(copy, f"{ASSIGNMENT}.ipynb"), report=result)
    except notebook.NotebookError:
        nb = None
    times["read"] = time.perf_counter() - t
    inv = None
    if nb is not None:
        t = time.perf_counter()
        inv = notebook.take_inventory(nb, course.release)
        inv.notes(course.release)
        times["inventory"] = time.perf_counter() - t
        t = time.perf_counter()
        units = answer_code.code_units(nb, course.release, inv)
        times["units"] = time.perf_counter() - t
        t = time.perf_counter()
        structure_flags(inv) + static_flags(units, deadline=deadline)
        times["flags"] = time.perf_counter() - t
    t = time.perf_counter()
    autograded.rebuild(nb, course.release, inv, notes=result.notes)
    autograded.written_answers(course.release, nb, inv)
    times["rebuild"] = time.perf_counter() - t
    times["total"] = sum(times.values())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per input (best kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        course_dir = factory.make_course(root)
        course = load_course(course_dir, ASSIGNMENT)
        folders = {}
        for name, entry in inputs().items():
            folders[name] = factory.make_submission(course_dir, name, entry)
        with open(os.path.join(folders["big_data_file"], "data.bin"), "wb") as fh:
            fh.write(os.urandom(snapshot.MAX_FILE_BYTES + 1))
        steps = ["snapshot", "read", "inventory", "units", "flags", "rebuild", "total"]
        print(f"{'input':<14} {'notebook MB':>11} " + " ".join(f"{s:>9}" for s in steps))
        for name, folder in folders.items():
            size = os.path.getsize(os.path.join(folder, f"{ASSIGNMENT}.ipynb")) / 1e6
            best: dict[str, float] = {}
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    times = trusted_side(course, folder, tmp)
                if not best or times["total"] < best["total"]:
                    best = times
            print(f"{name:<14} {size:>11.2f} " + " ".join(
                f"{best[s]:>9.3f}" if s in best else f"{'-':>9}" for s in steps))
        print(f"seconds per step, best of {args.repeat}; '-': step not reached (notebook refused)")


if __name__ == "__main__":
    main()
