"""Problem set 6: the gated cells' backward passes (LSTM, GRU) and the LSTM's state Jacobian.

Graded functions (gate blocks stacked along the last axis, LSTM ``i, f, g, o``, GRU ``r, z, n``):

* ``lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h)`` the gradients of one LSTM step, dict
  ``x, h_prev, c_prev, W_x, W_h, b``;
* ``lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h)`` back-propagation through time, dict
  ``xs, h0, c0, W_x, W_h, b``;
* ``gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn)`` one GRU step in torch's form, dict
  ``x, h_prev, W_x, W_h, b, b_hn``;
* ``lstm_state_jacobian(c_prev, c, gates, W_h)`` the (N, 2H, 2H) Jacobian of ``[h_t, c_t]`` with respect to
  ``[h_{t-1}, c_{t-1}]``;
* ``gru_cho_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn)`` one GRU step in Cho et al.'s form, whose
  reset gate scales the previous state before the recurrent product (beyond the chapter).
"""
from __future__ import annotations

import numpy as np

from ._classes import output_classes, with_argument_classes, with_examples
from ._core import CaseMaker, Spec
from ._gated_hints import gated_mistakes
from ._gated_gru_variants import gru_mutations, gru_step
from ._gated_jacobian_variants import STATE_JACOBIAN_MUTATIONS, state_jacobian
from ._gated_variants import LSTM_SEQUENCE_MUTATIONS, LSTM_STEP_MUTATIONS, lstm_sequence, lstm_step
from ._gen import normal, weights

ASSIGNMENT = "ps6_gated_cells"


def _ref_lstm_step(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h):
    from rnngrad.lstm import lstm_step_backward
    return lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h)


def _ref_lstm(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h):
    from rnngrad.lstm import lstm_backward
    return lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h)


def _ref_gru(variant):
    def reference(dh, x, h_prev, gates, W_x, W_h, b_hn):
        from rnngrad.gru import gru_step_backward
        return gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn, variant=variant)
    return reference


def _ref_state_jacobian(c_prev, c, gates, W_h):
    from rnngrad.gated_jacobians import lstm_state_jacobian
    return lstm_state_jacobian(c_prev, c, gates, W_h)


def _lstm_weights(rng, D, H, gain):
    """W_x (D, 4H), W_h (H, 4H), b (4H,): the forget gate's bias drawn around +1, as LSTMs are started."""
    b = normal(rng, 4 * H, scale=0.5)
    b[H:2 * H] += 1.0
    return weights(rng, D, 4 * H, gain), weights(rng, H, 4 * H, gain), b


def _lstm_step_case(N, D, H, gain=1.0, last_step=False):
    def make(rng):
        from rnngrad.lstm import lstm_step_forward
        x, h_prev, c_prev = normal(rng, N, D), np.tanh(normal(rng, N, H)), normal(rng, N, H)
        W_x, W_h, b = _lstm_weights(rng, D, H, gain)
        _, c, gates = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
        dh = normal(rng, N, H)
        dc = np.zeros((N, H)) if last_step else normal(rng, N, H)
        return (dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h), {}
    return make


def _lstm_case(T, N, D, H, gain=1.0):
    def make(rng):
        from rnngrad.lstm import lstm_forward
        xs, h0, c0 = normal(rng, T, N, D), np.tanh(normal(rng, N, H)), normal(rng, N, H)
        W_x, W_h, b = _lstm_weights(rng, D, H, gain)
        hs, cs, gates = lstm_forward(xs, h0, c0, W_x, W_h, b)
        return (normal(rng, T, N, H), xs, h0, c0, hs, cs, gates, W_x, W_h), {}
    return make


def _state_jacobian_case(N, D, H, gain=1.0):
    def make(rng):
        from rnngrad.lstm import lstm_step_forward
        x, h_prev, c_prev = normal(rng, N, D), np.tanh(normal(rng, N, H)), normal(rng, N, H)
        W_x, W_h, b = _lstm_weights(rng, D, H, gain)
        _, c, gates = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
        return (c_prev, c, gates, W_h), {}
    return make


