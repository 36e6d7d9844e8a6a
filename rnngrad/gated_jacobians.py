"""Jacobians of the LSTM's state ``(h_t, c_t)`` with respect to the previous one, and the cell-state path.

The state of step t is the concatenation ``s_t = [h_t, c_t]`` (2H units: h first, then c), and with the
notation of :mod:`rnngrad.lstm` (``i' = i(1-i)``, ``f' = f(1-f)``, ``g' = 1-g²``, ``o' = o(1-o)``,
``τ = tanh(c_t)``, ``W_hk`` the gate block k of ``W_h``) its step Jacobian in numerator layout is::

    d c_t / d h_{t-1} = diag(g i') W_hi^T + diag(c_{t-1} f') W_hf^T
                        + diag(i g') W_hg^T
    d c_t / d c_{t-1} = diag(f)
    d h_t / d h_{t-1} = diag(τ o') W_ho^T + diag(o (1-τ²)) d c_t / d h_{t-1}
    d h_t / d c_{t-1} = diag(o (1-τ²) f)

    J_t = d s_t / d s_{t-1}                                    (N, 2H, 2H)
        = [[d h_t/d h_{t-1}, d h_t/d c_{t-1}],
           [d c_t/d h_{t-1}, d c_t/d c_{t-1}]]

Index convention as in :mod:`rnngrad.hidden_jacobians`: ``J[t - 1]`` is step t's Jacobian, so
:func:`rnngrad.jacobian_products` gives ``d s_T / d s_k`` and :func:`rnngrad.singular_values_over_time` the
singular values of ``d s_t / d s_0`` from these step Jacobians unchanged.

The cell path. The entry ``d c_t / d c_{t-1} = diag(f_t)`` carries no weight matrix and no squashing
derivative, so the path that stays on the cells from step k to step T contributes ``diag(f_{k+1} ⊙ ... ⊙ f_T)``
to ``d c_T / d c_k``: a product of numbers in (0, 1) that stays near 1 while the forget gates stay open. The
full ``d c_T / d c_k`` adds the paths that leave the cells through ``h`` and ``W_h``; with ``W_h = 0`` the cell
path is all of it. The tanh RNN's ``d h_T / d h_k = Π diag(1 - h_t²) W_h^T`` has a matrix in every factor.
"""
from __future__ import annotations

import numpy as np

from ._gated_args import checked_gated, numpy_check
from ._validate import Dims
from .hidden_jacobians import rnn_jacobian_products

__all__ = ["lstm_state_jacobian", "lstm_state_jacobians", "lstm_cell_path_products", "cell_path_vs_rnn_norms"]

_G = 4


def _state_jacobian(c_prev: np.ndarray, c: np.ndarray, gates: np.ndarray, W_h: np.ndarray) -> np.ndarray:
    """The block formula of the module docstring for any leading axes (..., H) -> (..., 2H, 2H)."""
    H = c.shape[-1]
    i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(_G))
    tau = np.tanh(c)
    to_h = o * (1.0 - tau * tau)                                   # d h_t / d c_t, diagonal
    W_hT = W_h.T.reshape(_G, H, H)                                 # W_hT[k] = W_hk^T
    J = np.zeros(c.shape[:-1] + (2 * H, 2 * H))
    dc_dh = J[..., H:, :H]
    dc_dh += (g * i * (1.0 - i))[..., None] * W_hT[0]
    dc_dh += (c_prev * f * (1.0 - f))[..., None] * W_hT[1]
    dc_dh += (i * (1.0 - g * g))[..., None] * W_hT[2]
    J[..., :H, :H] = (tau * o * (1.0 - o))[..., None] * W_hT[3] + to_h[..., None] * dc_dh
    diag = np.arange(H)
    J[..., H + diag, H + diag] = f
    J[..., diag, H + diag] = to_h * f
    return J


