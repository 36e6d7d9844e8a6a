"""Mistaken variants of the sequence computations, assembled from rnngrad's one-step functions.

A known mistake of a sequence function is the reference computation with one *mutation*: the step backward
of :mod:`rnngrad` called with the recurrent weight transposed, with ``h_t`` where ``h_{t-1}`` belongs, with the
other activation's derivative, without the carried gradient, ... Every step is rnngrad's own: the step
backward and the slope read off an output that :func:`rnngrad.extras.cell_step_backward` and
:func:`rnngrad.extras.activation_derivative_from_output` run after their checks (which refuse the
pre-activations some mistakes read the slope from), and :func:`rnngrad.activations.activation`. Only the
loop that chains the steps lives here, so the variant with no mutation equals the reference (a test checks
it) and every variant differs from it by exactly one thing.

    >>> import numpy as np
    >>> from rnngrad.rnn import rnn_backward, rnn_forward
    >>> rng = np.random.default_rng(0)
    >>> xs, h0 = rng.normal(size=(3, 2, 2)), rng.normal(size=(2, 4))
    >>> W_x, W_h = rng.normal(size=(2, 4)), rng.normal(size=(4, 4))
    >>> hs = rnn_forward(xs, h0, W_x, W_h, np.zeros(4)); dhs = rng.normal(size=hs.shape)
    >>> bool(np.allclose(bptt(dhs, xs, h0, hs, W_x, W_h)["W_h"], rnn_backward(dhs, xs, h0, hs, W_x, W_h)["W_h"]))
    True
"""
from __future__ import annotations

import numpy as np

__all__ = ["WRONG_SLOPES", "slope_ratio", "BPTT_MUTATIONS", "TANGENT_MUTATIONS", "FORWARD_MUTATIONS",
           "READOUT_MUTATIONS", "OTHER_ACTIVATION", "bptt", "states", "tangents", "readout_model"]

#: the mutations :func:`bptt` knows
BPTT_MUTATIONS = ("missing_transpose", "not_accumulated", "off_by_one", "off_by_one_after_first",
                  "preactivation_derivative", "swapped_derivative", "missing_diag", "missing_hidden_path",
                  "wrong_direction", "missing_step", "carry_without_weight", "derivative_time_shift",
                  "derivative_previous_state", "input_time_shift", "previous_state_shift", "missing_upstream")
#: the mutations :func:`tangents` knows
TANGENT_MUTATIONS = ("missing_transpose", "off_by_one", "preactivation_derivative", "swapped_derivative",
                     "missing_diag", "missing_hidden_path", "missing_step", "carry_without_weight")
#: mistakes of the forward pass that a derivative is built on (the states are not the model's)
FORWARD_MUTATIONS = ("forward_no_bias", "forward_no_input", "forward_no_recurrence", "forward_transposed",
                     "forward_unweighted_recurrence", "forward_input_shift", "forward_bias_only")
#: mistakes of a read-out model's output layer: the logits its derivative is built on, or the step they are read at
READOUT_MUTATIONS = ("logits_no_bias", "logits_no_state", "negated_logits", "logits_column_shift",
                     "logits_time_shift", "readout_previous_state")
#: slopes written wrong, each a simple function of the activation's output h (``d`` is the right slope)
WRONG_SLOPES = {
    "slope:negated": lambda h, d: -d,
    "slope:one_minus_output": lambda h, d: 1.0 - h,
    "slope:output": lambda h, d: h,
    "slope:output_squared": lambda h, d: h * h,
    "slope:one_plus_output_squared": lambda h, d: 1.0 + h * h,
}
#: the activation whose derivative is confused with each one's
OTHER_ACTIVATION = {"tanh": "sigmoid", "sigmoid": "tanh"}


def slope_ratio(activation, h, mutation):
    """A wrong slope (:data:`WRONG_SLOPES`) divided by the right one at the output ``h`` (0 where that is 0)."""
    from rnngrad.activations import _derivative_from_output
    right = _derivative_from_output(activation, h)
    wrong = WRONG_SLOPES[mutation](h, right)
    return np.divide(wrong, right, out=np.zeros_like(right), where=right != 0)


def _derivative_input(mutation, h, pre):
    """What the step backward reads σ' from: the output, or (mutated) the pre-activation or nothing."""
    if mutation == "preactivation_derivative":
        return pre
    if mutation == "missing_diag":
        return np.zeros_like(h)  # tanh' written with the output is 1 - h^2: 1 at h = 0
    return h


