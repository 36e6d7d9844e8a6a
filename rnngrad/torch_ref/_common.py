"""Device and conversion helpers shared by the torch counterparts."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .._validate import Dims, DTypeError, NonFiniteError, RnngradInputError

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


# ---------------------------------------------------------------- input checks on numpy arrays and tensors

class _ShapeOf:
    """The two attributes ``Dims`` reads to check a shape, taken from a tensor without touching its data."""

    def __init__(self, t: torch.Tensor):
        self.ndim = t.ndim
        self.shape = tuple(t.shape)


def _count_text(bad: int) -> str:
    return f"{bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}"


def checked_float(dims: Dims, name: str, value, letters: Sequence | None, *, finite: bool = True):
    """``value`` after the checks of :meth:`Dims.float_array`: a float64 numpy array, or the tensor itself.

    A tensor keeps its device and its graph: its dtype and shape are read from the tensor
    and its finiteness is reduced on its own device, so only one number reaches the CPU.
    Anything else goes through :meth:`Dims.float_array` unchanged.

    Args:
        dims: the :class:`Dims` binder of the call (shape letters are bound and checked).
        name: the argument's name, put first in every error message.
        value: numpy array, Python number or list, or tensor.
        letters: expected shape as shape letters and ints (None: any shape).
        finite: whether NaN and infinity are refused.

    Returns:
        The tensor ``value`` unchanged, or ``value`` as a float64 numpy array.

    Example:
        >>> try:
        ...     checked_float(Dims(H=3), "b", torch.zeros(4), ("H",))
        ... except RnngradInputError as exc:
        ...     print(exc)
        b: expected shape (H,) with H=3 (from the call), got (4,)
    """
    if not isinstance(value, torch.Tensor):
        return dims.float_array(name, value, letters, finite=finite)
    if not value.is_floating_point():
        raise DTypeError(f"{name}: expected a floating-point array, got dtype {value.dtype}")
    if letters is not None:
        dims._check_shape(name, _ShapeOf(value), letters)
    if finite and value.numel():
        with torch.no_grad():
            bad = int((~torch.isfinite(value)).sum())
        if bad:
            raise NonFiniteError(f"{name}: expected finite values, got {_count_text(bad)}")
    return value


def float_tensor(dims: Dims, name: str, value, letters: Sequence | None, device, *, finite: bool = True) -> torch.Tensor:
    """:func:`checked_float`, then :func:`to_tensor`: a checked float64 tensor on ``device``, detached.

    The result is cut from the caller's graph: the torch counterparts return numpy arrays,
    and a caller's tensor that requires grad must not receive a gradient from them.

    Args:
        dims: the :class:`Dims` binder of the call.
        name: the argument's name.
        value: numpy array, Python number or list, or tensor.
        letters: expected shape as shape letters and ints (None: any shape).
        device: torch device (None: :func:`default_device`).
        finite: whether NaN and infinity are refused.

    Returns:
        float64 tensor on ``device``, not requiring grad (it may share memory with ``value``).

    Example:
        >>> float_tensor(Dims(), "x", [[1.0, 2.0]], ("N", "D"), "cpu").shape
        torch.Size([1, 2])
    """
    return to_tensor(checked_float(dims, name, value, letters, finite=finite), device).detach()


def host_array(name: str, value) -> np.ndarray:
    """A tensor of indices or flags as a numpy array on the CPU (other values are returned unchanged).

    Integer and boolean arguments (labels, masks, character indices) are small and their
    range checks run on the CPU anyway, so a tensor among them is copied there once.

    Args:
        name: the argument's name (kept for symmetry with the other checks).
        value: tensor or anything ``numpy.asarray`` accepts.

    Returns:
        A numpy array for a tensor, else ``value`` itself.

    Example:
        >>> host_array("inputs", torch.tensor([1, 2])).dtype
        dtype('int64')
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


def checked_dict(dims: Dims, name: str, value, shapes: dict, device, *, quote: str = "'",
                 error=RnngradInputError) -> dict:
    """Every entry of the dict ``value`` named in ``shapes`` as a checked float64 tensor on ``device``.

    Entries are named ``name['key']`` in messages (``quote`` picks the quote character, as
    in the matching numpy reference).

    Args:
        dims: the :class:`Dims` binder of the call.
        name: the argument's name.
        value: dict of arrays or tensors.
        shapes: {key: shape letters} of the entries that must be present.
        device: torch device (None: :func:`default_device`).
        quote: quote character around the keys in messages.
        error: exception class raised when ``value`` is not a dict.

    Returns:
        dict {key: float64 tensor} with the keys of ``shapes``.

    Example:
        >>> sorted(
        ...     checked_dict(Dims(), "params", {"b": np.zeros(2)},
        ...                  {"b": ("H",)}, "cpu"))
        ['b']
    """
    keys = ", ".join(shapes)
    if not isinstance(value, dict):
        raise error(f"{name}: expected a dict with keys {keys}, got {type(value).__name__}")
    missing = [k for k in shapes if k not in value]
    if missing:
        raise RnngradInputError(f"{name}: expected keys {keys}, missing {', '.join(missing)}")
    return {k: float_tensor(dims, f"{name}[{quote}{k}{quote}]", value[k], letters, device)
            for k, letters in shapes.items()}