def lstm_state_jacobian(c_prev, c, gates, W_h) -> np.ndarray:
    """Jacobian of one LSTM step's state ``[h_t, c_t]`` with respect to ``[h_{t-1}, c_{t-1}]`` (N, 2H, 2H).

    The step's cached values are enough: ``c_{t-1}``, ``c_t`` and the gates (``h_{t-1}`` and ``x_t`` act only
    through them).

    Args:
        c_prev: (N, H) previous cell state.
        c: (N, H) this step's cell state.
        gates: (N, 4H) this step's activated gates ``[i, f, g, o]`` from :func:`rnngrad.lstm_step_forward`.
        W_h: (H, 4H) recurrent weights.

    Returns:
        J: (N, 2H, 2H), ``J[n, a, b] = d s_t[n, a] / d s_{t-1}[n, b]`` with ``s = [h, c]``.

    Example:
        >>> import numpy as np
        >>> from rnngrad import lstm_step_forward
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 3))
        >>> h, c_prev = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = rng.normal(size=16)
        >>> _, c, gates = lstm_step_forward(x, h, c_prev, W_x, W_h, b)
        >>> J = lstm_state_jacobian(c_prev, c, gates, W_h)
        >>> dc_dc_prev = np.diagonal(J[:, 4:, 4:], axis1=1, axis2=2)
        >>> J.shape, bool(np.allclose(dc_dc_prev, gates[:, 4:8]))  # diag(f)
        ((2, 8, 8), True)
    """
    dims = Dims()
    c_prev = dims.float_array("c_prev", c_prev, ("N", "H"))
    c = dims.float_array("c", c, ("N", "H"))
    gates = checked_gated(numpy_check, dims, "gates", gates, ("N", "4H"), _G)
    W_h = checked_gated(numpy_check, dims, "W_h", W_h, ("H", "4H"), _G)
    return _state_jacobian(c_prev, c, gates, W_h)


def lstm_state_jacobians(c0, cs, gates, W_h) -> np.ndarray:
    """Step Jacobians ``J[t - 1] = d [h_t, c_t] / d [h_{t-1}, c_{t-1}]`` of a whole LSTM sequence, t = 1..T.

    Pass the result to :func:`rnngrad.jacobian_products` for ``d s_T / d s_k`` and to
    :func:`rnngrad.singular_values_over_time` for the singular values of ``d s_t / d s_0``.

    Args:
        c0: (N, H) initial cell state.
        cs: (T, N, H) cell states from :func:`rnngrad.lstm_forward`.
        gates: (T, N, 4H) activated gates from :func:`rnngrad.lstm_forward`.
        W_h: (H, 4H) recurrent weights.

    Returns:
        J: (T, N, 2H, 2H); ``J[t - 1, n]`` is step t's Jacobian for batch row n.

    Example:
        >>> import numpy as np
        >>> from rnngrad import lstm_forward, singular_values_over_time
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(6, 2, 3))
        >>> h0, c0 = np.zeros((2, 4)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 16)), rng.normal(size=(4, 16))
        >>> b = np.zeros(16)
        >>> hs, cs, gates = lstm_forward(xs, h0, c0, W_x, W_h, b)
        >>> J = lstm_state_jacobians(c0, cs, gates, W_h)
        >>> J.shape, singular_values_over_time(J).shape
        ((6, 2, 8, 8), (6, 2, 8))
    """
    dims = Dims()
    c0 = dims.float_array("c0", c0, ("N", "H"))
    cs = dims.float_array("cs", cs, ("T", "N", "H"))
    gates = checked_gated(numpy_check, dims, "gates", gates, ("T", "N", "4H"), _G)
    W_h = checked_gated(numpy_check, dims, "W_h", W_h, ("H", "4H"), _G)
    c_prev = np.concatenate([c0[None], cs[:-1]]) if dims["T"] else cs
    return _state_jacobian(c_prev, cs, gates, W_h)


def _cell_path(gates: np.ndarray) -> np.ndarray:
    T, N, G = gates.shape
    H = G // _G
    P = np.empty((T, N, H))
    if T:
        f = gates[..., H:2 * H]
        # P[k] = f[k] * ... * f[T-1]: a reversed cumulative product over time
        np.cumprod(f[::-1], axis=0, out=P[::-1])
    return P


