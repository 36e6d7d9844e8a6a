"""References for the problem-set questions that go beyond the chapters: other cells, another loss, weight tangents.

* :func:`cell_step_backward`: one step of ``h = σ(x W_x + h_prev W_h + b)`` backward, for any activation
  (the chapter works through tanh only);
* :func:`leaky_step_jacobians`: state Jacobians of the leaky (exponential-moving-average) tanh cell
  ``h_t = (1 - α) h_{t-1} + α tanh(x_t W_x + h_{t-1} W_h + b)``;
* :func:`squared_error_rnn_grad`: BPTT for a tanh RNN with a linear read-out and a squared-error loss;
* :func:`rnn_param_jvp`: forward-mode tangent of every hidden state when the weights move.

All in the row-vector batch convention of :mod:`rnngrad.rnn`, float64, inputs never modified.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, RnngradInputError, activation_output, check_choice
from .activations import ACTIVATIONS, _derivative_from_output
from .rnn import _step_backward, rnn_backward, rnn_forward

__all__ = ["activation_derivative_from_output", "cell_step_backward", "leaky_rnn_forward", "leaky_step_jacobians",
           "squared_error_rnn_grad", "rnn_param_jvp"]


def activation_derivative_from_output(name: str, h) -> np.ndarray:
    """``σ'(a)`` written with the output ``h = σ(a)``: tanh ``1 - h^2``, sigmoid ``h (1 - h)``, relu ``[h > 0]``, identity 1.

    Args:
        name: "tanh", "sigmoid", "relu" or "identity".
        h: float array of any shape, the activation's output (refused outside
            the activation's range: [-1, 1] for tanh, [0, 1] for sigmoid,
            [0, inf) for relu).

    Returns:
        float64 array of the shape of ``h``.

    Example:
        >>> import numpy as np
        >>> activation_derivative_from_output("sigmoid",
        ...                                   np.array([0.5])).tolist()
        [0.25]
    """
    check_choice("name", name, ACTIVATIONS)
    return _derivative_from_output(name, activation_output("h", Dims().float_array("h", h, None), name))


def cell_step_backward(dh, x, h_prev, h, W_x, W_h, activation: str = "tanh") -> dict:
    """Gradients of one step ``h = σ(x W_x + h_prev W_h + b)`` given ``dh = dL/dh``: with ``da = dh σ'(a)``, ``dL/dW_h = h_prev^T da``.

    Args:
        dh: (N, H) gradient of the loss with respect to the step's output ``h``.
        x: (N, D) inputs of the step.
        h_prev: (N, H) previous hidden state.
        h: (N, H) the step's output (σ' is computed from it; refused outside
            σ's range).
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.
        activation: the cell's σ: "tanh" (default), "sigmoid", "relu" or "identity".

    Returns:
        dict with ``"x"`` (N, D), ``"h_prev"`` (N, H), ``"W_x"`` (D, H), ``"W_h"`` (H, H), ``"b"`` (H,).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> g = cell_step_backward(np.ones((2, 4)), rng.normal(size=(2, 3)),
        ...                        np.zeros((2, 4)),
        ...                        np.full((2, 4), 0.5),
        ...                        rng.normal(size=(3, 4)), np.eye(4),
        ...                        activation="sigmoid")
        >>> # da = 1 * 0.5 * 0.5 per row, summed over 2 rows
        >>> g["b"].tolist()
        [0.5, 0.5, 0.5, 0.5]
    """
    check_choice("activation", activation, ACTIVATIONS)
    dims = Dims()
    dh = dims.float_array("dh", dh, ("N", "H"))
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    h = activation_output("h", dims.float_array("h", h, ("N", "H")), activation)
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    return _step_backward(dh, x, h_prev, _derivative_from_output(activation, h), W_x, W_h)


def _alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) or not 0 < alpha <= 1:
        raise RnngradInputError(f"alpha: expected a number in (0, 1], got {alpha!r}")
    return float(alpha)


def leaky_rnn_forward(xs, h0, W_x, W_h, b, alpha) -> np.ndarray:
    """States of the leaky tanh cell ``h_t = (1 - α) h_{t-1} + α tanh(x_t W_x + h_{t-1} W_h + b)``.

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        alpha: leak rate in (0, 1]; ``alpha = 1`` is the plain tanh RNN.

    Returns:
        hs: (T, N, H), ``hs[t]`` the state after reading ``xs[t]``.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> hs = leaky_rnn_forward(rng.normal(size=(4, 2, 3)), np.zeros((2, 5)),
        ...                        rng.normal(size=(3, 5)),
        ...                        np.eye(5), np.zeros(5), 0.5)
        >>> hs.shape
        (4, 2, 5)
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h = dims.float_array("h0", h0, ("N", "H"))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    alpha = _alpha(alpha)
    hs = np.empty((dims["T"], dims["N"], dims["H"]))
    for t in range(dims["T"]):
        h = (1.0 - alpha) * h + alpha * np.tanh(xs[t] @ W_x + h @ W_h + b)
        hs[t] = h
    return hs


