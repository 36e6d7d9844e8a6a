"""The GRU in the row-vector batch convention, in torch's and in Cho et al.'s form: forward and backward passes.

Parameter layout (``torch.nn.GRU``'s, transposed for row vectors): gate blocks in torch's order r, z, n::

    W_x (D, 3H), W_h (H, 3H), b_hn (H,),
    b (3H,): the input-side biases [b_r, b_z, b_n]
    r = σ(x W_xr + h W_hr + b_r)      z = σ(x W_xz + h W_hz + b_z)
    variant="torch" (reset after the product):
        n = tanh(x W_xn + b_n + r ⊙ (h W_hn + b_hn))
    variant="cho" (reset before it: Cho et al. 2014):
        n = tanh(x W_xn + b_n + (r ⊙ h) W_hn + b_hn)
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}   (torch's convention: z keeps h_{t-1})

where ``W_xr = W_x[:, 0:H]``, ``W_xz = W_x[:, H:2H]``, ``W_xn = W_x[:, 2H:3H]`` and likewise for ``W_h``.
The difference: in torch's form the reset gate scales the finished recurrent contribution ``h W_hn + b_hn``,
so ``b_hn`` is gated too and the product ``h W_hn`` can be computed together with those of r and z; in Cho's
form it scales the state before the product, so ``r ⊙ h`` needs a product of its own after r is known, and
``b_hn`` sits outside the gate where it only adds to ``b_n`` (its gradient equals ``b``'s n block). Some texts
write ``h_t = z ⊙ n + (1 - z) ⊙ h_{t-1}``; that is the same cell with z replaced by 1 - z.

torch's two bias vectors map as: ``b = bias_ih_l0 + [bias_hh_r, bias_hh_z, 0]`` and ``b_hn = bias_hh_n``
(see :mod:`rnngrad.gated_torch_weights`). ``gates`` (N, 3H) holds the activated ``[r, z, n]``.

Backward, with ``dh`` the total gradient reaching ``h_t``: ``dz = dh ⊙ (h_{t-1} - n)``, ``dn = dh ⊙ (1 - z)``,
``da_n = dn ⊙ (1 - n²)``, ``da_z = dz ⊙ z(1-z)`` and ``dh_{t-1} = dh ⊙ z + ...``. torch: the reset gate sees
``u = h_{t-1} W_hn + b_hn``, so ``da_r = da_n ⊙ u ⊙ r(1-r)`` and ``u`` receives ``da_n ⊙ r``. Cho: ``r ⊙ h``
receives ``e = da_n W_hn^T``, so ``da_r = e ⊙ h_{t-1} ⊙ r(1-r)`` and ``h_{t-1}`` gets ``e ⊙ r`` as well.
"""
from __future__ import annotations

import numpy as np

from ._gated_args import checked_gated, checked_sequence, checked_state, checked_variant, numpy_check
from ._validate import Dims
from .lstm import _sigmoid_

__all__ = ["gru_step_forward", "gru_forward", "gru_step_backward", "gru_backward"]

_G = 3      # gate blocks: r, z, n


def _check_params(dims: Dims, W_x, W_h, b=None, b_hn=None):
    out = [checked_gated(numpy_check, dims, "W_x", W_x, ("D", "3H"), _G),
           checked_gated(numpy_check, dims, "W_h", W_h, ("H", "3H"), _G)]
    if b is not None:
        out.append(checked_gated(numpy_check, dims, "b", b, ("3H",), _G))
    out.append(dims.float_array("b_hn", b_hn, ("H",)))
    return out


def _step(xw: np.ndarray, h: np.ndarray, W_h: np.ndarray, b_hn: np.ndarray, variant: str, H: int):
    """One step from the input projection ``xw = x W_x + b`` (N, 3H): returns (h_new, gates)."""
    if variant == "torch":
        hw = h @ W_h
        gates = xw + hw
        gates[:, 2 * H:] = xw[:, 2 * H:]
        _sigmoid_(gates[:, :2 * H])
        gates[:, 2 * H:] += gates[:, :H] * (hw[:, 2 * H:] + b_hn)
    else:
        gates = xw.copy()
        gates[:, :2 * H] += h @ W_h[:, :2 * H]
        _sigmoid_(gates[:, :2 * H])
        gates[:, 2 * H:] += (gates[:, :H] * h) @ W_h[:, 2 * H:] + b_hn
    n = np.tanh(gates[:, 2 * H:], out=gates[:, 2 * H:])
    z = gates[:, H:2 * H]
    return n + z * (h - n), gates


