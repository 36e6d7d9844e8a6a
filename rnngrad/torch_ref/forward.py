"""torch counterparts of rnngrad.forward_mode: tangents by ``torch.func.jvp`` through the whole sequence.

Nothing here writes the forward-mode recursion by hand: each function builds the map from
all inputs of the sequence to all outputs with primitive torch ops and asks ``jvp`` (or
``jacrev``) for its derivative. Inputs may be numpy arrays or tensors; results are numpy float64.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import jacrev, jvp, vmap

from .._validate import Dims, RnngradInputError, check_choice
from ..forward_mode import SLOPE_ACTIVATIONS, SLOPE_OUTPUTS
from .._sequences import checked_state
from ._common import T_ACTIVATIONS, float_tensor, resolve_device, to_numpy
from .rnn import checked_rnn

__all__ = [
    "t_rnn_jvp",
    "t_sequence_slope",
    "t_output_jacobian_at_step",
    "t_sequence_slope_feedback",
]



def _weights(dims: Dims, device, W_x, W_h, b, W_y, b_y, D_letter: str = "D") -> dict:
    """The model's five weights checked as in rnngrad.forward_mode (W_x has ``D_letter`` rows), as tensors."""
    return {"W_x": float_tensor(dims, "W_x", W_x, (D_letter, "H"), device),
            "W_h": float_tensor(dims, "W_h", W_h, ("H", "H"), device),
            "b": float_tensor(dims, "b", b, ("H",), device),
            "W_y": float_tensor(dims, "W_y", W_y, ("H", "C"), device),
            "b_y": float_tensor(dims, "b_y", b_y, ("C",), device)}


def _check(activation, output):
    check_choice("activation", activation, SLOPE_ACTIVATIONS)
    check_choice("output", output, SLOPE_OUTPUTS)


def _model_inputs(xs, h0, W_x, W_h, b, W_y, b_y, activation, output, device):
    """The arguments shared by the slope functions, checked in the order of rnngrad.forward_mode."""
    _check(activation, output)
    dims = Dims()
    xs = float_tensor(dims, "xs", xs, ("T", "N", "D"), device)
    h0 = checked_state(_tensor_check(device), dims, "h0", h0, "xs", xs)
    dims.nonempty("T")  # the states of the T steps are stacked
    return dims, xs, h0, _weights(dims, device, W_x, W_h, b, W_y, b_y)


def _tensor_check(device):
    """``float_tensor`` on ``device`` in the ``check(dims, name, value, letters)`` form of rnngrad._sequences."""
    return lambda dims, name, value, letters: float_tensor(dims, name, value, letters, device)


def _states(xs, h0, W_x, W_h, b, activation):
    sigma = T_ACTIVATIONS[activation]
    h, out = h0, []
    for t in range(xs.shape[0]):
        h = sigma(xs[t] @ W_x + h @ W_h + b)
        out.append(h)
    return torch.stack(out)


def _readout(hs, W_y, b_y, output):
    y = hs @ W_y + b_y
    return torch.sigmoid(y) if output == "sigmoid" else y


def t_rnn_jvp(xs, h0, W_x, W_h, b, dxs, dh0=None, device=None):
    """``(hs, dhs)`` of the tanh RNN, the tangent by ``torch.func.jvp`` of ``(xs, h0) -> hs``.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        dxs: (T, N, D) tangent of the inputs.
        dh0: (N, H) tangent of the initial state (default zero).
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(hs, dhs)``, float64 arrays (T, N, H).

    Example:
        >>> import numpy as np
        >>> hs, dhs = t_rnn_jvp(np.zeros((3, 1, 1)), np.zeros((1, 2)),
        ...                     np.ones((1, 2)), np.zeros((2, 2)),
        ...                     np.zeros(2), np.ones((3, 1, 1)))
        >>> # tanh'(0) = 1, no recurrence: the input rate itself
        >>> dhs[:, 0].tolist()
        [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    """
    dev = resolve_device(device)
    dims = Dims()
    a = checked_rnn(dims, dev, xs=xs, h0=h0, W_x=W_x, W_h=W_h, b=b)
    xs, h0, W_x, W_h, b = (a[k] for k in ("xs", "h0", "W_x", "W_h", "b"))
    dxs = float_tensor(dims, "dxs", dxs, ("T", "N", "D"), dev)
    dh0 = torch.zeros_like(h0) if dh0 is None else float_tensor(dims, "dh0", dh0, ("N", "H"), dev)
    hs, dhs = jvp(lambda x, h: _states(x, h, W_x, W_h, b, "tanh"), (xs, h0), (dxs, dh0))
    return to_numpy(hs), to_numpy(dhs)


