"""A spec keeps its published cases and their reference answers: ``published_cases()`` gives the same
cases on every call, their input arrays read-only; ``expected`` keeps the (read-only) answer of a kept
published case and computes any other case's afresh; nothing kept travels when a spec is pickled with
cloudpickle (as dask does), and the copy grades alike; ``evaluate`` gives the same verdicts and ``error``
field as the comparison it replaced (``compare`` + ``float64_error``)."""
from __future__ import annotations

import copy
import dataclasses
import types

import cloudpickle
import numpy as np
import pytest
from hypothesis import given, settings

from autograder import compare as _compare
from autograder.specs import Spec, all_assignments, specs_for
from autograder.specs._core import CaseResult, float64_error, normalize
from strategies import seeds

SPECS = [spec for a in all_assignments() for spec in specs_for(a)]
IDS = [f"{s.assignment}.{s.function}" for s in SPECS]


def leaves(value):
    """The leaves of a nested value (dicts, tuples, lists), in order."""
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in leaves(value[k])]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in leaves(v)]
    return [value]


def arrays_in(value) -> list[np.ndarray]:
    return [x for x in leaves(value) if isinstance(x, np.ndarray)]


def assert_same(a, b):
    """Equal structure, types, dtypes, shapes and bits."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    else:
        assert a == b or (a != a and b != b)


def assert_read_only(value):
    for arr in arrays_in(value):
        assert not arr.flags.writeable
        if arr.size:
            with pytest.raises(ValueError):
                arr.flat[0] = arr.flat[0]


def fresh_reference(spec: Spec, case):
    return normalize(spec.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))


def ok(value):
    return types.SimpleNamespace(ok=True, value=value, error=None, timed_out=False)


def mapped(value, f):
    """``value`` with ``f(i, leaf)`` in place of its i-th leaf (same structure)."""
    counter = iter(range(10**6))

    def walk(v):
        if isinstance(v, dict):
            return {k: walk(v[k]) for k in v}
        if isinstance(v, (tuple, list)):
            return type(v)(walk(x) for x in v)
        return f(next(counter), v)
    return walk(value)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_published_cases_are_kept_equal_and_read_only(spec):
    with_points, plain = spec.published_cases(), spec.published_cases(points=False)
    assert [c.name for c in with_points] == [c.name for c in plain] == spec.published_names
    assert sum(c.points for c in with_points) == pytest.approx(spec.points)
    assert all(c.points == 0.0 for c in plain)
    for points in (True, False):
        first, second = spec.published_cases(points), spec.published_cases(points)
        assert first is not second                   # a new list each call: the caller may change it
        for a, b in zip(first, second, strict=True):
            assert a is b                           # the same kept case
            assert not a.hidden
            assert_read_only((a.args, a.kwargs))
    for a, b in zip(with_points, plain):            # the same draw, whatever the points
        assert_same(a.args, b.args) and assert_same(a.kwargs, b.kwargs)
    assert arrays_in([(c.args, c.kwargs) for c in with_points]), "a spec without array inputs checks nothing"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_expected_keeps_the_answer_of_a_kept_case(spec):
    for case in spec.published_cases() + spec.published_cases(points=False):
        answer = spec.expected(case)
        assert_same(answer, fresh_reference(spec, case))
        assert_read_only(answer)
        assert spec.expected(case) is answer
        twin = dataclasses.replace(case)            # equal, but not the kept case: computed afresh
        other = spec.expected(twin)
        assert other is not answer
        assert_same(other, answer)
        assert all(arr.flags.writeable for arr in arrays_in(other))


@settings(max_examples=5)
@given(seed=seeds)
def test_expected_of_a_fresh_case_is_new_and_writable_each_call(seed):
    for spec in SPECS:
        for case in spec.fresh_cases(seed):
            first, second = spec.expected(case), spec.expected(case)
            assert first is not second
            assert_same(first, second)
            assert_same(first, fresh_reference(spec, case))
            for a, b in zip(arrays_in(first), arrays_in(second), strict=True):
                assert a.flags.writeable and not np.shares_memory(a, b)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_kept_values_are_not_pickled(spec):
    published = spec.published_cases()
    spec.published_cases(points=False)
    hidden = spec.fresh_cases(7)
    for case in (published[0], hidden[0]):
        spec.known_mistakes(case, spec.expected(case))
    assert set(Spec._KEPT) <= set(spec.__dict__), "the spec kept less than the test expects"
    clone = cloudpickle.loads(cloudpickle.dumps(spec))
    assert not set(Spec._KEPT) & set(clone.__dict__)
    assert set(spec.__dict__) - set(clone.__dict__) == set(Spec._KEPT)
    assert not [k for k in clone.__dict__ if k.startswith("_")]   # every cache is named in _KEPT
    again = clone.published_cases()
    assert [c.name for c in again] == [c.name for c in published]
    for mine, theirs in zip(published, again, strict=True):
        assert mine is not theirs
        assert mine.points == theirs.points
        assert_same((mine.args, mine.kwargs), (theirs.args, theirs.kwargs))
        assert_read_only((theirs.args, theirs.kwargs))
        result = clone.evaluate(theirs, ok(fresh_reference(spec, mine)))
        assert result.passed and result.points == mine.points
    assert spec.published_cases()[0] is published[0]   # pickling left the original's kept cases alone


def largest_error(value, expected) -> float:
    """The largest leaf error of a valid float64 ``value`` (computed here, not by the code under test)."""
    assert _compare.validate(value, expected) is None
    return max(err for _, err, _ in _compare.leaf_errors(value, expected))


def check_evaluate(spec, case):
    expected = fresh_reference(spec, case)
    # a right answer, each leaf off by a different tiny amount (so ``error`` is the largest of several)
    tiny = 1e-10 * _compare.SCALE_FLOOR
    right = mapped(expected, lambda i, x: x * (1 + (i % 7 + 1) * 1e-10) + (i % 5 + 1) * tiny)
    want_error = largest_error(right, expected)
    assert want_error > 0 and want_error == float64_error(right, expected)
    assert spec.evaluate(case, ok(right)) == CaseResult(case.name, case.points, case.points, True, "correct",
                                                        None, want_error)
    single = mapped(expected, lambda i, x: np.float32(x) if isinstance(x, float) else x.astype(np.float32))
    got = spec.evaluate(case, ok(single))
    assert (got.passed, got.points, got.message, got.diagnosis, got.error) == (True, case.points, "correct",
                                                                              None, None)
    wrong = mapped(expected, lambda i, x: x * 2)
    got = spec.evaluate(case, ok(wrong))
    verdict = _compare.compare(wrong, expected, spec.known_mistakes(case, expected), spec.nonfinite)
    verdict = _compare.with_returned_parts(verdict, wrong, expected, spec.function, spec.signature)
    assert got == CaseResult(case.name, case.points if verdict.passed else 0.0, case.points, verdict.passed,
                             verdict.message, verdict.diagnosis, largest_error(wrong, expected))
    assert got.error == float64_error(wrong, expected)
    assert got.passed == _compare.matches(wrong, expected)
    return got.passed


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_evaluate_gives_the_verdicts_it_gave_before(spec):
    cases = spec.published_cases() + spec.published_cases(points=False) + spec.fresh_cases(11)
    wrong_passed = [check_evaluate(spec, case) for case in cases]
    assert not all(wrong_passed), "doubling the answer passed on every case"
    timed_out = types.SimpleNamespace(ok=False, value=None, error=None, timed_out=True)
    assert spec.evaluate(cases[0], timed_out).diagnosis == "timeout"
