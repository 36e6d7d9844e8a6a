"""Problem set 2: Jacobian layouts and the RNN cell.

Graded functions:

* ``map_jacobian(W, x, activation)`` Jacobian of ``y = W σ(x)`` (column vectors) in numerator layout, (M, H);
* ``rnn_step_jacobian(h, W_h)`` ``d h_t / d h_{t-1}`` of the row-convention tanh cell, (N, H, H);
* ``batched_matmul_jacobian(h, W)`` the 4th-order Jacobian of ``U = h W`` wrt h, (N, K, N, H);
* ``rnn_step_backward(dh, x, h_prev, h, W_x, W_h)`` one tanh step backward, a dict of gradients;
* ``sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h)`` the same for a sigmoid cell (beyond the chapter).
"""
from __future__ import annotations

import numpy as np

from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, weights

ASSIGNMENT = "ps2_layout_cell"


def _ref_map_jacobian(W, x, activation):
    from rnngrad.layout import linear_map_jacobian
    return linear_map_jacobian(W, x, activation)


def _pascanu(a, k, ref):
    W, x, activation = a
    if W.shape[0] != W.shape[1]:
        return None
    from rnngrad.layout import pascanu_step_matrix
    return pascanu_step_matrix(W, x, activation)


def _ref_step_jacobian(h, W_h):
    from rnngrad.hidden_jacobians import rnn_step_jacobian
    return rnn_step_jacobian(h, W_h)


def _ref_bmm_jacobian(h, W):
    from rnngrad.layout import batched_matmul_jacobian
    return batched_matmul_jacobian(h, W)


def _denominator(a, k, ref):
    from rnngrad.layout import to_denominator_layout
    return to_denominator_layout(ref, out_ndim=2)


def _ref_step_backward(dh, x, h_prev, h, W_x, W_h):
    from rnngrad.rnn import rnn_step_backward
    return rnn_step_backward(dh, x, h_prev, h, W_x, W_h)


def _ref_sigmoid_backward(dh, x, h_prev, h, W_x, W_h):
    from rnngrad.extras import cell_step_backward
    return cell_step_backward(dh, x, h_prev, h, W_x, W_h, activation="sigmoid")


def _no_transpose_backward(backward):
    """The step backward with ``da W_h`` for ``dL/dh_prev`` (W_h not transposed); other gradients unchanged."""
    def answer(a, k, ref):
        dh, x, h_prev, h, W_x, W_h = a
        wrong = dict(ref)
        wrong["h_prev"] = backward(dh, x, h_prev, h, W_x, W_h.T)["h_prev"]
        return wrong
    return answer


def _map_case(M, H, activation, scale=1.0):
    return lambda rng: ((normal(rng, M, H), normal(rng, H, scale=scale), activation), {})


def _bmm_case(N, H, K):
    return lambda rng: ((normal(rng, N, H), normal(rng, H, K)), {})


def _state_case(N, H, gain=1.5):
    def make(rng):
        from rnngrad.rnn import rnn_step_forward
        x, h_prev = normal(rng, N, 3), np.tanh(normal(rng, N, H))
        W_x, W_h = weights(rng, 3, H, gain), weights(rng, H, H, gain)
        return (rnn_step_forward(x, h_prev, W_x, W_h, normal(rng, H)), W_h), {}
    return make


