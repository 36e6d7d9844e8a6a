"""The adding problem, a memory task for recurrent cells: data, a loss with its gradient, and a short training loop.

Each sequence has two input channels: ``xs[t, n, 0]`` is a number drawn uniformly from [0, 1) and
``xs[t, n, 1]`` is a marker, 1 at exactly two steps (one in the first half of the sequence, one in the
second) and 0 elsewhere. The target is the sum of the two marked numbers. A model that ignores the inputs
can do no better than predicting the mean 1, with mean squared error ``Var(u_1 + u_2) = 2/12 = 1/6``
(:data:`ADDING_CHANCE_MSE`); beating it requires carrying the first marked number across at least half the
sequence (Hochreiter and Schmidhuber 1997).

The model is one recurrent cell of rnngrad (``cell``: "rnn", "lstm" or "gru", see :data:`MEMORY_CELLS`)
followed by a linear readout of its last hidden state::

    y_hat = h_T @ W_y + b_y            W_y (H, 1), b_y (1,)
    L = mean over the batch of (y_hat - target)**2

``params`` holds the cell's weights under the names of its forward function (``W_x``, ``W_h``, ``b`` and, for
the GRU, ``b_hn``; gate blocks as in :mod:`rnngrad.lstm` and :mod:`rnngrad.gru`) plus ``W_y`` and ``b_y``.
Gradients come from the cell's own backward pass in rnngrad (:func:`rnngrad.rnn_backward`,
:func:`rnngrad.lstm_backward`, :func:`rnngrad.gru_backward`, torch's GRU form); nothing is differentiated here.
"""
from __future__ import annotations

import numpy as np

from ._gated_args import checked_gated, numpy_check
from ._validate import Dims, RnngradInputError, check_choice, generator, positive_int, positive_number
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

__all__ = ["MEMORY_CELLS", "ADDING_CHANCE_MSE", "adding_problem", "init_memory_params",
           "memory_task_loss_grad", "train_memory_task"]

#: the cells a memory-task model can use
MEMORY_CELLS = ("rnn", "lstm", "gru")

#: mean squared error of the best constant prediction (the mean, 1) on the adding problem, Var(u_1 + u_2)
ADDING_CHANCE_MSE = 1.0 / 6.0

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _cell(cell) -> str:
    check_choice("cell", cell, MEMORY_CELLS)
    return cell


def _shapes(cell: str) -> dict:
    """Shape letters of every parameter of ``cell``'s model; ``H`` is bound first, by ``W_h``."""
    k = _GATES[cell]
    gate = "H" if k == 1 else f"{k}H"
    shapes = {"W_h": ("H", gate), "W_x": ("D", gate), "b": (gate,)}
    if cell == "gru":
        shapes["b_hn"] = ("H",)
    shapes.update({"W_y": ("H", 1), "b_y": (1,)})
    return shapes


def _checked_params(dims: Dims, cell: str, params) -> dict:
    shapes = _shapes(cell)
    keys = ", ".join(shapes)
    if not isinstance(params, dict):
        raise RnngradInputError(f"params: expected a dict with keys {keys}, got {type(params).__name__}")
    if set(params) != set(shapes):
        missing = [k for k in shapes if k not in params]
        extra = sorted(set(params) - set(shapes), key=str)
        got = (f"missing {', '.join(missing)}" if missing else "") + ("; " if missing and extra else "") \
            + (f"extra {', '.join(map(str, extra))}" if extra else "")
        raise RnngradInputError(f"params: expected the keys {keys} of a {cell} model, got {got}")
    k = _GATES[cell]
    return {key: checked_gated(numpy_check, dims, f"params['{key}']", params[key], letters, k)
            for key, letters in shapes.items()}


