"""Mistaken variants of the LSTM's state Jacobian (problem set 6), each made of calls of rnngrad's own function.

:func:`rnngrad.gated_jacobians.lstm_state_jacobian` is called with perturbed operands (the previous cell state,
the forget gate, the gate blocks' order, a block of ``W_h`` transposed), or split into shares and recombined:
a gate block's share is the Jacobian with ``W_h`` masked to that block less the one with ``W_h = 0``, and its
rows scale with a mistaken factor as the step backward's do (:mod:`autograder.specs._gated_variants`). With
no mutation the variant is the reference (a test checks it).

    >>> import numpy as np
    >>> from rnngrad import lstm_step_forward, lstm_state_jacobian
    >>> rng = np.random.default_rng(0)
    >>> x, h, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
    >>> _, c, gates = lstm_step_forward(x, h, c0, W_x, W_h, np.zeros(16))
    >>> ok = state_jacobian(c0, c, gates, W_h, mutation="rescaled")   # every ratio 1: the reference
    >>> bool(np.allclose(ok, lstm_state_jacobian(c0, c, gates, W_h)))
    True
"""
from __future__ import annotations

import numpy as np

from ._gated_variants import LSTM_GATES, LSTM_STEP_MUTATIONS, _blocks, _lstm_ratios, _masked, _order, _with_block

__all__ = ["STATE_JACOBIAN_MUTATIONS", "state_jacobian"]

#: state Jacobian mutation -> class
STATE_JACOBIAN_MUTATIONS = {
    **{m: c for m, c in LSTM_STEP_MUTATIONS.items()
       if m not in ("cell_carry_dropped", "upstream@carry") and not m.startswith(("upstream", "slope_only"))},
    **{f"transposed@{k}": "missing_transpose" for k in ("i", "f", "g", "o", "ifgo")},
    "to_h_missing@top_left": "cell_share_incomplete",
    "to_h_missing@top_right": "cell_share_incomplete",
    "cell_not_through_forget@top_right": "cell_gradient_skips_forget",
    "cell_column_missing": "missing_cell_path",
    "hidden_path_through_cell_missing": "hidden_path_through_cell_missing",
}


def state_jacobian(c_prev, c, gates, W_h, mutation=None) -> np.ndarray:
    """rnngrad's (N, 2H, 2H) state Jacobian (:func:`rnngrad.gated_jacobians.lstm_state_jacobian`), mutated.

    A gate block's share is the Jacobian with ``W_h`` masked to that block less the one with ``W_h = 0``; its
    rows (of h and of c alike) scale with that gate's slope, and the rows of h with the cell's tanh slope.
    """
    from rnngrad.gated_jacobians import lstm_state_jacobian as jac
    H = c.shape[-1]
    if mutation is None:
        return jac(c_prev, c, gates, W_h)
    if mutation == "partner@f":
        return jac(np.ones_like(c_prev), c, gates, W_h)
    if mutation == "forget_reads_new_cell":
        return jac(c, c, gates, W_h)
    if mutation.startswith("order:"):
        take = _blocks(_order(mutation[6:], LSTM_GATES), H)
        return jac(c_prev, c, gates[:, take], W_h[:, take])
    if mutation.startswith("transposed@"):      # a square block of W_h used in its forward orientation
        W = W_h.copy()
        for k in (LSTM_GATES.index(name) for name in mutation[11:]):
            W[:, k * H:(k + 1) * H] = W_h[:, k * H:(k + 1) * H].T
        return jac(c_prev, c, gates, W)
    J = jac(c_prev, c, gates, W_h)
    if mutation == "to_h_missing@top_right":    # the cell path into h without the cell's share factor
        J[..., :H, H:] = J[..., H:, H:]
        return J
    if mutation == "cell_not_through_forget@top_right":
        J[..., :H, H:] = jac(c_prev, c, _with_block(gates, 1, H, 1.0), W_h)[..., :H, H:]
        return J
    if mutation in ("cell_not_through_forget", "cell_column_missing"):
        wrong = jac(c_prev, c, _with_block(gates, 1, H, 1.0 if mutation == "cell_not_through_forget" else 0.0), W_h)
        J[..., H:] = wrong[..., H:]
        return J
    base = jac(c_prev, c, gates, np.zeros_like(W_h))
    shares = [jac(c_prev, c, gates, _masked(W_h, k, H)) - base for k in range(4)]
    if mutation == "hidden_path_through_cell_missing":
        J[..., :H, :H] = shares[3][..., :H, :H]
        return J
    if mutation == "to_h_missing@top_left":     # the cell's share factor read off the cell column's diagonals
        to_h = np.divide(np.diagonal(J[..., :H, H:], axis1=-2, axis2=-1), np.diagonal(J[..., H:, H:], axis1=-2,
                         axis2=-1))
        through_cell = J[..., :H, :H] - shares[3][..., :H, :H]
        J[..., :H, :H] = shares[3][..., :H, :H] + np.divide(through_cell, to_h[..., None],
                                                            out=through_cell.copy(), where=to_h[..., None] != 0)
        return J
    gate_ratio, cell_ratio = _lstm_ratios(mutation, c_prev, c, gates)
    cell_rows = np.ones(c.shape[:-1] + (2 * H,))
    if cell_ratio is not None:
        cell_rows[..., :H] = cell_ratio
    out = base.copy()                                # the cell path: only its rows of h carry the tanh slope
    out[..., :H, H:] *= cell_rows[..., :H, None]
    for k in range(4):
        rows = np.tile(gate_ratio[:, k * H:(k + 1) * H], 2) * (cell_rows if k < 3 else 1.0)
        out = out + rows[..., None] * shares[k]
    return out
