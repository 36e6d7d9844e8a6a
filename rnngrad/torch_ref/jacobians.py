"""torch counterparts of rnngrad.hidden_jacobians and rnngrad.two_state_cell.

The Jacobians here come from ``torch.func`` (``jacrev``, ``jacfwd``, ``vmap``) applied to
the cells written with primitive ops, never from the closed forms of the numpy
references. Index conventions are those of ``rnngrad.hidden_jacobians``: ``h_t = hs[t - 1]``,
``J[t - 1] = d h_t / d h_{t-1}``, ``P[k] = d h_T / d h_k`` (k = 0..T-1),
``Q[t - 1] = d h_t / d h_0``. Inputs may be numpy arrays or tensors; results are numpy float64.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import jacfwd, jacrev, vmap

from .._validate import Dims, check_choice
from ..two_state_cell import TWO_STATE_ACTIVATIONS, TWO_STATE_VARIANTS
from ._common import T_ACTIVATIONS, float_tensor, resolve_device, to_numpy
from .rnn import checked_rnn, rnn_forward_tensor, t_rnn_forward

__all__ = [
    "T_ACTIVATIONS",
    "t_rnn_states",
    "t_step_jacobian",
    "t_step_jacobians",
    "t_jacobian_products",
    "t_jacobians_from_start",
    "t_singular_values_over_time",
    "t_two_state_step",
    "t_two_state_forward",
    "t_two_state_state_jacobian",
    "t_two_state_output_jacobian",
    "t_two_state_input_jacobian",
]

def _rnn_tensors(device, **arrays) -> list:
    """The RNN's arguments checked as in rnngrad.rnn (letters of ``RNN_LETTERS``), as tensors in the order given."""
    return list(checked_rnn(Dims(), resolve_device(device), **arrays).values())


def _rnn_cell(x, h, W_x, W_h, b):
    """One tanh RNN step for one row (x (D,), h (H,)) or a batch."""
    return torch.tanh(x @ W_x + h @ W_h + b)


def t_rnn_states(xs, h0, W_x, W_h, b, device=None) -> np.ndarray:
    """States ``h_1..h_T`` (T, N, H) of the tanh RNN written with torch ops (the same as ``t_rnn_forward``).

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        hs: (T, N, H) float64 array.

    Example:
        >>> import numpy as np
        >>> t_rnn_states(np.zeros((3, 2, 1)), np.zeros((2, 4)), np.ones((1, 4)),
        ...              np.eye(4), np.zeros(4)).shape
        (3, 2, 4)
    """
    return t_rnn_forward(xs, h0, W_x, W_h, b, device=device)


def t_step_jacobian(x, h_prev, W_x, W_h, b, device=None) -> np.ndarray:
    """``d h / d h_prev`` (N, H, H) of one tanh RNN step by ``vmap(jacrev(cell))`` over the batch.

    Args:
        x: (N, D) inputs of the step.
        h_prev: (N, H) previous state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (N, H, H) with ``[n, i, j] = d h[n, i] / d h_prev[n, j]``.

    Example:
        >>> import numpy as np
        >>> J = t_step_jacobian(np.zeros((2, 1)), np.zeros((2, 3)),
        ...                     np.ones((1, 3)), np.eye(3), np.zeros(3))
        >>> J.shape, bool(np.allclose(J[0], np.eye(3)))
        ((2, 3, 3), True)
    """
    x, h_prev, W_x, W_h, b = _rnn_tensors(device, x=x, h_prev=h_prev, W_x=W_x, W_h=W_h, b=b)
    jac = vmap(jacrev(_rnn_cell, argnums=1), in_dims=(0, 0, None, None, None))
    return to_numpy(jac(x, h_prev, W_x, W_h, b))


