"""Forward-mode derivatives of an RNN along its sequence: the slope of the output as the inputs move.

The cell is ``h_t = σ(x_t W_x + h_{t-1} W_h + b)`` (σ = tanh or sigmoid) and the model's
output ``y_t = h_t W_y + b_y`` (or ``sigmoid`` of it). Suppose every input moves with a
parameter τ (for a series sampled in time, τ is time and ``dx_t/dτ`` is how fast the
input changes there). Then ``y_t`` changes with τ for two reasons: its own input moved,
and its hidden state moved because all earlier inputs moved. The chain rule gives the
forward-mode recursion (tangents as rows, one per batch row)::

    dh_t/dτ = (dx_t/dτ W_x + dh_{t-1}/dτ W_h) * σ'(a_t)
            i.e. J_x(t) dx_t/dτ + J_h(t) dh_{t-1}/dτ
    dy_t/dτ = dh_t/dτ W_y

which costs one sweep, the price of the forward pass. The "naive" derivative
``∂y_t/∂x_t`` holds ``h_{t-1}`` fixed and drops the second term; it is the Jacobian of one
call of the cell and is not the slope of the curve ``t -> y_t``.

When the previous output is one of the inputs (``u_t = (x_t, y_{t-1})``) there are two
different models and two different slopes:

* fed with the observed series (teacher forcing): ``y_{t-1}`` is data, and its rate of
  change is the data's, ``dy^{obs}_{t-1}/dτ``; this is ``sequence_slope`` with the
  observed series appended to the inputs;
* fed with its own prediction (free running): ``y_{t-1}`` is the model's output, so its
  tangent is the slope just computed, ``dŷ_{t-1}/dτ``, and the recursion gains a path
  ``ŷ_{t-1} -> h_t`` on top of ``h_{t-1} -> h_t``.

``sequence_slope_feedback`` computes both.
"""
from __future__ import annotations

import numpy as np

from ._sequences import checked_state
from ._validate import Dims, RnngradInputError, check_choice
from .activations import activation as _act, _derivative_from_output

__all__ = [
    "SLOPE_ACTIVATIONS",
    "SLOPE_OUTPUTS",
    "rnn_jvp",
    "sequence_slope",
    "output_jacobian_at_step",
    "slope_by_prefix_differentiation",
    "sequence_slope_feedback",
]

SLOPE_ACTIVATIONS = ("tanh", "sigmoid")
SLOPE_OUTPUTS = ("linear", "sigmoid")


def _weights(dims: Dims, W_x, W_h, b, W_y, b_y, D_letter: str = "D") -> tuple:
    """The five weights of the model as float64 arrays, checked against each other and the data."""
    return (dims.float_array("W_x", W_x, (D_letter, "H")), dims.float_array("W_h", W_h, ("H", "H")),
            dims.float_array("b", b, ("H",)), dims.float_array("W_y", W_y, ("H", "C")),
            dims.float_array("b_y", b_y, ("C",)))


def _model_inputs(xs, h0, W_x, W_h, b, W_y, b_y, activation, output):
    """Validate the arguments shared by the slope functions; return ``(dims, xs, h0, (W_x, W_h, b, W_y, b_y))``."""
    check_choice("activation", activation, SLOPE_ACTIVATIONS)
    check_choice("output", output, SLOPE_OUTPUTS)
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    return dims, xs, h0, _weights(dims, W_x, W_h, b, W_y, b_y)


def _states(xw, h, W_h, activation):
    """hs (T, N, H) from pre-projected inputs xw = x W_x + b (T, N, H) and the initial state h."""
    hs = np.empty(xw.shape)
    for t in range(xw.shape[0]):
        h = _act(activation, xw[t] + h @ W_h)
        hs[t] = h
    return hs


