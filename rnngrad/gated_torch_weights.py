"""Conversions between the weights of ``torch.nn.LSTM`` / ``torch.nn.GRU`` (one layer, one direction) and rnngrad's.

torch stores column-convention matrices with the gates stacked along the rows, and two bias vectors::

    LSTM, gates i, f, g, o:
        weight_ih_l0 (4H, D)   weight_hh_l0 (4H, H)
        bias_ih_l0 (4H,)       bias_hh_l0 (4H,)
    GRU, gates r, z, n:
        weight_ih_l0 (3H, D)   weight_hh_l0 (3H, H)
        bias_ih_l0 (3H,)       bias_hh_l0 (3H,)

rnngrad keeps torch's gate order and uses the row convention, so the matrices are transposes:
``W_x = weight_ih_l0.T`` (D, kH) and ``W_h = weight_hh_l0.T`` (H, kH). The biases:

* LSTM: both biases are added to the same pre-activation, so only their sum matters:
  ``b = bias_ih_l0 + bias_hh_l0``. Back to torch, ``b`` goes to ``bias_ih_l0`` and ``bias_hh_l0`` is zero
  (the same module; the split of the sum between the two is lost, as it does not change any output).
* GRU: the r and z parts of the two biases are summed the same way, but the n part of ``bias_hh_l0`` sits
  inside the reset gate, ``r ⊙ (h W_hn + b_hn)``, so it stays separate:
  ``b = bias_ih_l0 + [bias_hh_r, bias_hh_z, 0]`` and ``b_hn = bias_hh_n``.

Arrays come in as numpy arrays or torch tensors (converted with ``.detach().cpu().double().numpy()``; this
module does not import torch) and go out as float64 numpy arrays: load them into a module with
``module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})``. A module built with
``bias=False`` has no bias entries: they read as zeros.
"""
from __future__ import annotations

import numpy as np

from ._gated_args import checked_gated
from ._validate import Dims, DTypeError, RnngradInputError

__all__ = ["lstm_params_from_torch", "lstm_params_to_torch", "gru_params_from_torch", "gru_params_to_torch"]

_TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
_TORCH_LETTERS = {"weight_ih_l0": ("{G}", "D"), "weight_hh_l0": ("{G}", "H"), "bias_ih_l0": ("{G}",),
                  "bias_hh_l0": ("{G}",)}


def _host_check(dims: Dims, name: str, value, letters):
    """:meth:`Dims.float_array` of a numpy array, or of a floating-point tensor copied to the host as float64."""
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        if not value.is_floating_point():
            raise DTypeError(f"{name}: expected a floating-point array, got dtype {value.dtype}")
        value = value.detach().cpu().double().numpy()
    return dims.float_array(name, value, letters)


def _from_torch(state_dict, k: int, cell: str) -> tuple[Dims, dict]:
    keys = ", ".join(_TORCH_KEYS)
    if not isinstance(state_dict, dict):
        raise RnngradInputError(f"state_dict: expected a dict with keys {keys} (a one-layer {cell}'s "
                                f"state_dict()), got {type(state_dict).__name__}")
    extra = sorted(set(state_dict) - set(_TORCH_KEYS), key=str)
    if extra:
        raise RnngradInputError(f"state_dict: expected only the keys {keys} of a one-layer, one-direction {cell} "
                                f"without projection, got also {', '.join(map(str, extra))}")
    missing = [key for key in _TORCH_KEYS[:2] if key not in state_dict]
    biases = [key for key in _TORCH_KEYS[2:] if key in state_dict]
    if missing or len(biases) == 1:
        missing += [key for key in _TORCH_KEYS[2:] if key not in state_dict] if biases else []
        raise RnngradInputError(f"state_dict: expected keys {keys} (or the two weights alone, bias=False), "
                                f"missing {', '.join(missing)}")
    dims = Dims()
    gate = f"{k}H"
    out = {}
    for key in _TORCH_KEYS:
        letters = tuple(gate if l == "{G}" else l for l in _TORCH_LETTERS[key])
        if key in state_dict:
            out[key] = checked_gated(_host_check, dims, f"state_dict['{key}']", state_dict[key], letters, k)
        else:
            out[key] = np.zeros(k * dims["H"])
    return dims, out


def _params(params, shapes: dict, k: int) -> dict:
    keys = ", ".join(shapes)
    if not isinstance(params, dict):
        raise RnngradInputError(f"params: expected a dict with keys {keys}, got {type(params).__name__}")
    missing = [key for key in shapes if key not in params]
    if missing:
        raise RnngradInputError(f"params: expected keys {keys}, missing {', '.join(missing)}")
    dims = Dims()
    return {key: checked_gated(_host_check, dims, f"params['{key}']", params[key], letters, k)
            for key, letters in shapes.items()}


