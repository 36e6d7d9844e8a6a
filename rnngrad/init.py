"""Glorot (Xavier) uniform initialisation and what it does to the recurrent Jacobian.

Glorot and Bengio (2010) draw a (fan_in, fan_out) weight matrix uniformly from
``[-l, l]`` with ``l = sqrt(6 / (fan_in + fan_out))``, so that each entry has variance
``l^2 / 3 = 2 / (fan_in + fan_out)``. For the square recurrent matrix of the two-state
cell (``rnngrad.two_state_cell``) this is ``1 / H``.

The experiment here measures the entries of ``A = d h_t / d h_{t-1} = W_h^T diag(σ'(h_{t-1}))``
at a freshly initialised ``W_h`` and a standard normal previous state. Each entry is a weight
times ``σ'`` of an independent state entry, so its second moment is
``Var(W) E[σ'(z)^2] = E[σ'(z)^2] / H``; multiplied by H this is 1 for the identity and 1/2
for relu (half of the units are off, and their columns of A are zero). Glorot's scale keeps
the Jacobian's entries at variance 1/H only for a linear cell; the factor 1/2 for relu is
the reason He et al. (2015) double the variance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import check_choice, generator, positive_int, positive_number
from .activations import activation_derivative
from .two_state_cell import TWO_STATE_ACTIVATIONS, two_state_state_jacobian

__all__ = [
    "glorot_uniform",
    "glorot_limit",
    "GlorotJacobianVariance",
    "glorot_jacobian_variance",
    "activation_derivative_moments",
]


def glorot_limit(fan_in, fan_out) -> float:
    """Half-width of the Glorot uniform interval: ``sqrt(6 / (fan_in + fan_out))``.

    Args:
        fan_in: rows of the weight matrix (positive int).
        fan_out: columns of the weight matrix (positive int).

    Returns:
        The limit ``l`` as a Python float; entries drawn from ``[-l, l]`` have variance
        ``l^2 / 3 = 2 / (fan_in + fan_out)``.

    Example:
        >>> glorot_limit(3, 3)
        1.0
    """
    fan_in = positive_int("fan_in", fan_in)
    fan_out = positive_int("fan_out", fan_out)
    return math.sqrt(6.0 / (fan_in + fan_out))


def glorot_uniform(fan_in, fan_out, rng) -> np.ndarray:
    """A (fan_in, fan_out) matrix with entries uniform on ``[-l, l]``,
    ``l = sqrt(6 / (fan_in + fan_out))``.

    Args:
        fan_in: rows (the inputs of ``x @ W``).
        fan_out: columns (the outputs).
        rng: a ``numpy.random.Generator`` (advanced in place) or an integer
            seed.

    Returns:
        float64 array (fan_in, fan_out); entry variance
        ``2 / (fan_in + fan_out)``.

    Example:
        >>> import numpy as np
        >>> W = glorot_uniform(200, 200, 0)
        >>> (W.shape, bool(np.abs(W).max() <= np.sqrt(6 / 400)),
        ...  round(float(W.var() * 200), 1))
        ((200, 200), True, 1.0)
    """
    limit = glorot_limit(fan_in, fan_out)
    gen = generator(rng)
    return gen.uniform(-limit, limit, size=(int(fan_in), int(fan_out)))


def activation_derivative_moments(activation: str, state_std: float = 1.0) -> tuple[float, float, float]:
    """``(E[σ'(z)], E[σ'(z)^2], E[σ'(z)^4])`` for ``z ~ N(0, state_std^2)``.

    Exact for relu and identity; Gauss-Hermite quadrature (120 nodes) for the smooth
    sigmoid and tanh.

    Args:
        activation: ``σ``, one of ``"relu"``, ``"identity"``, ``"sigmoid"``, ``"tanh"``.
        state_std: standard deviation of the Gaussian argument ``z`` (relu and identity
            do not depend on it).

    Returns:
        A tuple of three Python floats, the first, second and fourth moments of ``σ'(z)``.

    Example:
        >>> activation_derivative_moments("relu")
        (0.5, 0.5, 0.5)
    """
    check_choice("activation", activation, TWO_STATE_ACTIVATIONS)
    state_std = positive_number("state_std", state_std)
    if activation == "relu":
        return 0.5, 0.5, 0.5
    if activation == "identity":
        return 1.0, 1.0, 1.0

    nodes, weights = np.polynomial.hermite_e.hermegauss(120)   # weight exp(-z^2 / 2)
    weights = weights / math.sqrt(2.0 * math.pi)
    d = activation_derivative(activation, nodes * state_std)
    return float(weights @ d), float(weights @ d**2), float(weights @ d**4)


@dataclass(frozen=True)
class GlorotJacobianVariance:
    """Result of ``glorot_jacobian_variance``.

    Attributes:
        estimate: mean over trials of ``H * var(A)`` (the number the experiment reports).
        spread: standard deviation of the per-trial values (ddof=1; 0.0 for one trial).
        per_trial: (trials,) the value of each trial.
        expected: the expectation of one trial's value,
            ``E[σ'^2] - (E[σ']^2 + Var(σ') / N) / H^2`` (the second term is what ``np.var``
            loses by subtracting the sample mean).
        predicted_sd: the standard deviation of one trial's value to leading order,
            ``sqrt((v / N + 0.8 m^2 / H + 0.8 v / (N H)) / H)`` with ``m = E[σ'^2]``,
            ``v = Var(σ'^2)`` (0.8 comes from the uniform law: ``Var(W^2) = 0.8 Var(W)^2``).
        standard_error: ``predicted_sd / sqrt(trials)``, the scale to compare
            ``estimate - expected`` with.

    Example:
        >>> r = glorot_jacobian_variance(50, "identity", trials=4, rng=2)
        >>> r.per_trial.shape, bool(
        ...     abs(r.estimate - r.expected) < 5 * r.standard_error)
        ((4,), True)
    """

    estimate: float
    spread: float
    per_trial: np.ndarray
    expected: float
    predicted_sd: float
    standard_error: float


def glorot_jacobian_variance(H, activation="tanh", trials=20, rng=0, N=1, state_std=1.0) -> GlorotJacobianVariance:
    """Estimate ``H * var(d h_t / d h_{t-1})`` for the two-state cell at Glorot initialisation (≈ 0.5 relu, ≈ 1 identity).

    Each trial draws a fresh ``W_h = glorot_uniform(H, H)`` and a previous state
    ``h_{t-1}`` (N, H) with N(0, state_std^2) entries, forms the (N, H, H) Jacobian
    ``A = W_h^T diag(σ'(h_{t-1}))`` with ``two_state_state_jacobian`` and records
    ``H * np.var(A)`` over all N*H*H entries (zeros included). The recurrent bias does
    not enter A. The weights are drawn once per trial and shared by the N rows, as in a
    network; more rows average the on/off pattern of relu but not the weights.

    Args:
        H: hidden units (>= 1; the estimate is meaningful for H of about 10 or more).
        activation: ``σ``, one of ``"tanh"`` (default), ``"relu"``, ``"identity"``, ``"sigmoid"``.
        trials: independent repetitions (fresh weights and states each time).
        rng: int seed or ``numpy.random.Generator`` of the whole experiment
            (None is refused).
        N: rows of the previous state per trial.
        state_std: standard deviation of the previous state's entries.

    Returns:
        GlorotJacobianVariance (estimate, spread, per-trial values, expectation, predicted spread).

    Example:
        >>> r = glorot_jacobian_variance(100, "relu", trials=10, rng=0)
        >>> (round(r.estimate, 1),
        ...  round(glorot_jacobian_variance(100, "identity",
        ...                                 trials=10).estimate, 1))
        (0.5, 1.0)
    """
    H = positive_int("H", H)
    check_choice("activation", activation, TWO_STATE_ACTIVATIONS)
    trials = positive_int("trials", trials)
    N = positive_int("N", N)
    state_std = positive_number("state_std", state_std)
    gen = generator(rng)
    values = np.empty(trials)
    for k in range(trials):
        W_h = glorot_uniform(H, H, gen)
        h_prev = gen.standard_normal((N, H)) * state_std
        A = two_state_state_jacobian(h_prev, W_h, activation)[:, :H, :H]
        values[k] = H * np.var(A)
    m1, m2, m4 = activation_derivative_moments(activation, state_std)
    v1 = max(m2 - m1 * m1, 0.0)          # Var(σ')
    v2 = max(m4 - m2 * m2, 0.0)          # Var(σ'^2)
    expected = m2 - (m1 * m1 + v1 / N) / H**2
    predicted_sd = math.sqrt((v2 / N + 0.8 * m2 * m2 / H + 0.8 * v2 / (N * H)) / H)
    return GlorotJacobianVariance(
        estimate=float(values.mean()),
        spread=float(values.std(ddof=1)) if trials > 1 else 0.0,
        per_trial=values,
        expected=float(expected),
        predicted_sd=predicted_sd,
        standard_error=predicted_sd / math.sqrt(trials),
    )