def gru_step_forward(x, h_prev, W_x, W_h, b, b_hn, variant="torch") -> tuple[np.ndarray, np.ndarray]:
    """One GRU step: ``h = (1 - z) ⊙ n + z ⊙ h_prev``, with r's placement in ``n`` chosen by ``variant``.

    Args:
        x: (N, D) inputs of this step.
        h_prev: (N, H) previous hidden state.
        W_x: (D, 3H) input weights, gate blocks r, z, n.
        W_h: (H, 3H) recurrent weights, same blocks.
        b: (3H,) input-side biases, same blocks.
        b_hn: (H,) bias of the recurrent part of the candidate n.
        variant: "torch" (``r ⊙ (h W_hn + b_hn)``) or "cho" (``(r ⊙ h) W_hn + b_hn``).

    Returns:
        ``(h, gates)``: h (N, H) and the activated gates (N, 3H) ``[r, z, n]``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 3))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12))
        >>> args = (x, np.zeros((2, 4)), W_x, W_h, np.zeros(12), np.zeros(4))
        >>> h_torch, _ = gru_step_forward(*args, variant="torch")
        >>> h_cho, gates = gru_step_forward(*args, variant="cho")
        >>> # from h_prev = 0 with b_hn = 0 the two agree
        >>> bool(np.allclose(h_torch, h_cho))
        True
    """
    variant = checked_variant(variant)
    dims = Dims()
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = checked_state(numpy_check, dims, "h_prev", h_prev, "x", x)
    W_x, W_h, b, b_hn = _check_params(dims, W_x, W_h, b, b_hn)
    return _step(x @ W_x + b, h_prev, W_h, b_hn, variant, dims["H"])


def gru_forward(xs, h0, W_x, W_h, b, b_hn, variant="torch") -> tuple[np.ndarray, np.ndarray]:
    """All hidden states of a GRU over a time-major sequence: :func:`gru_step_forward` for t = 1..T.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial hidden state.
        W_x: (D, 3H) input weights, gate blocks r, z, n.
        W_h: (H, 3H) recurrent weights.
        b: (3H,) input-side biases.
        b_hn: (H,) bias of the recurrent part of the candidate.
        variant: "torch" or "cho" (see the module docstring).

    Returns:
        ``(hs, gates)``: hs (T, N, H), ``hs[t]`` the state after reading ``xs[t]``; gates (T, N, 3H) the
        activated ``[r, z, n]`` of every step.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs, h0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12))
        >>> b, b_hn = np.zeros(12), np.zeros(4)
        >>> hs, gates = gru_forward(xs, h0, W_x, W_h, b, b_hn, variant="cho")
        >>> hs.shape, gates.shape
        ((5, 2, 4), (5, 2, 12))
        >>> h1, _ = gru_step_forward(xs[0], h0, W_x, W_h, b, b_hn,
        ...                          variant="cho")
        >>> bool(np.allclose(hs[0], h1))
        True
    """
    variant = checked_variant(variant)
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(numpy_check, dims, "h0", h0, "xs", xs)
    W_x, W_h, b, b_hn = _check_params(dims, W_x, W_h, b, b_hn)
    T, N, H = dims["T"], dims["N"], dims["H"]
    xw = xs @ W_x + b
    hs, gates = np.empty((T, N, H)), np.empty((T, N, _G * H))
    h = h0
    for t in range(T):
        h, gates[t] = _step(xw[t], h, W_h, b_hn, variant, H)
        hs[t] = h
    return hs, gates


def _local_factors(h_prev, gates, W_h, b_hn, variant, H):
    """Step-local factors of every step (any leading axes) for the backward pass.

    Returns ``(k_in, k_rec, r_h)``: ``da = dh * k_in`` block by block ([r, z, n], the r block only for
    torch's form), ``k_rec`` the n block of the gradient reaching ``h W_hn + b_hn`` per unit of ``dh``
    (torch) and ``r_h = r ⊙ h_prev`` (Cho).
    """
    r, z, n = gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:]
    k_in = np.empty(gates.shape)
    k_in[..., H:2 * H] = (h_prev - n) * z * (1.0 - z)             # da_z / dh
    k_in[..., 2 * H:] = (1.0 - z) * (1.0 - n * n)                  # da_n / dh
    if variant == "torch":
        u = h_prev @ W_h[:, 2 * H:] + b_hn                          # the recurrent part of n, before r
        k_in[..., :H] = k_in[..., 2 * H:] * u * r * (1.0 - r)       # da_r / dh
        return k_in, k_in[..., 2 * H:] * r, None
    k_in[..., :H] = h_prev * r * (1.0 - r)                          # da_r / e, with e = da_n W_hn^T
    return k_in, None, r * h_prev


def gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn, variant="torch") -> dict:
    """Gradients of one GRU step given ``dh = dL/dh``: through ``z``, ``n`` and ``r`` (placed as ``variant`` says).

    Args:
        dh: (N, H) gradient of the loss with respect to this step's output ``h``.
        x: (N, D) inputs of the step.
        h_prev: (N, H) previous hidden state.
        gates: (N, 3H) activated ``[r, z, n]`` from :func:`gru_step_forward`.
        W_x: (D, 3H) input weights.
        W_h: (H, 3H) recurrent weights.
        b_hn: (H,) bias of the recurrent part of the candidate.
        variant: "torch" or "cho", as in the forward pass.

    Returns:
        dict with keys ``"x"`` (N, D), ``"h_prev"`` (N, H), ``"W_x"`` (D, 3H), ``"W_h"`` (H, 3H), ``"b"`` (3H,),
        ``"b_hn"`` (H,): gradients of the loss, each with the shape of its argument.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, h_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12))
        >>> b, b_hn = rng.normal(size=12), rng.normal(size=4)
        >>> h, gates = gru_step_forward(x, h_prev, W_x, W_h, b, b_hn,
        ...                             variant="cho")
        >>> dh = np.ones((2, 4))
        >>> g = gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn,
        ...                       variant="cho")
        >>> # Cho's b_hn only adds to b_n
        >>> bool(np.allclose(g["b_hn"], g["b"][8:]))
        True
    """
    variant = checked_variant(variant)
    dims = Dims()
    dh = dims.float_array("dh", dh, ("N", "H"))
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    gates = checked_gated(numpy_check, dims, "gates", gates, ("N", "3H"), _G)
    W_x, W_h, b_hn = _check_params(dims, W_x, W_h, None, b_hn)
    H = dims["H"]
    k_in, k_rec, r_h = _local_factors(h_prev, gates, W_h, b_hn, variant, H)
    z = gates[:, H:2 * H]
    da = np.tile(dh, _G) * k_in
    if variant == "torch":
        da_rec = np.concatenate([da[:, :2 * H], dh * k_rec], axis=1)      # what reaches h W_h (+ b_hn)
        dh_prev = dh * z + da_rec @ W_h.T
        dW_h, db_hn = h_prev.T @ da_rec, da_rec[:, 2 * H:].sum(axis=0)
    else:
        e = da[:, 2 * H:] @ W_h[:, 2 * H:].T                             # what reaches r ⊙ h
        da[:, :H] = k_in[:, :H] * e
        dh_prev = dh * z + e * gates[:, :H] + da[:, :2 * H] @ W_h[:, :2 * H].T
        dW_h = np.concatenate([h_prev.T @ da[:, :2 * H], r_h.T @ da[:, 2 * H:]], axis=1)
        db_hn = da[:, 2 * H:].sum(axis=0)
    return {"x": da @ W_x.T, "h_prev": dh_prev, "W_x": x.T @ da, "W_h": dW_h, "b": da.sum(axis=0), "b_hn": db_hn}


