"""torch counterparts of rnngrad.lstm and of the LSTM state Jacobian of rnngrad.gated_jacobians, from primitive ops.

The cell is written with ``@``, ``torch.sigmoid``, ``torch.tanh`` and slicing (not ``torch.nn.LSTM``), in
rnngrad's parameter layout (see :mod:`rnngrad.lstm`), so that ``torch.func`` transforms apply and every
gradient comes from ``torch.autograd``. The tensor building block computes on its inputs' device and dtype;
the checked ``t_`` functions accept numpy arrays or tensors, compute in float64 on ``device`` (default:
:func:`default_device`) and return numpy float64 arrays.
"""
from __future__ import annotations

import numpy as np
import torch

from .._gated_args import checked_gated, checked_sequence, checked_state
from .._validate import Dims
from ._common import float_tensor, resolve_device, to_numpy
from .rnn import _grads, _leaves

__all__ = ["lstm_forward_tensor", "t_lstm_forward", "t_lstm_step_backward", "t_lstm_backward",
           "t_lstm_state_jacobian"]


def _lstm_step(x, h, c, W_x, W_h, b):
    """One LSTM step on tensors (any leading axes): returns (h, c, gates [i, f, g, o])."""
    a = x @ W_x + h @ W_h + b
    H = h.shape[-1]
    i, f = torch.sigmoid(a[..., :H]), torch.sigmoid(a[..., H:2 * H])
    g, o = torch.tanh(a[..., 2 * H:3 * H]), torch.sigmoid(a[..., 3 * H:])
    c = f * c + i * g
    return o * torch.tanh(c), c, torch.cat([i, f, g, o], dim=-1)