def lstm_params_from_torch(state_dict) -> dict:
    """rnngrad's LSTM parameters from a ``torch.nn.LSTM`` state_dict: ``W_x = weight_ih.T``, ``b = bias_ih + bias_hh``.

    Args:
        state_dict: dict with "weight_ih_l0" (4H, D), "weight_hh_l0" (4H, H) and, unless the module has no
            bias, "bias_ih_l0" (4H,), "bias_hh_l0" (4H,); numpy arrays or tensors (any device).

    Returns:
        dict with "W_x" (D, 4H), "W_h" (H, 4H), "b" (4H,), float64 numpy arrays, gate blocks i, f, g, o.

    Example:
        >>> import numpy as np
        >>> sd = {"weight_ih_l0": np.ones((8, 3)),
        ...       "weight_hh_l0": np.ones((8, 2)),
        ...       "bias_ih_l0": np.ones(8), "bias_hh_l0": np.full(8, 0.5)}
        >>> p = lstm_params_from_torch(sd)
        >>> p["W_x"].shape, p["W_h"].shape, p["b"].tolist()[:2]
        ((3, 8), (2, 8), [1.5, 1.5])
    """
    _, sd = _from_torch(state_dict, 4, "LSTM")
    return {"W_x": sd["weight_ih_l0"].T.copy(), "W_h": sd["weight_hh_l0"].T.copy(),
            "b": sd["bias_ih_l0"] + sd["bias_hh_l0"]}


def lstm_params_to_torch(params) -> dict:
    """A ``torch.nn.LSTM`` state_dict (numpy arrays) from rnngrad's LSTM parameters: ``weight_ih_l0 = W_x.T``.

    ``bias_hh_l0`` is zero: torch adds the two biases, so the module computes the same function.

    Args:
        params: dict with "W_x" (D, 4H), "W_h" (H, 4H), "b" (4H,).

    Returns:
        dict with "weight_ih_l0" (4H, D), "weight_hh_l0" (4H, H), "bias_ih_l0" (4H,), "bias_hh_l0" (4H,).

    Example:
        >>> import numpy as np
        >>> p = {"W_x": np.ones((3, 8)), "W_h": np.ones((2, 8)),
        ...      "b": np.arange(8.0)}
        >>> sd = lstm_params_to_torch(p)
        >>> b_back = lstm_params_from_torch(sd)["b"]
        >>> sd["weight_ih_l0"].shape, bool(np.array_equal(b_back, p["b"]))
        ((8, 3), True)
    """
    p = _params(params, {"W_x": ("D", "4H"), "W_h": ("H", "4H"), "b": ("4H",)}, 4)
    return {"weight_ih_l0": p["W_x"].T.copy(), "weight_hh_l0": p["W_h"].T.copy(), "bias_ih_l0": p["b"].copy(),
            "bias_hh_l0": np.zeros(p["b"].shape)}


def gru_params_from_torch(state_dict) -> dict:
    """rnngrad's GRU parameters from a ``torch.nn.GRU`` state_dict: r, z biases summed, ``b_hn`` kept apart.

    Args:
        state_dict: dict with "weight_ih_l0" (3H, D), "weight_hh_l0" (3H, H) and, unless the module has no
            bias, "bias_ih_l0" (3H,), "bias_hh_l0" (3H,); numpy arrays or tensors (any device).

    Returns:
        dict with "W_x" (D, 3H), "W_h" (H, 3H), "b" (3H,), "b_hn" (H,), float64 numpy arrays, gate blocks r, z, n,
        for :func:`rnngrad.gru_forward` with ``variant="torch"``.

    Example:
        >>> import numpy as np
        >>> sd = {"weight_ih_l0": np.ones((6, 3)),
        ...       "weight_hh_l0": np.ones((6, 2)),
        ...       "bias_ih_l0": np.ones(6), "bias_hh_l0": np.full(6, 0.5)}
        >>> p = gru_params_from_torch(sd)
        >>> p["b"].tolist(), p["b_hn"].tolist()
        ([1.5, 1.5, 1.5, 1.5, 1.0, 1.0], [0.5, 0.5])
    """
    dims, sd = _from_torch(state_dict, 3, "GRU")
    H = dims["H"]
    b = sd["bias_ih_l0"].copy()
    b[:2 * H] += sd["bias_hh_l0"][:2 * H]
    return {"W_x": sd["weight_ih_l0"].T.copy(), "W_h": sd["weight_hh_l0"].T.copy(), "b": b,
            "b_hn": sd["bias_hh_l0"][2 * H:].copy()}


def gru_params_to_torch(params) -> dict:
    """A ``torch.nn.GRU`` state_dict (numpy arrays) from rnngrad's GRU parameters: ``bias_hh_l0 = [0, 0, b_hn]``.

    Args:
        params: dict with "W_x" (D, 3H), "W_h" (H, 3H), "b" (3H,), "b_hn" (H,).

    Returns:
        dict with "weight_ih_l0" (3H, D), "weight_hh_l0" (3H, H), "bias_ih_l0" (3H,) = b,
        "bias_hh_l0" (3H,) = [0, 0, b_hn].

    Example:
        >>> import numpy as np
        >>> p = {"W_x": np.ones((3, 6)), "W_h": np.ones((2, 6)),
        ...      "b": np.arange(6.0), "b_hn": np.array([7.0, 8.0])}
        >>> gru_params_to_torch(p)["bias_hh_l0"].tolist()
        [0.0, 0.0, 0.0, 0.0, 7.0, 8.0]
    """
    p = _params(params, {"W_x": ("D", "3H"), "W_h": ("H", "3H"), "b": ("3H",), "b_hn": ("H",)}, 3)
    H = p["b_hn"].shape[0]
    return {"weight_ih_l0": p["W_x"].T.copy(), "weight_hh_l0": p["W_h"].T.copy(), "bias_ih_l0": p["b"].copy(),
            "bias_hh_l0": np.concatenate([np.zeros(2 * H), p["b_hn"]])}
