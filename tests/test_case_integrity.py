"""Points are earned by computing: fresh cases carry the points, no scored answer is trivial, and the two
case flags (a lookup table of the published answers, finite differences) fire where they should and nowhere else.
"""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import COURSE, MUTANTS, answer_code, exec_namespace, grade_function, load_mutant  # noqa: E402

import fd_solutions  # noqa: E402
from autograder import case_flags, compare
from autograder.specs import CaseMaker, Spec, all_assignments, spec_for, specs_for

ALL_SPECS = [s for a in all_assignments() for s in specs_for(a)]
IDS = [f"{s.assignment}.{s.function}" for s in ALL_SPECS]
SEEDS = range(1, 7)


def _arrays(x) -> list[np.ndarray]:
    """Every numeric input of a case as a float64 array (scalars as 0-d arrays), dict values included."""
    if isinstance(x, dict):
        return [a for v in x.values() for a in _arrays(v)]
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in _arrays(v)]
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiu":
        return [x.astype(np.float64)]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return [np.array(float(x))]
    return []


def _trivial_leaves(want, inputs):
    """(name, value) of what a function that computes nothing could return for one leaf of the answer."""
    if isinstance(want, float):
        yield from [("zero", 0.0), ("one", 1.0)]
        for a in inputs:
            if a.size == 1:
                yield from [("echo", float(a.ravel()[0])), ("negated echo", -float(a.ravel()[0]))]
        return
    yield from [("zeros", np.zeros(want.shape)), ("ones", np.ones(want.shape))]
    if want.size > 1:      # one entry is always "constant"; several equal entries are what a constant passes
        yield "constant", np.full(want.shape, want.flat[0])
    if want.ndim >= 2 and want.shape[-1] == want.shape[-2]:
        yield "identity batch", np.broadcast_to(np.eye(want.shape[-1]), want.shape).copy()
    for a in inputs:
        if a.size == want.size and want.size:
            yield from [("echo", a.reshape(want.shape)), ("negated echo", -a.reshape(want.shape))]


def trivial_match(want, inputs) -> str | None:
    """How a trivial function reproduces ``want`` leaf by leaf (by :func:`compare.matches`), or None."""
    if isinstance(want, dict):
        found = [trivial_match(v, inputs) for v in want.values()]
        return None if None in found else ", ".join(found)
    if isinstance(want, tuple):
        found = [trivial_match(v, inputs) for v in want]
        return None if None in found else ", ".join(found)
    return next((name for name, value in _trivial_leaves(want, inputs) if compare.matches(value, want)), None)


def test_the_trivial_answers_are_recognised():
    x = np.arange(6.0).reshape(2, 3) + 1.0
    assert trivial_match(np.zeros((2, 3)), [x]) == "zeros"
    assert trivial_match(np.full((2, 3), 0.25), [x]) == "constant"
    assert trivial_match(-x.reshape(3, 2), [x]) == "negated echo"
    assert trivial_match(np.broadcast_to(np.eye(3), (2, 3, 3)).copy(), [x]) == "identity batch"
    assert trivial_match({"a": x.ravel(), "b": np.ones(2)}, [x]) == "echo, ones"
    assert trivial_match((2.5, x), [np.array(2.5), x]) == "echo, echo"
    assert trivial_match(x * 1.5, [x]) is None
    assert trivial_match(np.array([[0.3]]), [x]) is None       # a single entry is not "constant"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_no_case_with_points_has_an_answer_a_trivial_function_reproduces(spec):
    cases = [c for c in spec.published_cases() if c.points > 0]
    cases += [c for seed in SEEDS for c in spec.fresh_cases(seed)]
    assert cases and all(c.points > 0 for c in cases)
    for case in cases:
        with np.errstate(all="ignore"):
            want = spec.expected(case)
        found = trivial_match(want, _arrays(case.args) + _arrays(case.kwargs))
        assert found is None, (case.name, found)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_only_fresh_cases_carry_points(spec):
    official = spec.cases(4321)
    published = [c for c in official if not c.hidden]
    fresh = [c for c in official if c.hidden]
    assert [c.name for c in published] == spec.published_names and all(c.points == 0 for c in published)
    assert [c.name for c in fresh] == spec.hidden_names and all(c.points > 0 for c in fresh)
    assert sum(c.points for c in fresh) == pytest.approx(spec.points)
    assert sum(c.points for c in spec.published_cases()) == pytest.approx(spec.points)   # the local check
    # every maker with points is drawn afresh, published ones included, with other numbers than the release
    assert set(spec.twins.values()) <= set(spec.hidden_names)
    assert len(spec.hidden_names) == sum(m.weight > 0 for m in spec.makers)
    by_name = {c.name: c for c in official}
    for name, twin in spec.twins.items():
        old, new = _arrays(by_name[name].args), _arrays(by_name[twin].args)
        assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(old, new) if a.size > 1)
    # a fresh draw never repeats the published one, whatever seed the instructor picks
    from autograder.specs import PUBLIC_SEED
    again = {c.name: c for c in spec.fresh_cases(PUBLIC_SEED)}
    for name, twin in spec.twins.items():
        old, new = _arrays(by_name[name].args), _arrays(again[twin].args)
        assert any(not np.array_equal(a, b) for a, b in zip(old, new) if a.size > 1)