def lstm_forward_tensor(xs: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, W_x: torch.Tensor,
                        W_h: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """States ``(hs, cs, gates)`` of the LSTM ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``, on tensors.

    Args:
        xs: (T, N, D) inputs (tensor, T >= 1).
        h0: (N, H) initial hidden state; c0: (N, H) initial cell state (tensors).
        W_x: (D, 4H), W_h: (H, 4H), b: (4H,) weights, gate blocks i, f, g, o (tensors).

    Returns:
        Tensors hs (T, N, H), cs (T, N, H), gates (T, N, 4H), on the inputs' device, connected to their graph.

    Example:
        >>> xs = torch.ones(5, 2, 3)
        >>> h0, c0 = torch.zeros(2, 4), torch.zeros(2, 4)
        >>> W_x, W_h = torch.ones(3, 16), torch.zeros(4, 16)
        >>> b = torch.zeros(16)
        >>> hs, cs, gates = lstm_forward_tensor(xs, h0, c0, W_x, W_h, b)
        >>> tuple(hs.shape), tuple(gates.shape)
        ((5, 2, 4), (5, 2, 16))
    """
    h, c, states = h0, c0, []
    for x in xs.unbind(0):
        h, c, gates = _lstm_step(x, h, c, W_x, W_h, b)
        states.append((h, c, gates))
    hs, cs, gates = zip(*states)
    return torch.stack(hs), torch.stack(cs), torch.stack(gates)

def _checker(device):
    return lambda dims, name, value, letters: float_tensor(dims, name, value, letters, device)

def _lstm_args(dims: Dims, dev, seq: str, seq_value, h_name, h, c_name, c, W_x, W_h, b, *, check_seq=None):
    check = _checker(dev)
    out = {seq: (check_seq or check)(dims, seq, seq_value, ("T", "N", "D") if seq == "xs" else ("N", "D"))}
    out[h_name] = checked_state(check, dims, h_name, h, seq, seq_value)
    out[c_name] = check(dims, c_name, c, ("N", "H"))
    out["W_x"] = checked_gated(check, dims, "W_x", W_x, ("D", "4H"), 4)
    out["W_h"] = checked_gated(check, dims, "W_h", W_h, ("H", "4H"), 4)
    out["b"] = checked_gated(check, dims, "b", b, ("4H",), 4)
    return out


def t_lstm_forward(xs, h0, c0, W_x, W_h, b, device=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`lstm_forward_tensor` on numpy or tensor inputs, checked; returns ``(hs, cs, gates)`` as numpy.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial hidden state.
        c0: (N, H) initial cell state.
        W_x: (D, 4H), W_h: (H, 4H), b: (4H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        hs (T, N, H), cs (T, N, H), gates (T, N, 4H), float64 arrays.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(5, 2, 3))
        >>> h0, c0 = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = np.zeros(16)
        >>> hs, cs, gates = t_lstm_forward(xs, h0, c0, W_x, W_h, b)
        >>> hs.shape, gates.shape
        ((5, 2, 4), (5, 2, 16))
    """
    dev = resolve_device(device)
    dims = Dims()
    a = _lstm_args(dims, dev, "xs", xs, "h0", h0, "c0", c0, W_x, W_h, b)
    dims.nonempty("T")
    return tuple(to_numpy(t) for t in lstm_forward_tensor(**a))


def t_lstm_step_backward(dh, dc, x, h_prev, c_prev, W_x, W_h, b, device=None) -> dict:
    """Gradients of ``<dh, h> + <dc, c>`` for one LSTM step by autograd, keyed as :func:`rnngrad.lstm_step_backward`.

    Args:
        dh: (N, H) cotangent of the step's ``h``.
        dc: (N, H) cotangent of the step's ``c``.
        x: (N, D) inputs.
        h_prev: (N, H) previous hidden state.
        c_prev: (N, H) previous cell state.
        W_x: (D, 4H), W_h: (H, 4H), b: (4H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        dict of float64 arrays, each with the shape of its argument.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> dh, dc = np.ones((2, 4)), np.ones((2, 4))
        >>> x = rng.normal(size=(2, 3))
        >>> h_prev, c_prev = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = np.zeros(16)
        >>> g = t_lstm_step_backward(dh, dc, x, h_prev, c_prev, W_x, W_h, b)
        >>> g["W_x"].shape, g["c_prev"].shape
        ((3, 16), (2, 4))
    """
    dev = resolve_device(device)
    dims = Dims()
    check = _checker(dev)
    dh = check(dims, "dh", dh, ("N", "H"))
    dc = check(dims, "dc", dc, ("N", "H"))
    v = _leaves(_lstm_args(dims, dev, "x", x, "h_prev", h_prev, "c_prev", c_prev, W_x, W_h, b), dev)
    h, c, _ = _lstm_step(v["x"], v["h_prev"], v["c_prev"], v["W_x"], v["W_h"], v["b"])
    ((h * dh).sum() + (c * dc).sum()).backward()
    return _grads(v)


def t_lstm_backward(dhs, xs, h0, c0, W_x, W_h, b, dh_T=None, dc_T=None, device=None) -> dict:
    """Gradients of ``Σ_t <dhs[t], h_t> + <dh_T, h_T> + <dc_T, c_T>`` by autograd through the unrolled LSTM.

    Args:
        dhs: (T, N, H) direct cotangents of the hidden states.
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial hidden state.
        c0: (N, H) initial cell state.
        W_x: (D, 4H), W_h: (H, 4H), b: (4H,) weights.
        dh_T: (N, H) cotangent of the last hidden state from after the sequence, or None.
        dc_T: (N, H) cotangent of the last cell state, or None.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        dict with keys "xs", "h0", "c0", "W_x", "W_h", "b" of float64 arrays, each with its argument's shape.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> dhs, xs = np.ones((5, 2, 4)), rng.normal(size=(5, 2, 3))
        >>> h0, c0 = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = np.zeros(16)
        >>> g = t_lstm_backward(dhs, xs, h0, c0, W_x, W_h, b)
        >>> g["xs"].shape, g["c0"].shape, g["W_h"].shape
        ((5, 2, 3), (2, 4), (4, 16))
    """
    dev = resolve_device(device)
    dims = Dims()
    check = _checker(dev)
    dhs = check(dims, "dhs", dhs, ("T", "N", "H"))
    seq_check = lambda d, name, value, letters: checked_sequence(check, d, name, value, letters)  # noqa: E731
    a = _lstm_args(dims, dev, "xs", xs, "h0", h0, "c0", c0, W_x, W_h, b, check_seq=seq_check)
    dh_T = None if dh_T is None else check(dims, "dh_T", dh_T, ("N", "H"))
    dc_T = None if dc_T is None else check(dims, "dc_T", dc_T, ("N", "H"))
    dims.nonempty("T")
    v = _leaves(a, dev)
    hs, cs, _ = lstm_forward_tensor(**v)
    loss = (hs * dhs).sum()
    if dh_T is not None:
        loss = loss + (hs[-1] * dh_T).sum()
    if dc_T is not None:
        loss = loss + (cs[-1] * dc_T).sum()
    loss.backward()
    return _grads(v)


def t_lstm_state_jacobian(x, h_prev, c_prev, W_x, W_h, b, device=None) -> np.ndarray:
    """``d [h, c] / d [h_prev, c_prev]`` of one LSTM step by ``torch.func.vmap(jacrev(step))`` (N, 2H, 2H).

    Args:
        x: (N, D) inputs.
        h_prev: (N, H) previous hidden state.
        c_prev: (N, H) previous cell state.
        W_x: (D, 4H), W_h: (H, 4H), b: (4H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        J: (N, 2H, 2H) float64 array in numerator layout, state order [h, c].

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 3))
        >>> h_prev, c_prev = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = np.zeros(16)
        >>> J = t_lstm_state_jacobian(x, h_prev, c_prev, W_x, W_h, b)
        >>> J.shape
        (2, 8, 8)
    """
    dev = resolve_device(device)
    a = _lstm_args(Dims(), dev, "x", x, "h_prev", h_prev, "c_prev", c_prev, W_x, W_h, b)
    H = a["h_prev"].shape[-1]

    def step(x_row, s):
        h, c, _ = _lstm_step(x_row, s[:H], s[H:], a["W_x"], a["W_h"], a["b"])
        return torch.cat([h, c])

    s = torch.cat([a["h_prev"], a["c_prev"]], dim=-1)
    return to_numpy(torch.func.vmap(torch.func.jacrev(step, argnums=1))(a["x"], s))
