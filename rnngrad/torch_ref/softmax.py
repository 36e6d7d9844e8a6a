"""torch counterparts of rnngrad.softmax, rnngrad.cross_entropy and the Jacobians of rnngrad.layout.

Derivatives here come from torch's own machinery (``torch.func.jacrev``, ``vmap``,
``vjp`` and autograd), never from the formulas in the numpy references, so that a
test comparing the two checks the formulas. Inputs may be numpy arrays or tensors;
computation is in float64 on ``device`` (default: :func:`default_device`); results are
numpy float64 arrays (losses: Python floats).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .._validate import Dims, DTypeError, RnngradInputError, ShapeError, check_choice
from ..activations import ACTIVATIONS
from ..cross_entropy import REDUCTIONS, _lead_letters
from ..softmax import _axis
from ._common import T_ACTIVATIONS, checked_float, float_tensor, host_array, resolve_device, to_numpy, to_tensor

__all__ = [
    "t_softmax", "t_log_softmax", "t_softmax_jacobian", "t_softmax_vjp", "t_cross_entropy",
    "t_linear_map_jacobian", "t_batched_matmul_jacobian", "t_batched_matmul_jacobian_wrt_W",
]


def _logits(logits, device) -> torch.Tensor:
    """Checked logits (..., C), at least one axis and one class, as in :func:`rnngrad.softmax`."""
    z = checked_float(Dims(), "logits", logits, None)
    if z.ndim == 0:
        raise ShapeError("logits: expected at least 1 axis (..., C), got a scalar with shape ()")
    if z.shape[-1] == 0:
        raise ShapeError(f"logits: expected at least one class on the last axis, got shape {tuple(z.shape)}")
    return to_tensor(z, resolve_device(device)).detach()


def t_softmax(logits, axis: int = -1, device=None) -> np.ndarray:
    """``torch.softmax`` of ``logits`` along ``axis``.

    Args:
        logits: float array or tensor (..., C).
        axis: the axis that holds the classes.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        float64 array of the shape of ``logits``.

    Example:
        >>> import numpy as np
        >>> t_softmax(np.array([1e4, 0.0])).tolist()
        [1.0, 0.0]
    """
    z = _logits(logits, device)
    return to_numpy(torch.softmax(z, dim=_axis(axis, z.ndim)))


def t_log_softmax(logits, axis: int = -1, device=None) -> np.ndarray:
    """``torch.log_softmax`` of ``logits`` along ``axis``.

    Args:
        logits: float array or tensor (..., C).
        axis: the axis that holds the classes.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        float64 array of the shape of ``logits``.

    Example:
        >>> import numpy as np
        >>> t_log_softmax(np.array([1e4, 0.0])).tolist()
        [0.0, -10000.0]
    """
    z = _logits(logits, device)
    return to_numpy(torch.log_softmax(z, dim=_axis(axis, z.ndim)))


def t_softmax_jacobian(logits, device=None) -> np.ndarray:
    """The softmax Jacobian by ``torch.func.jacrev``: (C,) -> (C, C), (N, C) -> (N, C, C) via ``vmap``.

    Args:
        logits: (C,) one row or (N, C) a batch.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (C, C) or (N, C, C), numerator layout ``J[..., i, j] = ds_i/dz_j``.

    Example:
        >>> import numpy as np
        >>> t_softmax_jacobian(np.zeros((5, 3))).shape
        (5, 3, 3)
    """
    z = _logits(logits, device)
    z = checked_float(Dims(), "logits", z, ("C",) if z.ndim == 1 else ("N", "C"), finite=False)
    jac = torch.func.jacrev(lambda row: torch.softmax(row, dim=-1))
    if z.ndim == 1:
        return to_numpy(jac(z))
    return to_numpy(torch.func.vmap(jac)(z))


def t_softmax_vjp(logits, v, device=None) -> np.ndarray:
    """``v^T J`` of the softmax along the last axis, by ``torch.func.vjp``.

    Args:
        logits: float array (..., C).
        v: cotangent of the shape of ``logits``.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        float64 array (..., C), ``v^T J`` row by row.

    Example:
        >>> import numpy as np
        >>> # sum(s) = 1 is constant
        >>> g = t_softmax_vjp(np.zeros((2, 3)), np.ones((2, 3)))
        >>> bool(np.allclose(g, 0.0))
        True
    """
    dev = resolve_device(device)
    z = _logits(logits, dev)
    v = float_tensor(Dims(), "v", v, None, dev)
    if v.shape != z.shape:
        raise ShapeError(f"v: expected the shape of logits {tuple(z.shape)}, got {tuple(v.shape)}")
    _, pullback = torch.func.vjp(lambda z: torch.softmax(z, dim=-1), z)
    (g,) = pullback(v)
    return to_numpy(g)


def t_cross_entropy(logits, labels, mask=None, reduction: str = "mean", device=None) -> tuple[float, np.ndarray]:
    """Cross-entropy and its gradient wrt the logits, by ``torch.nn.functional.cross_entropy`` and autograd.

    Same conventions as :func:`rnngrad.cross_entropy`: logits (..., C), labels int (...)
    or float (..., C) label weights, mask bool (...) or None, reduction "sum" or "mean"
    (over unmasked positions).

    Args:
        logits: float array (..., C).
        labels: int array (...) of class indices or float array (..., C) of label weights.
        mask: bool array (...) or None.
        reduction: "mean" or "sum".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(loss, grad)``: the loss as a Python float and its gradient with respect to the
        logits, a float64 array of the shape of ``logits``.

    Example:
        >>> import numpy as np
        >>> loss, grad = t_cross_entropy(np.zeros((2, 4)), np.array([1, 3]))
        >>> round(loss, 6) == round(float(np.log(4)), 6), grad.shape
        (True, (2, 4))
    """
    dev = resolve_device(device)
    check_choice("reduction", reduction, REDUCTIONS)
    dims = Dims()
    z = checked_float(dims, "logits", logits, None)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ShapeError(f"logits: expected shape (..., C) with at least one class, got {tuple(z.shape)}")
    lead = _lead_letters(z.ndim - 1)
    checked_float(dims, "logits", z, lead + ("C",), finite=False)
    C = dims["C"]
    lab = host_array("labels", labels) if isinstance(labels, torch.Tensor) and not labels.is_floating_point() \
        else labels
    kind = lab.dtype.kind if isinstance(lab, np.ndarray) else "f" if isinstance(lab, torch.Tensor) \
        else np.asarray(lab).dtype.kind
    if kind in "iu":
        lab = np.asarray(lab)
        if lab.shape == tuple(z.shape):
            raise DTypeError(f"labels: with the shape of logits {tuple(z.shape)} (one row per position) expected "
                             f"float label weights, got dtype {lab.dtype}; integer labels are class indices of "
                             f"shape {tuple(z.shape[:-1])}")
        target = torch.as_tensor(dims.int_array("labels", lab, lead, low=0, high=C).reshape(-1), device=dev)
    elif kind == "f":
        if np.ndim(lab) == z.ndim - 1:
            raise DTypeError(f"labels: with shape {tuple(np.shape(lab))} (one per position) expected integer class "
                             f"indices, got dtype {getattr(lab, 'dtype', 'float')}; float labels need the class "
                             f"axis, shape {tuple(z.shape)}")
        y = float_tensor(dims, "labels", lab, lead + ("C",), dev)
        if bool((y < 0).any()):
            raise RnngradInputError(f"labels: expected non-negative label weights, got minimum {float(y.min())!r}")
        target = y.reshape(-1, C)
    else:
        raise DTypeError(f"labels: expected integer class indices (...) or float label weights (..., C), "
                         f"got dtype {np.asarray(lab).dtype}")
    keep = None if mask is None else dims.bool_array("mask", host_array("mask", mask), lead)
    if reduction == "mean" and keep is not None and not keep.any():
        raise RnngradInputError("mask: every position is masked out, so reduction='mean' would divide by zero; "
                                "pass a mask with at least one True entry or use reduction='sum'")
    z = to_tensor(z, dev).detach().clone().requires_grad_(True)
    rows = z.reshape(-1, C)
    per_position = F.cross_entropy(rows, target, reduction="none")
    if keep is not None:
        keep = torch.as_tensor(keep.reshape(-1), device=dev)
        per_position = torch.where(keep, per_position, torch.zeros_like(per_position))
        count = keep.sum()
    else:
        count = torch.tensor(per_position.numel(), device=dev)
    loss = per_position.sum()
    if reduction == "mean":
        loss = loss / count
    loss.backward()
    return float(loss.detach().cpu()), to_numpy(z.grad)


def t_linear_map_jacobian(W, pre, activation: str = "tanh", device=None) -> np.ndarray:
    """The Jacobian of ``x -> W σ(x)`` by ``jacrev`` ((H,) -> (M, H); (N, H) -> (N, M, H) via ``vmap``).

    Args:
        W: (M, H) weights.
        pre: (H,) one point or (N, H) a batch.
        activation: "tanh", "sigmoid", "relu" or "identity".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (M, H) for one point, (N, M, H) for a batch (numerator layout).

    Example:
        >>> import numpy as np
        >>> t_linear_map_jacobian(np.ones((3, 2)), np.zeros(2)).shape
        (3, 2)
    """
    check_choice("activation", activation, ACTIVATIONS)
    dev = resolve_device(device)
    dims = Dims()
    Wt = float_tensor(dims, "W", W, ("M", "H"), dev)
    x = checked_float(Dims(), "pre", pre, None)
    if x.ndim not in (1, 2):
        raise ShapeError(f"pre: expected (H,) or (N, H), got {x.ndim} axes with shape {tuple(x.shape)}")
    x = float_tensor(dims, "pre", x, ("N", "H")[-x.ndim:], dev, finite=False)
    sigma = T_ACTIVATIONS[activation]
    jac = torch.func.jacrev(lambda x: Wt @ sigma(x))
    return to_numpy(jac(x) if x.ndim == 1 else torch.func.vmap(jac)(x))


def t_batched_matmul_jacobian(h, W, device=None) -> np.ndarray:
    """The Jacobian of ``U = h W`` wrt h by ``jacrev``: (N, K, N, H).

    Args:
        h: (N, H) batch of rows.
        W: (H, K) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (N, K, N, H) = U.shape + h.shape.

    Example:
        >>> import numpy as np
        >>> t_batched_matmul_jacobian(np.ones((3, 2)), np.ones((2, 4))).shape
        (3, 4, 3, 2)
    """
    dev = resolve_device(device)
    dims = Dims()
    ht = float_tensor(dims, "h", h, ("N", "H"), dev)
    Wt = float_tensor(dims, "W", W, ("H", "K"), dev)
    return to_numpy(torch.func.jacrev(lambda x: x @ Wt)(ht))


def t_batched_matmul_jacobian_wrt_W(h, W, device=None) -> np.ndarray:
    """The Jacobian of ``U = h W`` wrt W by ``jacrev``: (N, K, H, K).

    Args:
        h: (N, H) batch of rows.
        W: (H, K) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (N, K, H, K) = U.shape + W.shape.

    Example:
        >>> import numpy as np
        >>> t_batched_matmul_jacobian_wrt_W(np.ones((3, 2)),
        ...                                 np.ones((2, 4))).shape
        (3, 4, 2, 4)
    """
    dev = resolve_device(device)
    dims = Dims()
    ht = float_tensor(dims, "h", h, ("N", "H"), dev)
    Wt = float_tensor(dims, "W", W, ("H", "K"), dev)
    return to_numpy(torch.func.jacrev(lambda w: ht @ w)(Wt))
