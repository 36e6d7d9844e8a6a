"""Mistaken variants of the GRU's step backward (problem set 6), each made of calls of rnngrad's own step backward.

:func:`rnngrad.gru.gru_step_backward` is called with perturbed operands (the gate blocks in another order, the
update gate's complement, the other placement of the reset gate) or split into the paths of the gradient and
recombined: the direct path from the previous state (rnngrad with ``W_h = 0``), the update gate's share and the
reset gate's share (the difference made by masking their weight blocks to zero) and the candidate's (the
rest). Each share is linear in ``dh`` unit by unit, so rnngrad called with ``dh`` times a ratio gives the share
of a mistaken slope or factor (see :func:`autograder.specs._gated_variants.form_ratio`). The reset gate's
share is rescaled in torch's form only (in Cho's form its units are not ``dh``'s). With no mutation the
variant is the reference (a test checks it).

    >>> import numpy as np
    >>> from rnngrad import gru_step_forward, gru_step_backward
    >>> rng = np.random.default_rng(0)
    >>> x, h = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    >>> W_x, W_h, b_hn = rng.normal(size=(3, 12)), rng.normal(size=(4, 12)), rng.normal(size=4)
    >>> _, gates = gru_step_forward(x, h, W_x, W_h, np.zeros(12), b_hn)
    >>> dh = rng.normal(size=(2, 4))
    >>> ok = gru_step(dh, x, h, gates, W_x, W_h, b_hn, mutation="rescaled")
    >>> bool(np.allclose(ok["W_h"], gru_step_backward(dh, x, h, gates, W_x, W_h, b_hn)["W_h"]))
    True
"""
from __future__ import annotations

import numpy as np

from ._gated_variants import WRONG_FORMS, form_ratio

__all__ = ["GRU_MUTATIONS", "gru_mutations", "gru_step"]

#: the GRU's gate blocks (torch's order) and their activations
GRU_GATES = ("r", "z", "n")
GRU_ACTIVATIONS = {"r": "sigmoid", "z": "sigmoid", "n": "tanh"}

#: GRU step mutation -> the class it is shown as (``<form>@<blocks>`` as for the LSTM; r in torch's form only)
GRU_MUTATIONS = {
    "order:zrn": "gate_order",
    "order:rnz": "gate_order",
    "order:nzr": "gate_order",
    "z_convention": "update_gate_convention",
    "missing_direct_path": "missing_direct_path",
    "other_placement": "reset_placement",
    "swap@zn": "swapped_derivative",
    "swap@rzn": "swapped_derivative",
    **{f"swap@{k}": "swapped_derivative" for k in "rzn"},
    **{f"slope_missing@{k}": "missing_diag" for k in "rzn"},
    **{f"{form}@{k}": "wrong_slope" for form in WRONG_FORMS for k in "rzn"},
    "partner@z": "gate_partner_missing",
    "partner@n": "gate_partner_missing",
    "sign@z": "gate_sign",
    "sign@n": "gate_sign",
    "sign@r": "gate_sign",
    "partner@u": "gate_partner_missing",
    "upstream@z": "missing_upstream",
    "upstream@n": "missing_upstream",
    "slope_only@z": "missing_upstream",
    "slope_only@n": "missing_upstream",
    "direct_ungated": "direct_path_ungated",
    **{f"path_missing@{k}": "gate_path_missing" for k in "rzn"},
    **{f"transposed@{k}": "missing_transpose" for k in "rzn"},
    "bias_missing@u": "recurrent_part_wrong",
    "product_missing@u": "recurrent_part_wrong",
    "partner@r": "gate_partner_missing",
    "gate_paths_missing": "gate_path_missing",
    **{f"identity@{k}": "missing_factor" for k in "rzn"},
    "partner@wn": "reset_placement",
}

#: mutations of one form only: torch's recurrent part and the reset gate's share of several slopes at once, and
#: Cho's W_hn (in torch's form it also makes the recurrent part the reset gate reads)
_TORCH_ONLY = ("bias_missing@u", "product_missing@u", "swap@rzn")
_CHO_ONLY = ("transposed@n", "identity@n", "partner@wn")

_KEYS = ("x", "h_prev", "W_x", "W_h", "b", "b_hn")


def gru_mutations(variant: str) -> dict[str, str]:
    """The mutations of :data:`GRU_MUTATIONS` that apply to the GRU in ``variant``'s form ("torch" or "cho")."""
    other = _CHO_ONLY if variant == "torch" else _TORCH_ONLY
    return {m: c for m, c in GRU_MUTATIONS.items() if m not in other}


def _keep(H: int, masked: str) -> np.ndarray:
    """(3H,) ones with the blocks of the gates in ``masked`` set to zero (to mask their weights)."""
    keep = np.ones(3 * H)
    for name in masked:
        k = GRU_GATES.index(name)
        keep[k * H:(k + 1) * H] = 0.0
    return keep


def _reset_open(gates, H):
    """``gates`` with the reset gate's block set to one."""
    out = gates.copy()
    out[..., :H] = 1.0
    return out


