"""Jacobians of the tanh RNN's hidden state with respect to earlier hidden states.

Index convention used throughout this module. The states of a sequence of length T are
``h_0`` (the initial state ``h0``) and ``h_1, ..., h_T`` with ``h_t = hs[t - 1]``, where
``hs = rnn_forward(xs, h0, W_x, W_h, b)`` has shape (T, N, H). The step Jacobian of step
``t`` (t = 1..T) is stored at array index ``t - 1``::

    J[t - 1] = d h_t / d h_{t-1} = diag(1 - h_t ** 2) @ W_h.T
                                                     (numerator layout)

because, in the row convention ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``, unit ``i`` of the
pre-activation is ``sum_j h_{t-1, j} W_h[j, i]``, so its derivative with respect to
``h_{t-1, j}`` is ``W_h[j, i] = W_h.T[i, j]``.

Products of step Jacobians come in two directions:

* backward (what backpropagation through time multiplies): ``d h_T / d h_k`` for k = 0..T-1,
  built from the end of the sequence by one sweep, ``P[k] = P[k + 1] @ J[k]``;
* forward (what a plot of vanishing and exploding gradients wants): ``d h_t / d h_0`` for
  t = 1..T, built from the start, ``Q[t - 1] = J[t - 1] @ Q[t - 2]``.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, activation_output
from .rnn import rnn_forward

__all__ = [
    "rnn_step_jacobian",
    "rnn_step_jacobians",
    "hidden_state_jacobians",
    "jacobian_products",
    "rnn_jacobian_products",
    "jacobians_from_start",
    "rnn_jacobians_from_start",
    "singular_values_over_time",
]


def rnn_step_jacobian(h, W_h) -> np.ndarray:
    """Jacobian of one tanh RNN step with respect to the previous state: ``d h_t / d h_{t-1} = diag(1 - h_t^2) W_h^T``.

    The new state ``h_t`` is enough: ``tanh' = 1 - tanh^2``, so neither the input nor the
    previous state is needed.

    Args:
        h: (N, H) the state ``h_t`` that the step produced (refused outside
            [-1, 1], where no tanh output lies).
        W_h: (H, H) recurrent weights (row convention, ``h_{t-1} @ W_h``).

    Returns:
        J: (N, H, H) with ``J[n, i, j] = d h_t[n, i] / d h_{t-1}[n, j]``.

    Example:
        >>> import numpy as np
        >>> W_h = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> # tanh'(0) = 1: J is W_h transposed
        >>> J = rnn_step_jacobian(np.zeros((1, 2)), W_h)
        >>> J.shape, bool(np.allclose(J[0], W_h.T))
        ((1, 2, 2), True)
    """
    dims = Dims()
    h = activation_output("h", dims.float_array("h", h, ("N", "H")))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    return _step_jacobians(h, W_h)


def rnn_step_jacobians(hs, W_h) -> np.ndarray:
    """Step Jacobians of a whole sequence: ``J[t - 1] = d h_t / d h_{t-1} = diag(1 - h_t^2) W_h^T`` for t = 1..T.

    Args:
        hs: (T, N, H) hidden states ``h_1 .. h_T`` as returned by ``rnn_forward``
            (refused outside [-1, 1]).
        W_h: (H, H) recurrent weights.

    Returns:
        J: (T, N, H, H); ``J[t - 1, n]`` is the Jacobian of step t for batch row n.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> J = rnn_step_jacobians(np.tanh(rng.normal(size=(5, 2, 3))),
        ...                        rng.normal(size=(3, 3)))
        >>> J.shape
        (5, 2, 3, 3)
    """
    dims = Dims()
    hs = activation_output("hs", dims.float_array("hs", hs, ("T", "N", "H")))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    return _step_jacobians(hs, W_h)


def _step_jacobians(hs: np.ndarray, W_h: np.ndarray) -> np.ndarray:
    """``diag(1 - h^2) W_h^T`` for states of any leading shape, unchecked (the autograder's mistaken variants
    call it with values no tanh gives, on purpose); the public functions check first."""
    return (1.0 - hs * hs)[..., None] * W_h.T


def hidden_state_jacobians(xs, h0, W_x, W_h, b) -> tuple[np.ndarray, np.ndarray]:
    """Run the tanh RNN and return its states with every step Jacobian ``d h_t / d h_{t-1}``.

    Args:
        xs: (T, N, D) inputs; h0: (N, H) initial state; W_x: (D, H); W_h: (H, H); b: (H,).

    Returns:
        (hs, J): hs (T, N, H) from ``rnn_forward``; J (T, N, H, H) from ``rnn_step_jacobians``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> hs, J = hidden_state_jacobians(rng.normal(size=(4, 2, 3)),
        ...                                np.zeros((2, 5)),
        ...                                rng.normal(size=(3, 5)),
        ...                                rng.normal(size=(5, 5)), np.zeros(5))
        >>> hs.shape, J.shape
        ((4, 2, 5), (4, 2, 5, 5))
    """
    hs = rnn_forward(xs, h0, W_x, W_h, b)
    return hs, rnn_step_jacobians(hs, W_h)


def jacobian_products(step_jacobians) -> np.ndarray:
    """Jacobians of the last state with respect to every earlier one: ``P[k] = d h_T / d h_k = J_T ... J_{k+1}``.

    One backward sweep of (N, H, H) matrix products, ``P[T-1] = J[T-1]`` and
    ``P[k] = P[k + 1] @ J[k]``, written straight into the result (no other array of that
    size is made). With the module's convention ``J[t - 1] = d h_t / d h_{t-1}``:
    ``P[0] = d h_T / d h_0`` (the initial state) and ``P[T-1] = d h_T / d h_{T-1} = J[T-1]``.
    The trivial ``d h_T / d h_T = I`` is not stored.

    Args:
        step_jacobians: (T, N, H, H) with ``step_jacobians[t - 1] = d h_t / d h_{t-1}``
            (any square per-step Jacobians, not only the tanh RNN's).

    Returns:
        P: (T, N, H, H), ``P[k, n] = d h_T[n] / d h_k[n]`` for k = 0..T-1.

    Example:
        >>> import numpy as np
        >>> # T=2, N=1, H=2
        >>> J = np.stack([np.eye(2)[None] * 2.0, np.eye(2)[None] * 3.0])
        >>> P = jacobian_products(J)
        >>> P[:, 0, 0, 0].tolist()          # d h_2/d h_0 = 3*2, d h_2/d h_1 = 3
        [6.0, 3.0]
    """
    J = Dims().float_array("step_jacobians", step_jacobians, ("T", "N", "H", "H"))
    P = np.empty_like(J)
    if J.shape[0] == 0:      # no steps: no k in 0..T-1
        return P
    P[-1] = J[-1]
    for k in range(J.shape[0] - 2, -1, -1):
        np.matmul(P[k + 1], J[k], out=P[k])
    return P


def rnn_jacobian_products(hs, W_h) -> np.ndarray:
    """``P[k] = d h_T / d h_k`` for the tanh RNN, without forming the step Jacobians.

    Same result as ``jacobian_products(rnn_step_jacobians(hs, W_h))``. Because
    ``J[k] = diag(1 - h_{k+1}^2) W_h^T``, the update ``P[k] = P[k + 1] @ J[k]`` is a column
    scaling followed by one (N*H, H) @ (H, H) product for the whole batch, instead of N
    separate (H, H) @ (H, H) products.

    Args:
        hs: (T, N, H) states ``h_1 .. h_T``; W_h: (H, H).

    Returns:
        P: (T, N, H, H), ``P[k, n] = d h_T[n] / d h_k[n]`` for k = 0..T-1.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> hs, W_h = (np.tanh(rng.normal(size=(6, 2, 3))),
        ...            rng.normal(size=(3, 3)))
        >>> bool(
        ...     np.allclose(rnn_jacobian_products(hs, W_h),
        ...                 jacobian_products(rnn_step_jacobians(hs, W_h))))
        True
    """
    dims = Dims()
    hs = activation_output("hs", dims.float_array("hs", hs, ("T", "N", "H")))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    T, N, H = hs.shape
    d = 1.0 - hs * hs                                   # (T, N, H): tanh' at every step
    P = np.empty((T, N, H, H))
    if T == 0:
        return P
    P[-1] = d[-1][:, :, None] * W_h.T                   # J[T-1]
    W_hT = np.ascontiguousarray(W_h.T)
    scaled = np.empty((N, H, H))                        # one reused (N, H, H) buffer
    for k in range(T - 2, -1, -1):
        # P[k+1] @ diag(d[k]) @ W_h^T: scale columns, then one flat matrix product
        np.multiply(P[k + 1], d[k][:, None, :], out=scaled)
        np.matmul(scaled.reshape(N * H, H), W_hT, out=P[k].reshape(N * H, H))
    return P


def jacobians_from_start(step_jacobians) -> np.ndarray:
    """Jacobians of every state with respect to the initial one: ``Q[t - 1] = d h_t / d h_0 = J_t ... J_1``.

    One forward sweep, ``Q[0] = J[0]`` and ``Q[t - 1] = J[t - 1] @ Q[t - 2]``: the products
    accumulate as the sequence is read, which is what a plot of ``d h_t / d h_0`` against t needs.

    Args:
        step_jacobians: (T, N, H, H) with ``step_jacobians[t - 1] = d h_t / d h_{t-1}``.

    Returns:
        Q: (T, N, H, H), ``Q[t - 1, n] = d h_t[n] / d h_0[n]`` for t = 1..T.

    Example:
        >>> import numpy as np
        >>> J = np.stack([np.eye(2)[None] * 2.0, np.eye(2)[None] * 3.0])
        >>> # d h_1/d h_0 = 2, d h_2/d h_0 = 6
        >>> jacobians_from_start(J)[:, 0, 0, 0].tolist()
        [2.0, 6.0]
    """
    J = Dims().float_array("step_jacobians", step_jacobians, ("T", "N", "H", "H"))
    Q = np.empty_like(J)
    if J.shape[0] == 0:      # no steps: no t in 1..T
        return Q
    Q[0] = J[0]
    for t in range(1, J.shape[0]):
        np.matmul(J[t], Q[t - 1], out=Q[t])
    return Q


def rnn_jacobians_from_start(hs, W_h) -> np.ndarray:
    """``Q[t - 1] = d h_t / d h_0`` for the tanh RNN, without forming the step Jacobians.

    ``J[t] @ Q = diag(d_t) W_h^T Q``; for the whole batch ``W_h^T Q[n]`` is the transpose of
    ``Q[n]^T W_h``, one (N*H, H) @ (H, H) product.

    Args:
        hs: (T, N, H) states ``h_1 .. h_T``; W_h: (H, H).

    Returns:
        Q: (T, N, H, H), ``Q[t - 1, n] = d h_t[n] / d h_0[n]``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> hs, W_h = (np.tanh(rng.normal(size=(6, 2, 3))),
        ...            rng.normal(size=(3, 3)))
        >>> bool(
        ...     np.allclose(rnn_jacobians_from_start(hs, W_h),
        ...                 jacobians_from_start(rnn_step_jacobians(hs, W_h))))
        True
    """
    dims = Dims()
    hs = activation_output("hs", dims.float_array("hs", hs, ("T", "N", "H")))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    T, N, H = hs.shape
    d = 1.0 - hs * hs
    Q = np.empty((T, N, H, H))
    if T == 0:
        return Q
    Q[0] = d[0][:, :, None] * W_h.T
    for t in range(1, T):
        # (W_h^T Q)^T = Q^T W_h, computed on the transposed (N*H, H) stack
        QT = np.ascontiguousarray(Q[t - 1].transpose(0, 2, 1)).reshape(N * H, H)
        Q[t] = (QT @ W_h).reshape(N, H, H).transpose(0, 2, 1) * d[t][:, :, None]
    return Q


def singular_values_over_time(step_jacobians) -> np.ndarray:
    """Singular values of ``d h_t / d h_0`` for t = 1..T, largest first (the
    vanishing/exploding picture).

    The products are accumulated forward (``jacobians_from_start``), then
    each (H, H) matrix is decomposed. In float64 the products underflow to
    zero (or overflow) only after hundreds of steps of strong contraction
    (or expansion); the values then read 0 (or inf).

    Args:
        step_jacobians: (T, N, H, H) with
            ``step_jacobians[t - 1] = d h_t / d h_{t-1}``.

    Returns:
        S: (T, N, H) with ``S[t - 1, n]`` the singular values of
        ``d h_t[n] / d h_0[n]`` in decreasing order.

    Example:
        >>> import numpy as np
        >>> # T=3, N=1, H=2
        >>> J = np.tile(np.diag([0.5, 2.0]), (3, 1, 1, 1))
        >>> singular_values_over_time(J)[:, 0].tolist()
        [[2.0, 0.5], [4.0, 0.25], [8.0, 0.125]]
    """
    Q = jacobians_from_start(step_jacobians)
    return np.linalg.svd(Q, compute_uv=False)
