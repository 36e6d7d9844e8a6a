"""Device and conversion helpers shared by the torch counterparts."""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["default_device", "to_tensor", "to_numpy"]


def default_device() -> torch.device:
    """The device the torch counterparts use by default: CUDA when available, else the CPU.

    Example:
        >>> default_device().type in ("cpu", "cuda")
        True
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_tensor(x, device=None, dtype=torch.float64) -> torch.Tensor:
    """``x`` (numpy array, number or tensor) as a tensor of ``dtype`` on ``device`` (default: ``default_device()``).

    Example:
        >>> to_tensor(np.ones(3)).dtype
        torch.float64
    """
    device = default_device() if device is None else torch.device(device)
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


def to_numpy(x) -> np.ndarray:
    """A tensor (any device, possibly requiring grad) as a float64 numpy array.

    Example:
        >>> to_numpy(torch.ones(2)).tolist()
        [1.0, 1.0]
    """
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", dtype=torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)
