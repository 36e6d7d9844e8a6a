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

from ._common import T_ACTIVATIONS, resolve_device, to_numpy, to_tensor

__all__ = [
    "t_softmax", "t_log_softmax", "t_softmax_jacobian", "t_softmax_vjp", "t_cross_entropy",
    "t_linear_map_jacobian", "t_batched_matmul_jacobian", "t_batched_matmul_jacobian_wrt_W",
]



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
    return to_numpy(torch.softmax(to_tensor(logits, resolve_device(device)), dim=axis))


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
    return to_numpy(torch.log_softmax(to_tensor(logits, resolve_device(device)), dim=axis))


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
    z = to_tensor(logits, resolve_device(device))
    jac = torch.func.jacrev(lambda row: torch.softmax(row, dim=-1))
    if z.ndim == 1:
        return to_numpy(jac(z))
    if z.ndim != 2:
        raise ValueError(f"logits: expected (C,) or (N, C), got shape {tuple(z.shape)}")
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
        >>> g = t_softmax_vjp(np.zeros((2, 3)), np.ones((2, 3)))  # sum(s) = 1 is constant
        >>> bool(np.allclose(g, 0.0))
        True
    """
    dev = resolve_device(device)
    _, pullback = torch.func.vjp(lambda z: torch.softmax(z, dim=-1), to_tensor(logits, dev))
    (g,) = pullback(to_tensor(v, dev))
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
    z = to_tensor(logits, dev).clone().requires_grad_(True)
    C = z.shape[-1]
    rows = z.reshape(-1, C)
    labels_np = np.asarray(labels)
    if labels_np.dtype.kind in "iu":
        target = torch.as_tensor(labels_np.reshape(-1), dtype=torch.int64, device=dev)
    else:
        target = to_tensor(labels_np, dev).reshape(-1, C)
    per_position = F.cross_entropy(rows, target, reduction="none")
    if mask is not None:
        keep = torch.as_tensor(np.asarray(mask).reshape(-1).astype(bool), device=dev)
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
    dev = resolve_device(device)
    Wt = to_tensor(W, dev)
    sigma = T_ACTIVATIONS[activation]
    jac = torch.func.jacrev(lambda x: Wt @ sigma(x))
    x = to_tensor(pre, dev)
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
    Wt = to_tensor(W, dev)
    return to_numpy(torch.func.jacrev(lambda x: x @ Wt)(to_tensor(h, dev)))


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
        >>> t_batched_matmul_jacobian_wrt_W(np.ones((3, 2)), np.ones((2, 4))).shape
        (3, 4, 2, 4)
    """
    dev = resolve_device(device)
    ht = to_tensor(h, dev)
    return to_numpy(torch.func.jacrev(lambda w: ht @ w)(to_tensor(W, dev)))