def bptt(dhs, xs, h0, hs, W_x, W_h, mutation=None, activation="tanh", pres=None) -> dict:
    """Back-propagation through time, step by step with rnngrad's step backward, with one optional mutation.

    Args:
        dhs, xs, h0, hs, W_x, W_h: as :func:`rnngrad.rnn.rnn_backward` ((T, N, H), (T, N, D), (N, H), ...).
        mutation: None or one of :data:`BPTT_MUTATIONS`.
        activation: the cell's activation ("tanh" or "sigmoid").
        pres: (T, N, H) pre-activations, needed by ``"preactivation_derivative"`` only.

    Returns:
        dict with "xs", "h0", "W_x", "W_h", "b", like rnn_backward; None when the mutation needs ``pres``
        and none were given.
    """
    from rnngrad.activations import _derivative_from_output
    from rnngrad.rnn import _step_backward

    def cell_step_backward(dh, x, h_prev, h, W_x, W_h, activation):  # unchecked: h may be a pre-activation
        return _step_backward(dh, x, h_prev, _derivative_from_output(activation, h), W_x, W_h)
    if mutation == "preactivation_derivative" and pres is None:
        return None
    if mutation == "missing_diag" and activation != "tanh":
        return None
    act = OTHER_ACTIVATION[activation] if mutation == "swapped_derivative" else activation
    if mutation == "missing_diag":
        act = "tanh"
    T = len(xs)
    out = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h),
           "b": np.zeros(W_h.shape[0])}
    carry = np.zeros_like(h0)
    order = range(T) if mutation == "wrong_direction" else range(T - 1, -1, -1)
    if mutation == "missing_step":  # the loop stops one step short (the last step is skipped)
        order = range(T - 2, -1, -1)
    for t in order:
        h_prev = h0 if t == 0 else hs[t - 1]
        if mutation == "off_by_one" or (mutation == "off_by_one_after_first" and t > 0):
            h_prev = hs[t]
        if mutation == "previous_state_shift":  # the state two steps back (python wraps: the last one at t = 0)
            h_prev = hs[-1] if t == 0 else (h0 if t == 1 else hs[t - 2])
        feed = dhs[t] if mutation == "missing_hidden_path" else dhs[t] + carry
        if mutation == "missing_upstream":  # the incoming gradient left out: the local slope alone
            feed = np.ones_like(feed)
        if mutation in WRONG_SLOPES:  # rnngrad's step multiplies by the right slope: scale it to the wrong one
            feed = feed * slope_ratio(activation, hs[t], mutation)
        h_read = _derivative_input(mutation, hs[t], None if pres is None else pres[t])
        if mutation == "derivative_time_shift":  # σ' read from the state one step earlier (wrapping at t = 0)
            h_read = hs[t - 1]
        if mutation == "derivative_previous_state":  # σ' read from the previous state (h0 at t = 0)
            h_read = h0 if t == 0 else hs[t - 1]
        x = xs[t - 1] if mutation == "input_time_shift" else xs[t]  # python wraps at t = 0
        step = cell_step_backward(feed, x, h_prev, h_read, W_x, W_h, activation=act)
        out["xs"][t] = step["x"]
        for key in ("W_x", "W_h", "b"):
            out[key] = step[key] if mutation == "not_accumulated" else out[key] + step[key]
        carry = step["h_prev"]
        if mutation == "carry_without_weight":  # the pre-activation's gradient passed back as it is
            carry = cell_step_backward(feed, x, h_prev, h_read, W_x, np.eye(W_h.shape[0]),
                                       activation=act)["h_prev"]
        if mutation == "missing_transpose":
            carry = cell_step_backward(feed, x, h_prev, h_read, W_x, W_h.T, activation=act)["h_prev"]
    out["h0"] = carry
    return out


def states(xs, h0, W_x, W_h, b, activation="tanh", mutation=None) -> tuple[np.ndarray, np.ndarray]:
    """(pre-activations, states), each (T, N, H), of the cell ``h_t = σ(x_t W_x + h_{t-1} W_h + b)``.

    A mutation of :data:`FORWARD_MUTATIONS` leaves one term (or all but the bias) out of the pre-activation,
    transposes W_h or reads the previous step's input.
    """
    from rnngrad.activations import activation as act
    if mutation == "forward_no_bias":
        b = np.zeros_like(b)
    if mutation in ("forward_no_input", "forward_bias_only"):
        W_x = np.zeros_like(W_x)
    if mutation in ("forward_no_recurrence", "forward_bias_only"):
        W_h = np.zeros_like(W_h)
    if mutation == "forward_transposed":
        W_h = W_h.T
    if mutation == "forward_unweighted_recurrence":
        W_h = np.eye(W_h.shape[0])
    if mutation == "forward_input_shift":  # each step reads the previous step's input (python wraps at 0)
        xs = np.roll(xs, 1, axis=0)
    pres, hs, h = np.empty((len(xs),) + h0.shape), np.empty((len(xs),) + h0.shape), h0
    for t in range(len(xs)):
        pres[t] = xs[t] @ W_x + h @ W_h + b
        h = hs[t] = act(activation, pres[t])
    return pres, hs


