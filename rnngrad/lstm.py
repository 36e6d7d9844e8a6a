"""The LSTM in the row-vector batch convention: forward and backward passes, one step and through time.

Parameter layout (the one of ``torch.nn.LSTM``, transposed for row vectors): the four gates are stacked
along the last axis in torch's order i, f, g, o, so one product gives every pre-activation::

    a_t = x_t @ W_x + h_{t-1} @ W_h + b
          W_x (D, 4H), W_h (H, 4H), b (4H,), a_t (N, 4H)
    i = σ(a[:, 0:H])          f = σ(a[:, H:2H])
    g = tanh(a[:, 2H:3H])     o = σ(a[:, 3H:4H])
    c_t = f ⊙ c_{t-1} + i ⊙ g       h_t = o ⊙ tanh(c_t)

``W_x`` is torch's ``weight_ih_l0`` transposed, ``W_h`` is ``weight_hh_l0`` transposed and ``b`` is the sum
``bias_ih_l0 + bias_hh_l0`` (see :mod:`rnngrad.gated_torch_weights`). ``gates`` (N, 4H) holds the activated
values ``[i, f, g, o]`` in the same layout; the forward passes return them so the backward passes need no
recomputation.

Backward in one paragraph. Let ``dh`` and ``dc`` be the total gradients reaching ``h_t`` and ``c_t``. With
``τ = tanh(c_t)``, the output gate gets ``do = dh ⊙ τ`` and the cell the total
``dc_t = dc + dh ⊙ o ⊙ (1 - τ²)``; then ``di = dc_t ⊙ g``, ``df = dc_t ⊙ c_{t-1}``, ``dg = dc_t ⊙ i`` and
``dc_{t-1} = dc_t ⊙ f``. Through the activations, ``da = [di ⊙ i(1-i), df ⊙ f(1-f), dg ⊙ (1-g²),
do ⊙ o(1-o)]`` (N, 4H), and the affine map hands back ``da W_x^T`` to ``x_t``, ``da W_h^T`` to ``h_{t-1}``
and ``x_t^T da``, ``h_{t-1}^T da``, ``Σ_n da`` to the parameters, exactly as in :mod:`rnngrad.rnn`. The
cell path ``dc_{t-1} = dc_t ⊙ f`` is element-wise: no weight matrix, no squashing derivative.
"""
from __future__ import annotations

import numpy as np

from ._gated_args import checked_gated, checked_sequence, checked_state, numpy_check
from ._validate import Dims

__all__ = ["lstm_step_forward", "lstm_forward", "lstm_step_backward", "lstm_backward"]

_G = 4      # gate blocks: i, f, g, o


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """σ(a) = (1 + tanh(a/2)) / 2 in place: one ufunc pass, no overflow for any finite a."""
    np.multiply(a, 0.5, out=a)
    np.tanh(a, out=a)
    np.add(a, 1.0, out=a)
    np.multiply(a, 0.5, out=a)
    return a


def _activate_(a: np.ndarray, H: int) -> np.ndarray:
    """Pre-activations (..., 4H) to gate values [σ, σ, tanh, σ], in place."""
    _sigmoid_(a[..., :2 * H])
    np.tanh(a[..., 2 * H:3 * H], out=a[..., 2 * H:3 * H])
    _sigmoid_(a[..., 3 * H:])
    return a


def _check_params(dims: Dims, W_x, W_h, b=None):
    W_x = checked_gated(numpy_check, dims, "W_x", W_x, ("D", "4H"), _G)
    W_h = checked_gated(numpy_check, dims, "W_h", W_h, ("H", "4H"), _G)
    if b is None:
        return W_x, W_h
    return W_x, W_h, checked_gated(numpy_check, dims, "b", b, ("4H",), _G)


def lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One LSTM step: ``c = f ⊙ c_prev + i ⊙ g``, ``h = o ⊙ tanh(c)``, gates from ``x W_x + h_prev W_h + b``.

    Args:
        x: (N, D) inputs of this step.
        h_prev: (N, H) previous hidden state.
        c_prev: (N, H) previous cell state.
        W_x: (D, 4H) input weights, gate blocks i, f, g, o.
        W_h: (H, 4H) recurrent weights, same blocks.
        b: (4H,) bias, same blocks.

    Returns:
        ``(h, c, gates)``: h (N, H), c (N, H) and the activated gates (N, 4H) ``[i, f, g, o]``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 3))
        >>> h_prev, c_prev = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = np.zeros(16)
        >>> h, c, gates = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
        >>> h.shape, c.shape, gates.shape
        ((2, 4), (2, 4), (2, 16))
        >>> i, f, g, o = np.split(gates, 4, axis=1)
        >>> bool(np.allclose(h, o * np.tanh(i * g)))      # c_prev = 0
        True
    """
    dims = Dims()
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = checked_state(numpy_check, dims, "h_prev", h_prev, "x", x)
    c_prev = dims.float_array("c_prev", c_prev, ("N", "H"))
    W_x, W_h, b = _check_params(dims, W_x, W_h, b)
    H = dims["H"]
    gates = _activate_(x @ W_x + h_prev @ W_h + b, H)
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(_G))
    c = f * c_prev + i * g
    return o * np.tanh(c), c, gates


def lstm_forward(xs, h0, c0, W_x, W_h, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All states of an LSTM over a time-major sequence: ``lstm_step_forward`` for t = 1..T.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial hidden state.
        c0: (N, H) initial cell state.
        W_x: (D, 4H) input weights, gate blocks i, f, g, o.
        W_h: (H, 4H) recurrent weights.
        b: (4H,) bias.

    Returns:
        ``(hs, cs, gates)``: hs (T, N, H) and cs (T, N, H) with ``hs[t]``, ``cs[t]`` the states after reading
        ``xs[t]`` (h0, c0 not included), gates (T, N, 4H) the activated ``[i, f, g, o]`` of every step.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(5, 2, 3))
        >>> h0, c0 = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16)) / 2
        >>> b = np.zeros(16)
        >>> hs, cs, gates = lstm_forward(xs, h0, c0, W_x, W_h, b)
        >>> hs.shape, cs.shape, gates.shape
        ((5, 2, 4), (5, 2, 4), (5, 2, 16))
        >>> h1, c1, _ = lstm_step_forward(xs[0], h0, c0, W_x, W_h, b)
        >>> bool(np.allclose(hs[0], h1) and np.allclose(cs[0], c1))
        True
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(numpy_check, dims, "h0", h0, "xs", xs)
    c0 = dims.float_array("c0", c0, ("N", "H"))
    W_x, W_h, b = _check_params(dims, W_x, W_h, b)
    T, N, H = dims["T"], dims["N"], dims["H"]
    gates = xs @ W_x + b            # the input projections of every step in one product, activated below
    hs, cs = np.empty((T, N, H)), np.empty((T, N, H))
    h, c = h0, c0
    for t in range(T):
        a = gates[t]
        a += h @ W_h
        _activate_(a, H)
        c = a[:, H:2 * H] * c + a[:, :H] * a[:, 2 * H:3 * H]
        h = a[:, 3 * H:] * np.tanh(c)
        hs[t], cs[t] = h, c
    return hs, cs, gates


def lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h) -> dict:
    """Gradients of one LSTM step given ``dh = dL/dh`` and ``dc = dL/dc`` (the cell gradient from later steps).

    Implements the paragraph of the module docstring: ``dc_t = dc + dh ⊙ o ⊙ (1 - tanh²c)``,
    ``dc_prev = dc_t ⊙ f`` and ``da = [dc_t g i(1-i), dc_t c_prev f(1-f), dc_t i (1-g²), dh tanh(c) o(1-o)]``.

    Args:
        dh: (N, H) gradient of the loss with respect to this step's ``h``.
        dc: (N, H) gradient with respect to this step's ``c`` other than through ``h`` (zeros for the last step).
        x: (N, D) inputs of the step.
        h_prev: (N, H) previous hidden state.
        c_prev: (N, H) previous cell state.
        c: (N, H) this step's cell state, from :func:`lstm_step_forward`.
        gates: (N, 4H) this step's activated gates ``[i, f, g, o]``, from :func:`lstm_step_forward`.
        W_x: (D, 4H) input weights.
        W_h: (H, 4H) recurrent weights.

    Returns:
        dict with keys ``"x"`` (N, D), ``"h_prev"`` (N, H), ``"c_prev"`` (N, H), ``"W_x"`` (D, 4H),
        ``"W_h"`` (H, 4H), ``"b"`` (4H,): gradients of the loss, each with the shape of its argument.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 3))
        >>> h_prev, c_prev = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = rng.normal(size=16)
        >>> h, c, gates = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
        >>> dh, dc = np.zeros((2, 4)), np.ones((2, 4))     # L = sum(c)
        >>> g = lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates,
        ...                        W_x, W_h)
        >>> bool(np.allclose(g["c_prev"], gates[:, 4:8]))  # dL/dc_prev = f
        True
    """
    dims = Dims()
    dh = dims.float_array("dh", dh, ("N", "H"))
    dc = dims.float_array("dc", dc, ("N", "H"))
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    c_prev = dims.float_array("c_prev", c_prev, ("N", "H"))
    c = dims.float_array("c", c, ("N", "H"))
    gates = checked_gated(numpy_check, dims, "gates", gates, ("N", "4H"), _G)
    W_x, W_h = _check_params(dims, W_x, W_h)
    i, f, g, o = np.split(gates, _G, axis=1)
    tc = np.tanh(c)
    dc_total = dc + dh * o * (1.0 - tc * tc)
    da = np.concatenate([dc_total * g * i * (1.0 - i), dc_total * c_prev * f * (1.0 - f),
                         dc_total * i * (1.0 - g * g), dh * tc * o * (1.0 - o)], axis=1)
    return {"x": da @ W_x.T, "h_prev": da @ W_h.T, "c_prev": dc_total * f,
            "W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}


def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h, dh_T=None, dc_T=None) -> dict:
    """Back-propagation through time for the LSTM: two carried gradients, ``dh`` through ``W_h`` and ``dc ⊙ f``.

    ``dhs[t]`` is the part of ``dL/dh_t`` that reaches ``h_t`` directly (e.g. through an output layer);
    ``dh_T`` and ``dc_T`` are gradients reaching the last states from after the sequence (the next chunk
    of a truncated sweep). The cached ``hs``, ``cs`` and ``gates`` of :func:`lstm_forward` are used; the
    forward pass is not recomputed. All step-local factors (``g i(1-i)``, ``o (1 - tanh² c)``, ...) are
    formed for every step at once before the sweep, which then costs one (N, 4H) @ (4H, H) product and a
    few element-wise operations per step; parameter gradients are single (T*N)-row products after it.

    Args:
        dhs: (T, N, H) direct gradients of the loss with respect to every hidden state.
        xs: (T, N, D) inputs, time-major.
        h0: (N, H) initial hidden state.
        c0: (N, H) initial cell state.
        hs: (T, N, H) hidden states from :func:`lstm_forward`.
        cs: (T, N, H) cell states from :func:`lstm_forward`.
        gates: (T, N, 4H) activated gates from :func:`lstm_forward`.
        W_x: (D, 4H) input weights.
        W_h: (H, 4H) recurrent weights.
        dh_T: (N, H) gradient reaching ``h_T`` from after the sequence, or None for zeros.
        dc_T: (N, H) gradient reaching ``c_T`` from after the sequence, or None for zeros.

    Returns:
        dict with keys ``"xs"`` (T, N, D), ``"h0"`` (N, H), ``"c0"`` (N, H), ``"W_x"`` (D, 4H),
        ``"W_h"`` (H, 4H), ``"b"`` (4H,): total gradients of the loss.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(5, 2, 3))
        >>> h0, c0 = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16)) / 2
        >>> b = rng.normal(size=16)
        >>> hs, cs, gates = lstm_forward(xs, h0, c0, W_x, W_h, b)
        >>> dhs = np.zeros_like(hs); dhs[-1] = 1.0  # L = sum of the last h
        >>> g = lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h)
        >>> sorted(g)
        ['W_h', 'W_x', 'b', 'c0', 'h0', 'xs']
        >>> eps = 1e-6; b2 = b.copy(); b2[0] += eps  # a finite difference on b
        >>> hs2 = lstm_forward(xs, h0, c0, W_x, W_h, b2)[0]
        >>> fd = (hs2[-1].sum() - hs[-1].sum()) / eps
        >>> bool(abs(fd - g["b"][0]) < 1e-4)
        True
    """
    dims = Dims()
    dhs = dims.float_array("dhs", dhs, ("T", "N", "H"))
    xs = checked_sequence(numpy_check, dims, "xs", xs, ("T", "N", "D"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
    c0 = dims.float_array("c0", c0, ("N", "H"))
    hs = checked_sequence(numpy_check, dims, "hs", hs, ("T", "N", "H"))
    cs = checked_sequence(numpy_check, dims, "cs", cs, ("T", "N", "H"))
    gates = checked_gated(numpy_check, dims, "gates", gates, ("T", "N", "4H"), _G)
    W_x, W_h = _check_params(dims, W_x, W_h)
    dh_T = np.zeros(h0.shape) if dh_T is None else dims.float_array("dh_T", dh_T, ("N", "H"))
    dc_T = np.zeros(c0.shape) if dc_T is None else dims.float_array("dc_T", dc_T, ("N", "H"))
    T, N, H = dims["T"], dims["N"], dims["H"]
    D = dims["D"]
    if T == 0:
        return {"xs": np.zeros((0, N, D)), "h0": dh_T.copy(), "c0": dc_T.copy(), "W_x": np.zeros((D, 4 * H)),
                "W_h": np.zeros((H, 4 * H)), "b": np.zeros(4 * H)}
    G4 = gates.reshape(T, N, _G, H)                 # G4[:, :, k] is gate k: i, f, g, o
    f = G4[:, :, 1]
    # das starts as the step-local factors and is scaled in place by the carried gradients in the sweep:
    # da_i = dc_t * [g i (1-i)], da_f = dc_t * [c_prev f (1-f)], da_g = dc_t * [i (1-g^2)],
    # da_o = dh * [tanh(c) o (1-o)]. Written in place into one array (fresh temporaries cost page faults).
    das = np.subtract(1.0, G4)
    np.multiply(das, G4, out=das)                   # s (1 - s) for every block (the g block is redone below)
    das[:, :, 0] *= G4[:, :, 2]
    das[0, :, 1] *= c0
    das[1:, :, 1] *= cs[:-1]
    dg = das[:, :, 2]
    np.multiply(G4[:, :, 2], G4[:, :, 2], out=dg)
    np.subtract(1.0, dg, out=dg)
    dg *= G4[:, :, 0]
    tc = np.tanh(cs)
    das[:, :, 3] *= tc
    to_cell = np.multiply(tc, tc, out=tc)           # d c_t contribution of dh: dh * o (1 - tanh^2 c)
    np.subtract(1.0, to_cell, out=to_cell)
    to_cell *= G4[:, :, 3]
    W_hT = np.ascontiguousarray(W_h.T)
    dh, dc = dh_T.copy(), dc_T.copy()
    for t in range(T - 1, -1, -1):
        dh += dhs[t]
        dc += dh * to_cell[t]
        step = das[t]
        step[:, :3] *= dc[:, None, :]
        step[:, 3] *= dh
        dc *= f[t]
        np.matmul(step.reshape(N, _G * H), W_hT, out=dh)
    flat = das.reshape(T * N, _G * H)
    dW_h = h0.T @ das[0].reshape(N, _G * H)
    if T > 1:
        dW_h += hs[:-1].reshape((T - 1) * N, H).T @ das[1:].reshape((T - 1) * N, _G * H)
    return {"xs": (flat @ W_x.T).reshape(T, N, D), "h0": dh, "c0": dc, "W_x": xs.reshape(T * N, D).T @ flat,
            "W_h": dW_h, "b": flat.sum(axis=0)}
