"""Problem set 4: hidden-state Jacobians, vanishing and exploding gradients, and the two-state cell.

Graded functions:

* ``jacobian_products(step_jacobians)`` ``P[k] = d h_T / d h_k`` for k = 0..T-1 from the step Jacobians
  ``J[t-1] = d h_t / d h_{t-1}``, (T, N, H, H);
* ``two_state_state_jacobian(h_prev, W_h, activation)`` the (N, 2H, 2H) Jacobian
  ``d(h_t, c_t) / d(h_{t-1}, c_{t-1})`` of the two-state cell ``h_t = σ(h_{t-1}) W_h + b``,
  ``c_t = c_{t-1} - h_{t-1} + h_t``;
* ``leaky_step_jacobians(hs, h0, W_h, alpha)`` the step Jacobians of the leaky cell
  ``h_t = (1 - α) h_{t-1} + α tanh(x_t W_x + h_{t-1} W_h + b)`` (beyond the chapter).
"""
from __future__ import annotations

import numpy as np

from ._classes import LOCAL, ONE_STEP, PRODUCTS, hint, output_classes, section, with_argument_classes, with_examples
from ._classes import KnownMistake as ClassMistake
from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, weights

ASSIGNMENT = "ps4_hidden_jacobians"


def _ref_products(J):
    from rnngrad.hidden_jacobians import jacobian_products
    return jacobian_products(J)


def _swap(J):
    return np.swapaxes(J, -1, -2)


def _products_off_by_one(a, k, ref):
    """P[k] = d h_T / d h_{k+1} (the list starts one state late and ends with the identity)."""
    eye = np.broadcast_to(np.eye(ref.shape[-1]), ref.shape[1:])
    return np.concatenate([ref[1:], eye[None]], axis=0)


def _steps_case(T, N, H, gain=1.0):
    def make(rng):
        from rnngrad.hidden_jacobians import rnn_step_jacobians
        from rnngrad.rnn import rnn_forward
        W_h = weights(rng, H, H, gain)
        hs = rnn_forward(normal(rng, T, N, 2), np.zeros((N, H)), weights(rng, 2, H), W_h, normal(rng, H, scale=0.2))
        return (rnn_step_jacobians(hs, W_h),), {}
    return make


def _ref_two_state(h_prev, W_h, activation):
    from rnngrad.two_state_cell import two_state_state_jacobian
    return two_state_state_jacobian(h_prev, W_h, activation)


def _with_block(ref, A):
    """The two-state Jacobian whose top-left block is ``A`` instead (the block below it follows A)."""
    H = ref.shape[-1] // 2
    J = ref.copy()
    J[:, :H, :H] = A
    J[:, H:, :H] = A - np.eye(H)
    return J


def _two_state_wrong(kind):
    def answer(a, k, ref):
        from rnngrad.activations import activation as act
        from rnngrad.extras import activation_derivative_from_output as d
        h_prev, W_h, activation = a
        H = W_h.shape[0]
        if kind == "missing_minus_identity":
            J = ref.copy()
            J[:, H:, :H] = ref[:, :H, :H]
            return J
        if kind == "missing_transpose":
            return _ref_two_state(h_prev, W_h.T, activation)
        # σ' written with the output but fed the pre-activation h_prev (the cell's input to σ)
        if activation == "identity":
            return None
        right = d(activation, act(activation, h_prev))
        wrong = d(activation, h_prev)
        ratio = np.divide(wrong, right, out=np.zeros_like(right), where=right != 0)
        return _with_block(ref, ref[:, :H, :H] * ratio[:, None, :])
    return answer


def _two_state_case(N, H, activation):
    def make(rng):
        from rnngrad.init import glorot_uniform
        return (normal(rng, N, H), glorot_uniform(H, H, rng), activation), {}
    return make


def _ref_leaky(hs, h0, W_h, alpha):
    from rnngrad.extras import leaky_step_jacobians
    return leaky_step_jacobians(hs, h0, W_h, alpha)


def _leaky_case(T, N, H, alpha, gain=1.2):
    def make(rng):
        from rnngrad.extras import leaky_rnn_forward
        W_h, h0 = weights(rng, H, H, gain), np.tanh(normal(rng, N, H))
        hs = leaky_rnn_forward(normal(rng, T, N, 2), h0, weights(rng, 2, H, 1.5), W_h, normal(rng, H, scale=0.2),
                               alpha)
        return (hs, h0, W_h, float(alpha)), {}
    return make


