"""Real-time recurrent learning (RTRL): the tanh RNN's gradient by forward
mode over the parameters.

Write ``θ`` for one of the weights ``W_x`` (D, H), ``W_h`` (H, H), ``b``
(H,) and ``S_t = dh_t/dθ`` for the sensitivity of the state to it, in
numerator layout: for each row n of the batch an array of shape
(H,) + θ.shape. With ``a_t = x_t W_x + h_{t-1} W_h + b`` the chain rule
through ``h_t = tanh(a_t)`` gives a recursion that runs forward with the
states::

    S_t = diag(1 - h_t^2) (W_h^T S_{t-1} + ∂a_t/∂θ),        S_0 = 0

where ``∂a_t/∂θ`` is θ's direct effect on this step:
``∂a_t[i]/∂W_x[d, j] = x_t[d] δ_ij``,
``∂a_t[i]/∂W_h[k, j] = h_{t-1}[k] δ_ij`` and
``∂a_t[i]/∂b[j] = δ_ij``
(``W_h^T S_{t-1}`` is ``Σ_j W_h[j, i] S_{t-1}[j]``, the transpose of the
row convention). ``S_0 = 0`` because ``h0`` does not depend on the
weights. A loss whose direct gradient with respect to ``h_t`` is ``g_t``
then has

    dL/dθ = Σ_t g_t S_t      (a contraction over the batch and the units)

which each step adds as soon as ``g_t`` is known: no state is kept for a
backward pass, which is why the method suits online learning. The price is
the sensitivity itself, ``H · P`` numbers per batch row with
``P = DH + H² + H`` parameters, and the product ``W_h^T S_{t-1}``,
``H² P`` multiply-adds per step, against the ``T · H`` stored states and
``O(H² + DH)`` work per step of back-propagation through time. The column
of ``S_t`` for one parameter entry is the tangent that
:func:`rnngrad.rnn_param_jvp` computes for that single direction.
"""
from __future__ import annotations

import math

import numpy as np

from ._sequences import checked_state
from ._validate import Dims, RnngradInputError

__all__ = ["rtrl_step", "rtrl_grad"]

#: the weights RTRL carries sensitivities for, with their shape letters
_WEIGHTS = {"W_x": ("D", "H"), "W_h": ("H", "H"), "b": ("H",)}


def _zero_sensitivities(N: int, D: int, H: int) -> dict:
    return {"W_x": np.zeros((N, H, D, H)), "W_h": np.zeros((N, H, H, H)),
            "b": np.zeros((N, H, H))}


def _checked_sensitivities(dims: Dims, sens_prev) -> dict:
    keys = ", ".join(_WEIGHTS)
    if not isinstance(sens_prev, dict):
        raise RnngradInputError(
            f"sens_prev: expected a dict with keys {keys}, "
            f"got {type(sens_prev).__name__}")
    missing = [key for key in _WEIGHTS if key not in sens_prev]
    if missing:
        raise RnngradInputError(f"sens_prev: expected keys {keys}, "
                                f"missing {', '.join(missing)}")
    return {key: dims.float_array(f'sens_prev["{key}"]', sens_prev[key],
                                  ("N", "H") + letters)
            for key, letters in _WEIGHTS.items()}


def _step(x, h_prev, sens, W_x, W_h, b):
    """One RTRL step on checked arrays: the new state and sensitivities."""
    h = np.tanh(x @ W_x + h_prev @ W_h + b)
    slope = 1.0 - h * h                          # tanh'(a_t), (N, H)
    N, H = h.shape
    new = {}
    for key, S in sens.items():
        # W_h^T S_{t-1}: (H, H) @ (N, H, M), M the entries of θ
        M = math.prod(S.shape[2:])
        new[key] = np.matmul(W_h.T, S.reshape(N, H, M)).reshape(S.shape)
    # the direct effect ∂a_t/∂θ sits where unit i meets column j = i
    units = np.arange(H)
    new["W_x"][:, units, :, units] += x          # a view (H, N, D)
    new["W_h"][:, units, :, units] += h_prev
    new["b"][:, units, units] += 1.0
    for S in new.values():
        S *= slope.reshape((N, H) + (1,) * (S.ndim - 2))
    return h, new


