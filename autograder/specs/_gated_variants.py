"""Mistaken variants of the LSTM's derivatives (problem set 6), each made of calls of rnngrad's own functions.

Every variant calls :func:`rnngrad.lstm.lstm_step_backward` with perturbed operands and recombines what comes
back (the state Jacobian's are in :mod:`autograder.specs._gated_jacobian_variants`, the GRU's in
:mod:`autograder.specs._gated_gru_variants`):

* an operand replaced: the previous cell state by ones (the forget gate's gradient without ``c_{t-1}``), the
  incoming cell gradient by zeros (the path from step t + 1 dropped), the forget gate by one (the carried cell
  gradient not scaled by it), the gate blocks read in another order;
* one gate's share rescaled: the weights masked to one gate block give that block's share of every output,
  and a block's share is linear in the gradient that drives it (the cell's total gradient for i, f, g; the
  hidden state's for o, z and n), so calling rnngrad with that driving gradient times a ratio gives the share
  of a mistaken slope (σ' and tanh' swapped, the output gate reading the cell state unsquashed).

Only the loop that chains the steps of a sequence lives here (as in :mod:`autograder.specs._variants`), so the
variant with no mutation equals the reference (a test checks it).

    >>> import numpy as np
    >>> from rnngrad import lstm_step_forward, lstm_step_backward
    >>> rng = np.random.default_rng(0)
    >>> x, h, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
    >>> _, c, gates = lstm_step_forward(x, h, c0, W_x, W_h, np.zeros(16))
    >>> dh, dc = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    >>> args = (dh, dc, x, h, c0, c, gates, W_x, W_h)
    >>> ok = lstm_step(*args, mutation="rescaled")   # every ratio 1: the reference
    >>> bool(np.allclose(ok["W_h"], lstm_step_backward(*args)["W_h"]))
    True
"""
from __future__ import annotations

import numpy as np

from ._variants import WRONG_SLOPES

__all__ = ["LSTM_STEP_MUTATIONS", "LSTM_SEQUENCE_MUTATIONS",
           "lstm_step", "lstm_sequence", "form_ratio", "WRONG_FORMS"]

#: the LSTM's gate blocks as the problem set states them, and their activations
LSTM_GATES = ("i", "f", "g", "o")
LSTM_ACTIVATIONS = ("sigmoid", "sigmoid", "tanh", "sigmoid")
#: each activation's slope as a mistake writes it with some value s: at the wrong place, or for the other one
_SLOPE_OF = {"tanh": lambda s: 1.0 - s * s, "sigmoid": lambda s: s * (1.0 - s)}
_OTHER_SLOPE = {"sigmoid": _SLOPE_OF["tanh"], "tanh": _SLOPE_OF["sigmoid"]}
#: slopes written wrong (of :data:`autograder.specs._variants.WRONG_SLOPES`: a factor of the slope left out or
#: its sign flipped), as mutation forms
WRONG_FORMS = ("slope:negated", "slope:one_minus_output", "slope:output")