def t_sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt, dh0_dt=None, *, activation="tanh", output="linear",
                     device=None):
    """``(ys, dys_dt)`` (T, N, C): the outputs and their total derivative along the sequence by ``torch.func.jvp``.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,), W_y: (H, C), b_y: (C,) weights.
        dxs_dt: (T, N, D) rate of change of the inputs.
        dh0_dt: (N, H) rate of the initial state (default zero).
        activation: "tanh" (default) or "sigmoid".
        output: "linear" or "sigmoid".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(ys, dys_dt)``, float64 arrays (T, N, C).

    Example:
        >>> import numpy as np
        >>> w = (np.ones((1, 2)), np.zeros((2, 2)), np.zeros(2),
        ...      np.ones((2, 1)), np.zeros(1))
        >>> ys, dys = t_sequence_slope(np.zeros((2, 1, 1)), np.zeros((1, 2)),
        ...                            *w, np.ones((2, 1, 1)))
        >>> dys.ravel().tolist()
        [2.0, 2.0]
    """
    dev = resolve_device(device)
    dims, xs, h0, p = _model_inputs(xs, h0, W_x, W_h, b, W_y, b_y, activation, output, dev)
    dxs_dt = float_tensor(dims, "dxs_dt", dxs_dt, ("T", "N", "D"), dev)
    dh0 = torch.zeros_like(h0) if dh0_dt is None else float_tensor(dims, "dh0_dt", dh0_dt, ("N", "H"), dev)

    def model(x, h):
        return _readout(_states(x, h, p["W_x"], p["W_h"], p["b"], activation), p["W_y"], p["b_y"], output)

    ys, dys = jvp(model, (xs, h0), (dxs_dt, dh0))
    return to_numpy(ys), to_numpy(dys)


def t_output_jacobian_at_step(xs, h0, W_x, W_h, b, W_y, b_y, *, activation="tanh", output="linear",
                              device=None) -> np.ndarray:
    """``∂y_t/∂x_t`` (T, N, C, D) with ``h_{t-1}`` held fixed, by ``vmap(vmap(jacrev(step)))``.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,), W_y: (H, C), b_y: (C,) weights.
        activation: "tanh" (default) or "sigmoid".
        output: "linear" or "sigmoid".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        (T, N, C, D) with ``[t, n, c, d] = ∂y_t[n, c] / ∂x_t[n, d]``.

    Example:
        >>> import numpy as np
        >>> w = (np.ones((2, 3)), np.zeros((3, 3)), np.zeros(3),
        ...      np.ones((3, 1)), np.zeros(1))
        >>> t_output_jacobian_at_step(np.zeros((1, 1, 2)), np.zeros((1, 3)),
        ...                           *w)[0, 0].tolist()
        [[3.0, 3.0]]
    """
    dev = resolve_device(device)
    _, xs, h0, p = _model_inputs(xs, h0, W_x, W_h, b, W_y, b_y, activation, output, dev)
    sigma = T_ACTIVATIONS[activation]
    with torch.no_grad():
        hs = _states(xs, h0, p["W_x"], p["W_h"], p["b"], activation)
    h_prev = torch.cat([h0[None], hs[:-1]])

    def step(x_row, h_row):
        return _readout(sigma(x_row @ p["W_x"] + h_row @ p["W_h"] + p["b"]), p["W_y"], p["b_y"], output)

    return to_numpy(vmap(vmap(jacrev(step, argnums=0)))(xs, h_prev))


