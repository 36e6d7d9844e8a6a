"""The tanh RNN in the row-vector batch convention: forward and backward passes.

One step is ``h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)`` with ``x_t`` (N, D),
``h_{t-1}`` (N, H), ``W_x`` (D, H), ``W_h`` (H, H), ``b`` (H,).

Backward in one paragraph. Write ``a_t = x_t W_x + h_{t-1} W_h + b`` for the
pre-activation and ``g_t`` for the total gradient of the loss with respect to
``h_t``. Then ``da_t = g_t * (1 - h_t**2)`` (tanh' read off the cached output, no
recomputation), and the step hands back ``da_t W_x^T`` to ``x_t``, ``da_t W_h^T`` to
``h_{t-1}``, and ``x_t^T da_t``, ``h_{t-1}^T da_t``, ``sum_n da_t`` to the parameters.
The transposes come from the chain rule for a row vector times a matrix: for
``u = v W`` the Jacobian ``du/dv`` (numerator layout) is ``W^T``, so
``dL/dv = dL/du W^T``. Back-propagation through time is the recursion
``g_t = dL/dh_t (direct) + da_{t+1} W_h^T`` run from t = T down to 1; the parameter
gradients are sums over time of the per-step ones, which
:func:`rnn_backward` forms once, as single (T*N)-row matrix products, after the sweep.
"""
from __future__ import annotations

import numpy as np

from ._sequences import checked_sequence, checked_state
from ._validate import Dims, RnngradInputError, activation_output, generator, positive_int

__all__ = ["rnn_step_forward", "rnn_forward", "rnn_step_backward", "rnn_backward", "init_rnn_params"]


def rnn_step_forward(x, h_prev, W_x, W_h, b) -> np.ndarray:
    """One step of the tanh RNN: ``h = tanh(x W_x + h_prev W_h + b)``.

    Args:
        x: (N, D) inputs of this step.
        h_prev: (N, H) previous hidden state.
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.
        b: (H,) bias.

    Returns:
        h: (N, H) new hidden state.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> h = rnn_step_forward(rng.normal(size=(2, 3)), np.zeros((2, 4)),
        ...                      rng.normal(size=(3, 4)),
        ...                      rng.normal(size=(4, 4)), np.zeros(4))
        >>> h.shape
        (2, 4)
    """
    dims = Dims()
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    return np.tanh(x @ W_x + h_prev @ W_h + b)