def test_spec_rejects_makers_that_cannot_be_scored():
    make = lambda rng: ((rng.standard_normal(3),), {})  # noqa: E731
    with pytest.raises(ValueError, match="0 only for a published check"):
        Spec("x", "f", 1, abs, [CaseMaker("a", make), CaseMaker("b", make, hidden=True, weight=0.0)])
    with pytest.raises(ValueError, match="published maker with points"):
        Spec("x", "f", 1, abs, [CaseMaker("a", make, weight=0.0), CaseMaker("b", make, hidden=True)])
    with pytest.raises(ValueError, match="duplicate"):
        Spec("x", "f", 1, abs, [CaseMaker("a", make), CaseMaker("a_fresh", make, hidden=True)])


# ---------------------------------------------------------------------------------- a lookup table
def _lookup_table(spec):
    """A function answering the published cases from a table keyed by its inputs' bytes, and nothing else."""
    def key_of(args, kwargs):  # the arrays' bytes and the options (a keyword such as k=2)
        return b"".join(a.tobytes() for a in _arrays(args)) + repr(sorted(kwargs.items())).encode()

    table = {key_of(case.args, case.kwargs): spec.expected(case) for case in spec.published_cases()}

    def lookup(*args, **kwargs):
        return table[key_of(args, kwargs)]       # KeyError on any input it has not seen
    return lookup


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_a_lookup_table_of_the_published_answers_earns_nothing_and_is_flagged(spec):
    results = grade_function(spec, _lookup_table(spec))
    assert sum(r.points for r in results) == 0.0
    assert all(r.passed for r in results if not r.max_points)       # the feedback still says it matched them
    flags = case_flags.case_flags([spec], {spec.grade_id: results})
    assert len(flags) == 1 and flags[0].startswith(f"{case_flags.LOOKUP}: {spec.function} ")


def test_the_lookup_flag_needs_every_published_case_and_a_failed_fresh_one():
    spec = spec_for("ps1_softmax", "softmax_vjp")
    worked = exec_namespace(answer_code(COURSE / "source" / spec.assignment / f"{spec.assignment}.ipynb"))
    honest = grade_function(spec, worked[spec.function])
    assert case_flags.lookup_flag(spec, honest) is None
    lookup = grade_function(spec, _lookup_table(spec))
    assert case_flags.lookup_flag(spec, lookup) is not None
    one_published_failed = [r if r.case != spec.published_names[0] else honest[0].__class__(
        r.case, 0.0, 0.0, False, "wrong", "wrong_value") for r in lookup]
    assert case_flags.lookup_flag(spec, one_published_failed) is None
    # failures that say nothing about the values (time-outs, crashes) do not count
    timed_out = [r if r.max_points == 0 else honest[0].__class__(r.case, 0.0, r.max_points, False, "t", "timeout")
                 for r in lookup]
    assert case_flags.lookup_flag(spec, timed_out) is None


# ---------------------------------------------------------------------------------- finite differences
FD_CASES = [(a, fn) for a, fns in fd_solutions.FUNCTIONS.items() for fn in fns]


def test_derivative_specs_are_those_with_a_derivative_answer():
    derived = {s.function for s in ALL_SPECS if s.derivative}
    assert {fn for _, fn in FD_CASES} <= derived
    assert derived - {fn for _, fn in FD_CASES} == {"truncated_grad"}
    assert not derived & {"softmax", "clip_global_norm", "jacobian_products"}