def _leaky_wrong(kind):
    def answer(a, k, ref):
        from rnngrad.extras import activation_derivative_from_output as d
        hs, h0, W_h, alpha = a
        eye = np.eye(W_h.shape[0])
        if kind == "missing_leak":
            return ref - (1.0 - alpha) * eye
        if kind == "missing_alpha":  # α forgotten on the tanh part
            return (ref - (1.0 - alpha) * eye) / alpha + (1.0 - alpha) * eye
        if kind == "missing_transpose":
            return _ref_leaky(hs, h0, W_h.T, alpha)
        if kind.startswith("leak:"):  # the direct path's coefficient written wrong
            coefficient = {"leak:alpha": alpha, "leak:one": 1.0, "leak:negated": alpha - 1.0}[kind]
            return ref - (1.0 - alpha) * eye + coefficient * eye
        if kind == "tanh_part_weight":  # the tanh part weighted by the leak's coefficient instead of α
            return (ref - (1.0 - alpha) * eye) * ((1.0 - alpha) / alpha) + (1.0 - alpha) * eye
        # the tanh part's rows rescaled: its slope replaced by the sigmoid's, left out, or taken at a wrong point
        prev = np.concatenate([h0[None], hs[:-1]])
        u = (hs - (1.0 - alpha) * prev) / alpha  # the tanh output of each step
        right = d("tanh", u)
        points = {"slope_at:state": hs, "slope_at:undivided": hs - (1.0 - alpha) * prev,
                  "slope_at:whole_previous": (hs - prev) / alpha, "slope_at:added": (hs + (1.0 - alpha) * prev) / alpha}
        if kind in points:
            wrong = d("tanh", np.clip(points[kind], -1.0, 1.0))
        else:
            wrong = d("sigmoid", u) if kind == "swapped_derivative" else np.ones_like(u)
        ratio = np.divide(wrong, right, out=np.zeros_like(right), where=right != 0)
        return (ref - (1.0 - alpha) * eye) * ratio[..., :, None] + (1.0 - alpha) * eye
    return answer


TWO_STATE = section("hidden_jacobians", "A cell with two states")


#: generated mistake classes shown with a worked mutant solution (tests/mutants), per function
EXAMPLES = {
    "two_state_state_jacobian": ("transposed",),
    "leaky_step_jacobians": ("transposed",),
}

