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


def _two_state_wrong(kind):
    def answer(a, k, ref):
        h_prev, W_h, activation = a
        H = W_h.shape[0]
        J = ref.copy()
        A = ref[:, :H, :H]
        if kind == "missing_minus_identity":
            J[:, H:, :H] = A
        else:  # W_h where its transpose belongs: A' = W_h diag(σ'(h_prev))
            from rnngrad.activations import activation_derivative
            A2 = W_h[None] * activation_derivative(activation, h_prev)[:, None, :]
            J[:, :H, :H] = A2
            J[:, H:, :H] = A2 - np.eye(H)
        return J
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
        hs, h0, W_h, alpha = a
        eye = np.eye(W_h.shape[0])
        if kind == "missing_leak":
            return ref - (1.0 - alpha) * eye
        # α forgotten on the tanh part: (1 - α) I + diag(1 - u^2) W_h^T
        return (ref - (1.0 - alpha) * eye) / alpha + (1.0 - alpha) * eye
    return answer


SPECS = [
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
        KnownMistake("reversed_order",
                     "Your products are multiplied in the wrong order: d h_T / d h_k = J_T J_{T-1} ... J_{k+1} "
                     "(the latest step on the left), not J_{k+1} ... J_T. Matrix products do not commute.",
                     lambda a, k, ref: _swap(_ref_products(_swap(a[0])))),
        KnownMistake("off_by_one",
                     "Your index is off by one: P[k] should be d h_T / d h_k with h_0 the initial state, so P[0] "
                     "includes every step and P[T-1] is the last step Jacobian J[T-1].", _products_off_by_one),
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
                     "The lower-left block misses the -I: c_t = c_{t-1} - h_{t-1} + h_t depends on h_{t-1} "
                     "directly as well as through h_t, so d c_t / d h_{t-1} = A - I.",
                     _two_state_wrong("missing_minus_identity")),
        KnownMistake("missing_transpose",
                     "Your A uses W_h where its transpose belongs: h_t = σ(h_{t-1}) W_h + b in the row convention "
                     "gives d h_t[i] / d h_{t-1}[j] = W_h[j, i] σ'(h_{t-1}[j]), i.e. A = W_h^T diag(σ'(h_{t-1})).",
                     _two_state_wrong("missing_transpose")),
        KnownMistake("transposed",
                     "Your Jacobian is transposed (denominator layout): rows must be the outputs (h_t, c_t) and "
                     "columns the inputs (h_{t-1}, c_{t-1}).",
                     lambda a, k, ref: _swap(ref)),
    ], signature="two_state_state_jacobian(h_prev, W_h, activation) -> (N, 2H, 2H)", derivative=True),

    Spec(ASSIGNMENT, "leaky_step_jacobians", 5, _ref_leaky, [
        CaseMaker("half_leak", _leaky_case(4, 2, 3, 0.5)),
        CaseMaker("small_leak", _leaky_case(3, 1, 2, 0.1)),
        CaseMaker("no_leak", _leaky_case(3, 2, 3, 1.0), hidden=True),
        CaseMaker("one_unit", _leaky_case(5, 2, 1, 0.3), hidden=True),
        CaseMaker("long_hidden", _leaky_case(10, 3, 4, 0.7, gain=2.0), hidden=True),
    ], [
        KnownMistake("missing_leak",
                     "The direct path is missing: h_t keeps a share of h_{t-1} as it is, and that share adds to "
                     "d h_t / d h_{t-1} besides the path through tanh.", _leaky_wrong("missing_leak")),
        KnownMistake("missing_alpha",
                     "The path through tanh is not scaled by α: α multiplies the whole tanh term of h_t, so it "
                     "multiplies that term's derivative too (whose tanh' is written with the tanh output, not with "
                     "h_t).", _leaky_wrong("missing_alpha")),
        KnownMistake("transposed",
                     "Your Jacobians are transposed (denominator layout): row i should hold the derivatives of "
                     "h_t[i].", lambda a, k, ref: _swap(ref)),
    ], signature="leaky_step_jacobians(hs, h0, W_h, alpha) -> (T, N, H, H)", derivative=True),
]
