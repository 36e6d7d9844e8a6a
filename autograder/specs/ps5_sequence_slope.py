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

from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, rnn_params, weights

ASSIGNMENT = "ps5_sequence_slope"

HIDDEN_PATH = ("You differentiated each step with the previous state held fixed. The previous state moves too: "
               "dh_t = σ'(a_t) * (dx_t W_x + dh_{t-1} W_h), a recursion that starts from dh_0 = 0. Only the "
               "first step is right this way.")


def _ref_jvp(xs, h0, W_x, W_h, b, dxs):
    from rnngrad.forward_mode import rnn_jvp
    return rnn_jvp(xs, h0, W_x, W_h, b, dxs)[1]


def _states(xs, h0, W_x, W_h, b):
    """The reference states ``hs`` (T, N, H) and the state before each step, ``(h_0, ..., h_{T-1})``."""
    from rnngrad.rnn import rnn_forward
    hs = rnn_forward(xs, h0, W_x, W_h, b)
    return hs, np.concatenate([h0[None], hs[:-1]])


def _without_derivative(drive, W_h):
    """The tangent recursion with the activation's derivative left out: ``dh_t = drive_t + dh_{t-1} W_h``."""
    out, dh = np.empty_like(drive), np.zeros_like(drive[0])
    for t in range(len(drive)):
        dh = drive[t] + dh @ W_h
        out[t] = dh
    return out


def _jvp_no_hidden(a, k, ref):
    from rnngrad.forward_mode import rnn_jvp
    xs, h0, W_x, W_h, b, dxs = a
    prev = _states(xs, h0, W_x, W_h, b)[1]
    return np.stack([rnn_jvp(xs[t:t + 1], prev[t], W_x, W_h, b, dxs[t:t + 1])[1][0] for t in range(len(xs))])


def _jvp_no_diag(a, k, ref):
    xs, h0, W_x, W_h, b, dxs = a
    return _without_derivative(dxs @ W_x, W_h)


def _jvp_case(T, N, D, H, gain=1.2):
    def make(rng):
        return (normal(rng, T, N, D), np.tanh(normal(rng, N, H)), weights(rng, D, H, gain), weights(rng, H, H, gain),
                normal(rng, H, scale=0.2), normal(rng, T, N, D)), {}
    return make


def _ref_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt):
    from rnngrad.forward_mode import sequence_slope
    return sequence_slope(xs, h0, rnn_params(W_x, W_h, b, W_y, b_y), dxs_dt, activation="sigmoid")[1]


def _slope_naive(a, k, ref):
    from rnngrad.forward_mode import output_jacobian_at_step
    xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt = a
    J = output_jacobian_at_step(xs, h0, rnn_params(W_x, W_h, b, W_y, b_y), activation="sigmoid")
    return np.einsum("tncd,tnd->tnc", J, dxs_dt)


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


def _weight_no_hidden(a, k, ref):
    xs, h0, W_x, W_h, b, dW_h = a
    hs, prev = _states(xs, h0, W_x, W_h, b)
    return (1.0 - hs ** 2) * (prev @ dW_h)


def _weight_no_diag(a, k, ref):
    xs, h0, W_x, W_h, b, dW_h = a
    return _without_derivative(_states(xs, h0, W_x, W_h, b)[1] @ dW_h, W_h)


def _weight_case(T, N, D, H, gain=1.2):
    def make(rng):
        return (normal(rng, T, N, D), np.tanh(normal(rng, N, H)), weights(rng, D, H, gain), weights(rng, H, H, gain),
                normal(rng, H, scale=0.2), normal(rng, H, H)), {}
    return make


MISSING_DIAG = ("The activation's derivative is missing: every step's tangent is multiplied elementwise by "
                "σ'(a_t) (for tanh, 1 - h_t^2).")

SPECS = [
    Spec(ASSIGNMENT, "rnn_jvp", 5, _ref_jvp, [
        CaseMaker("short_sequence", _jvp_case(5, 2, 3, 4)),
        CaseMaker("single_step", _jvp_case(1, 2, 2, 3)),
        CaseMaker("scalar_series", _jvp_case(6, 1, 1, 3)),
        CaseMaker("one_unit", _jvp_case(4, 2, 2, 1), hidden=True),
        CaseMaker("long_sequence", _jvp_case(15, 3, 2, 5, gain=1.5), hidden=True),
        CaseMaker("single_step_hidden", _jvp_case(1, 1, 3, 2), hidden=True),
    ], [
        KnownMistake("missing_hidden_path", HIDDEN_PATH, _jvp_no_hidden),
        KnownMistake("missing_diag", MISSING_DIAG, _jvp_no_diag),
    ], signature="rnn_jvp(xs, h0, W_x, W_h, b, dxs) -> (T, N, H)", derivative=True),

    Spec(ASSIGNMENT, "sequence_slope", 5, _ref_slope, [
        CaseMaker("scalar_series", _slope_case(8, 1, 1, 5, 1)),
        CaseMaker("vector_inputs", _slope_case(5, 2, 3, 4, 2)),
        CaseMaker("first_step", _slope_case(1, 2, 2, 3, 1), hidden=True),
        CaseMaker("unit_rate", _slope_case(6, 1, 3, 10, 1, unit_rate=True), hidden=True),
        CaseMaker("long_series", _slope_case(20, 2, 2, 6, 3), hidden=True),
    ], [
        KnownMistake("missing_hidden_path",
                     "This is the slope with h_{t-1} held fixed, the Jacobian of one call of the cell times "
                     "dx_t/dτ. Along the sequence h_{t-1} moves too, so accumulate dh_t/dτ = σ'(a_t) * "
                     "(dx_t/dτ W_x + dh_{t-1}/dτ W_h) and multiply by W_y at the end.", _slope_naive),
        KnownMistake("ignored_rate",
                     "You assumed the inputs move at rate 1 (dx/dτ = 1). Use the given dxs_dt.",
                     lambda a, k, ref: _ref_slope(*a[:7], np.ones_like(a[7]))),
        KnownMistake("missing_output_layer",
                     "You returned the slope of the hidden state; the output is y_t = h_t W_y + b_y, so its slope "
                     "is dh_t/dτ W_y.", _slope_no_readout),
    ], signature="sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt) -> (T, N, C)", derivative=True),

    Spec(ASSIGNMENT, "weight_tangent", 5, _ref_weight_tangent, [
        CaseMaker("short_sequence", _weight_case(5, 2, 2, 3)),
        CaseMaker("single_step", _weight_case(1, 2, 2, 3)),
        CaseMaker("one_unit", _weight_case(4, 2, 1, 1), hidden=True),
        CaseMaker("long_sequence", _weight_case(12, 3, 3, 4, gain=1.5), hidden=True),
        CaseMaker("single_row", _weight_case(6, 1, 2, 5), hidden=True),
    ], [
        KnownMistake("missing_hidden_path",
                     "Your tangent only has the direct effect h_{t-1} dW_h of each step. W_h also changed the "
                     "previous state, and that change reaches h_t through the recurrent weights.", _weight_no_hidden),
        KnownMistake("missing_diag", MISSING_DIAG, _weight_no_diag),
    ], signature="weight_tangent(xs, h0, W_x, W_h, b, dW_h) -> (T, N, H)", derivative=True),
]