def _step_case(N, D, H, activation="tanh", gain=1.5):
    def make(rng):
        from rnngrad.activations import activation as act
        x, h_prev = normal(rng, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h, b = weights(rng, D, H, gain), weights(rng, H, H, gain), normal(rng, H)
        h = act(activation, x @ W_x + h_prev @ W_h + b)
        return (normal(rng, N, H), x, h_prev, h, W_x, W_h), {}
    return make


MISSING_DIAG_STEP = ("You skipped the derivative of the activation: the gradient at the pre-activation is "
                     "dh * σ'(a), elementwise, before it goes back through W_x and W_h.")

SPECS = [
    Spec(ASSIGNMENT, "map_jacobian", 3, _ref_map_jacobian, [
        CaseMaker("square_tanh", _map_case(3, 3, "tanh")),
        CaseMaker("wide_tanh", _map_case(2, 4, "tanh")),
        CaseMaker("square_sigmoid", _map_case(4, 4, "sigmoid")),
        CaseMaker("scalar", _map_case(1, 1, "tanh"), hidden=True),
        CaseMaker("tall_sigmoid", _map_case(5, 2, "sigmoid", 2.0), hidden=True),
        CaseMaker("square_hidden", _map_case(5, 5, "tanh", 1.5), hidden=True),
        CaseMaker("sigmoid_hidden", _map_case(6, 6, "sigmoid", 3.0), hidden=True),
    ], [
        KnownMistake("transposed",
                     "This is the transpose of the Jacobian (denominator layout, diag(σ'(x)) W^T). In "
                     "numerator layout row i holds the derivatives of y_i: J[i, j] = W[i, j] σ'(x_j).",
                     lambda a, k, ref: ref.T),
        KnownMistake("pascanu_transpose",
                     "This is W^T diag(σ'(x)), the expression printed in Pascanu et al. (2013). Work out a 2 x 2 "
                     "case entry by entry: dy_i/dx_j = W[i, j] σ'(x_j), so the numerator-layout Jacobian is "
                     "W diag(σ'(x)).", _pascanu),
        KnownMistake("missing_diag",
                     "You returned W alone: the chain rule through σ multiplies column j of W by σ'(x_j), "
                     "i.e. J = W diag(σ'(x)).",
                     lambda a, k, ref: a[0].copy()),
    ], signature="map_jacobian(W, x, activation) -> (M, H)", derivative=True),

    Spec(ASSIGNMENT, "rnn_step_jacobian", 3, _ref_step_jacobian, [
        CaseMaker("batch_of_states", _state_case(3, 4)),
        CaseMaker("single_row", _state_case(1, 3)),
        CaseMaker("one_unit", _state_case(2, 1), hidden=True),
        CaseMaker("wide_state", _state_case(4, 7), hidden=True),
        CaseMaker("saturated", _state_case(3, 5, gain=4.0), hidden=True),
    ], [
        KnownMistake("missing_transpose",
                     "You used W_h where its transpose belongs. In the row convention unit i of the new state "
                     "reads sum_j h_prev[j] W_h[j, i], so dh_t[i]/dh_{t-1}[j] = (1 - h_t[i]^2) W_h[j, i]: "
                     "J = diag(1 - h_t^2) W_h^T.",
                     lambda a, k, ref: (1.0 - a[0] ** 2)[:, :, None] * a[1]),
        KnownMistake("transposed",
                     "Your Jacobian is transposed (denominator layout, W_h diag(1 - h_t^2)). Row i of a "
                     "numerator-layout Jacobian holds the derivatives of output i.",
                     lambda a, k, ref: np.swapaxes(ref, -1, -2)),
        KnownMistake("missing_diag",
                     "The tanh derivative is missing: multiply row i by 1 - h_t[i]^2 (tanh' written with the "
                     "new state).",
                     lambda a, k, ref: np.broadcast_to(a[1].T, ref.shape).copy()),
    ], signature="rnn_step_jacobian(h, W_h) -> (N, H, H)", derivative=True),

    Spec(ASSIGNMENT, "batched_matmul_jacobian", 3, _ref_bmm_jacobian, [
        CaseMaker("rectangular", _bmm_case(3, 2, 4)),
        CaseMaker("square", _bmm_case(2, 3, 3)),
        CaseMaker("single_row", _bmm_case(1, 3, 2), hidden=True),
        CaseMaker("square_hidden", _bmm_case(4, 2, 2), hidden=True),
        CaseMaker("wide", _bmm_case(3, 5, 2), hidden=True),
    ], [
        KnownMistake("missing_batch_delta",
                     "Row i of U depends only on row i of h: dU[i, j]/dh[p, q] is zero unless p == i. Your "
                     "tensor also fills the blocks p != i.",
                     lambda a, k, ref: np.broadcast_to(a[1].T[None, :, None, :], ref.shape).copy()),
        KnownMistake("denominator_layout",
                     "Your tensor is in denominator layout (input axes first, shape h.shape + U.shape). The "
                     "course uses numerator layout: U.shape + h.shape, J[i, j, p, q] = dU[i, j]/dh[p, q].",
                     _denominator),
    ], signature="batched_matmul_jacobian(h, W) -> (N, K, N, H)", derivative=True),

    Spec(ASSIGNMENT, "rnn_step_backward", 4, _ref_step_backward, [
        CaseMaker("batch", _step_case(3, 2, 4)),
        CaseMaker("single_row", _step_case(1, 3, 3)),
        CaseMaker("one_unit", _step_case(2, 2, 1), hidden=True),
        CaseMaker("wide", _step_case(5, 4, 6), hidden=True),
        CaseMaker("saturated", _step_case(3, 3, 4, gain=4.0), hidden=True),
    ], [
        KnownMistake("missing_diag", MISSING_DIAG_STEP,
                     lambda a, k, ref: _ref_step_backward(a[0], a[1], a[2], np.zeros_like(a[3]), a[4], a[5])),
        KnownMistake("missing_transpose",
                     "Your dL/dh_prev uses W_h instead of W_h^T: h_prev enters as h_prev @ W_h, so the gradient "
                     "flows back as da @ W_h.T (the other gradients are right).",
                     _no_transpose_backward(_ref_step_backward)),
    ], signature="rnn_step_backward(dh, x, h_prev, h, W_x, W_h) -> dict", derivative=True),

    Spec(ASSIGNMENT, "sigmoid_step_backward", 4, _ref_sigmoid_backward, [
        CaseMaker("batch", _step_case(3, 2, 4, "sigmoid")),
        CaseMaker("single_row", _step_case(1, 3, 2, "sigmoid")),
        CaseMaker("one_unit", _step_case(2, 3, 1, "sigmoid"), hidden=True),
        CaseMaker("wide", _step_case(4, 2, 6, "sigmoid"), hidden=True),
        CaseMaker("saturated", _step_case(3, 2, 3, "sigmoid", gain=4.0), hidden=True),
    ], [
        KnownMistake("tanh_derivative",
                     "You used the tanh derivative 1 - h^2. For h = sigmoid(a) the derivative written with the "
                     "output is h (1 - h).",
                     lambda a, k, ref: _ref_step_backward(*a)),
        KnownMistake("missing_diag", MISSING_DIAG_STEP,
                     lambda a, k, ref: _ref_step_backward(a[0], a[1], a[2], np.zeros_like(a[3]), a[4], a[5])),
        KnownMistake("missing_transpose",
                     "Your dL/dh_prev uses W_h instead of W_h^T: the gradient flows back as da @ W_h.T.",
                     _no_transpose_backward(_ref_sigmoid_backward)),
    ], signature="sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h) -> dict", derivative=True),
]
