"""Mistaken variants of the step Jacobians of problem set 4, each rnngrad's computation with one mutation.

The leaky cell's step Jacobian is assembled from rnngrad's pieces: the direct path is
:func:`rnngrad.extras.leaky_step_jacobians` with the recurrent weight zeroed, and the path through tanh is the
leak rate times :func:`rnngrad.hidden_jacobians.rnn_step_jacobians` (the plain tanh cell's Jacobian) at the
tanh output of each step. A mutation changes one operand: which states the tanh output is recovered from, the
rate or leak that recovery or either path uses, a factor of the tanh path left out, the side the slope
scales. The two-state cell's Jacobian is :func:`rnngrad.two_state_cell.two_state_state_jacobian` called with
a perturbed weight or activation. With no mutation each variant equals the reference (a test checks it).

    >>> import numpy as np
    >>> from rnngrad.extras import leaky_step_jacobians
    >>> rng = np.random.default_rng(0)
    >>> hs, h0, W_h = np.tanh(rng.normal(size=(3, 2, 4))), np.tanh(rng.normal(size=(2, 4))), rng.normal(size=(4, 4))
    >>> bool(np.allclose(leaky(hs, h0, W_h, 0.5), leaky_step_jacobians(hs, h0, W_h, 0.5)))
    True
"""
from __future__ import annotations

import numpy as np

__all__ = ["LEAKY_MUTATIONS", "TWO_STATE_MUTATIONS", "leaky", "two_state"]

#: mutation of :func:`leaky` -> the class it is shown as
LEAKY_MUTATIONS = {
    # the tanh output (where the slope is read) recovered wrong
    "recover:state_shift": "slope_at_wrong_point",       # from the state one step earlier
    "recover:previous_shift": "slope_at_wrong_point",    # with the previous state one step too early
    "recover:without_previous": "slope_at_wrong_point",  # the leak's share of the previous state not taken off
    "recover:previous_dropped": "slope_at_wrong_point",  # the leak's coefficient taken off, not its share
    "recover:leak_one": "slope_at_wrong_point",          # the whole previous state taken off
    "recover:leak_sign": "slope_at_wrong_point",         # the leak's share added
    "recover:undivided": "slope_at_wrong_point",         # not divided by the rate
    "recover:state": "slope_at_wrong_point",             # the slope at the new state itself
    "recover:example_shift": "slope_at_wrong_point",     # from the neighbouring example of the batch
    # the path through tanh
    "rate_missing": "missing_alpha",
    "rate_leak": "wrong_leak",
    "slope_missing": "missing_diag",
    "swapped_derivative": "swapped_derivative",
    "missing_transpose": "missing_transpose",
    "weight_identity": "activation_path",
    "weight_ones": "activation_path",
    "rate_and_slope_missing": "activation_path",
    "tanh_path_missing": "activation_path",
    "slope_wrong_side": "slope_wrong_side",
    # the direct path
    "missing_leak": "missing_leak",
    "leak:alpha": "wrong_leak",
    "leak:one": "wrong_leak",
    "leak:negated": "wrong_leak",
    "leak:everywhere": "wrong_leak",
}

#: mutation of :func:`two_state` -> the class it is shown as
TWO_STATE_MUTATIONS = {
    "missing_transpose": "missing_transpose",
    "slope_missing": "missing_diag",
    "weight_identity": "activation_path",
    "weight_ones": "activation_path",
    "path_missing": "activation_path",
    "swapped_derivative": "swapped_derivative",
    "slope:output": "wrong_slope",
    "slope:one_minus_output": "wrong_slope",
    "slope:negated": "wrong_slope",
    "preactivation_derivative": "preactivation_derivative",
}

_RECOVERY = {"recover:without_previous": ("before", 0.0), "recover:previous_dropped": ("before", 1.0)}


def _tanh_output(hs, prev, alpha, mutation):
    """The tanh output of every step, (T, N, H), recovered from the states by undoing the leak (mutated)."""
    state, before, leak, rate = hs, prev, 1.0 - alpha, alpha
    if mutation == "recover:state_shift":
        state = np.roll(hs, 1, axis=0)
    elif mutation == "recover:previous_shift":
        before = np.concatenate([prev[:1], np.roll(hs, 1, axis=0)[:-1]])
    elif mutation in _RECOVERY:
        before = _RECOVERY[mutation][1]
    elif mutation == "recover:leak_one":
        leak = 1.0
    elif mutation == "recover:leak_sign":
        leak = alpha - 1.0
    elif mutation == "recover:undivided":
        rate = 1.0
    elif mutation == "recover:state":
        return hs
    u = (state - leak * before) / rate
    return np.roll(u, 1, axis=1) if mutation == "recover:example_shift" else u