def rnn_forward(xs, h0, W_x, W_h, b) -> np.ndarray:
    """All hidden states of the tanh RNN over a sequence: ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``, t = 1..T.

    Args:
        xs: (T, N, D) inputs, time-major. A batch-major (N, T, D) array is
            caught through ``h0``'s rows, except when T == N: both shapes
            read the same. Transpose batch-major data explicitly
            (``x.transpose(1, 0, 2)``) and try code on T != N first, so a
            layout mistake fails loudly.
        h0: (N, H) initial hidden state.
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.
        b: (H,) bias.

    Returns:
        hs: (T, N, H) with ``hs[t]`` the state after reading ``xs[t]`` (h0 is not included).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> hs = rnn_forward(rng.normal(size=(5, 2, 3)), np.zeros((2, 4)),
        ...                  rng.normal(size=(3, 4)), rng.normal(size=(4, 4)),
        ...                  np.zeros(4))
        >>> hs.shape
        (5, 2, 4)
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    # the input projection of every step at once: one (T*N, D) @ (D, H) product
    xw = xs @ W_x + b
    hs = np.empty((dims["T"], dims["N"], dims["H"]))
    h = h0
    for t in range(dims["T"]):
        h = np.tanh(xw[t] + h @ W_h)
        hs[t] = h
    return hs


def rnn_step_backward(dh, x, h_prev, h, W_x, W_h) -> dict:
    """Gradients of one tanh step given ``dh = dL/dh``: with ``da = dh * (1 - h**2)``, ``dL/dW_h = h_prev^T da``.

    Only the step's output ``h`` is needed for tanh' (``1 - h**2``), so nothing is
    recomputed. An ``h`` outside [-1, 1] cannot be a tanh output (a pre-activation
    passed by mistake) and is refused; ``|h| == 1`` is accepted (tanh rounds to 1 in
    float64 for pre-activations above about 19).

    Args:
        dh: (N, H) gradient of the loss with respect to this step's output ``h``.
        x: (N, D) inputs of the step.
        h_prev: (N, H) previous hidden state.
        h: (N, H) output of the step, ``rnn_step_forward(x, h_prev, W_x, W_h, b)``.
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.

    Returns:
        dict with keys ``"x"`` (N, D), ``"h_prev"`` (N, H), ``"W_x"`` (D, H),
        ``"W_h"`` (H, H), ``"b"`` (H,): the gradients of the loss, each with the shape
        of its argument.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, h_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h, b = (rng.normal(size=(3, 4)), rng.normal(size=(4, 4)),
        ...                rng.normal(size=4))
        >>> h = rnn_step_forward(x, h_prev, W_x, W_h, b)
        >>> g = rnn_step_backward(np.ones((2, 4)), x, h_prev, h, W_x, W_h)
        >>> {k: v.shape for k, v in g.items()}
        {'x': (2, 3), 'h_prev': (2, 4), 'W_x': (3, 4), 'W_h': (4, 4), 'b': (4,)}
        >>> bool(np.allclose(g["b"], (1 - h**2).sum(axis=0)))
        True
    """
    dims = Dims()
    dh = dims.float_array("dh", dh, ("N", "H"))
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    h = activation_output("h", dims.float_array("h", h, ("N", "H")))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    return _step_backward(dh, x, h_prev, 1.0 - h * h, W_x, W_h)


def _step_backward(dh, x, h_prev, slope, W_x, W_h) -> dict:
    """The step backward on checked arrays, given the activation's slope ``σ'(a)`` (N, H) of the step.

    No check of any kind: the public functions call it after theirs, and the mistaken variants of the
    autograder call it with a wrong slope on purpose.
    """
    da = dh * slope
    return {"x": da @ W_x.T, "h_prev": da @ W_h.T, "W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}


def _bptt_sweep(dhs: np.ndarray, hs: np.ndarray, W_h: np.ndarray,
                link_scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The backward-through-time recursion on validated arrays; returns ``(das, dh0)``.

    ``das[t]`` is the gradient with respect to the pre-activation of step t and
    ``dh0`` the gradient reaching the initial state. With ``link_scale`` (an array
    whose ``link_scale[t]`` broadcasts against (N, H)) the gradient that step t
    passes back to its predecessor (``hs[t-1]``, or ``h0`` for t = 0) is multiplied
    by ``link_scale[t]``: 0 cuts the link, which is how the truncated variants in
    :mod:`rnngrad.truncation` reuse this one recursion. Shared by :func:`rnn_backward`
    and the character model so that the recursion exists once.
    """
    # tanh' = 1 - h**2 of every step in one vectorised pass, written into the output array
    # (one allocation: fresh large arrays cost page faults, a noticeable part of the time)
    das = np.multiply(hs, hs)
    np.subtract(1.0, das, out=das)
    W_hT = np.ascontiguousarray(W_h.T)
    carry = np.zeros(dhs.shape[1:])
    for t in range(dhs.shape[0] - 1, -1, -1):
        # in place: das[t] held tanh'(a_t); now it holds (direct + carried) * tanh'(a_t)
        np.multiply(das[t], np.add(dhs[t], carry, out=carry), out=das[t])
        np.matmul(das[t], W_hT, out=carry)
        if link_scale is not None:
            carry *= link_scale[t]
    return das, carry


def _param_grads(das: np.ndarray, xs: np.ndarray, h0: np.ndarray, hs: np.ndarray) -> dict:
    """Parameter gradients from the pre-activation gradients, summed over time and batch in one product each."""
    T, N, H = das.shape
    flat = das.reshape(T * N, H)
    # the input of step t to W_h is h_{t-1}: h0 followed by hs[:-1] (an empty sequence gives zeros)
    dW_h = h0.T @ das[0] if T else np.zeros((H, H))
    if T > 1:
        dW_h += hs[:-1].reshape((T - 1) * N, H).T @ das[1:].reshape((T - 1) * N, H)
    return {"W_x": xs.reshape(T * N, xs.shape[-1]).T @ flat, "W_h": dW_h, "b": flat.sum(axis=0)}