def leaky_step_jacobians(hs, h0, W_h, alpha) -> np.ndarray:
    """State Jacobians of the leaky tanh cell: ``d h_t / d h_{t-1} = (1 - α) I + α diag(1 - u_t^2) W_h^T``.

    Here ``u_t = tanh(a_t) = (h_t - (1 - α) h_{t-1}) / α`` is recovered from consecutive states, so the
    inputs are not needed.

    Args:
        hs: (T, N, H) states from :func:`leaky_rnn_forward`.
        h0: (N, H) initial state.
        W_h: (H, H) recurrent weights.
        alpha: leak rate in (0, 1].

    Returns:
        J: (T, N, H, H) with ``J[t - 1, n, i, j] = d h_t[n, i] / d h_{t-1}[n, j]`` (numerator layout).

    Example:
        >>> import numpy as np
        >>> J = leaky_step_jacobians(np.zeros((3, 1, 2)), np.zeros((1, 2)),
        ...                          np.zeros((2, 2)), 0.25)
        >>> # zero weights: only the leak (1 - α) I is left
        >>> J.shape, J[0, 0].tolist()
        ((3, 1, 2, 2), [[0.75, 0.0], [0.0, 0.75]])
    """
    dims = Dims()
    hs = dims.float_array("hs", hs, ("T", "N", "H"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    alpha = _alpha(alpha)
    prev = np.concatenate([h0[None], hs[:-1]], axis=0)
    u = (hs - (1.0 - alpha) * prev) / alpha
    J = alpha * (1.0 - u * u)[..., :, None] * W_h.T
    idx = np.arange(dims["H"])
    J[..., idx, idx] += 1.0 - alpha
    return J


def squared_error_rnn_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y) -> tuple[float, dict, np.ndarray]:
    """Loss and gradients of ``L = (1 / 2N) sum_{t,n,c} (y_t - target_t)^2`` with ``y_t = h_t W_y + b_y`` of a tanh RNN.

    The loss is a mean over the batch and a sum over time and outputs; ``dL/dy_t = (y_t - target_t) / N``
    and ``dL/dh_t`` gets ``dL/dy_t W_y^T`` directly, the rest by back-propagation through time.

    Args:
        xs: (T, N, D) inputs.
        targets: (T, N, C) real-valued targets.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) cell weights.
        W_y: (H, C), b_y: (C,) read-out.

    Returns:
        ``(loss, grads, h_last)`` like every loss-and-gradient function of rnngrad: grads a dict
        ``"W_x", "W_h", "b", "W_y", "b_y", "h0"`` (each the shape of its argument) and ``h_last`` (N, H)
        the last state, where the next chunk of a long sequence starts.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> loss, g, h_last = squared_error_rnn_grad(
        ...     rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 2, 1)),
        ...     np.zeros((2, 4)), rng.normal(size=(2, 4)), np.eye(4) / 2,
        ...     np.zeros(4), rng.normal(size=(4, 1)), np.zeros(1))
        >>> sorted(g), g["W_h"].shape, h_last.shape
        (['W_h', 'W_x', 'W_y', 'b', 'b_y', 'h0'], (4, 4), (2, 4))
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    W_y = dims.float_array("W_y", W_y, ("H", "C"))
    b_y = dims.float_array("b_y", b_y, ("C",))
    targets = dims.float_array("targets", targets, ("T", "N", "C"))
    dims.nonempty("N")  # the loss is a mean over the batch
    hs = rnn_forward(xs, h0, W_x, W_h, b)
    resid = hs @ W_y + b_y - targets
    N = dims["N"]
    loss = 0.5 * float((resid * resid).sum()) / N
    dys = resid / N
    back = rnn_backward(dys @ W_y.T, xs, h0, hs, W_x, W_h)
    T, H, C = dims["T"], dims["H"], dims["C"]
    grads = {"W_x": back["W_x"], "W_h": back["W_h"], "b": back["b"],
             "W_y": hs.reshape(T * N, H).T @ dys.reshape(T * N, C), "b_y": dys.reshape(T * N, C).sum(axis=0),
             "h0": back["h0"]}
    return loss, grads, hs[-1].copy() if dims["T"] else h0.copy()


def rnn_param_jvp(xs, h0, W_x, W_h, b, dW_x=None, dW_h=None, db=None) -> tuple[np.ndarray, np.ndarray]:
    """Tangents of all hidden states of the tanh RNN when the weights move: ``dh_t = (1 - h_t^2) (x_t dW_x + h_{t-1} dW_h + db + dh_{t-1} W_h)``.

    One forward sweep (forward mode); ``dh_0 = 0`` (the initial state does not depend on the weights).

    Args:
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H), W_h: (H, H), b: (H,) weights.
        dW_x: (D, H) or None, dW_h: (H, H) or None, db: (H,) or None: the direction the weights move in
            (None means that weight does not move).

    Returns:
        ``(hs, dhs)``, both (T, N, H).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> hs, dhs = rnn_param_jvp(rng.normal(size=(5, 2, 3)),
        ...                         np.zeros((2, 4)), rng.normal(size=(3, 4)),
        ...                         np.eye(4) / 2, np.zeros(4), db=np.ones(4))
        >>> # raising every bias raises every first state
        >>> dhs.shape, bool((dhs[0] > 0).all())
        ((5, 2, 4), True)
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    dW_x = np.zeros_like(W_x) if dW_x is None else dims.float_array("dW_x", dW_x, ("D", "H"))
    dW_h = np.zeros_like(W_h) if dW_h is None else dims.float_array("dW_h", dW_h, ("H", "H"))
    db = np.zeros_like(b) if db is None else dims.float_array("db", db, ("H",))
    hs = np.empty((dims["T"], dims["N"], dims["H"]))
    dhs = np.empty_like(hs)
    h, dh = h0, np.zeros_like(h0)
    for t in range(dims["T"]):
        h_new = np.tanh(xs[t] @ W_x + h @ W_h + b)
        dh = (1.0 - h_new * h_new) * (xs[t] @ dW_x + h @ dW_h + db + dh @ W_h)
        h = h_new
        hs[t], dhs[t] = h, dh
    return hs, dhs
