"""The tanh RNN in the row-vector batch convention: forward and backward passes.

One step is ``h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)`` with ``x_t`` (N, D),
``h_{t-1}`` (N, H), ``W_x`` (D, H), ``W_h`` (H, H), ``b`` (H,).
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims

__all__ = ["rnn_step_forward", "rnn_forward"]


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
        ...                      rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), np.zeros(4))
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
        xs: (T, N, D) inputs, time-major.
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
        ...                  rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), np.zeros(4))
        >>> hs.shape
        (5, 2, 4)
    """
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = dims.float_array("h0", h0, ("N", "H"))
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