def t_sequence_slope_feedback(xs, h0, y_init, W_x, W_h, b, W_y, b_y, dxs_dt, *, feedback="observed",
                              ys_observed=None, dys_observed_dt=None, dy_init_dt=None, dh0_dt=None,
                              activation="tanh", output="linear", device=None):
    """``(ys, dys_dt)`` of the model whose input is ``(x_t, y_{t-1})``, by ``torch.func.jvp`` through the loop.

    With ``feedback="predicted"`` the model's own output is fed back inside the function,
    so ``jvp`` follows that path; with ``"observed"`` the observed series is an input with
    its own tangent. Arguments as in ``rnngrad.forward_mode.sequence_slope_feedback``.

    Args:
        xs: (T, N, D) exogenous inputs.
        h0: (N, H) initial state.
        y_init: (N, C) value fed back at the first step.
        W_x: (D + C, H), W_h: (H, H), b: (H,), W_y: (H, C), b_y: (C,) weights.
        dxs_dt: (T, N, D) rates of the exogenous inputs.
        feedback: "observed" (teacher forcing) or "predicted" (free running).
        ys_observed: (T, N, C) observed series (needed for "observed").
        dys_observed_dt: (T, N, C) its rates (default zero).
        dy_init_dt: (N, C) rate of ``y_init`` (default zero).
        dh0_dt: (N, H) rate of the initial state (default zero).
        activation: "tanh" (default) or "sigmoid".
        output: "linear" or "sigmoid".
        device: torch device or its name (default: :func:`default_device`).

    Returns:
        ``(ys, dys_dt)``, float64 arrays (T, N, C).

    Example:
        >>> import numpy as np
        >>> w = (np.ones((2, 2)), np.zeros((2, 2)), np.zeros(2),
        ...      np.ones((2, 1)), np.zeros(1))
        >>> ys, dys = t_sequence_slope_feedback(np.zeros((2, 1, 1)),
        ...                                     np.zeros((1, 2)),
        ...                                     np.zeros((1, 1)), *w,
        ...                                     np.ones((2, 1, 1)),
        ...                                     feedback="predicted")
        >>> # step 2 also sees the slope 2 of y_1: 2 * (1 + 2)
        >>> dys.ravel().tolist()
        [2.0, 6.0]
    """
    check_choice("feedback", feedback, ("observed", "predicted"))
    _check(activation, output)
    dev = resolve_device(device)
    dims = Dims()
    xs = float_tensor(dims, "xs", xs, ("T", "N", "D"), dev)
    h0 = checked_state(_tensor_check(dev), dims, "h0", h0, "xs", xs)
    dims.nonempty("T")  # the outputs of the T steps are stacked
    # bind C from W_y before reading W_x, whose rows must be D + C
    W_y = float_tensor(dims, "W_y", W_y, ("H", "C"), dev)
    y_init = float_tensor(dims, "y_init", y_init, ("N", "C"), dev)
    dims.sizes["D+C"] = dims["D"] + dims["C"]
    dims.origin["D+C"] = "xs and y_init"
    p = _weights(dims, dev, W_x, W_h, b, W_y, b_y, D_letter="D+C")
    sigma = T_ACTIVATIONS[activation]
    dxs_dt = float_tensor(dims, "dxs_dt", dxs_dt, ("T", "N", "D"), dev)
    zeros = torch.zeros_like
    dh0 = zeros(h0) if dh0_dt is None else float_tensor(dims, "dh0_dt", dh0_dt, ("N", "H"), dev)
    dy0 = zeros(y_init) if dy_init_dt is None else float_tensor(dims, "dy_init_dt", dy_init_dt, ("N", "C"), dev)
    T = xs.shape[0]
    if feedback == "observed":
        if ys_observed is None:
            raise RnngradInputError('ys_observed: required when feedback="observed", got None')
        obs = float_tensor(dims, "ys_observed", ys_observed, ("T", "N", "C"), dev)
        dobs = zeros(obs) if dys_observed_dt is None else float_tensor(dims, "dys_observed_dt", dys_observed_dt,
                                                                         ("T", "N", "C"), dev)
    else:
        obs = torch.zeros((T, y_init.shape[0], y_init.shape[1]), dtype=xs.dtype, device=dev)
        dobs = zeros(obs)

    def model(x, y0, h, ys_obs):
        y_prev, out = y0, []
        for t in range(T):
            h = sigma(torch.cat([x[t], y_prev], dim=1) @ p["W_x"] + h @ p["W_h"] + p["b"])
            y = _readout(h, p["W_y"], p["b_y"], output)
            out.append(y)
            y_prev = ys_obs[t] if feedback == "observed" else y
        return torch.stack(out)

    ys, dys = jvp(model, (xs, y_init, h0, obs), (dxs_dt, dy0, dh0, dobs))
    return to_numpy(ys), to_numpy(dys)
