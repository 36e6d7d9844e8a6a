"""torch counterparts of rnngrad.gru (torch's and Cho et al.'s form), from primitive ops.

The cell is written with ``@``, ``torch.sigmoid``, ``torch.tanh`` and slicing (not ``torch.nn.GRU``), in
rnngrad's parameter layout (see :mod:`rnngrad.gru`), so that ``torch.func`` transforms apply and every
gradient comes from ``torch.autograd``. The tensor building block computes on its inputs' device and dtype;
the checked ``t_`` functions accept numpy arrays or tensors, compute in float64 on ``device`` (default:
:func:`default_device`) and return numpy float64 arrays.
"""
from __future__ import annotations

import numpy as np
import torch

from .._gated_args import checked_gated, checked_sequence, checked_state, checked_variant
from .._validate import Dims
from ._common import resolve_device, to_numpy
from .gated_lstm import _checker
from .rnn import _grads, _leaves

__all__ = ["gru_forward_tensor", "t_gru_forward", "t_gru_step_backward", "t_gru_backward"]


def _gru_step(x, h, W_x, W_h, b, b_hn, variant):
    """One GRU step on tensors (any leading axes): returns (h, gates [r, z, n])."""
    H = h.shape[-1]
    xw = x @ W_x + b
    hw = h @ W_h[:, :2 * H]
    r, z = torch.sigmoid(xw[..., :H] + hw[..., :H]), torch.sigmoid(xw[..., H:2 * H] + hw[..., H:])
    if variant == "torch":
        n = torch.tanh(xw[..., 2 * H:] + r * (h @ W_h[:, 2 * H:] + b_hn))
    else:
        n = torch.tanh(xw[..., 2 * H:] + (r * h) @ W_h[:, 2 * H:] + b_hn)
    return (1 - z) * n + z * h, torch.cat([r, z, n], dim=-1)

def gru_forward_tensor(xs: torch.Tensor, h0: torch.Tensor, W_x: torch.Tensor, W_h: torch.Tensor, b: torch.Tensor,
                       b_hn: torch.Tensor, variant: str = "torch") -> tuple[torch.Tensor, torch.Tensor]:
    """States ``(hs, gates)`` of the GRU ``h_t = (1 - z) n + z h_{t-1}`` on tensors, reset placed as ``variant`` says.

    Args:
        xs: (T, N, D) inputs (tensor, T >= 1).
        h0: (N, H) initial state (tensor).
        W_x: (D, 3H), W_h: (H, 3H), b: (3H,), b_hn: (H,) weights, gate blocks r, z, n (tensors).
        variant: "torch" (``r ⊙ (h W_hn + b_hn)``) or "cho" (``(r ⊙ h) W_hn + b_hn``).

    Returns:
        Tensors hs (T, N, H) and gates (T, N, 3H), on the inputs' device, connected to their graph.

    Example:
        >>> xs, h0 = torch.ones(5, 2, 3), torch.zeros(2, 4)
        >>> W_x, W_h = torch.ones(3, 12), torch.zeros(4, 12)
        >>> b, b_hn = torch.zeros(12), torch.zeros(4)
        >>> hs, gates = gru_forward_tensor(xs, h0, W_x, W_h, b, b_hn, "cho")
        >>> tuple(hs.shape), tuple(gates.shape)
        ((5, 2, 4), (5, 2, 12))
    """
    h, states = h0, []
    for x in xs.unbind(0):
        h, gates = _gru_step(x, h, W_x, W_h, b, b_hn, variant)
        states.append((h, gates))
    hs, gates = zip(*states)
    return torch.stack(hs), torch.stack(gates)

def _gru_args(dims: Dims, dev, seq: str, seq_value, h_name, h, W_x, W_h, b, b_hn, *, check_seq=None):
    check = _checker(dev)
    out = {seq: (check_seq or check)(dims, seq, seq_value, ("T", "N", "D") if seq == "xs" else ("N", "D"))}
    out[h_name] = checked_state(check, dims, h_name, h, seq, seq_value)
    out["W_x"] = checked_gated(check, dims, "W_x", W_x, ("D", "3H"), 3)
    out["W_h"] = checked_gated(check, dims, "W_h", W_h, ("H", "3H"), 3)
    out["b"] = checked_gated(check, dims, "b", b, ("3H",), 3)
    out["b_hn"] = check(dims, "b_hn", b_hn, ("H",))
    return out