def leaky(hs, h0, W_h, alpha, mutation=None) -> np.ndarray | None:
    """Step Jacobians of the leaky tanh cell, (T, N, H, H), with one optional mutation (:data:`LEAKY_MUTATIONS`).

    Args as :func:`rnngrad.extras.leaky_step_jacobians`; None where the mutation changes nothing on the case.
    """
    from rnngrad.activations import _derivative_from_output as slope  # unchecked: a mistake's u may leave [-1, 1]
    from rnngrad.extras import leaky_step_jacobians
    from rnngrad.hidden_jacobians import _step_jacobians as rnn_step_jacobians  # unchecked, as slope
    H = W_h.shape[0]
    prev = np.concatenate([h0[None], hs[:-1]])
    u = _tanh_output(hs, prev, alpha, mutation)
    direct = leaky_step_jacobians(hs, h0, np.zeros_like(W_h), alpha)  # the direct path alone
    coefficient = {"leak:alpha": alpha, "leak:one": 1.0, "leak:negated": alpha - 1.0}.get(mutation)
    if coefficient is not None:
        direct = np.broadcast_to(coefficient * np.eye(H), direct.shape)
    elif mutation == "missing_leak":
        direct = np.zeros_like(direct)
    elif mutation == "leak:everywhere":  # the direct path's coefficient on every entry, not the diagonal alone
        direct = np.broadcast_to(direct[..., :1, :1], direct.shape)
    rate = {"rate_missing": 1.0, "rate_leak": 1.0 - alpha, "rate_and_slope_missing": 1.0}.get(mutation, alpha)
    W = {"missing_transpose": W_h.T, "weight_identity": np.eye(H), "weight_ones": np.ones((H, H)),
         "tanh_path_missing": np.zeros_like(W_h)}.get(mutation, W_h)
    if mutation in ("slope_missing", "rate_and_slope_missing"):
        u = np.zeros_like(u)  # tanh's slope is one at zero
    if mutation == "slope_wrong_side":
        path = np.swapaxes(rnn_step_jacobians(u, W.T), -1, -2)
    else:
        path = rnn_step_jacobians(u, W)
    if mutation == "swapped_derivative":
        right = slope("tanh", u)
        path = path * np.divide(slope("sigmoid", u), right, out=np.zeros_like(right), where=right != 0)[..., None]
    return direct + rate * path


def two_state(h_prev, W_h, activation, mutation=None) -> np.ndarray | None:
    """The two-state cell's state Jacobian, (N, 2H, 2H), with one optional mutation (:data:`TWO_STATE_MUTATIONS`).

    Args as :func:`rnngrad.two_state_cell.two_state_state_jacobian`. A wrong slope of the activation is rnngrad's
    Jacobian with each example's weight rows scaled by the ratio of the wrong slope to the right one (the slope
    scales the rows of the weight it multiplies); None where the mutation does not apply to the activation.
    """
    from rnngrad.activations import activation as act
    from rnngrad.activations import _derivative_from_output as slope  # unchecked: read off a pre-activation too
    from rnngrad.two_state_cell import two_state_state_jacobian as jacobian
    H = W_h.shape[0]
    W = {"missing_transpose": W_h.T, "weight_identity": np.eye(H), "weight_ones": np.ones((H, H)),
         "path_missing": np.zeros_like(W_h)}.get(mutation)
    if mutation is None or W is not None:
        return jacobian(h_prev, W_h if W is None else W, activation)
    if mutation == "slope_missing":
        return None if activation == "identity" else jacobian(h_prev, W_h, "identity")
    if activation not in ("sigmoid", "tanh"):
        return None  # the mutations of a slope written with the output
    out = act(activation, h_prev)
    right = slope(activation, out)
    wrong = {"swapped_derivative": lambda: slope("sigmoid" if activation == "tanh" else "tanh", out),
             "slope:output": lambda: out, "slope:one_minus_output": lambda: 1.0 - out,
             "slope:negated": lambda: -right,
             "preactivation_derivative": lambda: slope(activation, h_prev)}[mutation]()
    ratio = np.divide(wrong, right, out=np.zeros_like(right), where=right != 0)
    return np.concatenate([jacobian(h_prev[n:n + 1], ratio[n][:, None] * W_h, activation)
                           for n in range(len(h_prev))])