def gru_backward(dhs, xs, h0, hs, gates, W_x, W_h, b_hn, dh_T=None, variant="torch") -> dict:
    """Back-propagation through time for the GRU: ``dh_{t-1} = dh_t ⊙ z_t + (gate gradients) W_h^T``.

    ``dhs[t]`` is the part of ``dL/dh_t`` that reaches ``h_t`` directly; ``dh_T`` reaches the last state from
    after the sequence. The cached ``hs`` and ``gates`` of :func:`gru_forward` are used; in torch's form the
    recurrent part ``h_{t-1} W_hn + b_hn`` of every step is recomputed in one (T*N)-row product before the sweep.

    Args:
        dhs: (T, N, H) direct gradients of the loss with respect to every hidden state.
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial hidden state.
        hs: (T, N, H) hidden states from :func:`gru_forward`.
        gates: (T, N, 3H) activated gates from :func:`gru_forward`.
        W_x: (D, 3H) input weights.
        W_h: (H, 3H) recurrent weights.
        b_hn: (H,) bias of the recurrent part of the candidate.
        dh_T: (N, H) gradient reaching ``h_T`` from after the sequence, or None for zeros.
        variant: "torch" or "cho", as in the forward pass.

    Returns:
        dict with keys ``"xs"`` (T, N, D), ``"h0"`` (N, H), ``"W_x"`` (D, 3H), ``"W_h"`` (H, 3H), ``"b"`` (3H,),
        ``"b_hn"`` (H,): total gradients of the loss.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs, h0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 12)), rng.normal(size=(4, 12)) / 2
        >>> b, b_hn = rng.normal(size=12), rng.normal(size=4)
        >>> hs, gates = gru_forward(xs, h0, W_x, W_h, b, b_hn)
        >>> dhs = np.zeros_like(hs); dhs[-1] = 1.0  # L = sum of the last state
        >>> g = gru_backward(dhs, xs, h0, hs, gates, W_x, W_h, b_hn)
        >>> eps = 1e-6; b_hn2 = b_hn.copy(); b_hn2[0] += eps
        >>> hs2 = gru_forward(xs, h0, W_x, W_h, b, b_hn2)[0]
        >>> fd = (hs2[-1].sum() - hs[-1].sum()) / eps
        >>> bool(abs(fd - g["b_hn"][0]) < 1e-4)
        True
    """
    variant = checked_variant(variant)
    dims = Dims()
    dhs = dims.float_array("dhs", dhs, ("T", "N", "H"))
    xs = checked_sequence(numpy_check, dims, "xs", xs, ("T", "N", "D"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
    hs = checked_sequence(numpy_check, dims, "hs", hs, ("T", "N", "H"))
    gates = checked_gated(numpy_check, dims, "gates", gates, ("T", "N", "3H"), _G)
    W_x, W_h, b_hn = _check_params(dims, W_x, W_h, None, b_hn)
    dh = np.zeros(h0.shape) if dh_T is None else dims.float_array("dh_T", dh_T, ("N", "H")).copy()
    T, N, D, H = dims["T"], dims["N"], dims["D"], dims["H"]
    if T == 0:
        return {"xs": np.zeros((0, N, D)), "h0": dh, "W_x": np.zeros((D, _G * H)), "W_h": np.zeros((H, _G * H)),
                "b": np.zeros(_G * H), "b_hn": np.zeros(H)}
    h_prev = np.concatenate([h0[None], hs[:-1]])
    das, k_rec, r_h = _local_factors(h_prev, gates, W_h, b_hn, variant, H)   # das: scaled in place below
    z, r = gates[..., H:2 * H], gates[..., :H]
    W_hT = np.ascontiguousarray(W_h.T)
    if variant == "torch":
        da_rec = np.empty((T, N, _G * H))
        for t in range(T - 1, -1, -1):
            dh += dhs[t]
            das[t] *= np.tile(dh, _G)
            da_rec[t, :, :2 * H] = das[t, :, :2 * H]
            np.multiply(dh, k_rec[t], out=da_rec[t, :, 2 * H:])
            dh *= z[t]
            dh += da_rec[t] @ W_hT
        rec = da_rec.reshape(T * N, _G * H)
        dW_h = h_prev.reshape(T * N, H).T @ rec
        db_hn = rec[:, 2 * H:].sum(axis=0)
    else:
        W_hnT, W_hrzT = W_hT[2 * H:], W_hT[:2 * H]
        for t in range(T - 1, -1, -1):
            dh += dhs[t]
            das[t, :, H:] *= np.tile(dh, 2)
            e = das[t, :, 2 * H:] @ W_hnT
            das[t, :, :H] *= e
            dh *= z[t]
            dh += e * r[t] + das[t, :, :2 * H] @ W_hrzT
        flat_n = das[..., 2 * H:].reshape(T * N, H)
        dW_h = np.concatenate([h_prev.reshape(T * N, H).T @ das[..., :2 * H].reshape(T * N, 2 * H),
                               r_h.reshape(T * N, H).T @ flat_n], axis=1)
        db_hn = flat_n.sum(axis=0)
    flat = das.reshape(T * N, _G * H)
    return {"xs": (flat @ W_x.T).reshape(T, N, D), "h0": dh, "W_x": xs.reshape(T * N, D).T @ flat, "W_h": dW_h,
            "b": flat.sum(axis=0), "b_hn": db_hn}