def _tangent_sweep(xw, dxw, h, dh, W_h, activation):
    """hs, dhs from pre-projected inputs xw = x W_x + b (T, N, H) and their tangents dxw = dx W_x."""
    T = xw.shape[0]
    hs = np.empty(xw.shape)
    dhs = np.empty(xw.shape)
    for t in range(T):
        h = _act(activation, xw[t] + h @ W_h)
        dh = (dxw[t] + dh @ W_h) * _derivative_from_output(activation, h)
        hs[t], dhs[t] = h, dh
    return hs, dhs


def _readout(hs, dhs, W_y, b_y, output):
    ys = hs @ W_y + b_y
    dys = dhs @ W_y
    if output == "sigmoid":
        ys = _act("sigmoid", ys)
        dys = dys * ys * (1.0 - ys)
    return ys, dys


def rnn_jvp(xs, h0, W_x, W_h, b, dxs, dh0=None) -> tuple[np.ndarray, np.ndarray]:
    """Tangents of all hidden states of the tanh RNN in one forward sweep: ``dh_t = (dx_t W_x + dh_{t-1} W_h) * (1 - h_t^2)``.

    This is the Jacobian-vector product of the map ``(xs, h0) -> hs`` with the tangent
    ``(dxs, dh0)``.

    Args:
        xs: (T, N, D) inputs; h0: (N, H) initial state.
        W_x: (D, H); W_h: (H, H); b: (H,).
        dxs: (T, N, D) tangent of the inputs.
        dh0: (N, H) tangent of the initial state (default zero).

    Returns:
        (hs, dhs), both (T, N, H): the states (as ``rnn_forward``) and their tangents.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs, W_x, W_h = (rng.normal(size=(6, 2, 3)), rng.normal(size=(3, 4)),
        ...                 rng.normal(size=(4, 4)) / 2)
        >>> hs, dhs = rnn_jvp(xs, np.zeros((2, 4)), W_x, W_h, np.zeros(4),
        ...                   np.ones((6, 2, 3)))
        >>> eps = 1e-6
        >>> from rnngrad.rnn import rnn_forward
        >>> fd = (rnn_forward(xs + eps, np.zeros((2, 4)), W_x, W_h,
        ...                   np.zeros(4))
        ...       - rnn_forward(xs - eps, np.zeros((2, 4)), W_x, W_h,
        ...                     np.zeros(4))) / (2 * eps)
        >>> dhs.shape, bool(np.allclose(dhs, fd, atol=1e-8))
        ((6, 2, 4), True)
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    dxs = dims.float_array("dxs", dxs, ("T", "N", "D"))
    dh0 = np.zeros_like(h0) if dh0 is None else dims.float_array("dh0", dh0, ("N", "H"))
    return _tangent_sweep(xs @ W_x + b, dxs @ W_x, h0, dh0, W_h, "tanh")


def sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt, dh0_dt=None, *, activation="tanh", output="linear"):
    """Total derivative of the outputs along the sequence, ``dy_t/dτ = dh_t/dτ W_y`` with ``dh_t/dτ = J_x(t) dx_t/dτ + J_h(t) dh_{t-1}/dτ``.

    Args:
        xs: (T, N, D) inputs, time-major (when T == N a batch-major array
            cannot be told apart: transpose explicitly and try T != N).
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) the cell's weights.
        W_y: (H, C), b_y: (C,) the read-out.
        dxs_dt: (T, N, D) rate of change of the inputs (for an evenly sampled series, e.g.
            ``np.gradient(xs, axis=0)`` or the known derivative of the signal).
        dh0_dt: (N, H) rate of change of the initial state (default zero: a fixed start).
        activation: the cell's σ, ``"tanh"`` (default) or ``"sigmoid"``.
        output: ``"linear"`` (``y = h W_y + b_y``) or ``"sigmoid"`` (``y = sigmoid(h W_y + b_y)``).

    Returns:
        (ys, dys_dt), both (T, N, C).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> w = (rng.normal(size=(3, 10)), rng.normal(size=(10, 10)) / 3,
        ...      np.zeros(10), rng.normal(size=(10, 1)), np.zeros(1))
        >>> xs, h0 = rng.normal(size=(8, 1, 3)), np.zeros((1, 10))
        >>> ys, dys = sequence_slope(xs, h0, *w, np.ones((8, 1, 3)),
        ...                          activation="sigmoid")
        >>> naive = np.einsum("tncd,tnd->tnc",
        ...                   output_jacobian_at_step(xs, h0, *w,
        ...                                           activation="sigmoid"),
        ...                   np.ones((8, 1, 3)))
        >>> ys.shape, bool(np.allclose(dys[0], naive[0])), bool(
        ...     np.allclose(dys[1:], naive[1:]))
        ((8, 1, 1), True, False)
    """
    dims, xs, h0, (W_x, W_h, b, W_y, b_y) = _model_inputs(xs, h0, W_x, W_h, b, W_y, b_y, activation, output)
    dxs_dt = dims.float_array("dxs_dt", dxs_dt, ("T", "N", "D"))
    dh0 = np.zeros_like(h0) if dh0_dt is None else dims.float_array("dh0_dt", dh0_dt, ("N", "H"))
    hs, dhs = _tangent_sweep(xs @ W_x + b, dxs_dt @ W_x, h0, dh0, W_h, activation)
    return _readout(hs, dhs, W_y, b_y, output)


def output_jacobian_at_step(xs, h0, W_x, W_h, b, W_y, b_y, *,
                            activation="tanh",
                            output="linear") -> np.ndarray:
    """The per-step Jacobian ``∂y_t/∂x_t`` with ``h_{t-1}`` held fixed:
    ``W_y^T diag(σ'(a_t)) W_x^T`` (linear output).

    This is the Jacobian of a single call of the cell at the state the
    sequence reached, the quantity one gets by differentiating "the model"
    at one input vector. It misses the change of ``h_{t-1}``, so
    ``∂y_t/∂x_t @ dx_t/dτ`` is not the slope of ``y`` along the sequence
    (except at the first step when ``h_0`` is fixed).

    Args:
        xs, h0, W_x, W_h, b, W_y, b_y, activation, output: as in
            ``sequence_slope``.

    Returns:
        (T, N, C, D) with ``[t, n, c, d] = ∂y_t[n, c] / ∂x_t[n, d]``.

    Example:
        >>> import numpy as np
        >>> w = (np.ones((2, 3)), np.zeros((3, 3)), np.zeros(3),
        ...      np.ones((3, 1)), np.zeros(1))
        >>> # tanh'(0) = 1
        >>> J = output_jacobian_at_step(np.zeros((1, 1, 2)),
        ...                             np.zeros((1, 3)), *w)
        >>> J.shape, J[0, 0].tolist()
        ((1, 1, 1, 2), [[3.0, 3.0]])
    """
    _, xs, h0, (W_x, W_h, b, W_y, b_y) = _model_inputs(
        xs, h0, W_x, W_h, b, W_y, b_y, activation, output)
    hs = _states(xs @ W_x + b, h0, W_h, activation)
    # (T, N, H)
    s = _derivative_from_output(activation, hs)
    J = np.einsum("ic,tni,di->tncd", W_y, s, W_x)
    if output == "sigmoid":
        y = _act("sigmoid", hs @ W_y + b_y)
        J = J * (y * (1.0 - y))[..., None]
    return J


def slope_by_prefix_differentiation(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt, dh0_dt=None, *, activation="tanh",
                                    output="linear"):
    """The slope ``dy_t/dτ = Σ_{k<=t} (∂y_t/∂x_k) dx_k/dτ + (∂y_t/∂h_0) dh_0/dτ`` by differentiating each prefix separately.

    For every t the prefix ``x_1..x_t -> y_t`` is differentiated on its own by reverse mode
    (a backward pass from each of the C outputs of ``y_t`` down to step 1), and the
    gradients are contracted with the input rates. The cost is O(T^2) steps against the
    O(T) of ``sequence_slope``; the result is the same, by a different algorithm, which is
    why tests and benchmarks use it as an independent reference.

    Args:
        xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt, dh0_dt, activation, output:
            as in ``sequence_slope``.

    Returns:
        (ys, dys_dt), both (T, N, C).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> w = (rng.normal(size=(2, 5)), rng.normal(size=(5, 5)) / 2,
        ...      np.zeros(5), rng.normal(size=(5, 2)), np.zeros(2))
        >>> xs, v = rng.normal(size=(7, 3, 2)), rng.normal(size=(7, 3, 2))
        >>> _, slow = slope_by_prefix_differentiation(xs, np.zeros((3, 5)),
        ...                                           *w, v)
        >>> _, fast = sequence_slope(xs, np.zeros((3, 5)), *w, v)
        >>> bool(np.allclose(slow, fast))
        True
    """
    dims, xs, h0, (W_x, W_h, b, W_y, b_y) = _model_inputs(xs, h0, W_x, W_h, b, W_y, b_y, activation, output)
    dxs_dt = dims.float_array("dxs_dt", dxs_dt, ("T", "N", "D"))
    dh0 = None if dh0_dt is None else dims.float_array("dh0_dt", dh0_dt, ("N", "H"))
    T, N, C = dims["T"], dims["N"], dims["C"]
    hs = _states(xs @ W_x + b, h0, W_h, activation)               # the forward pass alone (no tangents)
    deriv = _derivative_from_output(activation, hs)                       # σ'(a_t), (T, N, H)
    ys = hs @ W_y + b_y
    if output == "sigmoid":
        ys = _act("sigmoid", ys)
        out_scale = ys * (1.0 - ys)                                      # (T, N, C)
    else:
        out_scale = np.ones((T, N, C))
    rates = dxs_dt @ W_x                                                 # (T, N, H): dx_k/dτ W_x
    dys = np.empty((T, N, C))
    for t in range(T):
        # cotangents of h_t for each output unit c: (C, N, H)
        g = out_scale[t].T[:, :, None] * W_y.T[:, None, :]
        total = np.zeros((C, N))
        for k in range(t, -1, -1):
            g_a = g * deriv[k]                                           # through σ of step k
            total += (g_a * rates[k]).sum(axis=2)
            g = g_a @ W_h.T                                              # on to h_{k-1}
        if dh0 is not None:
            total += (g * dh0).sum(axis=2)
        dys[t] = total.T
    return ys, dys


def sequence_slope_feedback(xs, h0, y_init, W_x, W_h, b, W_y, b_y, dxs_dt, *, feedback="observed",
                            ys_observed=None, dys_observed_dt=None, dy_init_dt=None, dh0_dt=None,
                            activation="tanh", output="linear"):
    """Slope of a model whose input at step t is ``u_t = (x_t, y_{t-1})``: the previous output is fed back.

    ``h_t = σ(u_t W_x + h_{t-1} W_h + b)``, ``y_t = h_t W_y + b_y``, with ``W_x`` of shape
    (D + C, H) (its last C rows read the fed-back output). The slope recursion is
    ``dh_t/dτ = (du_t/dτ W_x + dh_{t-1}/dτ W_h) * σ'(a_t)`` where the fed-back part of
    ``du_t/dτ`` is

    * ``feedback="observed"`` (teacher forcing): the observed series' rate
      ``dys_observed_dt[t-1]`` — the same as ``sequence_slope`` on the inputs
      ``concat(xs, previous observations)``;
    * ``feedback="predicted"`` (free running): the model's own slope ``dy_{t-1}/dτ``, so the
      derivative also flows along ``y_{t-1} -> h_t``.

    At t = 1 the fed-back value is ``y_init`` with rate ``dy_init_dt`` (default zero).

    Args:
        xs: (T, N, D) exogenous inputs, time-major.
        h0: (N, H) initial state.
        y_init: (N, C) the value fed back at the first step.
        W_x: (D + C, H), W_h: (H, H), b: (H,) the cell's weights.
        W_y: (H, C), b_y: (C,) the read-out.
        dxs_dt: (T, N, D) rates of the exogenous inputs.
        feedback: ``"observed"`` (default) or ``"predicted"``.
        ys_observed: (T, N, C) observed series, ``ys_observed[t-1]`` is ``y_t``; fed back
            (shifted by one step) when ``feedback="observed"`` (its last step is not used).
        dys_observed_dt: (T, N, C) rates of the observed series (default zero).
        dy_init_dt: (N, C) rate of ``y_init`` (default zero).
        dh0_dt: (N, H) rate of the initial state (default zero).
        activation: ``"tanh"`` (default) or ``"sigmoid"``; output: ``"linear"`` or ``"sigmoid"``.

    Returns:
        (ys, dys_dt), both (T, N, C): the model's outputs and their slope.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> w = (rng.normal(size=(3, 10)), rng.normal(size=(10, 10)) / 3,
        ...      np.zeros(10), rng.normal(size=(10, 1)), np.zeros(1))
        >>> xs = rng.normal(size=(5, 1, 2))
        >>> ys, dys = sequence_slope_feedback(xs, np.zeros((1, 10)),
        ...                                   np.zeros((1, 1)), *w,
        ...                                   np.ones((5, 1, 2)),
        ...                                   feedback="predicted")
        >>> ys.shape, dys.shape
        ((5, 1, 1), (5, 1, 1))
    """
    check_choice("feedback", feedback, ("observed", "predicted"))
    check_choice("activation", activation, SLOPE_ACTIVATIONS)
    check_choice("output", output, SLOPE_OUTPUTS)
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    # bind C from W_y before reading W_x, whose rows must be D + C
    W_y = dims.float_array("W_y", W_y, ("H", "C"))
    y_init = dims.float_array("y_init", y_init, ("N", "C"))
    dims.sizes["D+C"] = dims["D"] + dims["C"]
    dims.origin["D+C"] = "xs and y_init"
    W_x, W_h, b, W_y, b_y = _weights(dims, W_x, W_h, b, W_y, b_y, D_letter="D+C")
    dxs_dt = dims.float_array("dxs_dt", dxs_dt, ("T", "N", "D"))
    dh = np.zeros_like(h0) if dh0_dt is None else dims.float_array("dh0_dt", dh0_dt, ("N", "H"))
    dy_prev = np.zeros_like(y_init) if dy_init_dt is None else dims.float_array("dy_init_dt", dy_init_dt, ("N", "C"))
    if feedback == "observed":
        if ys_observed is None:
            raise RnngradInputError('ys_observed: required when feedback="observed", got None')
        ys_obs = dims.float_array("ys_observed", ys_observed, ("T", "N", "C"))
        dys_obs = (np.zeros_like(ys_obs) if dys_observed_dt is None
                   else dims.float_array("dys_observed_dt", dys_observed_dt, ("T", "N", "C")))
    D = dims["D"]
    W_xx, W_xy = W_x[:D], W_x[D:]
    T, N, C = dims["T"], dims["N"], dims["C"]
    ys, dys = np.empty((T, N, C)), np.empty((T, N, C))
    h, y_prev = h0, y_init
    for t in range(T):
        h = _act(activation, xs[t] @ W_xx + y_prev @ W_xy + b + h @ W_h)
        dh = (dxs_dt[t] @ W_xx + dy_prev @ W_xy + dh @ W_h) * _derivative_from_output(activation, h)
        y, dy = _readout(h, dh, W_y, b_y, output)
        ys[t], dys[t] = y, dy
        if feedback == "observed":
            y_prev, dy_prev = ys_obs[t], dys_obs[t]
        else:
            y_prev, dy_prev = y, dy
    return ys, dys
