"""Device and conversion helpers shared by the torch counterparts."""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["default_device", "to_tensor", "to_numpy"]


def default_device() -> torch.device:
    """The device the torch counterparts use by default: CUDA when available, else the CPU.

    Returns:
        ``torch.device('cuda')`` when a GPU is visible to torch, else ``torch.device('cpu')``.

    Example:
        >>> default_device().type in ("cpu", "cuda")
        True
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device=None) -> torch.device:
    """``device`` as a ``torch.device``, or :func:`default_device` when it is None.

    Args:
        device: torch device, its name, or None.

    Returns:
        A ``torch.device``.

    Example:
        >>> resolve_device("cpu").type
        'cpu'
    """
    return default_device() if device is None else torch.device(device)


#: element-wise activations written with torch primitives (relu'(0) = 0 in torch, as in rnngrad)
T_ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def to_tensor(x, device=None, dtype=torch.float64) -> torch.Tensor:
    """``x`` (numpy array, number or tensor) as a tensor of ``dtype`` on ``device`` (default: ``default_device()``).

    Args:
        x: numpy array, Python number or tensor.
        device: torch device or its name (default: :func:`default_device`).
        dtype: torch dtype of the result (default ``torch.float64``).

    Returns:
        A tensor of ``x``'s shape; it may share memory with ``x`` when no conversion is needed.

    Example:
        >>> to_tensor(np.ones(3)).dtype
        torch.float64
    """
    device = resolve_device(device)
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


def to_numpy(x) -> np.ndarray:
    """A tensor (any device, possibly requiring grad) as a float64 numpy array.

    Args:
        x: tensor (any device, possibly requiring grad) or array-like.

    Returns:
        float64 numpy array of ``x``'s shape, on the CPU, detached from any graph.

    Example:
        >>> to_numpy(torch.ones(2)).tolist()
        [1.0, 1.0]
    """
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", dtype=torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)
