"""Small input factories shared by the problem-set specs (all float64, drawn from a numpy Generator)."""
from __future__ import annotations

import numpy as np

__all__ = ["normal", "logits", "labels", "weights", "rnn_params"]


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Standard normal entries times ``scale``."""
    return scale * rng.standard_normal(shape)


def logits(rng: np.random.Generator, N: int, C: int, scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """(N, C) logits: ``scale`` times standard normal entries, plus a per-row shift of size ``offset``.

    With ``offset=1e4`` each row is shifted by +-(0.5 to 1) * 1e4, so a naive ``exp`` overflows (or underflows
    to 0/0), while the differences within a row stay of size ``scale``: the softmax is not a one-hot vector and
    its derivatives are not all zero. Shifted logits are whole multiples of 2^-9 (shift a whole number), so
    they are exact in float32 below 16384: a float32 computation loses nothing when it reads them.
    """
    z = scale * rng.standard_normal((N, C))
    if not offset:
        return z
    shift = np.round(offset * rng.choice([-1.0, 1.0], size=(N, 1)) * rng.uniform(0.5, 1.0, size=(N, 1)))
    return shift + np.round(z * 512.0) / 512.0


def labels(rng: np.random.Generator, *shape: int, C: int) -> np.ndarray:
    """int64 class indices in [0, C)."""
    return rng.integers(0, C, size=shape).astype(np.int64)


def weights(rng: np.random.Generator, n_in: int, n_out: int, gain: float = 1.0) -> np.ndarray:
    """(n_in, n_out) weights with variance gain^2 / n_in (so activations keep a steady size)."""
    return gain * rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)


def rnn_params(W_x, W_h, b, W_y, b_y) -> dict:
    """The parameter dict rnngrad's sequence models take, from the arguments the students' functions get."""
    return {"W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y}