def rtrl_step(x, h_prev, sens_prev, W_x, W_h, b
              ) -> tuple[np.ndarray, dict]:
    """One step of real-time recurrent learning:
    ``S_t = diag(1 - h_t^2) (W_h^T S_{t-1} + ∂a_t/∂θ)``,
    θ = W_x, W_h, b.

    Args:
        x: (N, D) inputs of this step.
        h_prev: (N, H) previous state.
        sens_prev: dict of the sensitivities ``dh_{t-1}/dθ`` with
            ``"W_x"`` (N, H, D, H), ``"W_h"`` (N, H, H, H), ``"b"``
            (N, H, H), or None for zeros (the first step: ``h0`` does not
            depend on the weights).
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.
        b: (H,) bias.

    Returns:
        ``(h, sens)``: the new state (N, H), as
        :func:`rnngrad.rnn_step_forward`, and the dict of ``dh_t/dθ`` with
        the shapes of ``sens_prev``;
        ``sens["W_h"][n, i, k, j] = d h_t[n, i] / d W_h[k, j]``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, h0 = rng.normal(size=(2, 3)), np.zeros((2, 4))
        >>> W_x, W_h = rng.normal(size=(3, 4)), rng.normal(size=(4, 4))
        >>> h1, S = rtrl_step(x, h0, None, W_x, W_h, np.zeros(4))
        >>> # one step: dh_i/db_j = tanh'(a_i) δ_ij
        >>> bool(np.allclose(S["b"][0], np.diag(1 - h1[0] ** 2)))
        True
    """
    dims = Dims()
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    sens = (None if sens_prev is None
            else _checked_sensitivities(dims, sens_prev))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    if sens is None:
        sens = _zero_sensitivities(dims["N"], dims["D"], dims["H"])
    return _step(x, h_prev, sens, W_x, W_h, b)


def rtrl_grad(dhs, xs, h0, W_x, W_h, b) -> dict:
    """Weight gradients of the tanh RNN by real-time recurrent learning:
    ``dL/dθ = Σ_t g_t S_t`` with ``S_t = dh_t/dθ`` carried forward.

    The numbers of the ``"W_x"``, ``"W_h"`` and ``"b"`` entries of
    :func:`rnngrad.rnn_backward`, from one forward sweep that keeps only the
    current state and its sensitivities (``N H P`` numbers with
    ``P = DH + H² + H``) instead of all T states.

    Args:
        dhs: (T, N, H) direct gradients of the loss with respect to every
            hidden state, as in :func:`rnngrad.rnn_backward`; step t's is
            used as soon as step t is computed.
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.
        b: (H,) bias.

    Returns:
        dict with ``"W_x"`` (D, H), ``"W_h"`` (H, H), ``"b"`` (H,).

    Example:
        >>> import numpy as np
        >>> from rnngrad.rnn import rnn_backward, rnn_forward
        >>> rng = np.random.default_rng(0)
        >>> xs, h0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h, b = (rng.normal(size=(3, 4)),
        ...                rng.normal(size=(4, 4)) / 2, rng.normal(size=4))
        >>> dhs = rng.normal(size=(5, 2, 4))
        >>> g = rtrl_grad(dhs, xs, h0, W_x, W_h, b)
        >>> hs = rnn_forward(xs, h0, W_x, W_h, b)
        >>> bptt = rnn_backward(dhs, xs, h0, hs, W_x, W_h)
        >>> all(np.allclose(g[k], bptt[k]) for k in g)
        True
    """
    dims = Dims()
    dhs = dims.float_array("dhs", dhs, ("T", "N", "H"))
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    N, D, H = dims["N"], dims["D"], dims["H"]
    sens = _zero_sensitivities(N, D, H)
    grads = {"W_x": np.zeros((D, H)), "W_h": np.zeros((H, H)),
             "b": np.zeros(H)}
    h = h0
    for t in range(dims["T"]):
        h, sens = _step(xs[t], h, sens, W_x, W_h, b)
        for key, S in sens.items():
            # g_t S_t: a sum over the batch row n and the unit i
            grads[key] += np.tensordot(dhs[t], S, axes=([0, 1], [0, 1]))
    return grads
