"""Back-propagation through time with checkpoints: keep every k-th state,
recompute the others segment by segment.

Plain back-propagation through time (:func:`rnngrad.rnn_backward`) keeps
all T states of the forward pass, ``T + 1`` arrays (N, H) with ``h0``.
Checkpointing keeps only the state entering each segment of k steps,
``h_0, h_k, h_2k, ...`` (``⌈T/k⌉`` checkpoints), and runs the backward
pass segment by segment from the last: the states of a segment are recomputed
from its checkpoint by the forward recursion, the backward recursion runs
over them with the gradient that arrived from the later segments, and they
are dropped. The recursion ``g_t = dhs[t] + da_{t+1} W_h^T`` needs nothing
from the later segments but the gradient entering the segment's last
state, so the gradient is that of plain back-propagation, up to rounding.
At most ``⌈T/k⌉ + min(k, T)`` states are held at once, about ``2√T``
for ``k ≈ √T``; the price is a second forward pass over all segments but the
last (whose states are kept from the first pass), ``2T - (length of the
last segment)`` steps of the cell in all. ``k = T`` is plain
back-propagation (one segment); ``k = 1`` keeps every state as a
checkpoint.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._sequences import checked_state
from ._validate import Dims, positive_int
from .rnn import rnn_backward, rnn_forward

__all__ = ["CheckpointCounts", "checkpointed_rnn_backward"]


@dataclass(frozen=True)
class CheckpointCounts:
    """What a checkpointed backward pass held and computed:
    ``stored_states = ⌈T/k⌉ + min(k, T)``, ``forward_steps < 2T``.

    Attributes:
        stored_states: the largest number of (N, H) states held at once
            (the checkpoints, ``h0`` included, and the states of the
            segment being worked on).
        forward_steps: steps of the cell evaluated, first pass and
            recomputation together.
        segments: number of segments, ``⌈T/k⌉``.

    Example:
        >>> CheckpointCounts(stored_states=7, forward_steps=13, segments=3)
        CheckpointCounts(stored_states=7, forward_steps=13, segments=3)
    """

    stored_states: int
    forward_steps: int
    segments: int


def checkpointed_rnn_backward(dhs, xs, h0, W_x, W_h, b, *, k=None
                              ) -> tuple[dict, CheckpointCounts]:
    """Back-propagation through time from every k-th stored state:
    ``g_t = dhs[t] + (g_{t+1} (1 - h_{t+1}^2)) W_h^T``, segment by segment.

    Args:
        dhs: (T, N, H) direct gradients of the loss with respect to every
            hidden state.
        xs: (T, N, D) inputs.
        h0: (N, H) initial state.
        W_x: (D, H) input weights.
        W_h: (H, H) recurrent weights.
        b: (H,) bias (the states are recomputed, so the bias is needed,
            where :func:`rnngrad.rnn_backward` takes the stored ``hs``).
        k: positive int, the segment length, or None for ``⌈√T⌉``.

    Returns:
        ``(grads, counts)``: ``grads`` a dict with ``"xs"`` (T, N, D),
        ``"h0"`` (N, H), ``"W_x"`` (D, H), ``"W_h"`` (H, H), ``"b"`` (H,),
        the gradients of :func:`rnngrad.rnn_backward`; ``counts`` a
        :class:`CheckpointCounts`.

    Example:
        >>> import numpy as np
        >>> from rnngrad.rnn import rnn_backward, rnn_forward
        >>> rng = np.random.default_rng(0)
        >>> xs, h0 = rng.normal(size=(9, 2, 3)), rng.normal(size=(2, 4))
        >>> W_x, W_h, b = (rng.normal(size=(3, 4)),
        ...                rng.normal(size=(4, 4)) / 2, rng.normal(size=4))
        >>> dhs = rng.normal(size=(9, 2, 4))
        >>> g, counts = checkpointed_rnn_backward(dhs, xs, h0, W_x, W_h, b,
        ...                                       k=3)
        >>> hs = rnn_forward(xs, h0, W_x, W_h, b)
        >>> full = rnn_backward(dhs, xs, h0, hs, W_x, W_h)
        >>> all(np.allclose(g[key], full[key]) for key in full)
        True
        >>> counts.stored_states, counts.forward_steps
        (6, 15)
    """
    dims = Dims()
    dhs = dims.float_array("dhs", dhs, ("T", "N", "H"))
    xs = dims.float_array("xs", xs, ("T", "N", "D"))
    h0 = checked_state(Dims.float_array, dims, "h0", h0, "xs", xs)
    W_x = dims.float_array("W_x", W_x, ("D", "H"))
    W_h = dims.float_array("W_h", W_h, ("H", "H"))
    b = dims.float_array("b", b, ("H",))
    T = dims["T"]
    if k is None:
        k = math.isqrt(T - 1) + 1 if T > 1 else 1          # ⌈√T⌉
    k = positive_int("k", k)
    starts = list(range(0, T, k))
    # first pass: keep the state entering each segment (and the last
    # segment's states, which the backward pass needs first)
    checkpoints, last, held, steps = [], None, 1, 0
    h = h0
    for s in starts:
        checkpoints.append(h)
        last = rnn_forward(xs[s:s + k], h, W_x, W_h, b)
        steps += len(last)
        held = max(held, len(checkpoints) + len(last))
        h = last[-1]
    grads = {"xs": np.zeros(xs.shape), "W_x": np.zeros(W_x.shape),
             "W_h": np.zeros(W_h.shape), "b": np.zeros(b.shape)}
    carry = np.zeros(h0.shape)       # dL/dh entering from later segments
    for j in range(len(starts) - 1, -1, -1):
        s = starts[j]
        if j == len(starts) - 1:
            states, last = last, None
        else:                                        # recomputed
            states = rnn_forward(xs[s:s + k], checkpoints[j], W_x, W_h, b)
            steps += len(states)
            held = max(held, len(checkpoints) + len(states))
        seg = slice(s, s + len(states))
        seg_dhs = dhs[seg].copy()
        seg_dhs[-1] += carry
        g = rnn_backward(seg_dhs, xs[seg], checkpoints[j], states,
                         W_x, W_h)
        grads["xs"][seg] = g["xs"]
        for key in ("W_x", "W_h", "b"):
            grads[key] += g[key]
        carry = g["h0"]
    grads = {"xs": grads["xs"], "h0": carry, "W_x": grads["W_x"],
             "W_h": grads["W_h"], "b": grads["b"]}
    return grads, CheckpointCounts(stored_states=held, forward_steps=steps,
                                   segments=len(starts))
