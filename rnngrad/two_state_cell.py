"""A recurrent cell with two states, built so that its Jacobians can be checked by hand.

In the row-vector convention, with ``σ`` the recurrent activation (tanh by default)::

    h_t = σ(h_{t-1}) W_h + b          W_h (H, H), b (H,)
    c_t = c_{t-1} - h_{t-1} + h_t
    o_t = sigmoid(x_t W_o) + c_t      variant="after"
                                      (input squashed, then c_t added)
    o_t = sigmoid(x_t W_o + c_t)      variant="inside"
                                      (c_t added before the squashing)

with ``x_t`` (N, D) and ``W_o`` (D, H). The input reaches only the output, never the states.
The two variants are not the same model: a written description of this cell and a program
implementing it can differ in exactly this place, and the output Jacobians then differ by
the factor ``sigmoid'``.

Stacking the state as ``s_t = (h_t, c_t)`` (2H entries, h first), its Jacobian with respect to
``s_{t-1}`` has the block form::

    d s_t / d s_{t-1} = [[A,     0],
                         [A - I, I]]
    with  A = d h_t / d h_{t-1} = W_h^T diag(σ'(h_{t-1}))

(numerator layout): unit i of ``h_t`` is ``sum_j σ(h_{t-1, j}) W_h[j, i]``, so its derivative
with respect to ``h_{t-1, j}`` is ``W_h[j, i] σ'(h_{t-1, j})``. Unlike the tanh RNN, the
activation's derivative scales columns (it acts on the previous state), not rows.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, check_choice
from .activations import activation as _act, activation_derivative as _act_deriv

__all__ = [
    "TWO_STATE_ACTIVATIONS",
    "TWO_STATE_VARIANTS",
    "two_state_step",
    "two_state_forward",
    "two_state_state_jacobian",
    "two_state_output_jacobian",
    "two_state_input_jacobian",
]

TWO_STATE_ACTIVATIONS = ("relu", "identity", "sigmoid", "tanh")
TWO_STATE_VARIANTS = ("after", "inside")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return _act("sigmoid", z)


def _check_options(activation: str, variant: str | None) -> None:
    check_choice("activation", activation, TWO_STATE_ACTIVATIONS)
    if variant is not None:
        check_choice("variant", variant, TWO_STATE_VARIANTS)


def _step_arrays(dims: Dims, x, h_prev, c_prev, W_h, b, W_o):
    x = dims.float_array("x", x, ("N", "D"))
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    c_prev = dims.float_array("c_prev", c_prev, ("N", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    W_o = dims.float_array("W_o", W_o, ("D", "H"))
    return x, h_prev, c_prev, W_h, b, W_o


def _output_preactivation(x, c, W_o, variant):
    """(z, o): the argument of the output sigmoid and the output."""
    if variant == "after":
        z = x @ W_o
        return z, _sigmoid(z) + c
    z = x @ W_o + c
    return z, _sigmoid(z)


def two_state_step(x, h_prev, c_prev, W_h, b, W_o, activation="tanh",
                   variant="inside"):
    """One step of the two-state cell: ``h = σ(h_prev) W_h + b``,
    ``c = c_prev - h_prev + h``, then the output ``o``.

    Args:
        x: (N, D) input of this step.
        h_prev: (N, H) previous first state.
        c_prev: (N, H) previous second state.
        W_h: (H, H) recurrent weights; b: (H,) bias.
        W_o: (D, H) input weights of the output.
        activation: ``σ``, one of ``"tanh"`` (default), ``"relu"``,
            ``"identity"``, ``"sigmoid"``.
        variant: ``"inside"`` for ``o = sigmoid(x W_o + c)``, ``"after"``
            for ``o = sigmoid(x W_o) + c``.

    Returns:
        (o, h, c), each (N, H).

    Example:
        >>> import numpy as np
        >>> o, h, c = two_state_step(np.zeros((1, 2)),
        ...                          np.array([[1.0, -1.0]]),
        ...                          np.zeros((1, 2)),
        ...                          np.eye(2), np.zeros(2),
        ...                          np.ones((2, 2)), activation="relu",
        ...                          variant="after")
        >>> # relu kills the negative unit; c = 0 - h_prev + h
        >>> h.tolist(), c.tolist(), o.tolist()
        ([[1.0, 0.0]], [[0.0, 1.0]], [[0.5, 1.5]])
    """
    _check_options(activation, variant)
    x, h_prev, c_prev, W_h, b, W_o = _step_arrays(
        Dims(), x, h_prev, c_prev, W_h, b, W_o)
    h = _act(activation, h_prev) @ W_h + b
    c = c_prev - h_prev + h
    _, o = _output_preactivation(x, c, W_o, variant)
    return o, h, c


def two_state_forward(xs, h0, c0, W_h, b, W_o, activation="tanh", variant="inside"):
    """Run the two-state cell over a sequence: ``(o_t, h_t, c_t)`` for t = 1..T from ``(h_0, c_0)``.

    Args:
        xs: (T, N, D) inputs, time-major.
        h0, c0: (N, H) initial states.
        W_h: (H, H); b: (H,); W_o: (D, H).
        activation, variant: as in ``two_state_step``.

    Returns:
        (os, hs, cs), each (T, N, H); index t - 1 holds step t.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> os, hs, cs = two_state_forward(rng.normal(size=(4, 2, 3)),
        ...                                rng.normal(size=(2, 5)),
        ...                                rng.normal(size=(2, 5)),
        ...                                rng.normal(size=(5, 5)) / 5,
        ...                                np.zeros(5), rng.normal(size=(3, 5)))
        >>> os.shape, hs.shape, cs.shape
        ((4, 2, 5), (4, 2, 5), (4, 2, 5))
    """
    _check_options(activation, variant)
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h = dims.float_array("h0", h0, ("N", "H"))
    c = dims.float_array("c0", c0, ("N", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    W_o = dims.float_array("W_o", W_o, ("D", "H"))
    T, N, H = dims["T"], dims["N"], dims["H"]
    os, hs, cs = (np.empty((T, N, H)) for _ in range(3))
    for t in range(T):
        h_new = _act(activation, h) @ W_h + b
        c = c - h + h_new
        h = h_new
        _, os[t] = _output_preactivation(xs[t], c, W_o, variant)
        hs[t], cs[t] = h, c
    return os, hs, cs


def _A(h_prev: np.ndarray, W_h: np.ndarray, activation: str) -> np.ndarray:
    """(N, H, H) batch of ``W_h^T diag(σ'(h_prev))``."""
    return W_h.T[None, :, :] * _act_deriv(activation, h_prev)[:, None, :]


def two_state_state_jacobian(h_prev, W_h, activation="tanh") -> np.ndarray:
    """Jacobian of the stacked state: ``d(h_t, c_t) / d(h_{t-1}, c_{t-1}) = [[A, 0], [A - I, I]]``, ``A = W_h^T diag(σ'(h_{t-1}))``.

    It depends on neither ``c_{t-1}``, ``b`` nor the input.

    Args:
        h_prev: (N, H) previous first state ``h_{t-1}``.
        W_h: (H, H) recurrent weights.
        activation: ``σ`` (see ``two_state_step``).

    Returns:
        (N, 2H, 2H); rows ``[:H]`` are ``h_t``, rows ``[H:]`` are ``c_t``; columns ``[:H]`` are
        ``h_{t-1}``, columns ``[H:]`` are ``c_{t-1}``.

    Example:
        >>> import numpy as np
        >>> J = two_state_state_jacobian(np.array([[1.0, -1.0]]), 2 * np.eye(2),
        ...                              activation="relu")
        >>> # relu'(-1) = 0 removes the second column of A
        >>> J[0].tolist()  # doctest: +NORMALIZE_WHITESPACE
        [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
         [1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]]
    """
    _check_options(activation, None)
    dims = Dims()
    h_prev = dims.float_array("h_prev", h_prev, ("N", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    N, H = h_prev.shape
    A = _A(h_prev, W_h, activation)
    eye = np.eye(H)
    J = np.zeros((N, 2 * H, 2 * H))
    J[:, :H, :H] = A
    J[:, H:, :H] = A - eye
    J[:, H:, H:] = eye
    return J


def two_state_output_jacobian(x, h_prev, c_prev, W_h, b, W_o,
                              activation="tanh",
                              variant="inside") -> np.ndarray:
    """Jacobian of the output with respect to the previous states,
    ``d o_t / d(h_{t-1}, c_{t-1})``.

    ``o_t`` sees the states only through ``c_t``, whose Jacobian is the
    block row ``[A - I, I]``: ``"after"`` gives ``[A - I, I]`` itself,
    ``"inside"`` gives ``diag(sigmoid'(x_t W_o + c_t)) [A - I, I]``.

    Args:
        x: (N, D); h_prev, c_prev: (N, H); W_h: (H, H); b: (H,); W_o: (D,
            H).
        activation, variant: as in ``two_state_step``.

    Returns:
        (N, H, 2H); columns ``[:H]`` are ``h_{t-1}``, columns ``[H:]`` are
        ``c_{t-1}``.

    Example:
        >>> import numpy as np
        >>> args = (np.zeros((1, 1)), np.ones((1, 2)), np.zeros((1, 2)),
        ...         np.eye(2), np.zeros(2), np.ones((1, 2)))
        >>> # A = I here, so A - I = 0
        >>> two_state_output_jacobian(*args, activation="relu",
        ...                           variant="after")[0].tolist()
        [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """
    _check_options(activation, variant)
    x, h_prev, c_prev, W_h, b, W_o = _step_arrays(
        Dims(), x, h_prev, c_prev, W_h, b, W_o)
    N, H = h_prev.shape
    A = _A(h_prev, W_h, activation)
    block = np.concatenate(
        [A - np.eye(H), np.broadcast_to(np.eye(H), (N, H, H))],
                           axis=2)
    if variant == "after":
        return block
    c = c_prev - h_prev + _act(activation, h_prev) @ W_h + b
    z, _ = _output_preactivation(x, c, W_o, variant)
    return _act_deriv("sigmoid", z)[:, :, None] * block


def two_state_input_jacobian(x, h_prev, c_prev, W_h, b, W_o, activation="tanh", variant="inside") -> np.ndarray:
    """Jacobian of the output with respect to this step's input, ``d o_t / d x_t = diag(sigmoid'(z_t)) W_o^T``.

    ``z_t = x_t W_o`` for ``"after"`` and ``z_t = x_t W_o + c_t`` for ``"inside"``; the states do
    not depend on ``x_t``, so ``d h_t / d x_t = d c_t / d x_t = 0``.

    Args:
        x: (N, D); h_prev, c_prev: (N, H); W_h: (H, H); b: (H,); W_o: (D, H).
        activation, variant: as in ``two_state_step``.

    Returns:
        (N, H, D) with ``[n, i, j] = d o_t[n, i] / d x_t[n, j]``.

    Example:
        >>> import numpy as np
        >>> J = two_state_input_jacobian(np.zeros((1, 3)), np.ones((1, 2)),
        ...                              np.zeros((1, 2)),
        ...                              np.eye(2), np.zeros(2),
        ...                              np.ones((3, 2)), variant="after")
        >>> J.shape, float(J[0, 0, 0])       # sigmoid'(0) = 1/4
        ((1, 2, 3), 0.25)
    """
    _check_options(activation, variant)
    x, h_prev, c_prev, W_h, b, W_o = _step_arrays(Dims(), x, h_prev, c_prev, W_h, b, W_o)
    c = c_prev - h_prev + _act(activation, h_prev) @ W_h + b
    z, _ = _output_preactivation(x, c, W_o, variant)
    return _act_deriv("sigmoid", z)[:, :, None] * W_o.T[None, :, :]
