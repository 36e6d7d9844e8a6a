"""Jacobian layouts: numerator vs denominator, and where a "W transposed" comes from.

rnngrad writes every Jacobian in numerator layout, ``J[i, j] = d out_i / d in_j``
(outputs index the rows, as ``torch.func.jacrev``). The denominator layout is the
transpose, ``J^T[j, i]``; for array-valued maps "transpose" means moving the input
axes in front of the output axes (:func:`to_denominator_layout`).

Column convention (``y = W σ(x)``, x a column): the numerator Jacobian is
``W diag(σ'(x))`` (:func:`linear_map_jacobian`) and its denominator form is
``diag(σ'(x)) W^T``. Pascanu, Mikolov & Bengio (2013, "On the difficulty of training
recurrent neural networks") print ``W^T diag(σ'(x))`` for ``dx_t/dx_{t-1}``
(:func:`pascanu_step_matrix`); that matrix has the transpose from one layout and the
factor order from the other, so it is neither (:func:`layout_of` tells which a candidate
matches). Both it and the true Jacobian obey ``||.|| <= ||W|| max|σ'|`` (a matrix and its
transpose have the same spectral norm), and that bound is all the paper's vanishing-gradient
argument uses, so the argument survives the slip.

Row convention (``U = h W``, h (N, H), W (H, K)): the full Jacobian of U with respect to
h is the 4th-order tensor (N, K, N, H) with ``J[i, j, p, q] = δ_ip W[q, j]``. It is
block diagonal in the batch (:func:`batch_diagonal_blocks`), each block being ``W^T``;
contracting it with an upstream gradient ``G = dL/dU`` (:func:`vjp_from_jacobian`) gives
``G W^T``, which is the "W transposed" in every backward pass.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, RnngradInputError, ShapeError, check_choice
from .activations import ACTIVATIONS, activation_derivative

__all__ = [
    "to_denominator_layout", "linear_map_jacobian", "pascanu_step_matrix", "layout_of",
    "batched_matmul_jacobian", "batched_matmul_jacobian_wrt_W", "batch_diagonal_blocks", "vjp_from_jacobian",
]

def _nonneg_int(name: str, value, upper: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= value <= upper:
        raise RnngradInputError(f"{name}: expected an integer in [0, {upper}], got {value!r}")
    return int(value)


def _tolerance(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 <= value < np.inf:
        raise RnngradInputError(f"{name}: expected a non-negative finite number, got {value!r}")
    return float(value)


def _split_axes(J: np.ndarray, out_ndim, batch_ndim) -> tuple[int, int, int]:
    """(batch, out, in) numbers of axes of a Jacobian J (batch + out + in axes)."""
    batch_ndim = _nonneg_int("batch_ndim", batch_ndim, J.ndim)
    rest = J.ndim - batch_ndim
    if out_ndim is None:
        if rest % 2:
            raise ShapeError(f"J: with batch_ndim={batch_ndim} the remaining {rest} axes of shape {J.shape} cannot be "
                             "split evenly into output and input axes; pass out_ndim")
        out_ndim = rest // 2
    out_ndim = _nonneg_int("out_ndim", out_ndim, rest)
    return batch_ndim, out_ndim, rest - out_ndim


def to_denominator_layout(J, out_ndim: int | None = None, batch_ndim: int = 0) -> np.ndarray:
    """The denominator-layout form ``J^T[..., in, out]`` of a numerator-layout Jacobian ``J[..., out, in]``.

    The input axes move in front of the output axes; leading batch axes stay first.
    The same function maps denominator back to numerator layout when ``out_ndim`` is
    read as the number of input axes.

    Args:
        J: float array of shape batch + out.shape + in.shape.
        out_ndim: number of output axes; default: half of the non-batch axes.
        batch_ndim: number of leading batch axes left in place (e.g. 1 for (N, out, in)).

    Returns:
        float64 array batch + in.shape + out.shape (a view when J is already float64).

    Example:
        >>> import numpy as np
        >>> J = np.zeros((2, 3, 4, 5))  # out (2, 3), in (4, 5)
        >>> to_denominator_layout(J).shape
        (4, 5, 2, 3)
        >>> to_denominator_layout(np.zeros((7, 2, 3)), batch_ndim=1).shape
        (7, 3, 2)
    """
    J = Dims().float_array("J", J, None)
    b, o, i = _split_axes(J, out_ndim, batch_ndim)
    order = list(range(b)) + list(range(b + o, b + o + i)) + list(range(b, b + o))
    return J.transpose(order)


def _sigma_prime(activation: str, pre, letters, dims: Dims, name: str) -> np.ndarray:
    check_choice("activation", activation, ACTIVATIONS)
    pre = Dims().float_array(name, pre, None)
    if pre.ndim not in (1, 2):
        raise ShapeError(f"{name}: expected (H,) or (N, H), got {pre.ndim} axes with shape {pre.shape}")
    pre = dims.float_array(name, pre, letters[-pre.ndim:])
    return activation_derivative(activation, pre)


def linear_map_jacobian(W, pre, activation: str = "tanh") -> np.ndarray:
    """The numerator-layout Jacobian ``dy/dx = W diag(σ'(x))`` of ``y = W σ(x)`` (column convention).

    Entry ``[m, h]`` is ``W[m, h] σ'(x_h)``: the derivative scales the columns of W.

    Args:
        W: (M, H) weights.
        pre: (H,) the point x, or (N, H) a batch of points.
        activation: "tanh" (default), "sigmoid", "relu" or "identity".

    Returns:
        (M, H) for one point, (N, M, H) for a batch.

    Example:
        >>> import numpy as np
        >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> linear_map_jacobian(W, np.array([0.0, 1.0]), "relu").tolist()
        [[0.0, 2.0], [0.0, 4.0]]
    """
    dims = Dims()
    W = dims.float_array("W", W, ("M", "H"))
    d = _sigma_prime(activation, pre, ("N", "H"), dims, "pre")
    return W * d[..., None, :]


def pascanu_step_matrix(W, x_prev, activation: str = "tanh") -> np.ndarray:
    """The matrix ``W^T diag(σ'(x_prev))`` printed by Pascanu et al. (2013)
    for ``dx_t/dx_{t-1}``.

    For ``x_t = W σ(x_{t-1}) + ...`` the numerator Jacobian is
    ``W diag(σ'(x_{t-1}))`` and the denominator one is
    ``diag(σ'(x_{t-1})) W^T``; this product matches neither in general (it
    does when W is symmetric, or when σ' is constant and then only up to the
    transpose). See :func:`layout_of`.

    Args:
        W: (H, H) recurrent weights.
        x_prev: (H,) previous state (pre-activation), or (N, H) a batch.
        activation: "tanh" (default), "sigmoid", "relu" or "identity".

    Returns:
        (H, H) for one state, (N, H, H) for a batch.

    Example:
        >>> import numpy as np
        >>> W, x = np.array([[0.0, 1.0], [2.0, 0.0]]), np.array([0.0, 1.0])
        >>> P = pascanu_step_matrix(W, x, "relu")
        >>> P.tolist()
        [[0.0, 2.0], [0.0, 0.0]]
        >>> layout_of(P, linear_map_jacobian(W, x, "relu"))
        'neither'
    """
    dims = Dims()
    W = dims.float_array("W", W, ("H", "H"))
    d = _sigma_prime(activation, x_prev, ("N", "H"), dims, "x_prev")
    return W.T * d[..., None, :]


def layout_of(M, J, out_ndim: int | None = None, batch_ndim: int = 0, rtol: float = 1e-7,
              atol: float = 1e-10) -> str:
    """Which layout of the numerator-layout Jacobian ``J`` the candidate ``M`` is: ``M ≈ J`` or ``M ≈ J^T``.

    Returns "numerator" when M matches J, "denominator" when it matches
    :func:`to_denominator_layout` of J, "both" when it matches both (J symmetric, e.g.
    the softmax Jacobian), and "neither" otherwise, including when M has a shape that
    fits neither.

    Args:
        M: float array of any shape, the candidate.
        J: float array batch + out.shape + in.shape, the numerator-layout Jacobian.
        out_ndim, batch_ndim: as in :func:`to_denominator_layout`.
        rtol, atol: tolerances of ``np.allclose``.

    Returns:
        One of "numerator", "denominator", "both", "neither".

    Example:
        >>> import numpy as np
        >>> J = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> (layout_of(J.T, J), layout_of(J, J),
        ...  layout_of(np.eye(2), np.eye(2)), layout_of(-J, J))
        ('denominator', 'numerator', 'both', 'neither')
    """
    M = Dims().float_array("M", M, None)
    J = Dims().float_array("J", J, None)
    rtol, atol = _tolerance("rtol", rtol), _tolerance("atol", atol)
    JT = to_denominator_layout(J, out_ndim, batch_ndim)
    num = M.shape == J.shape and bool(np.allclose(M, J, rtol=rtol, atol=atol))
    den = M.shape == JT.shape and bool(np.allclose(M, JT, rtol=rtol, atol=atol))
    return {(True, True): "both", (True, False): "numerator", (False, True): "denominator",
            (False, False): "neither"}[(num, den)]


def batched_matmul_jacobian(h, W) -> np.ndarray:
    """The Jacobian of ``U = h W`` with respect to h: ``J[i, j, p, q] = dU[i, j]/dh[p, q] = δ_ip W[q, j]``.

    Args:
        h: (N, H) batch of rows.
        W: (H, K) weights.

    Returns:
        (N, K, N, H) = U.shape + h.shape (numerator layout); block diagonal in the batch.

    Example:
        >>> import numpy as np
        >>> h, W = np.ones((3, 2)), np.arange(8.0).reshape(2, 4)
        >>> J = batched_matmul_jacobian(h, W)
        >>> J.shape
        (3, 4, 3, 2)
        >>> (bool(np.array_equal(J[1, :, 1, :], W.T)),
        ...  bool((J[0, :, 1, :] == 0).all()))
        (True, True)
    """
    dims = Dims()
    h = dims.float_array("h", h, ("N", "H"))
    W = dims.float_array("W", W, ("H", "K"))
    return np.eye(dims["N"])[:, None, :, None] * W.T[None, :, None, :]


def batched_matmul_jacobian_wrt_W(h, W) -> np.ndarray:
    """The Jacobian of ``U = h W`` with respect to W: ``J[i, j, p, r] = dU[i, j]/dW[p, r] = h[i, p] δ_jr``.

    Args:
        h: (N, H) batch of rows.
        W: (H, K) weights.

    Returns:
        (N, K, H, K) = U.shape + W.shape (numerator layout).

    Example:
        >>> import numpy as np
        >>> h, W = np.arange(6.0).reshape(3, 2), np.ones((2, 4))
        >>> J = batched_matmul_jacobian_wrt_W(h, W)
        >>> J.shape
        (3, 4, 2, 4)
        >>> J[2, 1, :, 1].tolist(), J[2, 1, :, 0].tolist()
        ([4.0, 5.0], [0.0, 0.0])
    """
    dims = Dims()
    h = dims.float_array("h", h, ("N", "H"))
    dims.float_array("W", W, ("H", "K"))
    return h[:, None, :, None] * np.eye(dims["K"])[None, :, None, :]


def batch_diagonal_blocks(J, atol: float = 0.0) -> tuple[np.ndarray, bool]:
    """The diagonal batch blocks ``B[i] = J[i, :, i, :]`` of a (N, K, N, H) Jacobian, and whether all others vanish.

    Args:
        J: (N, K, N, H) Jacobian of a per-row map of a batch (e.g. from
            :func:`batched_matmul_jacobian`).
        atol: largest absolute entry tolerated in the off-diagonal blocks ``J[i, :, p, :]``, i != p.

    Returns:
        ``(blocks, block_diagonal)``: blocks (N, K, H), and True when every off-diagonal
        block is zero within ``atol`` (then J carries no more than the blocks).

    Example:
        >>> import numpy as np
        >>> W = np.arange(6.0).reshape(2, 3)
        >>> blocks, ok = batch_diagonal_blocks(
        ...     batched_matmul_jacobian(np.ones((4, 2)), W))
        >>> blocks.shape, ok, bool(np.array_equal(blocks[3], W.T))
        ((4, 3, 2), True, True)
    """
    J = Dims().float_array("J", J, ("N", "K", "N", "H"))
    atol = _tolerance("atol", atol)
    N = J.shape[0]
    idx = np.arange(N)
    blocks = J[idx, :, idx, :]  # advanced indices first: (N, K, H)
    off = J.copy()
    off[idx, :, idx, :] = 0.0
    return blocks, bool(np.abs(off).max(initial=0.0) <= atol)


def vjp_from_jacobian(J, v) -> np.ndarray:
    """The vector-Jacobian product
    ``(v^T J)[in] = sum_out v[out] J[out, in]`` for a numerator-layout J.

    With ``J = batched_matmul_jacobian(h, W)`` and ``v = dL/dU`` this is
    ``v W^T``: the transpose in the backward pass of a matrix product is
    this contraction.

    Args:
        J: float array out.shape + in.shape.
        v: float array out.shape (its shape fixes how many leading axes of J
            are outputs).

    Returns:
        float64 array in.shape.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> h, W, G = (rng.normal(size=(3, 2)), rng.normal(size=(2, 4)),
        ...            rng.normal(size=(3, 4)))
        >>> g = vjp_from_jacobian(batched_matmul_jacobian(h, W), G)
        >>> g.shape, bool(np.allclose(g, G @ W.T))
        ((3, 2), True)
    """
    J = Dims().float_array("J", J, None)
    v = Dims().float_array("v", v, None)
    if v.ndim > J.ndim or J.shape[:v.ndim] != v.shape:
        raise ShapeError("v: expected the output shape of J, i.e. a prefix "
                         f"of J.shape {J.shape}, got {v.shape}")
    return np.tensordot(v, J, axes=v.ndim)