def lstm_cell_path_products(gates) -> np.ndarray:
    """The cell path's share of ``d c_T / d c_k``: the diagonal ``f_{k+1} ⊙ ... ⊙ f_T`` for k = 0..T-1.

    Along the path that stays on the cells, every factor is ``diag(f_t)``; the product is diagonal, so only
    its diagonal is returned. ``P[k]`` uses the forget gates of steps k+1..T (array indices k..T-1), as
    :func:`rnngrad.jacobian_products` does: ``P[0]`` is the path from ``c_0`` and ``P[T-1] = f_T``. When the
    gates do not depend on ``h`` (``W_h = 0``) this is all of ``d c_T / d c_k``.

    Args:
        gates: (T, N, 4H) activated gates ``[i, f, g, o]`` from :func:`rnngrad.lstm_forward`.

    Returns:
        P: (T, N, H), ``diag(P[k, n]) = `` the cell path of ``d c_T[n] / d c_k[n]``.

    Example:
        >>> import numpy as np
        >>> gates = np.full((3, 1, 4), 0.5)     # H = 1
        >>> gates[:, 0, 1] = [0.9, 0.8, 0.5]    # f over three steps
        >>> lstm_cell_path_products(gates)[:, 0, 0].round(3).tolist()
        [0.36, 0.4, 0.5]
    """
    gates = checked_gated(numpy_check, Dims(), "gates", gates, ("T", "N", "4H"), _G)
    return _cell_path(gates)


def cell_path_vs_rnn_norms(gates, rnn_hs, rnn_W_h) -> dict:
    """Spectral norms against the distance T - k: an LSTM's cell path ``d c_T / d c_k``, a tanh RNN's ``d h_T / d h_k``.

    The cell path is diagonal, so its norm is the largest ``|f_{k+1} ... f_T|``; the RNN's products come from
    :func:`rnngrad.rnn_jacobian_products` and their norms from a singular value decomposition. The two models
    read sequences of the same length T and batch size N; their hidden sizes may differ.

    Args:
        gates: (T, N, 4H) activated gates of an LSTM, from :func:`rnngrad.lstm_forward`.
        rnn_hs: (T, N, K) states of a tanh RNN with K units, from :func:`rnngrad.rnn_forward`.
        rnn_W_h: (K, K) that RNN's recurrent weights.

    Returns:
        dict with "distance" (T,) int64 ``T - k`` = 1..T, and "lstm_cell" (T, N), "rnn" (T, N): the norms at
        each distance (row j is distance j + 1, i.e. k = T - 1 - j) for every batch row.

    Example:
        >>> import numpy as np
        >>> from rnngrad import rnn_forward
        >>> rng = np.random.default_rng(0)
        >>> gates = np.full((20, 1, 8), 0.95)   # forget gates 0.95
        >>> W_h = rng.normal(size=(2, 2)) * 0.5
        >>> xs = rng.normal(size=(20, 1, 3))
        >>> W_x = rng.normal(size=(3, 2))
        >>> hs = rnn_forward(xs, np.zeros((1, 2)), W_x, W_h, np.zeros(2))
        >>> out = cell_path_vs_rnn_norms(gates, hs, W_h)
        >>> distance, cell = out["distance"], out["lstm_cell"]
        >>> distance[:3].tolist(), cell[:3, 0].round(4).tolist()
        ([1, 2, 3], [0.95, 0.9025, 0.8574])
    """
    dims = Dims()
    gates = checked_gated(numpy_check, dims, "gates", gates, ("T", "N", "4H"), _G)
    rnn_hs = dims.float_array("rnn_hs", rnn_hs, ("T", "N", "K"))
    rnn_W_h = dims.float_array("rnn_W_h", rnn_W_h, ("K", "K"))
    T = dims["T"]
    cell = np.abs(_cell_path(gates)).max(axis=-1, initial=0.0)                     # (T, N)
    P = rnn_jacobian_products(rnn_hs, rnn_W_h)
    if P.size:
        rnn = np.linalg.norm(P, ord=2, axis=(-2, -1))
    else:
        rnn = np.zeros(P.shape[:2])
    return {"distance": np.arange(1, T + 1, dtype=np.int64), "lstm_cell": cell[::-1].copy(),
            "rnn": rnn[::-1].copy()}