def tangents(xs, h0, W_x, W_h, b, dxs=None, dW_h=None, mutation=None, activation="tanh") -> np.ndarray:
    """Forward-mode tangents of every state, (T, N, H), with one optional mutation.

    The tangent of step t is σ'(a_t) times the tangent of the pre-activation, which collects the input's
    tangent through W_x, the parameter's direction ``dW_h`` read by the previous state, and the previous
    tangent through W_h. Args as :func:`rnngrad.extras.rnn_param_jvp`; ``mutation`` one of
    :data:`TANGENT_MUTATIONS` or None.
    """
    from rnngrad.activations import _derivative_from_output as activation_derivative_from_output  # unchecked
    pres, hs = states(xs, h0, W_x, W_h, b, activation, mutation)
    act = OTHER_ACTIVATION[activation] if mutation == "swapped_derivative" else activation
    W_carry = {"missing_transpose": W_h.T, "carry_without_weight": np.eye(W_h.shape[0])}.get(mutation, W_h)
    out, dh = np.zeros_like(hs), np.zeros_like(h0)
    for t in range(len(xs) - 1 if mutation == "missing_step" else len(xs)):
        h_prev = h0 if t == 0 else hs[t - 1]
        if mutation == "off_by_one":
            h_prev = hs[t]
        drive = np.zeros_like(h0)
        if dxs is not None:
            drive = drive + dxs[t] @ W_x
        if dW_h is not None:
            drive = drive + h_prev @ dW_h
        carried = 0.0 if mutation == "missing_hidden_path" else dh @ W_carry
        if mutation == "missing_diag":
            slope = 1.0
        elif mutation in WRONG_SLOPES:
            slope = WRONG_SLOPES[mutation](hs[t], activation_derivative_from_output(activation, hs[t]))
        elif mutation == "preactivation_derivative":
            slope = activation_derivative_from_output(act, pres[t])
        else:
            slope = activation_derivative_from_output(act, hs[t])
        dh = out[t] = slope * (drive + carried)
    return out


def _output_layer(hs, h0, dlogits, mutation, forward=False):
    """Gradients of the read-out ``W_y`` (H, C) and ``b_y`` (C,) from the states and the logits' gradients.

    ``forward`` visits the steps first to last (what an overwriting loop then leaves is the last step's share).
    """
    W_y, b_y = 0.0, 0.0
    for t in (range(len(hs)) if forward else range(len(hs) - 1, -1, -1)):
        h = hs[t - 1] if mutation == "off_by_one" and t > 0 else hs[t]
        if mutation == "readout_previous_state":
            h = h0 if t == 0 else hs[t - 1]
        step_W, step_b = h.T @ dlogits[t], dlogits[t].sum(axis=0)
        W_y, b_y = (step_W, step_b) if mutation == "not_accumulated" else (W_y + step_W, b_y + step_b)
    return W_y, b_y


def _logits(hs, W_y, b_y, mutation):
    """The logits (T, N, C) of the read-out, or (mutated) without a term, negated, or shifted per class."""
    if mutation == "logits_no_bias":
        return hs @ W_y
    if mutation == "logits_no_state":
        return np.broadcast_to(b_y, hs.shape[:-1] + b_y.shape).copy()
    logits = hs @ W_y + b_y
    if mutation == "negated_logits":
        return -logits
    if mutation == "logits_column_shift":  # the shift before exponentiating taken over the batch, not the classes
        return logits - logits.max(axis=1, keepdims=True)
    return logits


def readout_model(xs, h0, W_x, W_h, b, W_y, b_y, dlogits_of, mutation=None, window=None, loss_of=None) -> dict:
    """Gradients of a tanh RNN with a linear read-out, from the logits' gradients ``dlogits_of(logits)``.

    ``window=k`` truncates the gradient of each step's loss to k states (None: full BPTT). Returns the dict
    ``W_x, W_h, b, W_y, b_y, h0`` and ``h_last``, the last state of the same forward pass (and ``loss``, its
    loss, when ``loss_of(logits)`` is given), or None when the mutation does not apply.
    """
    pres, hs = states(xs, h0, W_x, W_h, b, mutation=mutation)
    logits = _logits(hs, W_y, b_y, mutation)
    dlogits = dlogits_of(np.roll(logits, 1, axis=0) if mutation == "logits_time_shift" else logits)
    W_y_grad, b_y_grad = _output_layer(hs, h0, dlogits, mutation, forward=window is not None)
    dhs = dlogits @ W_y.T
    if window is None:
        back = bptt(dhs, xs, h0, hs, W_x, W_h, mutation, pres=pres)
        if back is None:
            return None
    else:
        back = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(W_h.shape[0]),
                "h0": np.zeros_like(h0)}
        for t in range(len(xs)):
            lo = max(t - window + 1, 0)
            direct = np.zeros((t + 1 - lo,) + h0.shape)
            direct[-1] = dhs[t]
            start = h0 if lo == 0 else hs[lo - 1]
            part = bptt(direct, xs[lo:t + 1], start, hs[lo:t + 1], W_x, W_h, mutation, pres=pres[lo:t + 1])
            if part is None:
                return None
            overwrite = mutation == "not_accumulated"
            for key in ("W_x", "W_h", "b"):
                back[key] = part[key] if overwrite else back[key] + part[key]
            if t - window + 1 <= -1:
                back["h0"] = part["h0"] if overwrite else back["h0"] + part["h0"]
    out = {"W_x": back["W_x"], "W_h": back["W_h"], "b": back["b"], "W_y": W_y_grad, "b_y": b_y_grad,
           "h0": back["h0"], "h_last": hs[-1] if len(hs) else h0}
    if loss_of is not None:
        out["loss"] = loss_of(logits)
    return out