def _rescaled(run, dh, W_x, W_h, H, ratio: dict, unit_driver: str = "") -> dict:
    """The step with the shares of the update gate (z), the candidate (n; its recurrent part u on its own) and the
    reset gate (r, torch's form) scaled by ``ratio`` (N, H) each, or driven by ones (``unit_driver``)."""
    ones = np.ones_like(dh)
    dz = (ones if "z" in unit_driver else dh) * ratio["z"]
    dn = (ones if "n" in unit_driver else dh) * ratio["n"]
    no_z, no_zr = _keep(H, "z"), _keep(H, "zr")
    full_z, masked_z = run(dz), run(dz, W_x=W_x * no_z, W_h=W_h * no_z)
    full_r, masked_r = (run(dn * ratio["r"], W_x=W_x * w, W_h=W_h * w) for w in (no_z, no_zr))
    rest, rest_u = run(dn, W_x=W_x * no_zr, W_h=W_h * no_zr), run(dn * ratio["u"], W_x=W_x * no_zr, W_h=W_h * no_zr)

    def direct(v):
        return run(v, W_h=np.zeros_like(W_h))["h_prev"]
    out = {"x": full_z["x"] - masked_z["x"] + full_r["x"] - masked_r["x"] + rest["x"],
           "h_prev": (full_z["h_prev"] - masked_z["h_prev"] + full_r["h_prev"] - masked_r["h_prev"]
                      + rest_u["h_prev"] - direct(dn * ratio["u"]) + direct(dh))}
    for key in ("W_x", "W_h", "b"):
        out[key] = rest[key].copy()
        out[key][..., :H] = full_r[key][..., :H]
        out[key][..., H:2 * H] = full_z[key][..., H:2 * H]
    out["W_h"][..., 2 * H:] = rest_u["W_h"][..., 2 * H:]
    out["b_hn"] = rest_u["b_hn"]
    return {key: out[key] for key in _KEYS}


def _cho_reset_scaled(step, dh, x, h_prev, gates, W_x, W_h, b_hn, ratio) -> dict:
    """Cho's form with the reset gate's share scaled by ``ratio`` (N, H), one example at a time: scaling the rows
    of ``W_hn`` scales what reaches ``r ⊙ h`` unit by unit; its other use is put back from the unscaled call."""
    H = h_prev.shape[-1]
    out = {key: [] for key in ("x", "h_prev")}
    params = {key: 0.0 for key in ("W_x", "W_h", "b", "b_hn")}
    for n in range(len(dh)):
        rows = slice(n, n + 1)

        def run(W):
            return step(dh[rows], x[rows], h_prev[rows], gates[rows], W_x, W, b_hn, variant="cho")
        scaled = W_h.copy()
        scaled[:, 2 * H:] *= ratio[n][:, None]
        right, wrong = run(W_h), run(scaled)
        through_reset = [run(W * _keep(H, "zr"))["h_prev"] for W in (W_h, scaled)]   # (direct and r ⊙ h) paths
        out["x"].append(wrong["x"])
        out["h_prev"].append(wrong["h_prev"] - through_reset[1] + through_reset[0])
        for key in params:
            params[key] = params[key] + wrong[key]
        params["W_h"][..., 2 * H:] += right["W_h"][..., 2 * H:] - wrong["W_h"][..., 2 * H:]
    return {"x": np.concatenate(out["x"]), "h_prev": np.concatenate(out["h_prev"]), **params}


