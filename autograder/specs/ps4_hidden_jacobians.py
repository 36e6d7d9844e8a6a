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

from ._classes import LOCAL, ONE_STEP, PRODUCTS, hint, output_classes, section, shifted_inside_classes
from ._classes import KnownMistake as ClassMistake
from ._classes import with_argument_classes, with_examples
from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, weights
from ._jacobian_variants import LEAKY_MUTATIONS, TWO_STATE_MUTATIONS, leaky, two_state

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


def _missing_minus_identity(a, k, ref):
    """The second state's block with respect to the previous first state without its direct term."""
    H = a[1].shape[0]
    J = ref.copy()
    J[:, H:, :H] = ref[:, :H, :H]
    return J


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


TWO_STATE = section("hidden_jacobians", "A cell with two states")

#: the sentence of each class of a function's mistakes, where it is not the class's hint
MESSAGES = {"two_state_state_jacobian": {
    "missing_transpose": "Your top-left block uses W_h in its forward orientation. In the row convention a unit of "
                         "the new state reads the previous state through a column of W_h. "
                         + section("matrix_calculus", "The row convention: derivatives of $h W$"),
    "preactivation_derivative": "The activation's slope is evaluated at the wrong place: here the activation is "
                                "applied to the previous state itself, so its derivative is taken at that state "
                                "(through the activation), not written with it as if it were an output. " + LOCAL,
}, "leaky_step_jacobians": {
    "missing_leak": "The direct path is missing: the new state keeps a share of the previous state as it is, and "
                    "that share adds to the step Jacobian besides the path through tanh. " + ONE_STEP,
    "missing_alpha": "The path through tanh is not scaled by the leak rate: the rate multiplies the whole tanh term "
                     "of the new state, so it multiplies that term's derivative too (and tanh' is written with the "
                     "tanh output, not with the new state). " + ONE_STEP,
    "wrong_leak": "The coefficient of the direct path is wrong: the new state keeps the share of the previous state "
                  "that the leak leaves, unit by unit, and that share (a number) is the direct path's whole "
                  "contribution to the step Jacobian. " + ONE_STEP,
    "slope_at_wrong_point": "The tanh slope is evaluated at the wrong point: it belongs to the tanh output, which "
                            "is only part of the new state (undo the leak exactly, with the previous state of the "
                            "same example, to recover it). " + ONE_STEP,
}}
#: classes written for one function (shown with a worked mutant solution of their own)
WRITTEN = {"two_state_state_jacobian": {"missing_transpose"}, "leaky_step_jacobians": {"missing_leak", "missing_alpha"}}


def _variant_mistakes(function, variant, mutations) -> list:
    """One known mistake per mutation of ``variant(args, mutation)``, with its class's sentence."""
    out = []
    for mutation, class_id in mutations.items():
        make = KnownMistake if class_id in WRITTEN[function] else ClassMistake
        answer = (lambda m: lambda a, k, ref: variant(*a, mutation=m))(mutation)
        out.append(make(class_id, MESSAGES[function].get(class_id) or hint(class_id), answer))
    return out


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
        *shifted_inside_classes(_ref_products, 1),
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
                     "first state. " + TWO_STATE, _missing_minus_identity),
        *_variant_mistakes("two_state_state_jacobian", two_state, TWO_STATE_MUTATIONS),
        *output_classes(jacobian_out_ndim="last_two", blocks=True),
    ], signature="two_state_state_jacobian(h_prev, W_h, activation) -> (N, 2H, 2H)", derivative=True),

    Spec(ASSIGNMENT, "leaky_step_jacobians", 5, _ref_leaky, [
        CaseMaker("half_leak", _leaky_case(4, 2, 3, 0.5)),
        CaseMaker("small_leak", _leaky_case(3, 1, 2, 0.1)),
        CaseMaker("no_leak", _leaky_case(3, 2, 3, 1.0), hidden=True),
        CaseMaker("one_unit", _leaky_case(5, 2, 1, 0.3), hidden=True),
        CaseMaker("long_hidden", _leaky_case(10, 3, 4, 0.7, gain=2.0), hidden=True),
    ], [
        *_variant_mistakes("leaky_step_jacobians", leaky, LEAKY_MUTATIONS),
        *output_classes(jacobian_out_ndim="last_two", unfilled_axes=(0, 1)),
    ], signature="leaky_step_jacobians(hs, h0, W_h, alpha) -> (T, N, H, H)", derivative=True),
]), EXAMPLES)
