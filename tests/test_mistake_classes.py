"""Mistake classes and the diagnoses built on them: exact variants, named parts, no misleading verdicts."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mutation_audit  # noqa: E402
from _harness import GRADING_SEED, call  # noqa: E402
from mutation_ops import mutants  # noqa: E402

from autograder import compare
from autograder.specs import spec_for
from autograder.specs._core import normalize
from autograder.specs import ps1_softmax, ps3_bptt, ps5_sequence_slope
from autograder.specs._jacobian_variants import leaky, two_state

VARIANTS = [
    ("ps3_bptt", "rnn_backward", ps3_bptt._rnn_variant),
    ("ps3_bptt", "char_lm_grad", ps3_bptt._char_variant(False)),
    ("ps3_bptt", "truncated_grad", ps3_bptt._char_variant(True)),
    ("ps3_bptt", "squared_error_grad", ps3_bptt._squared_variant),
    ("ps5_sequence_slope", "rnn_jvp", ps5_sequence_slope._jvp_variant),
    ("ps5_sequence_slope", "sequence_slope", ps5_sequence_slope._slope_variant),
    ("ps5_sequence_slope", "weight_tangent", ps5_sequence_slope._weight_variant),
    ("ps1_softmax", "softmax_jacobian", ps1_softmax._from_softmax("jacobian")),
    ("ps1_softmax", "softmax_vjp", ps1_softmax._from_softmax("vjp")),
    ("ps1_softmax", "cross_entropy_grad", ps1_softmax._from_softmax("ce")),
    ("ps1_softmax", "smoothed_cross_entropy_grad", ps1_softmax._from_softmax("smoothed")),
    ("ps1_softmax", "softmax_jacobian", ps1_softmax._term_variant("jacobian")),
    ("ps1_softmax", "softmax_vjp", ps1_softmax._term_variant("vjp")),
    ("ps4_hidden_jacobians", "leaky_step_jacobians", lambda a, k, m: leaky(*a, mutation=m)),
    ("ps4_hidden_jacobians", "two_state_state_jacobian", lambda a, k, m: two_state(*a, mutation=m)),
]


@pytest.mark.parametrize("assignment,function,variant", VARIANTS, ids=[f"{v[1]}-{i}" for i, v in enumerate(VARIANTS)])
def test_a_variant_without_mutation_is_the_reference(assignment, function, variant):
    """A mistaken variant differs from the reference by its mutation only."""
    spec = spec_for(assignment, function)
    for case in spec.cases(GRADING_SEED):
        assert compare.matches(normalize(variant(case.args, case.kwargs, None)), spec.expected(case)), case.name


def _rnn_backward_overwriting(key):
    def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
        T, N, H = hs.shape
        g = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
        dh_next = np.zeros((N, H))
        for t in reversed(range(T)):
            h_prev = hs[t - 1] if t > 0 else h0
            da = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
            g["xs"][t] = da @ W_x.T
            for k, step in (("W_x", xs[t].T @ da), ("W_h", h_prev.T @ da), ("b", da.sum(axis=0))):
                g[k] = step if k == key else g[k] + step
            dh_next = da @ W_h.T
        g["h0"] = dh_next
        return g
    return rnn_backward


@pytest.mark.parametrize("key", ["W_x", "W_h", "b"])
def test_any_single_overwritten_gradient_is_named_with_its_key(key):
    spec = spec_for("ps3_bptt", "rnn_backward")
    for case in spec.cases(GRADING_SEED):
        r = spec.evaluate(case, call(_rnn_backward_overwriting(key), case))
        if len(case.args[1]) > 1:
            assert r.diagnosis == f"not_accumulated@{key}", (case.name, r.diagnosis)
            assert f"output['{key}']" in r.message and spec.messages[r.diagnosis] == r.message


def test_transpose_forgotten_in_the_carried_gradient_is_named_not_pinned_on_b():
    spec = spec_for("ps3_bptt", "rnn_backward")
    ns = {}
    exec((Path(__file__).parent / "mutants/ps3_bptt/rnn_backward__missing_transpose.py").read_text(), ns)
    for case in spec.cases(GRADING_SEED):
        r = spec.evaluate(case, call(ns["rnn_backward"], case))
        if not r.passed:
            assert "missing_transpose" in r.diagnosis.split("|") and "output['b']" not in r.message


def test_generic_verdict_lists_every_wrong_part_most_localised_first():
    want = {"W_h": np.ones((3, 3)), "b": np.ones(3), "xs": np.ones((4, 2, 3))}
    got = {"W_h": np.ones((3, 3)) + np.eye(3), "b": np.array([1.0, 5.0, -2.0]), "xs": np.ones((4, 2, 3))}
    got["xs"][1, 0, 0] += 1.0
    v = compare.compare(got, want)
    assert v.diagnosis == "wrong_value" and v.message.startswith("3 of 3 parts are wrong")
    order = [v.message.index(f"output['{k}']") for k in ("xs", "W_h", "b")]
    assert order == sorted(order)  # xs (1 entry of 24 off) before W_h (3 of 9) before b (2 of 3)
    assert "first-axis indices 1 of 0..3" in v.message


def test_a_constant_factor_and_row_factors_are_named():
    want = np.arange(1.0, 13.0).reshape(3, 4)
    assert compare.compare(3.0 * want, want).diagnosis == "constant_factor"
    assert compare.compare(want * np.array([[1.0], [2.0], [0.5]]), want).diagnosis == "row_factors"
    assert compare.compare(want * np.array([1.0, 2.0, 0.5, 3.0]), want).diagnosis == "column_factors"
    assert compare.compare(want + 1.0, want).diagnosis == "wrong_value"


def test_overflow_sentence_only_for_non_finite_answers():
    """A softmax that underflows to zero is finite: it never gets the overflow sentence."""
    spec = spec_for("ps1_softmax", "softmax")
    for case in spec.cases(GRADING_SEED):
        r = spec.evaluate(case, call(lambda z: np.zeros_like(z), case))
        assert r.diagnosis != "softmax_overflow"
    sentence = spec.nonfinite[1]
    assert "infinite" in sentence and "zero" in sentence  # both ways exp leaves float64 are described


def test_denominator_layout_on_a_square_case_says_which_explanations_fit():
    """On a square W the denominator-layout tensor equals the Jacobian of h W^T: both are named."""
    spec = spec_for("ps2_layout_cell", "batched_matmul_jacobian")
    from rnngrad.layout import to_denominator_layout
    for case in spec.cases(GRADING_SEED):
        r = spec.evaluate(case, call(lambda h, W: to_denominator_layout(spec.reference(h, W), out_ndim=2), case))
        h, W = case.args
        if W.shape[0] == W.shape[1]:
            assert set(r.diagnosis.split("|")) == {"denominator_layout", "missing_transpose"}, r.diagnosis
            assert r.message.startswith("2 explanations fit")
        elif not r.passed:
            assert r.diagnosis == "denominator_layout"


def test_hidden_case_message_is_rebuilt_from_the_diagnosis():
    spec = spec_for("ps3_bptt", "rnn_backward")
    table = spec.messages
    assert "not_accumulated@W_h" in table and "missing_transpose|not_accumulated" in table
    assert table["not_accumulated@W_h"].startswith("output['W_h']: ")
    assert "no_such_mistake@W_h" not in table and table.get("no_such_mistake") is None


#: single mechanical mistakes in the worked solutions (operator, start of the site) and the class that names
#: them on every case where they are wrong
NAMED_MUTANTS = [
    ("ps4_hidden_jacobians", "leaky_step_jacobians", "time_shift", "hs[t]", 0, "slope_at_wrong_point"),
    ("ps4_hidden_jacobians", "leaky_step_jacobians", "swap_operands", "alpha * np.diag", 0, "slope_wrong_side"),
    ("ps4_hidden_jacobians", "leaky_step_jacobians", "loop", "range(N)", 0, "loop_short"),
    ("ps4_hidden_jacobians", "two_state_state_jacobian", "flip_sign", "A - np.eye(H)", 0, "block_sign"),
    ("ps4_hidden_jacobians", "two_state_state_jacobian", "swap_derivative", "1.0 - s", 0, "swapped_derivative"),
    ("ps4_hidden_jacobians", "jacobian_products", "time_shift", "J[k]", 0, "shifted_index"),
    ("ps2_layout_cell", "rnn_step_backward", "drop_factor", "dh * (1.0 - h * h)", 1, "missing_upstream"),
    ("ps2_layout_cell", "sigmoid_step_backward", "swap_operands", "np.einsum('nk,nh->kh'", 0, "transposed_gradient"),
    ("ps1_softmax", "softmax_vjp", "reduction", "(v * s).sum", 0, "wrong_shared_term"),
    ("ps1_softmax", "cross_entropy_grad", "overwrite", "p[np.arange(N), labels]", 0, "target_overwritten"),
    ("ps3_bptt", "char_lm_grad", "drop_term", "hs[t + 1] @ W_y + b_y", 0, "forward_logits"),
    ("ps3_bptt", "squared_error_grad", "drop_term", "hs @ W_y + b_y - targets", 0, "missing_target_term"),
]


def _mutant(assignment, function, operator, site, index):
    """The answer code of a set and the ``index``-th mutant of one operator at a site starting with ``site``."""
    code, sources = mutation_audit.function_sources(assignment)
    found = [m for m in mutants(sources[function]) if m.operator == operator and m.site.startswith(site)]
    return code, found[index]


@pytest.mark.parametrize("assignment,function,operator,site,index,class_id", NAMED_MUTANTS,
                         ids=[f"{m[1]}-{m[2]}-{m[5]}" for m in NAMED_MUTANTS])
def test_a_single_mechanical_mistake_is_named_by_its_class(assignment, function, operator, site, index, class_id):
    """Every case the mutant gets wrong names the class (alone, or with others that fit equally well)."""
    code, mutant = _mutant(assignment, function, operator, site, index)
    spec = spec_for(assignment, function)
    results = mutation_audit.grade_mutant(spec, code, mutant.source, spec.cases(GRADING_SEED))
    failed = [r for r in results if not r.passed]
    assert failed, "the mutant passes every case"
    for r in failed:
        ids = {d for part in r.diagnosis.split("+") for d in part.partition("@")[0].split("|")}
        assert class_id in ids, (r.case, r.diagnosis)
