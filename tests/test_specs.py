"""The specs and the trusted comparer: cases, points, validation of outputs, tolerances, seeds.

Every spec is run with the worked solution of its source notebook (full marks on visible and hidden cases),
with the reference itself, and with returned values that are wrong in shape, dtype or finiteness.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import COURSE, GRADING_SEED, answer_code, call, exec_namespace, grade_function  # noqa: E402

from strategies import seeds, shapes  # noqa: E402

from autograder import compare
from autograder.specs import PUBLIC_SEED, Case, all_assignments, specs_for

ALL_SPECS = [s for a in all_assignments() for s in specs_for(a)]
IDS = [f"{s.assignment}.{s.function}" for s in ALL_SPECS]


@pytest.fixture(scope="module")
def solutions():
    return {a: exec_namespace(answer_code(COURSE / "source" / a / f"{a}.ipynb")) for a in all_assignments()}


def test_assignment_ids_are_the_fixed_six():
    assert all_assignments() == ["ps1_softmax", "ps2_layout_cell", "ps3_bptt", "ps4_hidden_jacobians",
                                 "ps5_sequence_slope", "ps6_gated_cells"]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_case_points_sum_to_spec_points_and_names_are_unique(spec):
    cases = spec.cases(GRADING_SEED)
    assert spec.grade_id == "test_" + spec.function
    assert abs(sum(c.points for c in cases) - spec.points) < 1e-9
    assert len({c.name for c in cases}) == len(cases)
    assert any(c.hidden for c in cases) and any(not c.hidden for c in cases)
    assert [c.name for c in spec.cases(GRADING_SEED, hidden=False)] == [c.name for c in cases if not c.hidden]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_visible_cases_come_from_the_public_seed_and_hidden_ones_from_the_secret_seed(spec):
    def flat(x):
        if isinstance(x, dict):
            return [a for v in x.values() for a in flat(v)]
        return [x] if isinstance(x, np.ndarray) else []

    def arrays(cases):
        return [a for c in cases for arg in c.args for a in flat(arg)]
    v1 = arrays(spec.cases(1, hidden=False))
    v2 = arrays(spec.cases(2, hidden=False))
    assert all(np.array_equal(a, b) for a, b in zip(v1, v2))
    h1 = arrays([c for c in spec.cases(1) if c.hidden])
    h2 = arrays([c for c in spec.cases(2) if c.hidden])
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(h1, h2))
    assert PUBLIC_SEED not in (1, 2)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_worked_solution_scores_full_marks(spec, solutions):
    results = grade_function(spec, solutions[spec.assignment][spec.function])
    failed = [(r.case, r.message) for r in results if not r.passed]
    assert not failed
    assert abs(sum(r.points for r in results) - spec.points) < 1e-9


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_every_known_mistake_differs_from_the_answer_on_some_visible_case(spec):
    """Mistakes written for one function show on a visible case; generated ones on some case at least."""
    seen = set()
    for case in spec.cases(PUBLIC_SEED, hidden=False):
        seen |= {m.id for m in spec.known_mistakes(case)}
    assert seen >= {m.id for m in spec.mistakes if not m.generated}
    for case in spec.cases(GRADING_SEED):
        seen |= {m.id for m in spec.known_mistakes(case)}
    # argument classes apply only where an argument has the needed shape (a square weight, several steps)
    assert seen >= {m.id for m in spec.mistakes if m.generated and m.id not in ("negated_input", "shifted_index",
                                                                                 "missing_transpose", "missing_factor")}


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_known_mistakes_that_coincide_are_all_named(spec):
    """Two mistakes with the same wrong answer on a case: the verdict names both (one explanation never hides
    another that fits equally)."""
    for case in spec.cases(GRADING_SEED):
        expected = spec.expected(case)
        mistakes = spec.known_mistakes(case, expected)
        for i, a in enumerate(mistakes):
            same = {b.id for b in mistakes if compare.matches(a.answer, b.answer)}
            verdict = compare.compare(a.answer, expected, mistakes)
            assert not verdict.passed
            assert set(verdict.diagnosis.split("|")) >= same, (case.name, a.id, verdict.diagnosis)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_the_fixed_sentence_of_a_diagnosis_is_the_one_a_visible_case_shows(spec):
    """A hidden case's sentence (spec.messages) is the sentence the comparison picks for the same id on a
    visible case: the first mistake that bears the id."""
    table = spec.messages
    first: dict[str, str] = {}
    for m in spec.mistakes:
        first.setdefault(m.id, m.message)
    for mistake_id, sentence in first.items():
        assert table[mistake_id] == sentence, mistake_id


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_float32_answers_are_accepted_and_perturbed_answers_are_not(spec):
    case = spec.cases(PUBLIC_SEED, hidden=False)[0]
    expected = spec.expected(case)

    def cast(x, dtype):
        if isinstance(x, dict):
            return {k: cast(v, dtype) for k, v in x.items()}
        if isinstance(x, tuple):
            return tuple(cast(v, dtype) for v in x)
        return x if isinstance(x, float) else x.astype(dtype)

    def bump(x):
        if isinstance(x, dict):
            k = sorted(x)[-1]
            return {**x, k: bump(x[k])}
        if isinstance(x, tuple):
            return tuple(bump(v) for v in x)
        if isinstance(x, float):
            return x + 1e-3 * max(abs(x), 1.0)
        y = x.copy()
        y.flat[0] += 1e-3 * max(np.abs(x).max(), 1.0)
        return y

    ok = spec.evaluate(case, call(lambda *a, **k: cast(expected, np.float32), case))
    assert ok.passed, ok.message
    bad = spec.evaluate(case, call(lambda *a, **k: bump(expected), case))
    assert not bad.passed and bad.points == 0.0


def test_output_validation_names_shape_dtype_and_nonfinite_problems():
    spec = specs_for("ps1_softmax")[1]  # softmax_jacobian
    case = spec.cases(PUBLIC_SEED, hidden=False)[0]
    good = spec.expected(case)
    r = spec.evaluate(case, call(lambda z: good[0], case))
    assert (r.diagnosis, r.passed) == ("wrong_shape", False) and str(good.shape) in r.message
    r = spec.evaluate(case, call(lambda z: np.ones(good.shape, dtype=np.int64), case))
    assert r.diagnosis == "wrong_dtype" and "int64" in r.message
    r = spec.evaluate(case, call(lambda z: good.tolist(), case))
    assert r.diagnosis == "wrong_type" and "list" in r.message
    nan = good.copy()
    nan[0, 0, 0] = np.nan
    r = spec.evaluate(case, call(lambda z: nan, case))
    assert r.diagnosis == "softmax_overflow" and "NaN" in r.message


def test_errors_timeouts_and_stubs_score_zero_without_crashing():
    spec = specs_for("ps1_softmax")[0]
    case = spec.cases(PUBLIC_SEED, hidden=False)[0]

    def stub(z):
        raise NotImplementedError()
    assert spec.evaluate(case, call(stub, case)).diagnosis == "not_implemented"
    r = spec.evaluate(case, call(lambda z: z[10 ** 6], case))
    assert r.diagnosis == "exception" and "IndexError" in r.message and r.points == 0
    from types import SimpleNamespace
    r = spec.evaluate(case, SimpleNamespace(ok=False, value=None, error=None, timed_out=True))
    assert r.diagnosis == "timeout" and r.points == 0


def test_compare_is_relative_to_the_leaf_scale_and_checks_dict_keys():
    want = {"a": np.array([1e6, 1.0]), "b": np.zeros(2)}
    assert compare.compare({"a": np.array([1e6 + 0.5, 1.0]), "b": np.zeros(2)}, want).passed
    assert not compare.compare({"a": np.array([1e6, 1.0]), "b": np.array([1e-3, 0.0])}, want).passed
    v = compare.compare({"a": want["a"]}, want)
    assert v.diagnosis == "wrong_keys" and "'b'" in v.message
    assert compare.compare((1.5, np.ones(2)), (1.5, np.ones(2))).passed
    assert compare.compare((np.float64(1.5), np.ones(2)), (1.5, np.ones(2))).passed
    assert compare.compare((float("nan"), np.ones(2)), (1.5, np.ones(2))).diagnosis == "non_finite"


def test_messages_do_not_reveal_hidden_inputs():
    spec = specs_for("ps1_softmax")[3]
    for case in [c for c in spec.cases(GRADING_SEED) if c.hidden]:
        r = spec.evaluate(case, call(lambda z, y: z * 2.0, case))
        for a in case.args:
            if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                assert f"{a.flat[0]:.4f}" not in r.message and str(a.flat[0]) not in r.message


def test_case_is_frozen_data():
    c = Case("x", (np.ones(2),), {}, False, 1.0)
    with pytest.raises(Exception):
        c.name = "y"


@settings(max_examples=25)
@given(shape=shapes(1, 3), seed=seeds, scale=st.sampled_from([1e-8, 1e-3, 1.0, 1e4]))
def test_compare_is_scale_invariant_and_accepts_float32_and_rounding(shape, seed, scale):
    rng = np.random.default_rng(seed)
    want = scale * rng.standard_normal(shape)
    assert compare.compare(want.copy(), want).passed
    assert compare.compare(want.astype(np.float32), want).passed
    assert compare.compare(want * (1 + 1e-9), want).passed
    off = want.copy()
    off.flat[0] += 1e-2 * max(np.abs(want).max(), compare.SCALE_FLOOR)
    assert not compare.compare(off, want).passed
    assert compare.compare(off * 7.0, want * 7.0).passed == compare.compare(off, want).passed
    wrong = compare.Mistake("negated", -want, "negated")
    if np.abs(want).max() > compare.SCALE_FLOOR:
        v = compare.compare(-want, want, [wrong])
        assert (v.passed, v.diagnosis) == (False, "negated")


def test_tuples_may_come_back_as_lists():
    spec = specs_for("ps3_bptt")[1]  # char_lm_grad -> (loss, grads, h_last)
    case = spec.cases(PUBLIC_SEED, hidden=False)[0]
    loss, grads, h_last = spec.expected(case)
    assert spec.evaluate(case, call(lambda *a: [loss, grads, h_last], case)).passed
    assert spec.evaluate(case, call(lambda *a: (np.float64(loss), grads, h_last), case)).passed
    r = spec.evaluate(case, call(lambda *a: grads, case))
    assert r.diagnosis == "wrong_type" and not r.passed


@pytest.mark.parametrize("function", ["char_lm_grad", "truncated_grad", "squared_error_grad"])
def test_the_last_state_is_graded_and_its_absence_explained(function):
    # the loss-and-gradient functions of ps3 return (loss, grads, h_last), like rnngrad's; h_last is compared
    # like the other parts, and an answer without it is told what the three parts are
    spec = next(s for s in specs_for("ps3_bptt") if s.function == function)
    case = spec.cases(PUBLIC_SEED, hidden=False)[0]
    loss, grads, h_last = spec.expected(case)
    missing = spec.evaluate(case, call(lambda *a, **k: (loss, grads), case))
    assert not missing.passed and missing.diagnosis == "wrong_type"
    assert "(loss, grads, h_last)" in missing.message and "state after the last step" in missing.message
    wrong_state = spec.evaluate(case, call(lambda *a, **k: (loss, grads, h_last + 0.1), case))
    assert not wrong_state.passed
    assert spec.evaluate(case, call(lambda *a, **k: (loss, grads, h_last), case)).passed


def _leaf_errors_by_definition(value, expected):
    """What :func:`autograder.compare.leaf_errors` means, written plainly: every leaf in float64 arrays."""
    out = []
    for path, v, e in compare._leaves(value, expected):
        is32 = np.asarray(v).dtype == np.float32 and isinstance(v, (np.ndarray, np.floating))
        got, want = np.asarray(v, dtype=np.float64), np.asarray(e, dtype=np.float64)
        scale = max(float(np.max(np.abs(want))) if want.size else 0.0, compare.SCALE_FLOOR)
        out.append((path, float(np.max(np.abs(got - want))) / scale if want.size else 0.0,
                    compare.FLOAT32_TOL if is32 else compare.FLOAT64_TOL))
    return out


_LEAVES = st.one_of(
    st.floats(-1e6, 1e6).map(lambda x: (x, x * 1.001)),
    st.floats(-1e6, 1e6).map(lambda x: (np.float32(x), x)),
    st.integers(-5, 5).map(lambda n: (n, float(n) + 0.5)),
    st.floats(-1e3, 1e3).map(lambda x: (np.array(x), x)),
    st.tuples(shapes(max_ndim=3), seeds, st.sampled_from([np.float64, np.float32, np.int64])).map(
        lambda a: (lambda want: (np.round(want * 7).astype(a[2]) if a[2] is np.int64 else want.astype(a[2]) * 1.01,
                                 want))(np.random.default_rng(a[1]).normal(size=a[0]) * 10.0 ** (a[1] % 7 - 3))),
    st.just((np.array([np.nan, 1.0]), np.array([1.0, 1.0]))),
    st.just((np.zeros((0, 3)), np.zeros((0, 3)))),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LEAVES, min_size=1, max_size=4), st.booleans())
def test_leaf_errors_are_the_plain_float64_formula(pairs, as_dict):
    """The comparison's fast paths (Python floats for numbers, array methods) give the same errors, bit for bit."""
    if as_dict:
        value, expected = {f"k{i}": v for i, (v, _) in enumerate(pairs)}, {f"k{i}": e for i, (_, e) in enumerate(pairs)}
    else:
        value, expected = tuple(v for v, _ in pairs), tuple(e for _, e in pairs)
    got, want = compare.leaf_errors(value, expected), _leaf_errors_by_definition(value, expected)
    assert [(p, t) for p, _, t in got] == [(p, t) for p, _, t in want]
    assert all(a == b or (np.isnan(a) and np.isnan(b)) for (_, a, _), (_, b, _) in zip(got, want))
