"""Every recognised mistake has a mutant solution that makes exactly that mistake; each gets the expected score.

A mutant lives in tests/mutants/<set>/<function>__<diagnosis>.py and defines FUNCTION, DIAGNOSIS
and the wrong function (FAILS_ONLY_ON, when present, names the cases it must fail: the substring of their
names; PASSES_ON, cases it must pass although another answer of the same mistake id differs there). Its
expected score is derived from the spec: it fails exactly the cases on which the mistake's wrong
answer differs from the right one, and each of those failures names the mistake: its diagnosis is the id, or
a composite that contains it (``a|b`` when two explanations fit equally, ``a@W_h`` when the mistake explains
the ``W_h`` part of a dict). Mutants named ``*__ok_*`` are correct solutions written in another style and must
get full marks.

Every mistake of ``Spec.diagnoses`` has a hand-written mutant: the mistakes written for one function, and the
generated classes each spec lists in ``examples`` (``REQUIRED_CLASSES`` must be among them: the realistic
mistakes the classes were made for). The
mutation audit (``benchmarks/mutation_audit.py``, ``tests/test_mutation_audit.py``) measures the classes on
mechanically made mutants.
"""
from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import COURSE, GRADING_SEED, MUTANTS, grade_function, import_rnncheck, load_mutant  # noqa: E402

from autograder import compare
from autograder.specs import all_assignments, spec_for, specs_for
from autograder.specs._core import normalize

MUTANT_FILES = sorted(p for a in all_assignments() for p in (MUTANTS / a).glob("*.py"))

#: (set, function, diagnosis) of generated mistake classes that must each have a hand-written mutant
REQUIRED_CLASSES = [
    ("ps3_bptt", "rnn_backward", "missing_transpose"),          # the carried gradient through W_h untransposed
    ("ps3_bptt", "rnn_backward", "not_accumulated"),            # (one key alone: tests/test_mistake_classes.py)
    ("ps3_bptt", "rnn_backward", "off_by_one"),                 # h_t where h_{t-1} belongs
    ("ps3_bptt", "rnn_backward", "swapped_derivative"),         # sigmoid' for tanh'
    ("ps3_bptt", "char_lm_grad", "preactivation_derivative"),   # tanh' taken from the pre-activation
    ("ps3_bptt", "char_lm_grad", "sum_vs_mean"),                # the wrong reduction
    ("ps2_layout_cell", "rnn_step_backward", "missing_transpose"),
    ("ps5_sequence_slope", "rnn_jvp", "missing_hidden_path"),   # the tangent not carried through the state
    ("ps5_sequence_slope", "rnn_jvp", "missing_transpose"),
    ("ps5_sequence_slope", "weight_tangent", "off_by_one"),
]


def named_ids(diagnosis: str) -> set[str]:
    """The mistake ids a (possibly composite) diagnosis names."""
    return {i for part in (diagnosis or "").split("+") for i in part.split("@")[0].split("|")}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_every_known_mistake_has_a_mutant():
    have = {(p.parent.name, p.stem) for p in MUTANT_FILES}
    missing = [f"{s.assignment}/{s.function}__{d}" for a in all_assignments() for s in specs_for(a)
               for d in s.diagnoses if (a, f"{s.function}__{d}") not in have]
    assert not missing


def test_required_classes_are_shown_with_a_mutant():
    for a, f, d in REQUIRED_CLASSES:
        assert d in spec_for(a, f).diagnoses, (a, f, d)


@pytest.mark.parametrize("path", MUTANT_FILES, ids=_id)
def test_mutant_gets_the_expected_score_and_diagnosis(path):
    ns = load_mutant(path)
    spec = spec_for(path.parent.name, ns["FUNCTION"])
    assert path.stem.startswith(spec.function + "__")
    results = grade_function(spec, ns[spec.function])
    cases = {c.name: c for c in spec.cases(GRADING_SEED)}
    diagnosis = ns["DIAGNOSIS"]
    if diagnosis is None:  # a correct solution in another style
        assert all(r.passed for r in results), [(r.case, r.message) for r in results if not r.passed]
        return
    inapplicable = set()  # cases where the mistake cannot even be computed (e.g. W^T of a non-square W)
    if "FAILS_ONLY_ON" in ns:
        should_fail = {name for name in cases if ns["FAILS_ONLY_ON"] in name}
    else:
        should_fail = {name for name, case in cases.items()
                       if diagnosis in {m.id for m in spec.known_mistakes(case)}}
        answers = [m for m in spec.mistakes if m.id == diagnosis]
        inapplicable = {name for name, case in cases.items()
                        if all(m.answer(case.args, case.kwargs, spec.expected(case)) is None for m in answers)}
        # cases where the mistake's answer is wrong but too close to the right one to be named (within 100
        # float32 tolerances, see compare.distinct): the mutant fails there with a generic verdict
        for name, case in cases.items():
            wrong = [m.answer(case.args, case.kwargs, spec.expected(case)) for m in answers]
            if name not in should_fail and any(w is not None and not compare.matches(normalize(w), spec.expected(case))
                                               for w in wrong):
                inapplicable.add(name)
    if "PASSES_ON" in ns:  # the id also has answers that differ where this mutant's mistake does not show
        should_fail = {name for name in should_fail if ns["PASSES_ON"] not in name}
    failed = {r.case for r in results if not r.passed}
    assert failed - inapplicable == should_fail
    assert failed, "a mutant must fail at least one case"
    for r in results:
        if not r.passed:
            assert r.points == 0.0
            if r.case not in inapplicable:
                assert diagnosis in named_ids(r.diagnosis), (r.case, r.diagnosis, r.message)
    should_fail |= failed & inapplicable
    expected_score = sum(c.points for name, c in cases.items() if name not in should_fail)
    assert abs(sum(r.points for r in results) - expected_score) < 1e-9
    assert sum(r.points for r in results) < spec.points


@pytest.mark.parametrize("path", MUTANT_FILES, ids=_id)
def test_rnncheck_shows_the_same_verdicts_on_visible_cases(path):
    ns = load_mutant(path)
    assignment = path.parent.name
    spec = spec_for(assignment, ns["FUNCTION"])
    rnncheck = import_rnncheck(COURSE / "source" / assignment)
    out = io.StringIO()
    with redirect_stdout(out):
        score = rnncheck.check(spec.function, ns[spec.function])
    # the published cases are run again by the official grading, with no points; the check weighs them by their
    # local-check points
    visible = {r.case: r for r in grade_function(spec, ns[spec.function])
               if r.case in rnncheck.case_names(spec.function)}
    assert list(visible) == spec.published_names and all(r.max_points == 0 for r in visible.values())
    share = {c.name: c.points for c in spec.published_cases()}
    earned = sum(share[name] for name, r in visible.items() if r.passed)
    assert score == pytest.approx(earned, abs=1e-4)
    text = out.getvalue()
    for r in visible.values():
        if not r.passed and r.diagnosis == "exception":  # the checker adds the line number of the error
            assert r.message.replace("the function raised ", "raised ") in text
        elif not r.passed:
            assert r.message in text and f"[{r.diagnosis}]" in text
    if ns["DIAGNOSIS"] is not None and not all(r.passed for r in visible.values()):
        assert any(ns["DIAGNOSIS"] in named_ids(r.diagnosis) and f"[{r.diagnosis}]" in text
                   for r in visible.values() if not r.passed)
