"""Mutation audit: how often does a realistic single mistake in a worked solution get a specific diagnosis?

Every graded function's worked solution (the solution region of ``assignments/source/<set>/<set>.ipynb``) is
mutated mechanically by :mod:`mutation_ops` (one AST change at a time, operators that know nothing of the
diagnoses). Each mutant is graded on the fast path: called in this process on every case of the spec (the
published ones and the fresh draws of ``--seed``) and judged by ``Spec.evaluate`` with one
``DiagnosisBudget`` for its cases, as the grading does with the values that come back from the sandbox; no
sandbox is involved. Each mutant falls in one class:

* ``equivalent``: it passes every case (the mutation did not change the answer);
* ``crash``: every failed case raised (or timed out);
* ``shape``: some cases raised and others returned a wrong value: the mutation is a shape error that a case with
  equal dimensions (a square weight, N equal to D) does not reveal; the student sees the error first;
* ``structure``: every failed case that returned has the wrong shape, type or keys (the structure check names
  what is wrong, but no mistake);
* ``named``: every failed case that returned a value of the right structure carries a known-mistake diagnosis;
* ``generic``: at least one such case gets only ``wrong_value`` (or ``non_finite``).

The named share is ``named / (named + generic)``; the strict share also counts ``structure`` and ``shape`` as
not named.

Run:  python benchmarks/mutation_audit.py [--sets ps3_bptt ...] [--seed 314159] [--list generic] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "mutants"), str(Path(__file__).resolve().parent)]

from _harness import COURSE, GRADING_SEED, answer_code, call  # noqa: E402
from mutation_ops import mutants  # noqa: E402

from autograder.specs import all_assignments, specs_for  # noqa: E402
from autograder.specs._diagnosis_budget import DiagnosisBudget  # noqa: E402

STRUCTURE = {"wrong_shape", "wrong_type", "wrong_keys", "wrong_dtype"}
UNNAMED = {"wrong_value", "non_finite"}
RAISED = {"exception", "timeout", "not_implemented"}
CLASSES = ("named", "generic", "structure", "shape", "crash", "equivalent")


def function_sources(assignment: str) -> tuple[str, dict[str, str]]:
    """The answer code of a set's notebook and the source of each top-level function in it."""
    import ast
    code = answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb")
    tree = ast.parse(code)
    return code, {n.name: ast.get_source_segment(code, n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def classify(results) -> str:
    """The class of one mutant from its case results (see the module docstring)."""
    failed = [r for r in results if not r.passed]
    if not failed:
        return "equivalent"
    returned = [r for r in failed if r.diagnosis not in RAISED]
    if not returned:
        return "crash"
    if len(returned) < len(failed):
        return "shape"
    valued = [r for r in returned if r.diagnosis not in STRUCTURE]
    if not valued:
        return "structure"
    return "generic" if any(r.diagnosis in UNNAMED for r in valued) else "named"


def grade_mutant(spec, code: str, mutant_source: str, cases) -> list:
    """Case results of the set's answer code with one function replaced by ``mutant_source``."""
    namespace = {"__name__": "submission"}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        exec(compile("import numpy as np\n" + code, "<answer cells>", "exec"), namespace)
        exec(compile(mutant_source, "<mutant>", "exec"), namespace)
        func = namespace[spec.function]
        budget = DiagnosisBudget()
        return [spec.evaluate(case, call(func, case), budget) for case in cases]


def audit(assignments, seed: int = GRADING_SEED) -> list[dict]:
    """One record per mutant: set, function, operator, site, class and the diagnoses of its failed cases."""
    records = []
    for assignment in assignments:
        code, sources = function_sources(assignment)
        for spec in specs_for(assignment):
            cases = spec.cases(seed)
            for m in mutants(sources[spec.function]):
                results = grade_mutant(spec, code, m.source, cases)
                records.append({"set": assignment, "function": spec.function, "operator": m.operator,
                                "site": m.site, "class": classify(results),
                                "diagnoses": sorted({r.diagnosis for r in results if not r.passed})})
    return records


def table(records, key: str) -> list[tuple]:
    """Rows (group, counts per class, named share, strict share) grouped by ``key``, then a total row."""
    groups = sorted({r[key] for r in records}) + ["all"]
    rows = []
    for g in groups:
        counts = Counter(r["class"] for r in records if g == "all" or r[key] == g)
        judged = counts["named"] + counts["generic"]
        share = counts["named"] / judged if judged else float("nan")
        unnamed = judged + counts["structure"] + counts["shape"]
        strict = counts["named"] / unnamed if unnamed else float("nan")
        rows.append((g, *(counts[c] for c in CLASSES), share, strict))
    return rows


def markdown(rows, title: str) -> str:
    head = f"| {title} | " + " | ".join(CLASSES) + " | named share | strict share |\n"
    head += "|" + "---|" * (len(CLASSES) + 3) + "\n"
    return head + "".join(f"| {g} | " + " | ".join(str(c) for c in counts) + f" | {share:.0%} | {strict:.0%} |\n"
                          for g, *counts, share, strict in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=all_assignments())
    parser.add_argument("--seed", type=int, default=GRADING_SEED)
    parser.add_argument("--list", choices=CLASSES, help="also print the mutants of this class")
    parser.add_argument("--json", type=Path, help="write every record here")
    args = parser.parse_args(argv)
    records = audit(args.sets, args.seed)
    print(markdown(table(records, "set"), "set"))
    print(markdown(table(records, "operator"), "operator"))
    if args.list:
        for r in records:
            if r["class"] == args.list:
                print(f"{r['set']}.{r['function']} {r['operator']}: {r['site']} -> {', '.join(r['diagnoses'])}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