def gru_step(dh, x, h_prev, gates, W_x, W_h, b_hn, variant="torch", mutation=None) -> dict:
    """rnngrad's GRU step backward (:func:`rnngrad.gru.gru_step_backward`) with one optional mutation.

    Args: as :func:`rnngrad.gru.gru_step_backward`; ``mutation`` None, ``"rescaled"`` (every ratio 1) or one
    of :data:`GRU_MUTATIONS`.
    Returns: the dict ``x, h_prev, W_x, W_h, b, b_hn``, or None for a mutation of the reset gate's share in
    Cho's form.
    """
    from rnngrad.gru import gru_step_backward as step
    H = h_prev.shape[-1]

    def run(v, gates=gates, W_x=W_x, W_h=W_h, variant=variant):
        return step(v, x, h_prev, gates, W_x, W_h, b_hn, variant=variant)
    if mutation is None:
        return run(dh)
    if mutation == "other_placement":
        return run(dh, variant="cho" if variant == "torch" else "torch")
    if mutation == "missing_direct_path":
        out = run(dh)
        return {**out, "h_prev": out["h_prev"] - run(dh, W_h=np.zeros_like(W_h))["h_prev"]}
    if mutation == "direct_ungated":     # the direct path not scaled by the update gate
        out = run(dh)
        return {**out, "h_prev": out["h_prev"] - run(dh, W_h=np.zeros_like(W_h))["h_prev"] + dh}
    if mutation.startswith("path_missing@"):   # one gate's path to the previous state left out
        out = run(dh)
        keep = _keep(H, mutation[-1])
        return {**out, "h_prev": run(dh, W_h=W_h * keep)["h_prev"] if mutation[-1] != "n" else
                out["h_prev"] - run(dh, W_h=W_h * _keep(H, "rz"))["h_prev"] + run(dh, W_h=np.zeros_like(W_h))["h_prev"]}
    if mutation == "gate_paths_missing":       # the previous state's gradient: the direct path alone
        return {**run(dh), "h_prev": run(dh, W_h=np.zeros_like(W_h))["h_prev"]}
    if mutation == "partner@wn":               # Cho's W_hn gradient read from h_prev, not from r ⊙ h_prev
        if variant != "cho":
            return None
        out = run(dh)
        out["W_h"][:, 2 * H:] = run(dh, gates=_reset_open(gates, H))["W_h"][:, 2 * H:]
        return out
    if mutation == "product_missing@u":        # torch: the reset gate reads the recurrent part's bias alone
        if variant != "torch":
            return None
        W_u = W_h * _keep(H, "n")
        no_z, no_zr = _keep(H, "z"), _keep(H, "zr")
        out = run(dh)
        right = [run(dh, W_x=W_x * w, W_h=W_h * w) for w in (no_z, no_zr)]
        wrong = [run(dh, W_x=W_x * w, W_h=W_u * w) for w in (no_z, no_zr)]
        for key in ("x", "h_prev"):
            out[key] = out[key] - (right[0][key] - right[1][key]) + (wrong[0][key] - wrong[1][key])
        for key in ("W_x", "W_h", "b"):
            out[key][..., :H] = wrong[0][key][..., :H]
        return out
    if mutation.startswith("identity@"):       # a block of W_h left out of the product that carries it back
        k = GRU_GATES.index(mutation[-1])
        if k == 2 and variant == "torch":
            return None
        W = W_h.copy()
        W[:, k * H:(k + 1) * H] = np.eye(H)
        return run(dh, W_h=W)
    if mutation.startswith("transposed@"):     # a square block of W_h used in its forward orientation
        k = GRU_GATES.index(mutation[-1])
        if k == 2 and variant == "torch":       # there the block also makes the recurrent part read forward
            return None
        W = W_h.copy()
        W[:, k * H:(k + 1) * H] = W_h[:, k * H:(k + 1) * H].T
        return run(dh, W_h=W)
    if mutation == "bias_missing@u":       # the recurrent part the reset gate reads without its bias
        return None if variant != "torch" else step(dh, x, h_prev, gates, W_x, W_h, np.zeros_like(b_hn))
    if mutation.startswith("order:"):
        take = np.concatenate([np.arange(k * H, (k + 1) * H) for k in (mutation[6:].index(g) for g in GRU_GATES)])
        out = run(dh, gates[:, take], W_x[:, take], W_h[:, take])
        back = np.argsort(take)
        return {**out, **{key: out[key][..., back] for key in ("W_x", "W_h", "b")}}
    if mutation == "z_convention":    # z weighs the candidate: rnngrad with 1 - z, the z block's sign flipped
        flip = _keep(H, "z") * 2.0 - 1.0
        complement = gates.copy()
        complement[:, H:2 * H] = 1.0 - gates[:, H:2 * H]
        out = run(dh, complement, W_x * flip, W_h * flip)
        return {**out, **{key: out[key] * flip for key in ("W_x", "W_h", "b")}}
    ratio = {name: np.ones_like(dh) for name in "rznu"}
    form, _, names = mutation.partition("@")
    value = {name: gates[:, k * H:(k + 1) * H] for k, name in enumerate(GRU_GATES)}
    if "u" in names and variant != "torch":
        if mutation != "partner@u":
            return None
        out = run(dh)                          # Cho: the path through r ⊙ h without r
        direct = run(dh, W_h=np.zeros_like(W_h))["h_prev"]
        through = run(dh, W_h=W_h * _keep(H, "zr"))["h_prev"] - direct
        return {**out, "h_prev": out["h_prev"] - through + through / value["r"]}
    partner = {"z": h_prev - value["n"], "n": 1.0 - value["z"], "u": value["r"],
               "r": h_prev @ W_h[:, 2 * H:] + b_hn if variant == "torch" else h_prev}   # what r scales
    if form == "upstream":
        return _rescaled(run, dh, W_x, W_h, H, ratio, unit_driver=names)
    if form == "slope_only":           # the slope alone: no incoming gradient, no partner
        for name in names:
            ratio[name] = form_ratio("partner", "", value[name], partner[name])
        return _rescaled(run, dh, W_x, W_h, H, ratio, unit_driver=names)
    for name in names:
        ratio[name] = form_ratio(form, GRU_ACTIVATIONS.get(name, "sigmoid"), value.get(name, value["r"]),
                                 partner[name])
    if variant == "cho" and "r" in names:
        if names != "r":
            return None
        return _cho_reset_scaled(step, dh, x, h_prev, gates, W_x, W_h, b_hn, ratio["r"])
    return _rescaled(run, dh, W_x, W_h, H, ratio)