SPECS = with_examples(with_argument_classes([
    Spec(ASSIGNMENT, "jacobian_products", 5, _ref_products, [
        CaseMaker("short_sequence", _steps_case(4, 2, 3)),
        CaseMaker("two_steps", _steps_case(2, 1, 2)),
        # with one step P[0] is the input J[0] itself: an edge case worth showing, but an echo of the input
        # passes it, so it is a published check only (weight 0)
        CaseMaker("single_step", _steps_case(1, 2, 3), weight=0.0),
        CaseMaker("long_sequence", _steps_case(15, 2, 4, gain=1.5), hidden=True),
        CaseMaker("one_unit", _steps_case(5, 3, 1), hidden=True),
        CaseMaker("vanishing", _steps_case(10, 1, 5, gain=0.5), hidden=True),
    ], [
        KnownMistake("reversed_order", hint("reversed_order"),
                     lambda a, k, ref: _swap(_ref_products(_swap(a[0])))),
        KnownMistake("off_by_one",
                     "Your index is off by one: entry k is the Jacobian of the last state with respect to state "
                     "k, counting the initial state as state 0, so the first entry includes every step and the "
                     "last entry is the last step Jacobian alone. " + PRODUCTS, _products_off_by_one),
        ClassMistake("transposed_steps",
                     "The step Jacobians were used transposed: each one is already in numerator layout, and the "
                     "chain rule multiplies them as they are. " + PRODUCTS,
                     lambda a, k, ref: _ref_products(_swap(a[0]))),
        *output_classes(jacobian_out_ndim="last_two"),
    ], signature="jacobian_products(step_jacobians) -> (T, N, H, H)"),

    Spec(ASSIGNMENT, "two_state_state_jacobian", 5, _ref_two_state, [
        CaseMaker("relu", _two_state_case(2, 3, "relu")),
        CaseMaker("identity", _two_state_case(1, 2, "identity")),
        CaseMaker("sigmoid", _two_state_case(2, 4, "sigmoid")),
        CaseMaker("relu_hidden", _two_state_case(3, 5, "relu"), hidden=True),
        CaseMaker("one_unit", _two_state_case(2, 1, "sigmoid"), hidden=True),
        CaseMaker("identity_hidden", _two_state_case(2, 6, "identity"), hidden=True),
    ], [
        KnownMistake("missing_minus_identity",
                     "The block of the second state with respect to the previous first state misses a direct "
                     "term: the second state reads the previous first state directly as well as through the new "
                     "first state. " + TWO_STATE, _two_state_wrong("missing_minus_identity")),
        KnownMistake("missing_transpose",
                     "Your top-left block uses W_h in its forward orientation. In the row convention a unit of "
                     "the new state reads the previous state through a column of W_h. "
                     + section("matrix_calculus", "The row convention: derivatives of $h W$"),
                     _two_state_wrong("missing_transpose")),
        ClassMistake("preactivation_derivative",
                     "The activation's slope is evaluated at the wrong place: here the activation is applied to "
                     "the previous state itself, so its derivative is taken at that state (through the "
                     "activation), not written with it as if it were an output. " + LOCAL,
                     _two_state_wrong("preactivation_derivative")),
        *output_classes(jacobian_out_ndim="last_two"),
    ], signature="two_state_state_jacobian(h_prev, W_h, activation) -> (N, 2H, 2H)", derivative=True),

    Spec(ASSIGNMENT, "leaky_step_jacobians", 5, _ref_leaky, [
        CaseMaker("half_leak", _leaky_case(4, 2, 3, 0.5)),
        CaseMaker("small_leak", _leaky_case(3, 1, 2, 0.1)),
        CaseMaker("no_leak", _leaky_case(3, 2, 3, 1.0), hidden=True),
        CaseMaker("one_unit", _leaky_case(5, 2, 1, 0.3), hidden=True),
        CaseMaker("long_hidden", _leaky_case(10, 3, 4, 0.7, gain=2.0), hidden=True),
    ], [
        KnownMistake("missing_leak",
                     "The direct path is missing: the new state keeps a share of the previous state as it is, "
                     "and that share adds to the step Jacobian besides the path through tanh. " + ONE_STEP,
                     _leaky_wrong("missing_leak")),
        KnownMistake("missing_alpha",
                     "The path through tanh is not scaled by the leak rate: the rate multiplies the whole tanh "
                     "term of the new state, so it multiplies that term's derivative too (and tanh' is written "
                     "with the tanh output, not with the new state). " + ONE_STEP, _leaky_wrong("missing_alpha")),
        ClassMistake("missing_transpose", hint("missing_transpose"), _leaky_wrong("missing_transpose")),
        *[ClassMistake("wrong_leak", "The coefficient of the direct path is wrong: the new state keeps the share "
                       "of the previous state that the leak leaves, and that share (a number) is the direct path's "
                       "whole contribution to the step Jacobian. " + ONE_STEP, _leaky_wrong(kind))
          for kind in ("leak:alpha", "leak:one", "leak:negated", "tanh_part_weight")],
        *[ClassMistake("slope_at_wrong_point", "The tanh slope is evaluated at the wrong point: it belongs to the "
                       "tanh output, which is only part of the new state (undo the leak exactly to recover it). "
                       + ONE_STEP, _leaky_wrong(kind))
          for kind in ("slope_at:state", "slope_at:undivided", "slope_at:whole_previous", "slope_at:added")],
        ClassMistake("swapped_derivative", hint("swapped_derivative"), _leaky_wrong("swapped_derivative")),
        ClassMistake("missing_diag", hint("missing_diag"), _leaky_wrong("missing_diag")),
        *output_classes(jacobian_out_ndim="last_two"),
    ], signature="leaky_step_jacobians(hs, h0, W_h, alpha) -> (T, N, H, H)", derivative=True),
]), EXAMPLES)