#: LSTM step mutation -> the class it is shown as. ``<form>@<blocks>`` rescales the share of each named block
#: (the gates i, f, g, o, and c: the hidden state's share of the cell's gradient) as :func:`_form_ratio` says
LSTM_STEP_MUTATIONS = {
    "partner@f": "forget_without_previous_cell",
    "partner@i": "gate_partner_missing",
    "partner@g": "gate_partner_missing",
    "partner@o": "gate_partner_missing",
    "partner@c": "cell_share_incomplete",
    "drop@c": "cell_share_incomplete",
    **{f"drop@{k}": "gate_path_missing" for k in "ifgo"},
    **{f"upstream@{k}": "missing_upstream" for k in "ifgoc"},
    **{f"slope_only@{k}": "missing_upstream" for k in "ifgoc"},
    "preactivation@c": "preactivation_derivative",
    "forget_reads_new_cell": "off_by_one",
    "cell_carry_dropped": "missing_cell_path",
    "cell_not_through_forget": "cell_gradient_skips_forget",
    "upstream@carry": "missing_upstream",
    "output_reads_cell": "output_gate_reads_cell",
    "swap@ifgoc": "swapped_derivative",
    "swap@ifgo": "swapped_derivative",
    **{f"swap@{k}": "swapped_derivative" for k in "ifgoc"},
    "slope_missing@ifgo": "missing_diag",
    **{f"slope_missing@{k}": "missing_diag" for k in "ifgoc"},
    **{f"{form}@{k}": "wrong_slope" for form in WRONG_FORMS for k in "ifgoc"},
    "order:ifog": "gate_order",
    "order:igfo": "gate_order",
    "order:figo": "gate_order",
}
#: LSTM sequence mutation -> class: every step mutation, and the ways the steps are chained wrong
LSTM_SEQUENCE_MUTATIONS = {
    **LSTM_STEP_MUTATIONS,
    "hidden_carry_dropped": "missing_hidden_path",
    "not_accumulated": "not_accumulated",
    "off_by_one": "off_by_one",
    "cell_state_shift": "off_by_one",
    "cell_state_shift_after_first": "off_by_one",
    "hidden_state_shift_after_first": "off_by_one",
    "squashed_previous_cell": "off_by_one",
    "wrong_direction": "wrong_direction",
    "missing_step": "missing_step",
}
def form_ratio(form: str, activation: str, s: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """A block's mistaken share over its right one, elementwise: the block's gate (activation output) is ``s``
    and ``partner`` is what the gate multiplies in the forward pass.

    Forms: ``swap`` (the other activation's slope), ``slope_missing`` (no slope), a name of
    :data:`WRONG_FORMS` (a slope written wrong), ``partner`` (the partner left out), ``drop`` (the share left
    out), ``sign`` (the share negated).
    """
    from rnngrad.extras import activation_derivative_from_output
    if form == "drop":
        return np.zeros_like(s)
    if form == "sign":
        return -np.ones_like(s)
    if form == "partner":
        return np.divide(1.0, partner, out=np.ones_like(partner), where=partner != 0)
    right = activation_derivative_from_output(activation, s)
    wrong = {"swap": lambda: _OTHER_SLOPE[activation](s), "slope_missing": lambda: np.ones_like(s)}.get(
        form, lambda: WRONG_SLOPES[form](s, right))()
    return np.divide(wrong, right, out=np.ones_like(right), where=right != 0)


def _blocks(take, H: int) -> np.ndarray:
    """Column indices of the gate blocks ``take`` (block numbers) of width H, in that order."""
    return np.concatenate([np.arange(k * H, (k + 1) * H) for k in take])


def _order(belief: str, stated) -> np.ndarray:
    """Block numbers: for each stated gate, the block where a student who believes ``belief`` reads it."""
    return np.array([belief.index(name) for name in stated])


def _masked(W: np.ndarray, k: int, H: int) -> np.ndarray:
    """W with every gate block but block k set to zero."""
    out = np.zeros_like(W)
    out[:, k * H:(k + 1) * H] = W[:, k * H:(k + 1) * H]
    return out


def _with_block(gates: np.ndarray, k: int, H: int, value: float) -> np.ndarray:
    out = gates.copy()
    out[..., k * H:(k + 1) * H] = value
    return out


# -- the LSTM step -------------------------------------------------------------------------------

def _lstm_rescaled(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h, gate_ratio=None, cell_ratio=None,
                   skip_forget=False, unit_driver="") -> dict:
    """rnngrad's step with each gate block's share scaled by ``gate_ratio`` (N, 4H) and the hidden state's share
    of the cell gradient by ``cell_ratio`` (N, H); ``skip_forget``: the carried cell gradient not scaled by f;
    ``unit_driver``: the blocks (of "ifgoc") whose share is driven by ones instead of its incoming gradient."""
    from rnngrad.lstm import lstm_step_backward as step
    H = c.shape[-1]
    zero, ones = np.zeros_like(dc), np.ones_like(dc)
    open_forget = _with_block(gates, 1, H, 1.0)
    from_h = step(dh, zero, x, h_prev, c_prev, c, open_forget, W_x, W_h)["c_prev"]   # dh's share of the cell's
    cell_share = step(ones, zero, x, h_prev, c_prev, c, open_forget, W_x, W_h)["c_prev"] if "c" in unit_driver \
        else from_h
    total = dc + (cell_share if cell_ratio is None else cell_share * cell_ratio)
    ratio = np.ones(gates.shape) if gate_ratio is None else gate_ratio
    drivers = [ones if name in unit_driver else (total if k < 3 else dh) for k, name in enumerate(LSTM_GATES)]
    out = {"x": 0.0, "h_prev": 0.0, "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(4 * H)}
    for k in range(4):
        cols = slice(k * H, (k + 1) * H)
        if k < 3:      # driven by the cell's total gradient: rnngrad adds dh's share to the dc it is given
            part = step(dh, drivers[k] * ratio[:, cols] - from_h, x, h_prev, c_prev, c, gates,
                        _masked(W_x, k, H), _masked(W_h, k, H))
        else:          # the output gate: driven by dh alone
            part = step(drivers[k] * ratio[:, cols], dc, x, h_prev, c_prev, c, gates, _masked(W_x, k, H),
                        _masked(W_h, k, H))
        out["x"] = out["x"] + part["x"]
        out["h_prev"] = out["h_prev"] + part["h_prev"]
        for key in ("W_x", "W_h", "b"):
            out[key][..., cols] = part[key][..., cols]
    out["c_prev"] = step(dh, total - from_h, x, h_prev, c_prev, c, open_forget if skip_forget else gates,
                         W_x, W_h)["c_prev"]
    return {key: out[key] for key in ("x", "h_prev", "c_prev", "W_x", "W_h", "b")}


def _lstm_ratios(mutation: str, c_prev: np.ndarray, c: np.ndarray, gates: np.ndarray):
    """(gate_ratio (N, 4H) or None, cell_ratio (N, H) or None) of a rescaling mutation."""
    H = c.shape[-1]
    tau = np.tanh(c)
    gate_ratio = np.ones(gates.shape)
    if mutation == "rescaled":
        return gate_ratio, np.ones_like(c)
    if mutation == "output_reads_cell":     # the output gate's share reads c where tanh(c) belongs
        gate_ratio[:, 3 * H:] = np.divide(c, tau, out=np.ones_like(c), where=tau != 0)
        return gate_ratio, None
    form, _, names = mutation.partition("@")
    if form == "upstream":
        return None, None
    if form == "slope_only":        # the slope alone: no incoming gradient (see unit_driver), no partner
        form = "partner"
    value = {name: gates[:, k * H:(k + 1) * H] for k, name in enumerate(LSTM_GATES)}
    partner = {"i": value["g"], "f": c_prev, "g": value["i"], "o": tau, "c": value["o"]}
    if form == "preactivation":     # the cell's tanh slope written with c itself, not with tanh(c)
        return gate_ratio, _SLOPE_OF["tanh"](c) * form_ratio("slope_missing", "tanh", tau, tau)
    cell_ratio = form_ratio(form, "tanh", tau, partner["c"]) if "c" in names else None
    for k, (name, act) in enumerate(zip(LSTM_GATES, LSTM_ACTIVATIONS)):
        if name in names:
            gate_ratio[:, k * H:(k + 1) * H] = form_ratio(form, act, value[name], partner[name])
    return gate_ratio, cell_ratio


def lstm_step(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h, mutation=None) -> dict:
    """rnngrad's LSTM step backward (:func:`rnngrad.lstm.lstm_step_backward`) with one optional mutation.

    Args: as :func:`rnngrad.lstm.lstm_step_backward`; ``mutation`` None or one of :data:`LSTM_STEP_MUTATIONS`.
    Returns: the dict ``x, h_prev, c_prev, W_x, W_h, b``.
    """
    from rnngrad.lstm import lstm_step_backward as step
    H = c.shape[-1]
    if mutation is None:
        return step(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h)
    if mutation == "partner@f":     # the forget gate's gradient without the previous cell state
        return step(dh, dc, x, h_prev, np.ones_like(c_prev), c, gates, W_x, W_h)
    if mutation == "forget_reads_new_cell":
        return step(dh, dc, x, h_prev, c, c, gates, W_x, W_h)
    if mutation == "cell_carry_dropped":
        return step(dh, np.zeros_like(dc), x, h_prev, c_prev, c, gates, W_x, W_h)
    if mutation == "cell_not_through_forget":
        return _lstm_rescaled(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h, skip_forget=True)
    if mutation == "upstream@carry":       # what goes back to c_prev without the cell's gradient
        ones = np.ones_like(dc)
        return {**step(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h),
                "c_prev": step(np.zeros_like(dh), ones, x, h_prev, c_prev, c, gates, W_x, W_h)["c_prev"]}
    if mutation.startswith("order:"):
        take = _blocks(_order(mutation[6:], LSTM_GATES), H)
        out = step(dh, dc, x, h_prev, c_prev, c, gates[:, take], W_x[:, take], W_h[:, take])
        back = np.argsort(take)
        return {**out, **{key: out[key][..., back] for key in ("W_x", "W_h", "b")}}
    gate_ratio, cell_ratio = _lstm_ratios(mutation, c_prev, c, gates)
    unit_driver = mutation.partition("@")[2] if mutation.startswith(("upstream@", "slope_only@")) else ""
    return _lstm_rescaled(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h, gate_ratio, cell_ratio,
                          unit_driver=unit_driver)


def lstm_sequence(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h, mutation=None) -> dict:
    """LSTM back-propagation through time, step by step with :func:`lstm_step`, with one optional mutation.

    Args: as :func:`rnngrad.lstm.lstm_backward`; ``mutation`` None or one of :data:`LSTM_SEQUENCE_MUTATIONS`.
    Returns: the dict ``xs, h0, c0, W_x, W_h, b``.
    """
    T = len(xs)
    in_step = mutation if mutation in LSTM_STEP_MUTATIONS else None
    out = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(W_h.shape[1])}
    dh, dc = np.zeros_like(h0), np.zeros_like(c0)
    order = range(T) if mutation == "wrong_direction" else range(T - 1, -1, -1)
    if mutation == "missing_step":      # the loop stops one step short (the last step is skipped)
        order = range(T - 2, -1, -1)
    carried_h, carried_c = dh, dc
    for t in order:
        h_prev, c_prev = (h0, c0) if t == 0 else (hs[t - 1], cs[t - 1])
        if mutation == "off_by_one":
            h_prev, c_prev = hs[t], cs[t]
        if mutation == "cell_state_shift" or (mutation == "cell_state_shift_after_first" and t > 0):
            c_prev = cs[t]
        if mutation == "hidden_state_shift_after_first" and t > 0:
            h_prev = hs[t]
        c_read = cs[t - 1] if mutation == "squashed_previous_cell" else cs[t]   # python wraps at t = 0
        feed = dhs[t] if mutation == "hidden_carry_dropped" else dhs[t] + dh
        step = lstm_step(feed, dc, xs[t], h_prev, c_prev, c_read, gates[t], W_x, W_h, in_step)
        out["xs"][t] = step["x"]
        for key in ("W_x", "W_h", "b"):
            out[key] = step[key] if mutation == "not_accumulated" else out[key] + step[key]
        carried_h, carried_c = step["h_prev"], step["c_prev"]
        dh = carried_h
        dc = np.zeros_like(c0) if mutation == "cell_carry_dropped" else carried_c
    out["h0"], out["c0"] = carried_h, carried_c
    return {key: out[key] for key in ("xs", "h0", "c0", "W_x", "W_h", "b")}
