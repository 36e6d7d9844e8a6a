"""A model that reads its own previous output: teacher forcing and free
running as two recurrent networks.

The model reads ``u_t = (x_t, y_{t-1})``:
``h_t = tanh(u_t W_x + h_{t-1} W_h + b)``, ``y_t = h_t W_y + b_y``, with
``W_x`` of shape (D + C, H) whose last C rows, ``W_xy``, read the fed-back
output. Split ``W_x`` into ``W_u`` (its first D rows) and ``W_xy``.

* Teacher forcing feeds the observed ``y_{t-1}``: the fed-back value is
  data, the model is an ordinary RNN on the inputs ``(x_t, y^obs_{t-1})``,
  and its gradient is :func:`rnngrad.squared_error_rnn_grad` on them.
* Free running feeds the model's own output ``y_{t-1} = h_{t-1} W_y + b_y``.
  Substituted into the pre-activation, it gives
  ``a_t = x_t W_u + h_{t-1} (W_h + W_y W_xy) + (b + b_y W_xy)``: the
  free-running model is an ordinary RNN on ``x_t`` alone with the
  closed-loop weights ``W_loop = W_h + W_y W_xy`` and
  ``b_loop = b + b_y W_xy`` (:func:`closed_loop_weights`). Its gradient is
  back-propagation through time of that RNN, followed by the chain rule
  through ``W_loop`` and ``b_loop`` back to the model's weights
  (:func:`free_running_grad`)::

      dL/dW_h  = G                     dL/db   = g
      dL/dW_xy = W_y^T G + b_y^T g     dL/dW_y = (direct) + G W_xy^T
      dL/db_y  = (direct) + g W_xy^T

  with ``G = dL/dW_loop`` and ``g = dL/db_loop``. The value fed back at
  the first step is ``y_0 = h_0 W_y + b_y``, the output of the initial
  state, so that the identity holds from the first step.
"""
from __future__ import annotations

import numpy as np

from ._sequences import checked_state
from ._validate import Dims, ShapeError
from .extras import squared_error_rnn_grad

__all__ = ["closed_loop_weights", "free_running_grad"]


def _checked_weights(dims: Dims, W_x, W_h, b, W_y, b_y) -> tuple:
    # C from the read-out first: W_x has D + C rows
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    W_y = dims.float_array("W_y", W_y, ("H", "C"))
    b_y = dims.float_array("b_y", b_y, ("C",))
    if "D" in dims.sizes:
        dims.sizes["D+C"] = dims["D"] + dims["C"]
        dims.origin["D+C"] = f"{dims.origin['D']} and W_y"
        return (dims.float_array("W_x", W_x, ("D+C", "H")),
                W_h, b, W_y, b_y)
    W_x = dims.float_array("W_x", W_x, ("D+C", "H"))
    if W_x.shape[0] < dims["C"]:
        raise ShapeError(f"W_x: expected shape (D + C, H) with C="
                         f"{dims['C']} (from W_y), got {W_x.shape}")
    return W_x, W_h, b, W_y, b_y


def closed_loop_weights(W_x, W_h, b, W_y, b_y) -> tuple:
    """The weights of the free-running model as an RNN on ``x_t`` alone:
    ``W_loop = W_h + W_y W_xy``, ``b_loop = b + b_y W_xy``.

    Args:
        W_x: (D + C, H) input weights; the last C rows, ``W_xy``, read the
            fed-back output.
        W_h: (H, H) recurrent weights.
        b: (H,) bias.
        W_y: (H, C) read-out weights.
        b_y: (C,) read-out bias.

    Returns:
        ``(W_u, W_loop, b_loop)``: (D, H), (H, H), (H,), the weights of
        ``h_t = tanh(x_t W_u + h_{t-1} W_loop + b_loop)``.

    Example:
        >>> import numpy as np
        >>> W_x = np.array([[1.0, 0.0], [2.0, 3.0]])   # D = 1, C = 1
        >>> W_u, W_loop, b_loop = closed_loop_weights(
        ...     W_x, np.zeros((2, 2)), np.zeros(2), np.ones((2, 1)),
        ...     np.ones(1))
        >>> W_u.tolist(), W_loop.tolist(), b_loop.tolist()
        ([[1.0, 0.0]], [[2.0, 3.0], [2.0, 3.0]], [2.0, 3.0])
    """
    W_x, W_h, b, W_y, b_y = _checked_weights(Dims(), W_x, W_h, b, W_y, b_y)
    C = W_y.shape[1]
    D = W_x.shape[0] - C
    W_xy = W_x[D:]
    return W_x[:D].copy(), W_h + W_y @ W_xy, b + b_y @ W_xy


def free_running_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y
                      ) -> tuple[float, dict, np.ndarray]:
    """Loss and gradients of ``L = (1/2N) Σ (y_t - target_t)^2`` when the
    model reads its own previous output, ``u_t = (x_t, y_{t-1})``.

    Back-propagation through time of the closed-loop RNN
    (:func:`closed_loop_weights`), then the chain rule through
    ``W_loop = W_h + W_y W_xy`` and ``b_loop = b + b_y W_xy``. The value fed
    back at the first step is ``y_0 = h0 W_y + b_y``.

    Args:
        xs: (T, N, D) exogenous inputs.
        targets: (T, N, C) the series the outputs should follow.
        h0: (N, H) initial state.
        W_x: (D + C, H) input weights (the last C rows read ``y_{t-1}``).
        W_h: (H, H) recurrent weights.
        b: (H,) bias.
        W_y: (H, C) read-out weights.
        b_y: (C,) read-out bias.

    Returns:
        ``(loss, grads, h_last)``: ``grads`` a dict with ``"h0"``,
        ``"W_x"``, ``"W_h"``, ``"b"``, ``"W_y"``, ``"b_y"`` (each the shape
        of its argument); ``h_last`` (N, H) the last state.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> w = dict(W_x=rng.normal(size=(2, 4)),
        ...          W_h=rng.normal(size=(4, 4)) / 2, b=np.zeros(4),
        ...          W_y=rng.normal(size=(4, 1)), b_y=np.zeros(1))
        >>> xs, ys = rng.normal(size=(6, 3, 1)), rng.normal(size=(6, 3, 1))
        >>> loss, g, _ = free_running_grad(xs, ys, np.zeros((3, 4)), **w)
        >>> from rnngrad.gradcheck import numerical_gradient
        >>> fd = numerical_gradient(lambda v: free_running_grad(
        ...     xs, ys, np.zeros((3, 4)), **dict(w, W_y=v))[0],
        ...     w["W_y"])
        >>> bool(np.allclose(g["W_y"], fd, atol=1e-7))
        True
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    W_x, W_h, b, W_y, b_y = _checked_weights(dims, W_x, W_h, b, W_y, b_y)
    targets = dims.float_array("targets", targets, ("T", "N", "C"))
    D = dims["D"]
    W_xy = W_x[D:]
    W_u, W_loop, b_loop = W_x[:D], W_h + W_y @ W_xy, b + b_y @ W_xy
    loss, g, h_last = squared_error_rnn_grad(xs, targets, h0, W_u, W_loop,
                                             b_loop, W_y, b_y)
    G, g_b = g["W_h"], g["b"]                  # dL/dW_loop, dL/db_loop
    grads = {"h0": g["h0"],
             "W_x": np.concatenate([g["W_x"],
                                    W_y.T @ G + np.outer(b_y, g_b)]),
             "W_h": G, "b": g_b,
             "W_y": g["W_y"] + G @ W_xy.T,
             "b_y": g["b_y"] + W_xy @ g_b}
    return loss, grads, h_last
