"""Cross-entropy on logits and its gradient with respect to the logits.

For one position with logits ``z`` (C,) and label weights ``y`` (C,) the loss is
``l = -sum_c y_c log softmax(z)_c = sum(y) * logsumexp(z) - <y, z>``, so

    dl/dz = softmax(z) * sum(y) - y.

An integer label ``k`` stands for the one-hot row ``y = e_k``; for any ``y`` that sums
to one (one-hot or a probability vector) the gradient is the familiar ``softmax(z) - y``.
Labels that do not sum to one (e.g. weighted or unnormalised soft targets) keep the
factor ``sum(y)``: the loss then weighs the position by its label mass, and dropping the
factor would give the gradient of a different function.

The leading axes are arbitrary: logits (C,), (N, C), (T, N, C), ... with labels of
shape (...) (integers) or (..., C) (floats). A mask of shape (...) keeps the positions
where it is True; ``reduction="sum"`` adds the per-position losses, ``"mean"`` divides
that sum by the number of kept positions (and refuses to divide by zero).
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, DTypeError, RnngradInputError, ShapeError, _as_array, check_choice
from .softmax import _shifted

__all__ = ["cross_entropy", "cross_entropy_grad"]

REDUCTIONS = ("sum", "mean")


def _lead_letters(ndim: int) -> tuple:
    """Shape letters for the leading (position) axes: (), (N,), (T, N), then A1.. for more."""
    if ndim <= 2:
        return ("T", "N")[2 - ndim:]
    return tuple(f"A{i}" for i in range(1, ndim - 1)) + ("T", "N")


def _prepare(logits, labels, mask, reduction):
    """Validate the arguments; return logits z, label weights y (..., C), mask (...) and the divisor."""
    check_choice("reduction", reduction, REDUCTIONS)
    dims = Dims()
    z = dims.float_array("logits", logits, None)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ShapeError(f"logits: expected shape (..., C) with at least one class, got {z.shape}")
    lead = _lead_letters(z.ndim - 1)
    z = dims.float_array("logits", z, lead + ("C",))
    C = dims["C"]
    lab = _as_array("labels", labels)
    if lab.dtype.kind in "iu":
        if lab.shape == z.shape:
            raise DTypeError(f"labels: with the shape of logits {z.shape} (one row per position) expected float "
                             f"label weights, got dtype {lab.dtype}; integer labels are class indices of shape "
                             f"{z.shape[:-1]}")
        k = dims.int_array("labels", lab, lead, low=0, high=C)
        y = np.zeros(z.shape)
        np.put_along_axis(y, k[..., None], 1.0, axis=-1)
    elif lab.dtype.kind == "f":
        if lab.ndim == z.ndim - 1:
            raise DTypeError(f"labels: with shape {lab.shape} (one per position) expected integer class indices, "
                             f"got dtype {lab.dtype}; float labels need the class axis, shape {z.shape}")
        y = dims.float_array("labels", lab, lead + ("C",))
        if (y < 0).any():
            raise RnngradInputError(f"labels: expected non-negative label weights, got minimum {y.min()!r}")
    else:
        raise DTypeError(f"labels: expected integer class indices (...) or float label weights (..., C), "
                         f"got dtype {lab.dtype}")
    if mask is None:
        keep = np.ones(z.shape[:-1], dtype=bool)
    else:
        keep = dims.bool_array("mask", mask, lead)
    count = int(keep.sum())
    if reduction == "mean":
        if count == 0:
            raise RnngradInputError("mask: every position is masked out, so reduction='mean' would divide by zero; "
                                    "pass a mask with at least one True entry or use reduction='sum'")
        divisor = float(count)
    else:
        divisor = 1.0
    return z, y, keep, divisor


def cross_entropy(logits, labels, mask=None,
                  reduction: str = "mean") -> float:
    """The cross-entropy ``sum over kept positions of
    -sum_c y_c log softmax(z)_c`` (divided by their count for "mean").

    Args:
        logits: float array (..., C), classes on the last axis; leading
            shape arbitrary ((C,), (N, C), (T, N, C), ...).
        labels: int array (...) of class indices in [0, C), or float array
            (..., C) of non-negative label weights (one-hot, soft, not
            necessarily summing to one).
        mask: bool array (...) (0/1 accepted) or None; positions where it is
            False do not count.
        reduction: "mean" (default; divides by the number of kept positions,
            which must be at least one) or "sum".

    Returns:
        The loss as a Python float.

    Example:
        >>> import numpy as np
        >>> z = np.array([[0.0, 0.0], [1e4, -1e4]])
        >>> # log 2 + 2e4
        >>> round(cross_entropy(z, np.array([0, 1]), reduction="sum"), 4)
        20000.6931
        >>> round(cross_entropy(z, np.array([0, 1]),
        ...                     mask=np.array([True, False])), 4)
        0.6931
    """
    z, y, keep, divisor = _prepare(logits, labels, mask, reduction)
    shifted, lse = _shifted(z, -1)
    # -sum_c y_c (shifted_c - lse); zero label weights contribute exactly
    # zero
    per_position = -(y * (shifted - lse)).sum(axis=-1)
    return float(per_position[keep].sum() / divisor)


def cross_entropy_grad(logits, labels, mask=None, reduction: str = "mean") -> np.ndarray:
    """The gradient ``dL/dz = softmax(z) * sum_c(y_c) - y`` of :func:`cross_entropy` with respect to the logits.

    Rows that the mask drops are zero; with ``reduction="mean"`` every row is divided
    by the number of kept positions.

    Args:
        logits: float array (..., C).
        labels: int array (...) in [0, C) or float array (..., C) of non-negative weights.
        mask: bool array (...) or None.
        reduction: "mean" (default) or "sum".

    Returns:
        float64 array of the shape of ``logits``.

    Example:
        >>> import numpy as np
        >>> g = cross_entropy_grad(np.zeros((2, 3)), np.array([0, 2]),
        ...                        reduction="sum")
        >>> np.round(g * 3, 6).tolist()
        [[-2.0, 1.0, 1.0], [1.0, 1.0, -2.0]]
        >>> # labels sum to 2
        >>> g2 = cross_entropy_grad(np.zeros(3), np.array([0.0, 1.0, 1.0]))
        >>> np.round(g2 * 3, 6).tolist()
        [2.0, -1.0, -1.0]
    """
    z, y, keep, divisor = _prepare(logits, labels, mask, reduction)
    shifted, lse = _shifted(z, -1)
    s = np.exp(shifted - lse)
    grad = s * y.sum(axis=-1, keepdims=True) - y
    grad = np.where(keep[..., None], grad, 0.0)
    return grad / divisor
