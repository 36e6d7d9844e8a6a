"""Problem set 5: forward mode along a sequence, and the slope of an RNN's output (the forum question of seed 000).

Graded functions:

* ``rnn_jvp(xs, h0, W_x, W_h, b, dxs)`` tangents ``dh_t`` of all states of the tanh RNN, (T, N, H);
* ``sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt)`` the slope ``dy_t / dτ`` of the read-out
  ``y_t = h_t W_y + b_y`` of a SIGMOID cell when the inputs move at rate ``dxs_dt``, (T, N, C);
* ``weight_tangent(xs, h0, W_x, W_h, b, dW_h)`` tangents of all states when ``W_h`` moves in direction
  ``dW_h`` (forward mode with respect to a parameter, beyond the chapter), (T, N, H).
"""
from __future__ import annotations

import numpy as np

from ._classes import TOTAL, from_variant, hint, output_classes, with_argument_classes, with_examples
from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, weights
from ._variants import FORWARD_MUTATIONS, TANGENT_MUTATIONS, WRONG_SLOPES, tangents

ASSIGNMENT = "ps5_sequence_slope"

TANGENT_CLASSES = [m for m in TANGENT_MUTATIONS if m != "off_by_one"] + list(FORWARD_MUTATIONS) + list(WRONG_SLOPES)
WEIGHT_CLASSES = TANGENT_CLASSES + ["off_by_one"]


def _ref_jvp(xs, h0, W_x, W_h, b, dxs):
    from rnngrad.forward_mode import rnn_jvp
    return rnn_jvp(xs, h0, W_x, W_h, b, dxs)[1]


def _jvp_variant(a, k, mutation):
    xs, h0, W_x, W_h, b, dxs = a
    return tangents(xs, h0, W_x, W_h, b, dxs=dxs, mutation=mutation)


def _jvp_case(T, N, D, H, gain=1.2):
    def make(rng):
        return (normal(rng, T, N, D), np.tanh(normal(rng, N, H)), weights(rng, D, H, gain), weights(rng, H, H, gain),
                normal(rng, H, scale=0.2), normal(rng, T, N, D)), {}
    return make


def _ref_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt):
    from rnngrad.forward_mode import sequence_slope
    return sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt, activation="sigmoid")[1]


def _slope_variant(a, k, mutation):
    xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt = a
    dhs = tangents(xs, h0, W_x, W_h, b, dxs=dxs_dt, mutation=mutation, activation="sigmoid")
    return dhs @ W_y


def _slope_no_readout(a, k, ref):
    xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt = a
    H = W_h.shape[0]
    return _ref_slope(xs, h0, W_x, W_h, b, np.eye(H), np.zeros(H), dxs_dt)


def _slope_case(T, N, D, H, C, gain=1.5, unit_rate=False):
    def make(rng):
        xs = normal(rng, T, N, D)
        rate = np.ones((T, N, D)) if unit_rate else normal(rng, T, N, D)
        return (xs, normal(rng, N, H, scale=0.5), weights(rng, D, H, gain), weights(rng, H, H, gain),
                normal(rng, H, scale=0.2), weights(rng, H, C), normal(rng, C, scale=0.2), rate), {}
    return make


def _ref_weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    from rnngrad.extras import rnn_param_jvp
    return rnn_param_jvp(xs, h0, W_x, W_h, b, dW_h=dW_h)[1]


def _weight_variant(a, k, mutation):
    xs, h0, W_x, W_h, b, dW_h = a
    return tangents(xs, h0, W_x, W_h, b, dW_h=dW_h, mutation=mutation)


def _weight_case(T, N, D, H, gain=1.2):
    def make(rng):
        return (normal(rng, T, N, D), np.tanh(normal(rng, N, H)), weights(rng, D, H, gain), weights(rng, H, H, gain),
                normal(rng, H, scale=0.2), normal(rng, H, H)), {}
    return make


#: generated mistake classes shown with a worked mutant solution (tests/mutants), per function
EXAMPLES = {
    "rnn_jvp": ("missing_diag", "missing_hidden_path", "missing_transpose"),
    "sequence_slope": ("missing_hidden_path",),
    "weight_tangent": ("missing_diag", "missing_hidden_path", "off_by_one"),
}

SPECS = with_examples(with_argument_classes([
    Spec(ASSIGNMENT, "rnn_jvp", 5, _ref_jvp, [
        CaseMaker("short_sequence", _jvp_case(5, 2, 3, 4)),
        CaseMaker("single_step", _jvp_case(1, 2, 2, 3)),
        CaseMaker("scalar_series", _jvp_case(6, 1, 1, 3)),
        CaseMaker("one_unit", _jvp_case(4, 2, 2, 1), hidden=True),
        CaseMaker("long_sequence", _jvp_case(15, 3, 2, 5, gain=1.5), hidden=True),
        CaseMaker("single_step_hidden", _jvp_case(1, 1, 3, 2), hidden=True),
    ], [
        *from_variant(_jvp_variant, TANGENT_CLASSES),
        *output_classes(),
    ], signature="rnn_jvp(xs, h0, W_x, W_h, b, dxs) -> (T, N, H)", derivative=True),

    Spec(ASSIGNMENT, "sequence_slope", 5, _ref_slope, [
        CaseMaker("scalar_series", _slope_case(8, 1, 1, 5, 1)),
        CaseMaker("vector_inputs", _slope_case(5, 2, 3, 4, 2)),
        CaseMaker("first_step", _slope_case(1, 2, 2, 3, 1), hidden=True),
        CaseMaker("unit_rate", _slope_case(6, 1, 3, 10, 1, unit_rate=True), hidden=True),
        CaseMaker("long_series", _slope_case(20, 2, 2, 6, 3), hidden=True),
    ], [
        *from_variant(_slope_variant, TANGENT_CLASSES),
        KnownMistake("ignored_rate",
                     "You assumed the inputs move at rate 1. Use the given rate of every input at every step. "
                     + TOTAL, lambda a, k, ref: _ref_slope(*a[:7], np.ones_like(a[7]))),
        KnownMistake("missing_output_layer", hint("missing_output_layer"), _slope_no_readout),
        *output_classes(),
    ], signature="sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt) -> (T, N, C)", derivative=True),

    Spec(ASSIGNMENT, "weight_tangent", 5, _ref_weight_tangent, [
        CaseMaker("short_sequence", _weight_case(5, 2, 2, 3)),
        CaseMaker("single_step", _weight_case(1, 2, 2, 3)),
        CaseMaker("one_unit", _weight_case(4, 2, 1, 1), hidden=True),
        CaseMaker("long_sequence", _weight_case(12, 3, 3, 4, gain=1.5), hidden=True),
        CaseMaker("single_row", _weight_case(6, 1, 2, 5), hidden=True),
    ], [
        *from_variant(_weight_variant, WEIGHT_CLASSES),
        *output_classes(),
    ], signature="weight_tangent(xs, h0, W_x, W_h, b, dW_h) -> (T, N, H)", derivative=True),
]), EXAMPLES)
