"""torch counterparts of rnngrad.rnn, rnngrad.char_lm and rnngrad.truncation.

The models are written from primitive ops (``@``, ``torch.tanh``, ``torch.logsumexp``);
every gradient comes from ``torch.autograd``, never from the hand-written backward
formulas, so comparing the two checks those formulas. Truncation is expressed the way
autograd users write it: by ``detach()``-ing the state where the gradient must stop.
Inputs may be numpy arrays or tensors; computation is in float64 on ``device``
(default: :func:`default_device`); results are numpy float64 arrays (losses: floats).
"""
from __future__ import annotations

import numpy as np
import torch

from .._validate import Dims, DTypeError, positive_int
from ..char_lm import _PARAM_SHAPES as _LM_SHAPES
from ._common import checked_dict, float_tensor, host_array, resolve_device, to_numpy, to_tensor

__all__ = [
    "rnn_forward_tensor", "t_rnn_forward", "t_rnn_step_backward", "t_rnn_backward",
    "t_char_lm_loss", "t_char_lm_grad", "t_char_lm_truncated_grad", "t_char_lm_chunked_grad",
]

_LM_KEYS = ("W_x", "W_h", "b", "W_y", "b_y")



#: shape letters of the RNN's arguments, as in rnngrad.rnn
RNN_LETTERS = {"xs": ("T", "N", "D"), "x": ("N", "D"), "h0": ("N", "H"), "h_prev": ("N", "H"), "dh": ("N", "H"),
               "dhs": ("T", "N", "H"), "W_x": ("D", "H"), "W_h": ("H", "H"), "b": ("H",)}


def checked_rnn(dims: Dims, device, **arrays) -> dict:
    """Each keyword argument checked against its letters in :data:`RNN_LETTERS` (in the order given) as a tensor.

    A sequence (an argument with the letter T) must have at least one step: the torch
    loops stack their T states, which needs one.
    """
    out = {k: float_tensor(dims, k, v, RNN_LETTERS[k], device) for k, v in arrays.items()}
    dims.nonempty("T")
    return out


def _leaves(arrays: dict, device) -> dict:
    """Fresh float64 leaf tensors that require grad, one per entry (entries already checked)."""
    return {k: to_tensor(v, device).detach().clone().requires_grad_(True) for k, v in arrays.items()}


def _grads(leaves: dict) -> dict:
    """The ``.grad`` of every leaf as numpy, zeros for a leaf the loss does not reach (e.g. a detached h0)."""
    return {k: np.zeros(tuple(t.shape)) if t.grad is None else to_numpy(t.grad) for k, t in leaves.items()}


def rnn_forward_tensor(xs: torch.Tensor, h0: torch.Tensor,
                       W_x: torch.Tensor, W_h: torch.Tensor,
                       b: torch.Tensor) -> torch.Tensor:
    """Hidden states (T, N, H) of the tanh RNN
    ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``, on tensors (autograd-ready).

    Args:
        xs: (T, N, D) inputs (tensor).
        h0: (N, H) initial state (tensor).
        W_x: (D, H), W_h: (H, H), b: (H,) weights (tensors).

    Returns:
        Tensor (T, N, H) of the states ``h_1 .. h_T``, connected to the
        graph of the inputs.

    Example:
        >>> hs = rnn_forward_tensor(torch.ones(5, 2, 3), torch.zeros(2, 4),
        ...                         torch.ones(3, 4),
        ...                         torch.eye(4), torch.zeros(4))
        >>> tuple(hs.shape)
        (5, 2, 4)
    """
    # the input projections of all steps in one product; unbind (not xw[t])
    # so that autograd
    # gathers the per-step gradients once instead of adding T full-size (T,
    # N, H) zero-padded ones
    xw = xs @ W_x + b
    h, states = h0, []
    for xw_t in xw.unbind(0):
        h = torch.tanh(xw_t + h @ W_h)
        states.append(h)
    return torch.stack(states)


