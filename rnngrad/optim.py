"""Gradient clipping and the Adagrad update, on dicts of arrays (pure: inputs are never modified).

Both clippings bound the step taken when a gradient explodes. Element-wise clipping
maps every entry to ``[-c, c]``, which also changes the gradient's direction; clipping
the global norm rescales the whole gradient (all arrays together) by
``min(1, max_norm / ||g||)``, keeping its direction.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, DTypeError, RnngradInputError, positive_number

__all__ = ["clip_elementwise", "clip_global_norm", "adagrad_update"]


def _float_dict(name: str, value, dims: Dims | None = None, like: dict | None = None) -> dict:
    """Validate a dict of float arrays (with the keys and shapes of ``like`` when given)."""
    if not isinstance(value, dict):
        raise DTypeError(f"{name}: expected a dict of float arrays, got {type(value).__name__}")
    if like is not None and set(value) != set(like):
        raise RnngradInputError(f"{name}: expected the keys {sorted(like)}, got {sorted(value)}")
    dims = Dims() if dims is None else dims
    out = {}
    for k, v in value.items():
        letters = None if like is None else tuple(f"{k}:{i}" for i in range(np.ndim(like[k])))
        out[k] = dims.float_array(f"{name}['{k}']", v, letters)
    return out


def clip_elementwise(grads, threshold) -> dict:
    """Every entry clipped to ``[-threshold, threshold]``:
    ``g -> min(max(g, -c), c)``.

    Args:
        grads: dict of float arrays (any shapes).
        threshold: c > 0.

    Returns:
        A new dict with the same keys and shapes.

    Example:
        >>> clip_elementwise({"b": np.array([-7.0, 0.5, 9.0])},
        ...                  5.0)["b"].tolist()
        [-5.0, 0.5, 5.0]
    """
    c = positive_number("threshold", threshold)
    return {k: np.clip(v, -c, c)
            for k, v in _float_dict("grads", grads).items()}


def clip_global_norm(grads, max_norm) -> tuple[dict, float]:
    """The gradient rescaled to ``g * min(1, max_norm / ||g||)``, with ``||g||`` the norm of all entries together.

    Args:
        grads: dict of float arrays (any shapes).
        max_norm: the largest norm allowed (> 0; ``np.inf`` leaves the gradient as it is).

    Returns:
        ``(clipped, norm)``: a new dict with the same keys and shapes, and the norm
        ``||g||`` before clipping (a float).

    Example:
        >>> g, norm = clip_global_norm({"a": np.array([3.0]),
        ...                             "b": np.array([4.0])}, 1.0)
        >>> norm, [round(float(g["a"][0]), 6), round(float(g["b"][0]), 6)]
        (5.0, [0.6, 0.8])
    """
    m = positive_number("max_norm", max_norm, allow_inf=True)
    g = _float_dict("grads", grads)
    norm = float(np.sqrt(sum(float(np.vdot(v, v)) for v in g.values())))
    factor = 1.0 if norm <= m else m / norm
    return {k: v * factor for k, v in g.items()}, norm


def adagrad_update(params, grads, memory, lr,
                   eps=1e-8) -> tuple[dict, dict]:
    """One Adagrad step: ``m' = m + g**2``,
    ``p' = p - lr * g / sqrt(m' + eps)``.

    Args:
        params: dict of float arrays of any shapes.
        grads: dict with the same keys and shapes.
        memory: dict with the same keys and shapes: the running sums of
            squared gradients (zeros before the first step; never negative).
        lr: learning rate > 0.
        eps: small positive number that keeps the division finite.

    Returns:
        ``(new_params, new_memory)``, new dicts; the arguments are not
        modified.

    Example:
        >>> p, m = adagrad_update({"w": np.array([1.0])},
        ...                       {"w": np.array([2.0])},
        ...                       {"w": np.zeros(1)}, 0.1)
        >>> round(float(p["w"][0]), 6), float(m["w"][0])
        (0.9, 4.0)
    """
    lr = positive_number("lr", lr)
    eps = positive_number("eps", eps)
    dims = Dims()
    # binds every size, for grads and memory
    params = _float_dict("params", params, dims, like=params)
    grads = _float_dict("grads", grads, dims, like=params)
    memory = _float_dict("memory", memory, dims, like=params)
    for key, m in memory.items():
        if (m < 0).any():
            raise RnngradInputError(
                f"memory[{key!r}]: expected running sums of squared "
                f"gradients (every entry >= 0), got {m.min():.3g}: a "
                "negative memory makes the step's square root NaN")
    new_memory = {k: memory[k] + grads[k] * grads[k] for k in params}
    new_params = {k: params[k]
                  - lr * grads[k] / np.sqrt(new_memory[k] + eps)
                  for k in params}
    return new_params, new_memory
