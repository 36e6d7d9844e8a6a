"""The mutation audit: mechanical single mistakes in the worked solutions get named.

``benchmarks/mutation_audit.py`` mutates every worked solution (one AST change at a time) and grades each
mutant on the fast path (``Spec.evaluate`` on every case). Here it runs on every problem set, and the share of
mutants whose every wrong value carries a known-mistake diagnosis must stay at 80% or more in each set and
over all of them.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import mutation_audit  # noqa: E402
from mutation_ops import mutants  # noqa: E402

from autograder.specs import all_assignments  # noqa: E402

#: the least named share every set, and all of them together, must keep
NAMED_SHARE = 0.80


@pytest.fixture(scope="module")
def records():
    return mutation_audit.audit(all_assignments())


@pytest.mark.parametrize("group", [*all_assignments(), "all"])
def test_named_share_stays_at_least_80_percent(records, group):
    (_, *counts, share, strict), = [row for row in mutation_audit.table(records, "set") if row[0] == group]
    named, generic = counts[0], counts[1]
    assert named + generic >= 40, "too few judged mutants for a share to mean anything"
    assert share >= NAMED_SHARE, (share, [(r["function"], r["operator"], r["site"]) for r in records
                                          if r["class"] == "generic" and group in ("all", r["set"])])


def test_the_operators_make_the_listed_mistakes():
    source = ("def f(dhs, hs, W_h, h0):\n    g = 0\n    dh = 0\n    for t in reversed(range(len(hs))):\n"
              "        h_prev = hs[t - 1] if t > 0 else h0\n        da = (dhs[t] + dh) * (1 - hs[t] ** 2)\n"
              "        g += h_prev.T @ da\n        dh = da @ W_h.T\n    return g\n")
    made = {(m.operator, m.site) for m in mutants(source)}
    operators = {op for op, _ in made}
    assert {"drop_transpose", "swap_operands", "time_shift", "drop_term", "overwrite", "swap_derivative",
            "loop", "drop_factor"} <= operators
    assert ("drop_transpose", "W_h.T") in made and ("overwrite", "g += h_prev.T @ da") in made


def test_classify_separates_equivalent_crash_shape_structure_named_and_generic():
    def r(passed, diagnosis=None):
        return SimpleNamespace(passed=passed, diagnosis=diagnosis)
    assert mutation_audit.classify([r(True), r(True)]) == "equivalent"
    assert mutation_audit.classify([r(True), r(False, "exception")]) == "crash"
    assert mutation_audit.classify([r(False, "exception"), r(False, "wrong_value")]) == "shape"
    assert mutation_audit.classify([r(False, "wrong_shape")]) == "structure"
    assert mutation_audit.classify([r(False, "not_accumulated@W_h"), r(True)]) == "named"
    assert mutation_audit.classify([r(False, "missing_transpose"), r(False, "wrong_value")]) == "generic"
