"""Softmax, log-softmax, and the softmax Jacobian and vector-Jacobian product.

With ``s = softmax(z)`` the Jacobian is ``ds_i/dz_j = s_i (δ_ij - s_j)``, i.e.
``diag(s) - s s^T``; it is symmetric, so numerator and denominator layout agree here.
A backward pass never needs the (C, C) matrix: ``v^T J = s * (v - <v, s>)``.

Stability: ``softmax(z) = softmax(z - max z)``, so after subtracting the maximum the
largest exponent is ``exp(0) = 1`` and nothing overflows, whatever the size of the
logits (``1e4`` overflows ``exp`` in float64 at about 709.8).
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, RnngradInputError, ShapeError

__all__ = ["softmax", "log_softmax", "softmax_jacobian", "softmax_vjp"]


def _logits(logits) -> np.ndarray:
    z = Dims().float_array("logits", logits, None)
    if z.ndim == 0:
        raise ShapeError("logits: expected at least 1 axis (..., C), got a scalar with shape ()")
    if z.shape[-1] == 0:
        raise ShapeError(f"logits: expected at least one class on the last axis, got shape {z.shape}")
    return z


def _axis(axis, ndim: int) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise RnngradInputError(f"axis: expected an integer in [{-ndim}, {ndim}) for logits with {ndim} axes, "
                                f"got {axis!r}")
    return int(axis)


def _shifted(z: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """``z - max z`` along ``axis`` and ``log sum exp`` of that shifted array (keepdims)."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted, np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis: int = -1) -> np.ndarray:
    """The softmax ``s_i = exp(z_i) / sum_j exp(z_j)`` along ``axis``, computed without overflow.

    Args:
        logits: float array (..., C) (any shape with at least one axis).
        axis: the axis that holds the classes (default: the last).

    Returns:
        float64 array of the shape of ``logits``; entries in [0, 1], summing to 1 along ``axis``.

    Example:
        >>> import numpy as np
        >>> s = softmax(np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]]))
        >>> np.round(s, 3).tolist()
        [[1.0, 0.0, 0.0], [0.333, 0.333, 0.333]]
        >>> bool(np.allclose(s.sum(axis=-1), 1.0))
        True
    """
    z = _logits(logits)
    axis = _axis(axis, z.ndim)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """The log-softmax ``z_i - log sum_j exp(z_j)`` along ``axis``, finite for any finite logits.

    Taking ``np.log(softmax(z))`` instead would give ``-inf`` wherever the softmax
    underflows to 0 (e.g. ``z = [1e4, 0]``); here the result is exactly ``-1e4`` there.

    Args:
        logits: float array (..., C).
        axis: the axis that holds the classes (default: the last).

    Returns:
        float64 array of the shape of ``logits``; ``exp`` of it sums to 1 along ``axis``.

    Example:
        >>> import numpy as np
        >>> log_softmax(np.array([1e4, 0.0])).tolist()
        [0.0, -10000.0]
    """
    z = _logits(logits)
    axis = _axis(axis, z.ndim)
    shifted, lse = _shifted(z, axis)
    return shifted - lse


def softmax_jacobian(logits) -> np.ndarray:
    """The Jacobian ``J[i, j] = ds_i/dz_j = s_i (δ_ij - s_j)`` of the softmax, one per row of logits.

    Args:
        logits: (C,) one vector of logits, or (N, C) a batch of rows.

    Returns:
        (C, C) for a vector, (N, C, C) for a batch (numerator layout; the matrix is symmetric).

    Example:
        >>> import numpy as np
        >>> J = softmax_jacobian(np.zeros((4, 3)))
        >>> J.shape
        (4, 3, 3)
        >>> np.round(J[0] * 9, 6).tolist()[0]
        [2.0, -1.0, -1.0]
    """
    z = _logits(logits)
    dims = Dims()
    z = dims.float_array("logits", z, ("C",) if z.ndim == 1 else ("N", "C"))
    s = softmax(z)
    # diag(s) - s s^T, built as an outer product and a diagonal added in place on the fresh array
    J = -s[..., :, None] * s[..., None, :]
    idx = np.arange(dims["C"])
    J[..., idx, idx] += s
    return J


def softmax_vjp(logits, v) -> np.ndarray:
    """The vector-Jacobian product ``v^T J = s * (v - sum_k v_k s_k)`` of the softmax, row by row, without forming J.

    This is the backward pass of the softmax: given ``v = dL/ds`` it returns ``dL/dz``.
    It costs O(C) per row instead of the O(C^2) of ``v @ softmax_jacobian(z)``.

    Args:
        logits: float array (..., C) (classes on the last axis).
        v: float array of the same shape as ``logits`` (one cotangent per row).

    Returns:
        float64 array (..., C).

    Example:
        >>> import numpy as np
        >>> z, v = np.array([[0.5, -1.0, 2.0]]), np.array([[1.0, 0.0, -1.0]])
        >>> bool(
        ...     np.allclose(softmax_vjp(z, v)[0],
        ...                 v[0] @ softmax_jacobian(z[0])))
        True
    """
    z = _logits(logits)
    v = Dims().float_array("v", v, None)
    if v.shape != z.shape:
        raise ShapeError(f"v: expected the shape of logits {z.shape}, got {v.shape}")
    s = softmax(z)
    return s * (v - (v * s).sum(axis=-1, keepdims=True))
