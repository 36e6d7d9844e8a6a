"""The known-mistake search of a submission is bounded per function, and still names the mistakes it did.

The grading (:func:`autograder.run.run_cases`) gives each function one :class:`DiagnosisBudget` for its cases:
published cases search every known mistake (their answers are kept by the process), a failed hidden case tries
the mistakes named on earlier cases and searches everything for at most one hidden case.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import GRADING_SEED, MUTANTS, call, load_mutant  # noqa: E402

from autograder.specs import all_assignments, spec_for  # noqa: E402
from autograder.specs._diagnosis_budget import FULL_HIDDEN_SEARCHES, DiagnosisBudget, named_ids  # noqa: E402

MUTANT_FILES = sorted(p for a in all_assignments() for p in (MUTANTS / a).glob("*.py"))


def _bumped(value):
    if isinstance(value, dict):
        return {k: _bumped(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_bumped(v) for v in value)
    return value + 1.0


def _count_full_searches(spec, monkeypatch) -> list:
    """Every full known-mistake computation of a hidden case of ``spec`` is appended to the returned list."""
    searches = []
    compute = spec._compute_known_mistakes

    def counting(case, expected=None, ids=None):
        if ids is None and case.hidden:
            searches.append(case.name)
        return compute(case, expected, ids)
    monkeypatch.setattr(spec, "_compute_known_mistakes", counting)
    monkeypatch.setattr(spec, "_mistake_cache", {}, raising=False)
    return searches


def _grade(spec, func_or_values, seed, budget):
    out = []
    for case in spec.cases(seed):
        result = (SimpleNamespace(ok=True, value=_bumped(spec.expected(case)), error=None, timed_out=False)
                  if func_or_values is None else call(func_or_values, case))
        out.append(spec.evaluate(case, result, budget))
    return out


@pytest.mark.parametrize("assignment, function", [("ps6_gated_cells", "lstm_backward"),
                                                  ("ps3_bptt", "char_lm_grad")])
def test_an_all_wrong_answer_searches_every_mistake_on_one_hidden_case_at_most(assignment, function, monkeypatch):
    spec = spec_for(assignment, function)
    searches = _count_full_searches(spec, monkeypatch)
    results = _grade(spec, None, 7, DiagnosisBudget())
    assert not any(r.passed for r in results) and all(r.message for r in results)
    assert len(searches) == FULL_HIDDEN_SEARCHES
    assert all(r.diagnosis == "wrong_value" and "largest error" in r.message for r in results)
    searches.clear()
    _grade(spec, None, 8, None)          # without a budget: every failed hidden case searches everything
    assert len(searches) == len(spec.hidden_names) > FULL_HIDDEN_SEARCHES


def test_a_mistake_named_on_a_published_case_is_tried_first_on_the_hidden_ones(monkeypatch):
    path = MUTANTS / "ps3_bptt" / "rnn_backward__not_accumulated.py"
    ns = load_mutant(path)
    spec = spec_for("ps3_bptt", ns["FUNCTION"])
    searches = _count_full_searches(spec, monkeypatch)
    results = _grade(spec, ns[spec.function], 11, DiagnosisBudget())
    failed_hidden = [r for r in results if not r.passed and r.case in spec.hidden_names]
    assert failed_hidden and searches == []
    assert all(ns["DIAGNOSIS"] in named_ids(r.diagnosis) for r in failed_hidden)


@pytest.mark.parametrize("path", MUTANT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_bounded_search_names_what_the_full_search_names(path):
    ns = load_mutant(path)
    spec = spec_for(path.parent.name, ns["FUNCTION"])
    cases = spec.cases(GRADING_SEED)
    calls = [call(ns[spec.function], case) for case in cases]
    known = {m.id for m in spec.mistakes}
    budget = DiagnosisBudget()
    for case, result in zip(cases, calls):
        full, bounded = spec.evaluate(case, result), spec.evaluate(case, result, budget)
        assert (bounded.passed, bounded.points) == (full.passed, full.points)
        full_ids, bounded_ids = set(named_ids(full.diagnosis)) & known, set(named_ids(bounded.diagnosis)) & known
        assert bounded_ids <= full_ids and bool(bounded_ids) == bool(full_ids), (case.name, full.diagnosis,
                                                                                 bounded.diagnosis)


def test_fresh_cases_never_push_the_published_answers_out_of_the_cache():
    spec = spec_for("ps1_softmax", "softmax")
    published = spec.published_cases(points=False)[0]
    first = spec.known_mistakes(published)
    for seed in range(70):
        for case in spec.fresh_cases(seed):
            spec.known_mistakes(case)
    assert spec.known_mistakes(published) is first


def test_a_budget_is_a_count_of_searches():
    with pytest.raises(ValueError, match="full_searches"):
        DiagnosisBudget(-1)
    budget = DiagnosisBudget(0)
    assert not budget.take_full_search()
    budget.record("a|constant_factor@W_h+b@h0", {"a", "b"})
    assert budget.named == ["a", "b"]
    assert budget.names_known("a@W_h+b@h0", {"a", "b"}) and not budget.names_known("a@W_h+constant_factor@h0",
                                                                                     {"a", "b"})