def _gru_case(N, D, H, variant, gain=1.0):
    def make(rng):
        from rnngrad.gru import gru_step_forward
        x, h_prev = normal(rng, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h = weights(rng, D, 3 * H, gain), weights(rng, H, 3 * H, gain)
        b, b_hn = normal(rng, 3 * H, scale=0.5), normal(rng, H, scale=0.5)
        _, gates = gru_step_forward(x, h_prev, W_x, W_h, b, b_hn, variant=variant)
        return (normal(rng, N, H), x, h_prev, gates, W_x, W_h, b_hn), {}
    return make


def _gru_variant(variant):
    def answer(*args, mutation=None):
        return gru_step(*args, variant=variant, mutation=mutation)
    return answer


#: generated mistake classes shown with a worked mutant solution (tests/mutants), per function: the mistakes
#: the problem set is about
EXAMPLES = {
    "lstm_step_backward": ("forget_without_previous_cell", "missing_cell_path", "output_gate_reads_cell",
                           "swapped_derivative", "gate_order", "cell_gradient_skips_forget"),
    "lstm_backward": ("missing_cell_path", "cell_gradient_skips_forget", "forget_without_previous_cell"),
    "gru_step_backward": ("gate_order", "missing_direct_path", "update_gate_convention"),
    "lstm_state_jacobian": ("cell_gradient_skips_forget", "transposed"),
    "gru_cho_step_backward": ("reset_placement",),
}

SPECS = with_examples(with_argument_classes([
    Spec(ASSIGNMENT, "lstm_step_backward", 3, _ref_lstm_step, [
        CaseMaker("small_batch", _lstm_step_case(2, 3, 4)),
        CaseMaker("one_example", _lstm_step_case(1, 2, 3)),
        CaseMaker("last_step", _lstm_step_case(2, 3, 2, last_step=True), weight=0.0),
        CaseMaker("one_unit", _lstm_step_case(3, 2, 1), hidden=True),
        CaseMaker("wide", _lstm_step_case(3, 4, 6, gain=1.5), hidden=True),
    ], [
        *gated_mistakes(lstm_step, LSTM_STEP_MUTATIONS),
        *output_classes(),
    ], signature="lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h) -> dict", derivative=True),

    Spec(ASSIGNMENT, "lstm_backward", 4, _ref_lstm, [
        CaseMaker("short_sequence", _lstm_case(4, 2, 3, 3)),
        CaseMaker("single_step", _lstm_case(1, 2, 2, 3)),
        CaseMaker("one_unit", _lstm_case(5, 2, 2, 1), hidden=True),
        CaseMaker("long_sequence", _lstm_case(12, 3, 2, 4, gain=1.3), hidden=True),
        CaseMaker("one_example", _lstm_case(6, 1, 3, 2), hidden=True),
    ], [
        *gated_mistakes(lstm_sequence, LSTM_SEQUENCE_MUTATIONS),
        *output_classes(),
    ], signature="lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h) -> dict", derivative=True),

    Spec(ASSIGNMENT, "gru_step_backward", 3, _ref_gru("torch"), [
        CaseMaker("small_batch", _gru_case(2, 3, 4, "torch")),
        CaseMaker("one_example", _gru_case(1, 2, 3, "torch")),
        CaseMaker("one_unit", _gru_case(3, 2, 1, "torch"), hidden=True),
        CaseMaker("wide", _gru_case(3, 4, 5, "torch", gain=1.5), hidden=True),
    ], [
        *gated_mistakes(_gru_variant("torch"), gru_mutations("torch")),
        *output_classes(),
    ], signature="gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn) -> dict", derivative=True),

    Spec(ASSIGNMENT, "lstm_state_jacobian", 3, _ref_state_jacobian, [
        CaseMaker("small_batch", _state_jacobian_case(2, 3, 3)),
        CaseMaker("one_example", _state_jacobian_case(1, 2, 2)),
        CaseMaker("one_unit", _state_jacobian_case(3, 2, 1), hidden=True),
        CaseMaker("wide", _state_jacobian_case(2, 3, 5, gain=1.5), hidden=True),
    ], [
        *gated_mistakes(state_jacobian, STATE_JACOBIAN_MUTATIONS),
        *output_classes(jacobian_out_ndim="last_two", blocks=True),
    ], signature="lstm_state_jacobian(c_prev, c, gates, W_h) -> (N, 2H, 2H)", derivative=True),

    Spec(ASSIGNMENT, "gru_cho_step_backward", 3, _ref_gru("cho"), [
        CaseMaker("small_batch", _gru_case(2, 3, 4, "cho")),
        CaseMaker("one_example", _gru_case(1, 2, 3, "cho")),
        CaseMaker("one_unit", _gru_case(3, 2, 1, "cho"), hidden=True),
        CaseMaker("wide", _gru_case(3, 4, 5, "cho", gain=1.5), hidden=True),
    ], [
        *gated_mistakes(_gru_variant("cho"), gru_mutations("cho")),
        *output_classes(),
    ], signature="gru_cho_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn) -> dict", derivative=True),
]), EXAMPLES)
