"""Cost of judging wrong answers: an all-wrong submission per set, and the hand-written mutants' mistakes.

All-wrong: the answer is the reference plus a constant in every part, so every case fails and nothing explains
it: the most diagnosis work one submission can cause. Each run draws fresh hidden cases (a new grading seed), as
each submission of a batch gets; the published cases' known-mistake answers are kept by the process, as in a
batch. ``--mutants``: each mutant of ``tests/mutants`` (one known mistake in one function) judged on every case
of its function, hidden answers not cached, with and without a :class:`DiagnosisBudget`.

    nice .venv/bin/python benchmarks/bench_diagnosis.py --runs 3
    nice .venv/bin/python benchmarks/bench_diagnosis.py --mutants
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.specs import all_assignments, specs_for  # noqa: E402
from autograder.specs._diagnosis_budget import DiagnosisBudget  # noqa: E402


def _bumped(value):
    """``value`` plus one in every part (wrong everywhere, explained by no mistake)."""
    if isinstance(value, dict):
        return {k: _bumped(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_bumped(v) for v in value)
    return value + 1.0


def grade_all_wrong(assignment: str, seed: int, bounded: bool = True) -> float:
    """Seconds to judge one all-wrong submission of ``assignment`` on the cases of grading seed ``seed``."""
    start = time.perf_counter()
    for spec in specs_for(assignment):
        budget = DiagnosisBudget() if bounded else None
        for case in spec.cases(seed):
            wrong = SimpleNamespace(ok=True, value=_bumped(spec.expected(case)), error=None, timed_out=False)
            spec.evaluate(case, wrong, budget)
    return time.perf_counter() - start


def time_mutants(assignment: str) -> tuple[int, float, float]:
    """(mutants, mean seconds without a budget, with one) of the hand-written mutants of ``assignment``."""
    import contextlib
    import io
    import warnings
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "mutants"))
    from _harness import GRADING_SEED, MUTANTS, call, load_mutant
    from autograder.specs import spec_for
    for spec in specs_for(assignment):       # the published answers are kept by a batch's process
        for case in spec.published_cases(points=False):
            spec.known_mistakes(case)
    paths = sorted((MUTANTS / assignment).glob("*.py"))
    total = {None: 0.0, "budget": 0.0}
    for path in paths:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns = load_mutant(path)
            spec = spec_for(assignment, ns["FUNCTION"])
            cases = spec.cases(GRADING_SEED)
            calls = [call(ns[spec.function], case) for case in cases]
            for mode in total:
                spec.__dict__.pop("_mistake_cache", None)
                budget = DiagnosisBudget() if mode else None
                start = time.perf_counter()
                for case, result in zip(cases, calls):
                    spec.evaluate(case, result, budget)
                total[mode] += time.perf_counter() - start
    return len(paths), total[None] / len(paths), total["budget"] / len(paths)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="submissions per set (fresh cases each); best shown")
    parser.add_argument("--sets", nargs="*", default=all_assignments())
    parser.add_argument("--unbounded", action="store_true", help="search every mistake on every failed case")
    parser.add_argument("--mutants", action="store_true", help="time the hand-written mutants instead")
    args = parser.parse_args(argv)
    if args.mutants:
        print("| set | mutants | every mistake searched | with a budget |")
        print("|---|---|---|---|")
        for assignment in args.sets:
            n, full, bounded = time_mutants(assignment)
            print(f"| {assignment} | {n} | {full * 1000:.0f} ms | {bounded * 1000:.0f} ms |")
        return
    print("| set | first submission | best of the others |")
    print("|---|---|---|")
    for assignment in args.sets:
        times = [grade_all_wrong(assignment, 1000 + run, not args.unbounded) for run in range(args.runs)]
        rest = min(times[1:]) if len(times) > 1 else times[0]
        print(f"| {assignment} | {times[0] * 1000:.0f} ms | {rest * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
