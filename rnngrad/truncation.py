"""Truncated back-propagation through time for the character model: fixed and randomized truncation.

Notation (time steps 1..T, ``h_0`` the initial state, ``L_t`` the loss term of step t,
so that the model's loss is ``L = sum_t L_t``): the gradient of ``L_t`` reaches the
states ``h_t, h_{t-1}, ..., h_0`` in turn, one step back per product with
``diag(1 - h_s**2) W_h^T``, and every state ``h_s`` it reaches (s >= 1) adds its
immediate contribution to ``dL/dW_x``, ``dL/dW_h``, ``dL/db`` (the one computed with
``h_{s-1}`` held fixed). Call that the contribution of ``L_t`` *j steps back* when
``s = t - j``.

**k-step truncation** keeps, for each loss term, only the contributions 0..k-1 steps
back: ``L_t`` contributes through ``h_t, h_{t-1}, ..., h_{t-k+1}``, i.e. ``h_{t-k}`` is
treated as a constant in ``L_t``. The initial state counts as a state: ``dL/dh_0``
collects the terms with ``t - k + 1 <= 0``. So ``k >= T`` gives the full parameter
gradient and ``k >= T + 1`` the full gradient including ``"h0"``; ``k = 1`` keeps
only each step's own contribution.

It is computed with one stacked backward sweep. Group the loss terms by ``t mod k``:
inside the group of residue r the terms sit k steps apart, and cutting every recurrent
link ``h_s -> h_{s-1}`` with ``s ≡ r + 1 (mod k)`` stops each of them exactly k steps
back without touching the others. The k groups run side by side as one batch of size
k*N through the shared recursion of :mod:`rnngrad.rnn`; their parameter gradients add
up. (So k-step truncation is the sum of k chunked truncations with shifted chunk
boundaries, each keeping only the last loss term of every chunk.)

**Chunked truncation** (the usual practice, and what :func:`rnngrad.train_char_lm` does
across its updates): cut the sequence into chunks of k steps, carry the state forward
but cut every link into a chunk's first step except the first chunk's link to ``h_0``.
A loss term then reaches back only to the start of its chunk, between 1 and k states
depending on where it sits.

**Randomized truncation** (Tallec & Ollivier, 2017, "Unbiasing truncated
backpropagation through time"): during the backward sweep, the link from step s back
to its predecessor is cut with probability ``p_s`` and otherwise multiplied by
``1 / (1 - p_s)``, independently for every s. For ``L_t`` the truncation length ``Λ``
(number of states its gradient reaches) is then random with
``P(Λ >= j + 1) = prod_{s=t-j+1..t} (1 - p_s)``, and the contribution j steps back is
kept with exactly that probability and weighted by its inverse, so every contribution
has expectation equal to itself: ``E[estimate] = full gradient`` exactly, for every
parameter and for ``h0``. A constant ``p`` makes ``Λ`` geometric with mean about
``1/p`` (capped by the start of the sequence); the price of unbiasedness is variance,
since the weights grow like ``(1 - p)^-j``.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, DTypeError, RnngradInputError, generator, positive_int
from .char_lm import _grads_from_sweep, _output_backward, char_lm_loss
from .rnn import _bptt_sweep

__all__ = ["char_lm_truncated_grad", "char_lm_chunked_grad", "randomized_truncation_grad"]


def _sweep_with_link_scale(cache: dict, out_grads: dict, dhs: np.ndarray, link_scale: np.ndarray) -> dict:
    """Gradient dict of the character model when the link out of step t is scaled by ``link_scale[t]``."""
    das, dh0 = _bptt_sweep(dhs, cache["hs"], cache["params"]["W_h"], link_scale=link_scale)
    return _grads_from_sweep(cache, out_grads, das, dh0)


def char_lm_truncated_grad(params, inputs, targets, h0=None, k=1) -> tuple[float, dict, np.ndarray]:
    """k-step truncated BPTT: the gradient of each ``L_t`` with ``h_{t-k}`` held constant, summed over t.

    See the module docstring for the precise definition (which states a loss term
    reaches, how ``"h0"`` is treated) and for how it is computed. The output-layer
    gradients ``"W_y"``, ``"b_y"`` do not go through time and equal the full ones.

    Args:
        params: dict with ``"W_x"`` (V, H), ``"W_h"`` (H, H), ``"b"`` (H,), ``"W_y"`` (H, V), ``"b_y"`` (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial hidden state, or None for zeros.
        k: positive int, the number of states each loss term's gradient reaches.

    Returns:
        ``(loss, grads, h_last)`` as :func:`rnngrad.char_lm_grad`; only ``grads`` differs.

    Example:
        >>> from rnngrad.rnn import init_rnn_params
        >>> from rnngrad.char_lm import char_lm_grad
        >>> p = init_rnn_params(4, 3, C=4, rng=0)
        >>> rng = np.random.default_rng(1)
        >>> inputs, targets = rng.integers(0, 4, (6, 2)), rng.integers(
        ...     0, 4, (6, 2))
        >>> full = char_lm_grad(p, inputs, targets)[1]
        >>> # k = T + 1: no truncation
        >>> g7 = char_lm_truncated_grad(p, inputs, targets, k=7)[1]
        >>> all(np.allclose(g7[key], full[key]) for key in full)
        True
        >>> bool(np.allclose(
        ...     char_lm_truncated_grad(p, inputs, targets, k=2)[1]["W_h"],
        ...     full["W_h"]))
        False
    """
    k = positive_int("k", k)
    loss, cache = char_lm_loss(params, inputs, targets, h0)
    out_grads, dhs = _output_backward(cache)
    T, N, H = dhs.shape
    k = min(k, T + 1)  # beyond T + 1 nothing is cut
    t = np.arange(T)[:, None]
    r = np.arange(k)[None, :]
    # group r holds the direct gradients of the steps t ≡ r (mod k) ...
    in_group = (t % k == r).astype(np.float64)                      # (T, k)
    stacked = in_group[:, :, None, None] * dhs[:, None]              # (T, k, N, H)
    # ... and cuts the links s -> s-1 with s ≡ r + 1 (mod k), which stops each of its terms k steps back
    link_scale = (t % k != (r + 1) % k).astype(np.float64)[:, :, None, None]
    hs_stacked = np.broadcast_to(cache["hs"][:, None], (T, k, N, H))
    das, dh0 = _bptt_sweep(stacked, hs_stacked, cache["params"]["W_h"], link_scale=link_scale)
    grads = _grads_from_sweep(cache, out_grads, das.sum(axis=1), dh0.sum(axis=0))
    return loss, grads, cache["hs"][-1].copy()


def char_lm_chunked_grad(params, inputs, targets, h0=None, k=1) -> tuple[float, dict, np.ndarray]:
    """Chunked truncated BPTT: the gradient with the recurrent links into steps k, 2k, 3k, ... (0-based) cut.

    Equivalently, the sum of :func:`rnngrad.char_lm_grad` over consecutive chunks of k
    steps, each started from the previous chunk's last state taken as a constant;
    ``"h0"`` receives only the first chunk's gradient.

    Args:
        params: dict with ``"W_x"`` (V, H), ``"W_h"`` (H, H), ``"b"`` (H,), ``"W_y"`` (H, V), ``"b_y"`` (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial hidden state, or None for zeros.
        k: positive int, the chunk length (k >= T: the full gradient).

    Returns:
        ``(loss, grads, h_last)`` as :func:`rnngrad.char_lm_grad`; only ``grads`` differs.

    Example:
        >>> from rnngrad.rnn import init_rnn_params
        >>> from rnngrad.char_lm import char_lm_grad
        >>> p = init_rnn_params(4, 3, C=4, rng=0)
        >>> rng = np.random.default_rng(1)
        >>> inputs, targets = rng.integers(0, 4, (6, 2)), rng.integers(
        ...     0, 4, (6, 2))
        >>> chunks = [char_lm_grad(p, inputs[:3], targets[:3]), None]
        >>> chunks[1] = char_lm_grad(p, inputs[3:], targets[3:], chunks[0][2])
        >>> g = char_lm_chunked_grad(p, inputs, targets, k=3)[1]
        >>> bool(
        ...     np.allclose(g["W_h"],
        ...                 chunks[0][1]["W_h"] + chunks[1][1]["W_h"]))
        True
    """
    k = positive_int("k", k)
    loss, cache = char_lm_loss(params, inputs, targets, h0)
    out_grads, dhs = _output_backward(cache)
    steps = np.arange(dhs.shape[0])
    link_scale = ((steps % k != 0) | (steps == 0)).astype(np.float64)
    return loss, _sweep_with_link_scale(cache, out_grads, dhs, link_scale), cache["hs"][-1].copy()


def _cut_probabilities(p, T: int) -> np.ndarray:
    """Validate ``p`` (a float or a (T,) schedule) and return the (T,) cut probabilities."""
    if isinstance(p, (bool, np.bool_)):
        raise DTypeError(f"p: expected a probability in [0, 1) or an array (T,) of them, got {p!r}")
    if isinstance(p, (int, float, np.integer, np.floating)):
        probs = np.full(T, float(p))
        if not np.isfinite(probs).all():
            raise RnngradInputError(f"p: expected a probability in [0, 1), got {p!r}")
    else:
        probs = Dims(T=T).float_array("p", p, ("T",))
    if ((probs < 0) | (probs >= 1)).any():
        raise RnngradInputError(f"p: expected cut probabilities in [0, 1), got values in "
                                f"[{float(probs.min())!r}, {float(probs.max())!r}]")
    return probs


def randomized_truncation_grad(params, inputs, targets, h0=None, *, rng,
                               p=0.2, compensate=True
                               ) -> tuple[float, dict, np.ndarray]:
    """Unbiased randomized truncation of BPTT: cut the link out of step s
    with probability ``p_s``, else scale by ``1/(1-p_s)``.

    Every call draws T independent cuts from ``rng``; the expectation of the
    returned gradient over these draws equals :func:`rnngrad.char_lm_grad`'s
    gradient exactly (module docstring). ``p = 0`` never cuts and returns
    the full gradient.

    Args:
        params: dict with ``"W_x"`` (V, H), ``"W_h"`` (H, H), ``"b"`` (H,),
            ``"W_y"`` (H, V), ``"b_y"`` (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial hidden state, or None for zeros.
        rng: the only source of randomness, required: a Generator
            (advanced: pass the same one to average over calls) or an
            int seed (the same cuts at every call); None is refused.
        p: cut probability in [0, 1) for every link, or an array (T,) whose
            entry s is the probability of cutting the link from step s
            (0-based) to its predecessor (``h0`` for s = 0).
        compensate: True (default) applies the weights ``1/(1-p_s)``; False
            drops them, which gives plain random truncation, a biased
            estimator (for comparison).

    Returns:
        ``(loss, grads, h_last)`` as :func:`rnngrad.char_lm_grad`, with
        ``grads`` the estimate.

    Example:
        >>> from rnngrad.rnn import init_rnn_params
        >>> from rnngrad.char_lm import char_lm_grad
        >>> p = init_rnn_params(4, 3, C=4, rng=0)
        >>> rng = np.random.default_rng(0)
        >>> inputs, targets = (rng.integers(0, 4, (5, 1)),
        ...                    rng.integers(0, 4, (5, 1)))
        >>> full = char_lm_grad(p, inputs, targets)[1]["W_h"]
        >>> est = np.mean([
        ...     randomized_truncation_grad(p, inputs, targets, rng=rng,
        ...                                p=0.3)[1]["W_h"]
        ...     for _ in range(4000)], axis=0)
        >>> bool(np.abs(est - full).max() < 0.05 * np.abs(full).max())
        True
    """
    gen = generator(rng)
    if not isinstance(compensate, (bool, np.bool_)):
        raise DTypeError(f"compensate: expected a bool, got {compensate!r}")
    loss, cache = char_lm_loss(params, inputs, targets, h0)
    T = cache["hs"].shape[0]
    probs = _cut_probabilities(p, T)
    out_grads, dhs = _output_backward(cache)
    cut = gen.random(T) < probs
    keep_weight = 1.0 / (1.0 - probs) if compensate else np.ones(T)
    link_scale = np.where(cut, 0.0, keep_weight)
    return (loss, _sweep_with_link_scale(cache, out_grads, dhs, link_scale),
            cache["hs"][-1].copy())