@pytest.mark.parametrize("eps", [1e-5, 1e-6, 1e-7])
@pytest.mark.parametrize("assignment,function", FD_CASES, ids=[fn for _, fn in FD_CASES])
def test_central_differences_are_flagged(assignment, function, eps, monkeypatch):
    monkeypatch.setattr(fd_solutions, "EPS", eps)
    spec = spec_for(assignment, function)
    for seed in (1, 2, 3):
        with np.errstate(all="ignore"):
            results = grade_function(spec, getattr(fd_solutions, function), seed=seed)
        assert sum(r.points for r in results) > 0.5 * spec.points     # it works, mostly: the flag is the sign
        flags = case_flags.case_flags([spec], {spec.grade_id: results})
        assert [f.split(":")[0] for f in flags] == [case_flags.FINITE_DIFFERENCES], (seed, flags,
                                                                                      [r.error for r in results])


def test_finite_differences_returned_in_float32_are_not_read():
    """The documented limit: float32 rounding (about 6e-8) hides the errors, so float32 answers are left out."""
    spec = spec_for("ps1_softmax", "softmax_vjp")
    results = grade_function(spec, lambda *a: fd_solutions.softmax_vjp(*a).astype(np.float32))
    assert all(r.passed for r in results) and all(r.error is None for r in results)
    assert case_flags.case_flags([spec], {spec.grade_id: results}) == []


def _honest_functions():
    """(label, spec, function): the worked solutions, their float32 casts, every mutant, the corpus's answers."""
    from redteam.corpus import CORRECT

    out = []
    for a in all_assignments():
        worked = exec_namespace(answer_code(COURSE / "source" / a / f"{a}.ipynb"))
        for spec in specs_for(a):
            f = worked[spec.function]
            out.append((f"worked {spec.function}", spec, f))
            out.append((f"float32 {spec.function}", spec, lambda *args, f=f: _cast32(f(*args))))
    corpus = exec_namespace("\n".join(CORRECT.values()))
    out += [(f"corpus {fn}", spec_for("ps1_softmax", fn), corpus[fn]) for fn in CORRECT]
    for path in sorted(MUTANTS.glob("*/*__*.py")):
        ns = load_mutant(path)
        spec = spec_for(path.parent.name, ns["FUNCTION"])
        out.append((path.stem, spec, ns[spec.function]))
    return out


def _cast32(x):
    if isinstance(x, dict):
        return {k: _cast32(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return tuple(_cast32(v) for v in x)
    return np.float32(x) if isinstance(x, float) else np.asarray(x).astype(np.float32)


def test_honest_code_and_known_mistakes_are_never_flagged():
    flagged = []
    for label, spec, f in _honest_functions():
        for seed in range(1, 6):
            with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
                results = grade_function(spec, f, seed=seed)
            flags = case_flags.case_flags([spec], {spec.grade_id: results})
            if flags:
                flagged.append((label, seed, flags))
    assert not flagged


@pytest.mark.parametrize("spec", ALL_SPECS, ids=IDS)
def test_an_analytic_answer_agrees_to_about_1e_14(spec):
    """The worked solution's error stays below ANALYTIC_MAX on every case: the finite-difference band is far above."""
    worked = exec_namespace(answer_code(COURSE / "source" / spec.assignment / f"{spec.assignment}.ipynb"))
    for seed in SEEDS:
        with contextlib.redirect_stdout(io.StringIO()):
            results = grade_function(spec, worked[spec.function], seed=seed)
        errors = [r.error for r in results]
        assert None not in errors and max(errors) < case_flags.ANALYTIC_MAX < case_flags.FD_LOW, (seed, errors)


def test_feedback_treats_the_fresh_draw_of_a_published_maker_as_hidden():
    """A fresh draw's inputs are secret even when its maker is published: its message must not be quoted."""
    from types import SimpleNamespace

    from autograder import feedback
    from autograder.specs import CaseResult

    spec = spec_for("ps1_softmax", "softmax")
    twin = spec.twins["batch_of_rows"]
    quoted = "the output has shape (4, 5, 0.98765), expected (4, 5)"
    result = SimpleNamespace(scores={spec.grade_id: 0.0}, max_scores={spec.grade_id: spec.points}, cases={
        spec.grade_id: [CaseResult("batch_of_rows", 0.0, 0.0, False, quoted, "wrong_shape"),
                        CaseResult(twin, 0.0, 0.4, False, quoted, "wrong_shape")]})
    lines = feedback.test_cell_text(spec, result).splitlines()
    published, fresh = (next(line for line in lines if f"'{name}'" in line) for name in ("batch_of_rows", twin))
    assert quoted in published
    assert quoted not in fresh and "hidden" in fresh