def adding_problem(T, N, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem: numbers and two markers per sequence, the target the sum of the marked numbers.

    Args:
        T: sequence length, at least 2 (one marker falls in steps ``[0, T//2)``, the other in ``[T//2, T)``).
        N: number of sequences.
        rng: int seed or ``numpy.random.Generator``.

    Returns:
        ``(xs, targets)``: xs (T, N, 2) time-major inputs (channel 0 the numbers, channel 1 the markers) and
        targets (N,).

    Example:
        >>> xs, targets = adding_problem(6, 3, rng=0)
        >>> xs.shape, targets.shape
        ((6, 3, 2), (3,))
        >>> xs[:, :, 1].sum(axis=0).tolist()           # two markers each
        [2.0, 2.0, 2.0]
        >>> bool(np.allclose(targets, (xs[..., 0] * xs[..., 1]).sum(axis=0)))
        True
    """
    T = positive_int("T", T)
    if T < 2:
        raise RnngradInputError(f"T: expected at least 2 steps (one marker in each half), got {T}")
    N = positive_int("N", N)
    gen = generator(rng)
    numbers = gen.random((T, N))
    markers = np.zeros((T, N))
    rows = np.arange(N)
    markers[gen.integers(0, T // 2, size=N), rows] = 1.0
    markers[gen.integers(T // 2, T, size=N), rows] = 1.0
    return np.stack([numbers, markers], axis=-1), (numbers * markers).sum(axis=0)


def init_memory_params(cell, D, H, rng=0, forget_bias=0.0) -> dict:
    """Random parameters of a memory-task model: weights ~ N(0, 1/fan_in), biases 0, the LSTM's forget bias set.

    Args:
        cell: "rnn", "lstm" or "gru".
        D: input size (2 for :func:`adding_problem`).
        H: hidden size.
        rng: int seed or ``numpy.random.Generator``.
        forget_bias: the LSTM's forget-gate bias, every unit (must be 0 for the other cells).

    Returns:
        dict with "W_x" (D, kH), "W_h" (H, kH), "b" (kH,) (k = 1, 4, 3 for rnn, lstm, gru), "b_hn" (H,) for the
        GRU, "W_y" (H, 1) and "b_y" (1,).

    Example:
        >>> p = init_memory_params("lstm", 2, 3, rng=0, forget_bias=1.0)
        >>> p["W_h"].shape, p["b"].tolist()
        ((3, 12), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    cell = _cell(cell)
    D = positive_int("D", D)
    H = positive_int("H", H)
    if isinstance(forget_bias, (bool, np.bool_)) or not isinstance(forget_bias, (int, float, np.integer,
                                                                                  np.floating)) \
            or not np.isfinite(forget_bias):
        raise RnngradInputError(f"forget_bias: expected a finite number, got {forget_bias!r}")
    if cell != "lstm" and forget_bias != 0:
        raise RnngradInputError(f"forget_bias: only the LSTM has a forget gate; expected 0 for {cell!r}, "
                                f"got {forget_bias!r}")
    gen = generator(rng)
    kH = _GATES[cell] * H
    params = {"W_x": gen.standard_normal((D, kH)) / np.sqrt(D), "W_h": gen.standard_normal((H, kH)) / np.sqrt(H),
              "b": np.zeros(kH)}
    if cell == "lstm":
        params["b"][H:2 * H] = float(forget_bias)
    if cell == "gru":
        params["b_hn"] = np.zeros(H)
    params["W_y"] = gen.standard_normal((H, 1)) / np.sqrt(H)
    params["b_y"] = np.zeros(1)
    return params


def memory_task_loss_grad(cell, xs, targets,
                          params) -> tuple[float, dict]:
    """Mean squared error of the readout h_T W_y + b_y, and its gradient.

    The cell starts from zero states. The loss reaches the cell only through
    ``h_T``: the cell's backward pass gets ``dL/dh_T = 2 (y_hat - targets)
    W_y^T / N`` at the last step and zeros before.

    Args:
        cell: "rnn", "lstm" or "gru".
        xs: (T, N, D) inputs, time-major.
        targets: (N,) targets.
        params: dict of the model's parameters (see
            :func:`init_memory_params`).

    Returns:
        ``(loss, grads)``: the loss (a float) and a dict with the keys of
        ``params``, each gradient with the shape of its parameter.

    Example:
        >>> xs, targets = adding_problem(8, 4, rng=0)
        >>> p = init_memory_params("gru", 2, 3, rng=1)
        >>> loss, grads = memory_task_loss_grad("gru", xs, targets, p)
        >>> sorted(grads) == sorted(p), grads["W_h"].shape
        (True, (3, 9))
        >>> p2 = dict(p, b_y=p["b_y"] + 1e-6)      # a finite difference
        >>> loss2, _ = memory_task_loss_grad("gru", xs, targets, p2)
        >>> bool(abs((loss2 - loss) / 1e-6 - grads["b_y"][0]) < 1e-4)
        True
    """
    cell = _cell(cell)
    dims = Dims()
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    targets = dims.float_array("targets", targets, ("N",))
    dims.nonempty("T", "N")
    p = _checked_params(dims, cell, params)
    N, H = dims["N"], dims["H"]
    W_x, W_h, b, h0 = p["W_x"], p["W_h"], p["b"], np.zeros((N, H))
    if cell == "lstm":
        hs, cs, gates = lstm_forward(xs, h0, h0, W_x, W_h, b)
    elif cell == "gru":
        hs, gates = gru_forward(xs, h0, W_x, W_h, b, p["b_hn"])
    else:
        hs = rnn_forward(xs, h0, W_x, W_h, b)
    residual = (hs[-1] @ p["W_y"])[:, 0] + p["b_y"][0] - targets
    loss = float(np.mean(residual ** 2))
    dy = 2.0 * residual / N                          # dL / dy_hat, (N,)
    dhs = np.zeros(hs.shape)                         # dL/dh_t: only at T
    dhs[-1] = dy[:, None] * p["W_y"][:, 0]
    if cell == "lstm":
        grads = lstm_backward(dhs, xs, h0, h0, hs, cs, gates, W_x, W_h)
    elif cell == "gru":
        grads = gru_backward(dhs, xs, h0, hs, gates, W_x, W_h, p["b_hn"])
    else:
        grads = rnn_backward(dhs, xs, h0, hs, W_x, W_h)
    out = {key: grads[key] for key in p if key in grads}
    out["W_y"] = hs[-1].T @ dy[:, None]
    out["b_y"] = np.array([dy.sum()])
    return loss, out


def train_memory_task(cell, params, T, steps, N=32, lr=0.02, rng=0) -> tuple[dict, np.ndarray]:
    """Train a memory-task model with Adam on fresh batches of :func:`adding_problem`; return it and its losses.

    Adam (Kingma and Ba, 2015) with ``beta1 = 0.9``, ``beta2 = 0.999``, ``eps = 1e-8``: every step draws a new
    batch of N sequences of length T, so the training losses also measure generalisation.

    Args:
        cell: "rnn", "lstm" or "gru".
        params: dict of the model's initial parameters (see :func:`init_memory_params`); not modified.
        T: sequence length, at least 2.
        steps: number of updates.
        N: batch size.
        lr: Adam's step size.
        rng: int seed or ``numpy.random.Generator`` for the batches.

    Returns:
        ``(params, losses)``: the trained parameters (new arrays, same keys and shapes) and the training loss
        of every step, losses (steps,).

    Example:
        >>> p = init_memory_params("lstm", 2, 4, rng=0, forget_bias=1.0)
        >>> trained, losses = train_memory_task("lstm", p, T=6, steps=60, rng=1)
        >>> losses.shape, bool(losses[-10:].mean() < losses[:10].mean())
        ((60,), True)
    """
    cell = _cell(cell)
    T = positive_int("T", T)
    if T < 2:
        raise RnngradInputError(f"T: expected at least 2 steps (one marker in each half), got {T}")
    steps = positive_int("steps", steps)
    N = positive_int("N", N)
    lr = positive_number("lr", lr)
    gen = generator(rng)
    p = {key: value.copy() for key, value in _checked_params(Dims(D=2), cell, params).items()}
    first = {key: np.zeros(value.shape) for key, value in p.items()}
    second = {key: np.zeros(value.shape) for key, value in p.items()}
    losses = np.empty(steps)
    for step in range(1, steps + 1):
        xs, targets = adding_problem(T, N, rng=gen)
        losses[step - 1], grads = memory_task_loss_grad(cell, xs, targets, p)
        for key, g in grads.items():
            first[key] = 0.9 * first[key] + 0.1 * g
            second[key] = 0.999 * second[key] + 0.001 * g * g
            p[key] -= lr * (first[key] / (1 - 0.9 ** step)) / (np.sqrt(second[key] / (1 - 0.999 ** step)) + 1e-8)
    return p, losses