def rnn_backward(dhs, xs, h0, hs, W_x, W_h) -> dict:
    """Back-propagation through time for the tanh RNN: ``g_t = dhs[t] + (g_{t+1} * (1 - h_{t+1}**2)) W_h^T``.

    ``dhs[t]`` is the part of ``dL/dh_t`` that reaches ``h_t`` directly (e.g. through
    an output layer at step t); the recurrent part is accumulated here. The cached
    ``hs`` of :func:`rnn_forward` are used; the forward pass is not recomputed (and
    ``hs`` outside [-1, 1], which no tanh gives, are refused). Sequences are
    time-major; when T == N a batch-major ``xs`` has the right shape and cannot be
    detected, so keep every sequence (T, N, ...).

    Args:
        dhs: (T, N, H) direct gradients of the loss with respect to every hidden state.
        xs: (T, N, D) inputs.
        h0: (N, H) initial hidden state.
        hs: (T, N, H) hidden states, ``rnn_forward(xs, h0, W_x, W_h, b)``.
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.

    Returns:
        dict with keys ``"xs"`` (T, N, D), ``"h0"`` (N, H), ``"W_x"`` (D, H),
        ``"W_h"`` (H, H), ``"b"`` (H,): total gradients of the loss.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs, h0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h, b = (rng.normal(size=(3, 4)),
        ...                rng.normal(size=(4, 4)) / 2, rng.normal(size=4))
        >>> hs = rnn_forward(xs, h0, W_x, W_h, b)
        >>> # L = sum of the last state
        >>> dhs = np.zeros_like(hs); dhs[-1] = 1.0
        >>> g = rnn_backward(dhs, xs, h0, hs, W_x, W_h)
        >>> g["xs"].shape, g["h0"].shape
        ((5, 2, 3), (2, 4))
        >>> # one finite difference on b
        >>> eps = 1e-6; b2 = b.copy(); b2[0] += eps
        >>> fd = (rnn_forward(xs, h0, W_x, W_h, b2)[-1].sum()
        ...       - hs[-1].sum()) / eps
        >>> bool(abs(fd - g["b"][0]) < 1e-4)
        True
    """
    dims = Dims()
    dhs = dims.float_array("dhs", dhs, ("T", "N", "H"))
    xs = checked_sequence(Dims.float_array, dims, "xs", xs, ("T", "N", "D"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
    hs = activation_output("hs", dims.float_array("hs", hs, ("T", "N", "H")))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    das, dh0 = _bptt_sweep(dhs, hs, W_h)
    grads = {"xs": das @ W_x.T, "h0": dh0}
    grads.update(_param_grads(das, xs, h0, hs))
    return grads


def init_rnn_params(D, H, C=None, rng=0, scale=None) -> dict:
    """Random float64 parameters of a tanh RNN (and an output layer when ``C`` is given); weights ~ N(0, s^2).

    With ``scale=None`` each weight matrix uses ``s = 1/sqrt(fan_in)`` (``fan_in`` is
    its number of rows: D for ``W_x``, H for ``W_h`` and ``W_y``); a float ``scale`` is
    used as ``s`` for every matrix. Biases start at zero.

    Args:
        D: input size.
        H: hidden size.
        C: output size, or None for no output layer.
        rng: an int seed (the same seed gives the same parameters) or a
            ``numpy.random.Generator`` (advanced); None is refused.
        scale: standard deviation of every weight, or None for ``1/sqrt(fan_in)``.

    Returns:
        dict with ``"W_x"`` (D, H), ``"W_h"`` (H, H), ``"b"`` (H,) and, when ``C`` is
        given, ``"W_y"`` (H, C), ``"b_y"`` (C,).

    Example:
        >>> p = init_rnn_params(3, 4, C=5, rng=1)
        >>> {k: v.shape for k, v in p.items()}
        {'W_x': (3, 4), 'W_h': (4, 4), 'b': (4,), 'W_y': (4, 5), 'b_y': (5,)}
    """
    D = positive_int("D", D)
    H = positive_int("H", H)
    if C is not None:
        C = positive_int("C", C)
    if scale is not None:
        if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, float, np.integer, np.floating)) \
                or not np.isfinite(scale) or scale <= 0:
            raise RnngradInputError(f"scale: expected a positive finite number or None, got {scale!r}")
    gen = generator(rng)

    def weights(rows: int, cols: int) -> np.ndarray:
        s = 1.0 / np.sqrt(rows) if scale is None else float(scale)
        return gen.standard_normal((rows, cols)) * s

    params = {"W_x": weights(D, H), "W_h": weights(H, H), "b": np.zeros(H)}
    if C is not None:
        params["W_y"] = weights(H, C)
        params["b_y"] = np.zeros(C)
    return params