def t_step_jacobians(xs, h0, W_x, W_h, b, device=None) -> np.ndarray:
    """All step Jacobians ``J[t - 1] = d h_t / d h_{t-1}`` (T, N, H, H) by ``vmap(vmap(jacrev(cell)))`` over time and batch.

    The states are computed first with the torch forward pass; the Jacobians of all T*N
    steps are then taken at once.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (T, N, H, H) with ``[t - 1] = d h_t / d h_{t-1}``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> J = t_step_jacobians(rng.normal(size=(4, 2, 3)), np.zeros((2, 5)),
        ...                      rng.normal(size=(3, 5)),
        ...                      rng.normal(size=(5, 5)), np.zeros(5))
        >>> J.shape
        (4, 2, 5, 5)
    """
    xs, h0, W_x, W_h, b = _rnn_tensors(device, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    with torch.no_grad():
        hs = rnn_forward_tensor(xs, h0, W_x, W_h, b)
    h_prev = torch.cat([h0[None], hs[:-1]])
    one = jacrev(_rnn_cell, argnums=1)
    per_row = vmap(one, in_dims=(0, 0, None, None, None))
    per_step = vmap(per_row, in_dims=(0, 0, None, None, None))
    return to_numpy(per_step(xs, h_prev, W_x, W_h, b))


def _perturbed_run(deltas, xs, h0, W_x, W_h, b):
    """Final state of one row when ``deltas[k]`` is added to state h_k (k = 0..T-1)."""
    h = h0 + deltas[0]
    T = xs.shape[0]
    for t in range(T):
        h = _rnn_cell(xs[t], h, W_x, W_h, b)
        if t + 1 < T:
            h = h + deltas[t + 1]
    return h


def t_jacobian_products(xs, h0, W_x, W_h, b, device=None) -> np.ndarray:
    """``P[k] = d h_T / d h_k`` (T, N, H, H) for k = 0..T-1 by one ``jacrev`` per row.

    Each state ``h_k`` gets an additive perturbation ``δ_k`` (zero at the evaluation point);
    ``d h_T / d δ_k = d h_T / d h_k``, so the Jacobian of ``h_T`` with respect to all the
    perturbations (H, T, H) holds every product at once, without any step Jacobian.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (T, N, H, H) with ``[k, n] = d h_T[n] / d h_k[n]``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> P = t_jacobian_products(rng.normal(size=(4, 2, 3)),
        ...                         np.zeros((2, 5)), rng.normal(size=(3, 5)),
        ...                         rng.normal(size=(5, 5)), np.zeros(5))
        >>> P.shape
        (4, 2, 5, 5)
    """
    xs, h0, W_x, W_h, b = _rnn_tensors(device, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    T, N, H = xs.shape[0], h0.shape[0], h0.shape[1]
    deltas = torch.zeros((T, H), dtype=h0.dtype, device=h0.device)
    jac = jacrev(_perturbed_run, argnums=0)                                     # (H, T, H) per row
    batched = vmap(jac, in_dims=(None, 1, 0, None, None, None))
    out = batched(deltas, xs, h0, W_x, W_h, b)                                  # (N, H, T, H)
    return to_numpy(out.permute(2, 0, 1, 3))


def _t_from_start(xs, h0, W_x, W_h, b):
    """(N, T, H, H): for each row, the forward-mode Jacobian of all its states with respect to h0."""
    def per_row(x_row, h_row):
        return jacfwd(lambda h: rnn_forward_tensor(x_row, h, W_x, W_h, b))(h_row)         # (T, H, H)
    return vmap(per_row, in_dims=(1, 0))(xs, h0)                                # (N, T, H, H)


def t_jacobians_from_start(xs, h0, W_x, W_h, b, device=None) -> np.ndarray:
    """``Q[t - 1] = d h_t / d h_0`` (T, N, H, H) by ``jacfwd`` of the whole state sequence with respect to h0.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (T, N, H, H) with ``[t - 1, n] = d h_t[n] / d h_0[n]``.

    Example:
        >>> import numpy as np
        >>> Q = t_jacobians_from_start(np.zeros((3, 1, 1)), np.zeros((1, 2)),
        ...                            np.zeros((1, 2)),
        ...                            0.5 * np.eye(2), np.zeros(2))
        >>> Q[:, 0, 0, 0].tolist()                # tanh'(0) = 1: powers of 0.5
        [0.5, 0.25, 0.125]
    """
    xs, h0, W_x, W_h, b = _rnn_tensors(device, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    return to_numpy(_t_from_start(xs, h0, W_x, W_h, b).permute(1, 0, 2, 3))


def t_singular_values_over_time(xs, h0, W_x, W_h, b, device=None) -> np.ndarray:
    """Singular values (T, N, H), largest first, of ``d h_t / d h_0`` by ``jacfwd`` and ``torch.linalg.svdvals``.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (T, N, H), decreasing along the last axis.

    Example:
        >>> import numpy as np
        >>> S = t_singular_values_over_time(np.zeros((2, 1, 1)),
        ...                                 np.zeros((1, 2)), np.zeros((1, 2)),
        ...                                 np.diag([0.5, 0.25]), np.zeros(2))
        >>> S[:, 0].tolist()
        [[0.5, 0.25], [0.25, 0.0625]]
    """
    xs, h0, W_x, W_h, b = _rnn_tensors(device, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    Q = _t_from_start(xs, h0, W_x, W_h, b).permute(1, 0, 2, 3)
    return to_numpy(torch.linalg.svdvals(Q))


# ---------------------------------------------------------------- the two-state cell

def _two_state(x, h_prev, c_prev, W_h, b, W_o, activation, variant):
    h = T_ACTIVATIONS[activation](h_prev) @ W_h + b
    c = c_prev - h_prev + h
    if variant == "after":
        o = torch.sigmoid(x @ W_o) + c
    else:
        o = torch.sigmoid(x @ W_o + c)
    return o, h, c


def _check(activation, variant):
    check_choice("activation", activation, TWO_STATE_ACTIVATIONS)
    check_choice("variant", variant, TWO_STATE_VARIANTS)


_TWO_STATE_LETTERS = {"x": ("N", "D"), "xs": ("T", "N", "D"), "h_prev": ("N", "H"), "c_prev": ("N", "H"),
                      "h0": ("N", "H"), "c0": ("N", "H"), "W_h": ("H", "H"), "b": ("H",), "W_o": ("D", "H")}


def _two_state_tensors(device, **arrays) -> list:
    """The two-state cell's arguments checked as in rnngrad.two_state_cell, as tensors in the order given."""
    dims, dev = Dims(), resolve_device(device)
    out = [float_tensor(dims, k, v, _TWO_STATE_LETTERS[k], dev) for k, v in arrays.items()]
    dims.nonempty("T")  # a sequence's steps are stacked
    return out


def t_two_state_step(x, h_prev, c_prev, W_h, b, W_o, activation="tanh", variant="inside", device=None):
    """``(o, h, c)`` of one step of the two-state cell (see ``rnngrad.two_state_cell``), each (N, H).

    Args:
        x: (N, D) input.
        h_prev, c_prev: (N, H) previous states.
        W_h: (H, H), b: (H,), W_o: (D, H) weights.
        activation: "tanh" (default), "relu", "identity" or "sigmoid".
        variant: "inside" or "after".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(o, h, c)``, float64 arrays (N, H).

    Example:
        >>> import numpy as np
        >>> o, h, c = t_two_state_step(np.zeros((1, 2)),
        ...                            np.array([[1.0, -1.0]]),
        ...                            np.zeros((1, 2)),
        ...                            np.eye(2), np.zeros(2), np.ones((2, 2)),
        ...                            activation="relu", variant="after")
        >>> o.tolist()
        [[0.5, 1.5]]
    """
    _check(activation, variant)
    args = _two_state_tensors(device, x=x, h_prev=h_prev, c_prev=c_prev, W_h=W_h, b=b, W_o=W_o)
    return tuple(to_numpy(v) for v in _two_state(*args, activation, variant))


def t_two_state_forward(xs, h0, c0, W_h, b, W_o, activation="tanh", variant="inside", device=None):
    """``(os, hs, cs)`` (T, N, H each) of the two-state cell over a sequence.

    Args:
        xs: (T, N, D) inputs.
        h0, c0: (N, H) initial states.
        W_h: (H, H), b: (H,), W_o: (D, H) weights.
        activation: "tanh" (default), "relu", "identity" or "sigmoid".
        variant: "inside" or "after".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(os, hs, cs)``, float64 arrays (T, N, H).

    Example:
        >>> import numpy as np
        >>> os, hs, cs = t_two_state_forward(np.zeros((3, 1, 2)),
        ...                                  np.ones((1, 2)), np.zeros((1, 2)),
        ...                                  np.eye(2), np.zeros(2),
        ...                                  np.ones((2, 2)))
        >>> os.shape
        (3, 1, 2)
    """
    _check(activation, variant)
    xs, h, c, W_h, b, W_o = _two_state_tensors(device, xs=xs, h0=h0, c0=c0, W_h=W_h, b=b, W_o=W_o)
    outs = []
    for t in range(xs.shape[0]):
        o, h, c = _two_state(xs[t], h, c, W_h, b, W_o, activation, variant)
        outs.append((o, h, c))
    return tuple(to_numpy(torch.stack([step[k] for step in outs])) for k in range(3))


def t_two_state_state_jacobian(x, h_prev, c_prev, W_h, b, W_o, activation="tanh", variant="inside",
                               device=None) -> np.ndarray:
    """``d(h_t, c_t) / d(h_{t-1}, c_{t-1})`` (N, 2H, 2H) by ``vmap(jacrev)`` of the stacked state map.

    Args:
        x: (N, D) input (the states do not depend on it).
        h_prev, c_prev: (N, H) previous states.
        W_h: (H, H), b: (H,), W_o: (D, H) weights.
        activation: "tanh" (default), "relu", "identity" or "sigmoid".
        variant: "inside" or "after" (the states do not depend on it).
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (N, 2H, 2H); rows ``h_t`` then ``c_t``, columns ``h_{t-1}`` then ``c_{t-1}``.

    Example:
        >>> import numpy as np
        >>> J = t_two_state_state_jacobian(np.zeros((1, 1)),
        ...                                np.array([[1.0, -1.0]]),
        ...                                np.zeros((1, 2)),
        ...                                2 * np.eye(2), np.zeros(2),
        ...                                np.ones((1, 2)), activation="relu")
        >>> J[0].tolist()  # doctest: +NORMALIZE_WHITESPACE
        [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
         [1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]]
    """
    _check(activation, variant)
    x, h_prev, c_prev, W_h, b, W_o = _two_state_tensors(device, x=x, h_prev=h_prev, c_prev=c_prev, W_h=W_h, b=b,
                                                         W_o=W_o)
    H = h_prev.shape[1]

    def state(x_row, s_row):
        _, h, c = _two_state(x_row, s_row[:H], s_row[H:], W_h, b, W_o, activation, variant)
        return torch.cat([h, c])

    s = torch.cat([h_prev, c_prev], dim=1)
    return to_numpy(vmap(jacrev(state, argnums=1))(x, s))


def t_two_state_output_jacobian(x, h_prev, c_prev, W_h, b, W_o, activation="tanh", variant="inside",
                                device=None) -> np.ndarray:
    """``d o_t / d(h_{t-1}, c_{t-1})`` (N, H, 2H) by ``vmap(jacrev)``.

    Args:
        x: (N, D) input.
        h_prev, c_prev: (N, H) previous states.
        W_h: (H, H), b: (H,), W_o: (D, H) weights.
        activation: "tanh" (default), "relu", "identity" or "sigmoid".
        variant: "inside" or "after".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (N, H, 2H); columns ``h_{t-1}`` then ``c_{t-1}``.

    Example:
        >>> import numpy as np
        >>> J = t_two_state_output_jacobian(np.zeros((1, 1)), np.ones((1, 2)),
        ...                                 np.zeros((1, 2)), np.eye(2),
        ...                                 np.zeros(2), np.ones((1, 2)),
        ...                                 activation="relu", variant="after")
        >>> J[0].tolist()
        [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """
    _check(activation, variant)
    x, h_prev, c_prev, W_h, b, W_o = _two_state_tensors(device, x=x, h_prev=h_prev, c_prev=c_prev, W_h=W_h, b=b,
                                                         W_o=W_o)
    H = h_prev.shape[1]

    def output(x_row, s_row):
        return _two_state(x_row, s_row[:H], s_row[H:], W_h, b, W_o, activation, variant)[0]

    s = torch.cat([h_prev, c_prev], dim=1)
    return to_numpy(vmap(jacrev(output, argnums=1))(x, s))


def t_two_state_input_jacobian(x, h_prev, c_prev, W_h, b, W_o, activation="tanh", variant="inside",
                               device=None) -> np.ndarray:
    """``d o_t / d x_t`` (N, H, D) by ``vmap(jacrev)``.

    Args:
        x: (N, D) input.
        h_prev, c_prev: (N, H) previous states.
        W_h: (H, H), b: (H,), W_o: (D, H) weights.
        activation: "tanh" (default), "relu", "identity" or "sigmoid".
        variant: "inside" or "after".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (N, H, D) with ``[n, i, j] = d o_t[n, i] / d x_t[n, j]``.

    Example:
        >>> import numpy as np
        >>> J = t_two_state_input_jacobian(np.zeros((1, 3)), np.ones((1, 2)),
        ...                                np.zeros((1, 2)), np.eye(2),
        ...                                np.zeros(2), np.ones((3, 2)),
        ...                                variant="after")
        >>> J.shape, float(J[0, 0, 0])
        ((1, 2, 3), 0.25)
    """
    _check(activation, variant)
    x, h_prev, c_prev, W_h, b, W_o = _two_state_tensors(device, x=x, h_prev=h_prev, c_prev=c_prev, W_h=W_h, b=b,
                                                         W_o=W_o)

    def output(x_row, h_row, c_row):
        return _two_state(x_row, h_row, c_row, W_h, b, W_o, activation, variant)[0]

    return to_numpy(vmap(jacrev(output, argnums=0))(x, h_prev, c_prev))