def t_gru_forward(xs, h0, W_x, W_h, b, b_hn, variant="torch", device=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gru_forward_tensor` on numpy or tensor inputs, checked; returns ``(hs, gates)`` as numpy.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial state.
        W_x: (D, 3H), W_h: (H, 3H), b: (3H,), b_hn: (H,) weights.
        variant: "torch" or "cho".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        hs (T, N, H) and gates (T, N, 3H), float64 arrays.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xs, h0 = rng.normal(size=(5, 2, 3)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12))
        >>> b, b_hn = np.zeros(12), np.zeros(4)
        >>> hs, gates = t_gru_forward(xs, h0, W_x, W_h, b, b_hn)
        >>> hs.shape, gates.shape
        ((5, 2, 4), (5, 2, 12))
    """
    variant = checked_variant(variant)
    dev = resolve_device(device)
    dims = Dims()
    a = _gru_args(dims, dev, "xs", xs, "h0", h0, W_x, W_h, b, b_hn)
    dims.nonempty("T")
    return tuple(to_numpy(t) for t in gru_forward_tensor(**a, variant=variant))


def t_gru_step_backward(dh, x, h_prev, W_x, W_h, b, b_hn, variant="torch", device=None) -> dict:
    """Gradients of ``<dh, h>`` for one GRU step by autograd: keys "x", "h_prev", "W_x", "W_h", "b", "b_hn".

    Args:
        dh: (N, H) cotangent of the step's output.
        x: (N, D) inputs.
        h_prev: (N, H) previous state.
        W_x: (D, 3H), W_h: (H, 3H), b: (3H,), b_hn: (H,) weights.
        variant: "torch" or "cho".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        dict of float64 arrays, each with the shape of its argument.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> dh, x = np.ones((2, 4)), rng.normal(size=(2, 3))
        >>> h_prev = np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12))
        >>> b, b_hn = np.zeros(12), np.zeros(4)
        >>> g = t_gru_step_backward(dh, x, h_prev, W_x, W_h, b, b_hn)
        >>> g["W_h"].shape, g["b_hn"].shape
        ((4, 12), (4,))
    """
    variant = checked_variant(variant)
    dev = resolve_device(device)
    dims = Dims()
    dh = _checker(dev)(dims, "dh", dh, ("N", "H"))
    v = _leaves(_gru_args(dims, dev, "x", x, "h_prev", h_prev, W_x, W_h, b, b_hn), dev)
    h, _ = _gru_step(v["x"], v["h_prev"], v["W_x"], v["W_h"], v["b"], v["b_hn"], variant)
    (h * dh).sum().backward()
    return _grads(v)


def t_gru_backward(dhs, xs, h0, W_x, W_h, b, b_hn, dh_T=None, variant="torch", device=None) -> dict:
    """Gradients of ``Σ_t <dhs[t], h_t> + <dh_T, h_T>`` by autograd through the unrolled GRU.

    Args:
        dhs: (T, N, H) direct cotangents of the states.
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial state.
        W_x: (D, 3H), W_h: (H, 3H), b: (3H,), b_hn: (H,) weights.
        dh_T: (N, H) cotangent of the last state from after the sequence, or None.
        variant: "torch" or "cho".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        dict with keys "xs", "h0", "W_x", "W_h", "b", "b_hn" of float64 arrays, each with its argument's shape.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> dhs, xs = np.ones((5, 2, 4)), rng.normal(size=(5, 2, 3))
        >>> h0 = np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12))
        >>> b, b_hn = np.zeros(12), np.zeros(4)
        >>> g = t_gru_backward(dhs, xs, h0, W_x, W_h, b, b_hn)
        >>> g["xs"].shape, g["b_hn"].shape
        ((5, 2, 3), (4,))
    """
    variant = checked_variant(variant)
    dev = resolve_device(device)
    dims = Dims()
    check = _checker(dev)
    dhs = check(dims, "dhs", dhs, ("T", "N", "H"))
    seq_check = lambda d, name, value, letters: checked_sequence(check, d, name, value, letters)  # noqa: E731
    a = _gru_args(dims, dev, "xs", xs, "h0", h0, W_x, W_h, b, b_hn, check_seq=seq_check)
    dh_T = None if dh_T is None else check(dims, "dh_T", dh_T, ("N", "H"))
    dims.nonempty("T")
    v = _leaves(a, dev)
    hs, _ = gru_forward_tensor(**v, variant=variant)
    loss = (hs * dhs).sum()
    if dh_T is not None:
        loss = loss + (hs[-1] * dh_T).sum()
    loss.backward()
    return _grads(v)