def t_rnn_forward(xs, h0, W_x, W_h, b, device=None) -> np.ndarray:
    """:func:`rnn_forward_tensor` on numpy or tensor inputs; returns hs (T, N, H) as numpy.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        hs: (T, N, H) float64 array.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> t_rnn_forward(rng.normal(size=(5, 2, 3)), np.zeros((2, 4)),
        ...               rng.normal(size=(3, 4)),
        ...               rng.normal(size=(4, 4)), np.zeros(4)).shape
        (5, 2, 4)
    """
    dev = resolve_device(device)
    a = checked_rnn(Dims(), dev, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    return to_numpy(rnn_forward_tensor(a["xs"], a["h0"], a["W_x"], a["W_h"], a["b"]))


def t_rnn_step_backward(dh, x, h_prev, W_x, W_h, b, device=None) -> dict:
    """Gradients of ``<dh, tanh(x W_x + h_prev W_h + b)>`` by autograd: keys "x", "h_prev", "W_x", "W_h", "b".

    Args:
        dh: (N, H) cotangent of the step's output.
        x: (N, D) inputs.
        h_prev: (N, H) previous state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        dict of float64 arrays, each with the shape of its argument.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> g = t_rnn_step_backward(np.ones((2, 4)), rng.normal(size=(2, 3)),
        ...                         np.zeros((2, 4)),
        ...                         rng.normal(size=(3, 4)),
        ...                         rng.normal(size=(4, 4)), np.zeros(4))
        >>> g["W_x"].shape, g["h_prev"].shape
        ((3, 4), (2, 4))
    """
    dev = resolve_device(device)
    a = checked_rnn(Dims(), dev, dh=dh, x=x, h_prev=h_prev, W_x=W_x, W_h=W_h, b=b)
    dh = a.pop("dh")
    v = _leaves(a, dev)
    h = torch.tanh(v["x"] @ v["W_x"] + v["h_prev"] @ v["W_h"] + v["b"])
    (h * dh).sum().backward()
    return _grads(v)


def t_rnn_backward(dhs, xs, h0, W_x, W_h, b, device=None) -> dict:
    """Gradients of ``sum_t <dhs[t], h_t>`` by autograd through the unrolled RNN: keys "xs", "h0", "W_x", "W_h", "b".

    Args:
        dhs: (T, N, H) direct cotangents of the states.
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        dict of float64 arrays, each with the shape of its argument.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> g = t_rnn_backward(np.ones((5, 2, 4)), rng.normal(size=(5, 2, 3)),
        ...                    np.zeros((2, 4)),
        ...                    rng.normal(size=(3, 4)), rng.normal(size=(4, 4)),
        ...                    np.zeros(4))
        >>> g["xs"].shape, g["h0"].shape, g["W_h"].shape
        ((5, 2, 3), (2, 4), (4, 4))
    """
    dev = resolve_device(device)
    a = checked_rnn(Dims(), dev, dhs=dhs, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    dhs = a.pop("dhs")
    v = _leaves(a, dev)
    hs = rnn_forward_tensor(v["xs"], v["h0"], v["W_x"], v["W_h"], v["b"])
    (hs * dhs).sum().backward()
    return _grads(v)


def _one_hot(indices: torch.Tensor, V: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(indices, V).to(torch.float64)


def _step_losses(hs: torch.Tensor, targets: torch.Tensor, W_y: torch.Tensor, b_y: torch.Tensor) -> torch.Tensor:
    """Per-position cross-entropy ``logsumexp(z) - z[target]`` (T, N) of the output layer."""
    logits = hs @ W_y + b_y
    picked = torch.gather(logits, -1, targets[..., None])[..., 0]
    return torch.logsumexp(logits, dim=-1) - picked


def _lm_inputs(params, inputs, targets, h0, device):
    """Check the arguments as :func:`rnngrad.char_lm_loss` does; return leaves, one-hot inputs, targets and N."""
    dev = resolve_device(device)
    dims = Dims()
    v = _leaves(checked_dict(dims, "params", params, {k: _LM_SHAPES[k] for k in _LM_KEYS}, dev,
                             error=DTypeError), dev)
    V = dims["V"]
    inputs = dims.int_array("inputs", host_array("inputs", inputs), ("T", "N"), low=0, high=V)
    targets = dims.int_array("targets", host_array("targets", targets), ("T", "N"), low=0, high=V)
    dims.nonempty("T", "N")  # the loss is a mean over the batch of a sum over at least one step
    inputs = torch.as_tensor(inputs, device=dev)
    targets = torch.as_tensor(targets, device=dev)
    N, H = dims["N"], dims["H"]
    h0 = np.zeros((N, H)) if h0 is None else float_tensor(dims, "h0", h0, ("N", "H"), dev)
    v["h0"] = to_tensor(h0, dev).detach().clone().requires_grad_(True)
    return v, _one_hot(inputs, V), targets, N


def t_char_lm_loss(params, inputs, targets, h0=None, device=None) -> float:
    """The character model's loss (sum over time, mean over the batch) in torch.

    Args:
        params: dict with "W_x" (V, H), "W_h" (H, H), "b" (H,), "W_y" (H, V), "b_y" (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial state, or None for zeros.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        The loss as a Python float.

    Example:
        >>> p = {"W_x": np.zeros((4, 3)), "W_h": np.zeros((3, 3)),
        ...      "b": np.zeros(3),
        ...      "W_y": np.zeros((3, 4)), "b_y": np.zeros(4)}
        >>> round(t_char_lm_loss(p, np.zeros((5, 2), int),
        ...                      np.ones((5, 2), int))
        ...       / (5 * float(np.log(4))), 9)
        1.0
    """
    v, xs, targets, N = _lm_inputs(params, inputs, targets, h0, device)
    with torch.no_grad():
        hs = rnn_forward_tensor(xs, v["h0"], v["W_x"], v["W_h"], v["b"])
        return float(_step_losses(hs, targets, v["W_y"], v["b_y"]).sum() / N)


def t_char_lm_grad(params, inputs, targets, h0=None, device=None) -> tuple[float, dict, np.ndarray]:
    """Loss, full autograd gradient (keys of the params plus "h0") and last hidden state of the character model.

    Args:
        params: dict with "W_x" (V, H), "W_h" (H, H), "b" (H,), "W_y" (H, V), "b_y" (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial state, or None for zeros.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(loss, grads, h_last)`` as :func:`rnngrad.char_lm_grad`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> p = {"W_x": rng.normal(size=(4, 3)), "W_h": rng.normal(size=(3, 3)),
        ...      "b": np.zeros(3),
        ...      "W_y": rng.normal(size=(3, 4)), "b_y": np.zeros(4)}
        >>> loss, g, h_last = t_char_lm_grad(p, rng.integers(0, 4, (5, 2)),
        ...                                  rng.integers(0, 4, (5, 2)))
        >>> sorted(g), h_last.shape
        (['W_h', 'W_x', 'W_y', 'b', 'b_y', 'h0'], (2, 3))
    """
    v, xs, targets, N = _lm_inputs(params, inputs, targets, h0, device)
    hs = rnn_forward_tensor(xs, v["h0"], v["W_x"], v["W_h"], v["b"])
    loss = _step_losses(hs, targets, v["W_y"], v["b_y"]).sum() / N
    loss.backward()
    return float(loss.detach().cpu()), _grads(v), to_numpy(hs[-1])


def t_char_lm_truncated_grad(params, inputs, targets, h0=None, k=1, device=None) -> tuple[float, dict, np.ndarray]:
    """k-step truncated gradient by autograd: each loss term ``L_t`` is rebuilt from ``h_{t-k}.detach()``.

    Term t (0-based) re-runs steps ``t-k+1 .. t`` from the detached state before step
    ``t-k+1``, or from the leaf ``h0`` itself when ``t-k+1 < 0`` (h0 reached within k
    states). T small forward passes: meant for checking, not speed.

    Args:
        params: dict with "W_x" (V, H), "W_h" (H, H), "b" (H,), "W_y" (H, V), "b_y" (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial state, or None for zeros.
        k: positive int, the number of states each loss term reaches.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(loss, grads, h_last)`` as :func:`rnngrad.char_lm_truncated_grad`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> p = {"W_x": rng.normal(size=(4, 3)), "W_h": rng.normal(size=(3, 3)),
        ...      "b": np.zeros(3),
        ...      "W_y": rng.normal(size=(3, 4)), "b_y": np.zeros(4)}
        >>> args = (p, rng.integers(0, 4, (5, 2)), rng.integers(0, 4, (5, 2)))
        >>> bool(
        ...     np.allclose(t_char_lm_truncated_grad(*args, k=6)[1]["h0"],
        ...                 t_char_lm_grad(*args)[1]["h0"]))
        True
    """
    k = positive_int("k", k)
    v, xs, targets, N = _lm_inputs(params, inputs, targets, h0, device)
    with torch.no_grad():
        hs_full = rnn_forward_tensor(xs, v["h0"], v["W_x"], v["W_h"], v["b"])
    total = 0.0
    T = xs.shape[0]
    for t in range(T):
        start = t - k + 1
        if start < 0:
            h_start, start = v["h0"], 0
        elif start == 0:
            h_start = v["h0"].detach()
        else:
            h_start = hs_full[start - 1].detach()
        hs = rnn_forward_tensor(xs[start:t + 1], h_start, v["W_x"], v["W_h"], v["b"])
        term = _step_losses(hs[-1:], targets[t:t + 1], v["W_y"], v["b_y"]).sum() / N
        term.backward()
        total += float(term.detach().cpu())
    return total, _grads(v), to_numpy(hs_full[-1])


def t_char_lm_chunked_grad(params, inputs, targets, h0=None, k=1, device=None) -> tuple[float, dict, np.ndarray]:
    """Chunked truncated gradient by autograd: one graph, the state ``detach()``-ed at the start of every chunk but the first.

    Args:
        params: dict with "W_x" (V, H), "W_h" (H, H), "b" (H,), "W_y" (H, V), "b_y" (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial state, or None for zeros.
        k: positive int, the chunk length.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(loss, grads, h_last)`` as :func:`rnngrad.char_lm_chunked_grad`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> p = {"W_x": rng.normal(size=(4, 3)), "W_h": rng.normal(size=(3, 3)),
        ...      "b": np.zeros(3),
        ...      "W_y": rng.normal(size=(3, 4)), "b_y": np.zeros(4)}
        >>> args = (p, rng.integers(0, 4, (5, 2)), rng.integers(0, 4, (5, 2)))
        >>> bool(
        ...     np.allclose(t_char_lm_chunked_grad(*args, k=5)[1]["W_h"],
        ...                 t_char_lm_grad(*args)[1]["W_h"]))
        True
    """
    k = positive_int("k", k)
    v, xs, targets, N = _lm_inputs(params, inputs, targets, h0, device)
    h, chunks = v["h0"], []
    for start in range(0, xs.shape[0], k):
        if start > 0:
            h = h.detach()
        hs = rnn_forward_tensor(xs[start:start + k], h, v["W_x"], v["W_h"], v["b"])
        chunks.append(hs)
        h = hs[-1]
    hs = torch.cat(chunks)
    loss = _step_losses(hs, targets, v["W_y"], v["b_y"]).sum() / N
    loss.backward()
    return float(loss.detach().cpu()), _grads(v), to_numpy(hs[-1])
