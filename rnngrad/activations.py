"""Element-wise activations and their derivatives, shared by every cell in rnngrad."""
from __future__ import annotations

import numpy as np

from ._validate import Dims, check_choice

__all__ = ["ACTIVATIONS", "activation", "activation_derivative"]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only, so large |x| neither overflows nor warns
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def activation(name: str, x) -> np.ndarray:
    """Apply the element-wise activation ``name`` to ``x``.

    Args:
        name: one of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"identity"``.
        x: float array of any shape.

    Returns:
        float64 array of the shape of ``x``.

    Example:
        >>> import numpy as np
        >>> activation("relu", np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    check_choice("name", name, ACTIVATIONS)
    x = Dims().float_array("x", x, None)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    return np.array(x, dtype=np.float64, copy=True)


def activation_derivative(name: str, x) -> np.ndarray:
    """Element-wise derivative ``σ'(x)`` of the activation ``name`` at the pre-activation ``x``.

    The derivative of relu at 0 is taken as 0 (the subgradient torch uses).

    Args:
        name: one of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"identity"``.
        x: float array of any shape (pre-activation values).

    Returns:
        float64 array of the shape of ``x``.

    Example:
        >>> import numpy as np
        >>> activation_derivative("tanh", np.zeros(2)).tolist()
        [1.0, 1.0]
    """
    check_choice("name", name, ACTIVATIONS)
    x = Dims().float_array("x", x, None)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "sigmoid":
        s = _sigmoid(x)
        return s * (1.0 - s)
    if name == "relu":
        return (x > 0).astype(np.float64)
    return np.ones_like(x, dtype=np.float64)


def _derivative_from_output(name: str, h: np.ndarray) -> np.ndarray:
    """``σ'(a)`` through the output ``h = σ(a)``, on a validated float64 array (no checks: inner loops call it).

    The public, validating form is :func:`rnngrad.extras.activation_derivative_from_output`.
    """
    if name == "tanh":
        return 1.0 - h * h
    if name == "sigmoid":
        return h * (1.0 - h)
    if name == "relu":
        return (h > 0).astype(np.float64)
    return np.ones_like(h)
