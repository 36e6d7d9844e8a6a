"""Back-propagation through time with checkpoints: the gradient of rnngrad.rnn_backward (and of finite
differences) for every segment length, the counts of stored states and recomputed steps, and the input checks."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnngrad import DTypeError, RnngradInputError, ShapeError
from rnngrad.checkpointing import CheckpointCounts, checkpointed_rnn_backward
from rnngrad.gradcheck import numerical_gradient
from rnngrad.rnn import rnn_backward, rnn_forward
from strategies import assert_close, dims, seeds

KEYS = ("xs", "h0", "W_x", "W_h", "b")


def make(seed, T, N, D, H):
    rng = np.random.default_rng(seed)
    return dict(xs=rng.standard_normal((T, N, D)), h0=rng.standard_normal((N, H)) * 0.5,
                W_x=rng.standard_normal((D, H)) / np.sqrt(D), W_h=rng.standard_normal((H, H)) * 1.2 / np.sqrt(H),
                b=rng.standard_normal(H) * 0.3), rng.standard_normal((T, N, H))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, T=dims(1, 12), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), k=st.one_of(st.none(), dims(1, 14)))
def test_checkpointed_gradient_equals_bptt_and_the_counts_follow_the_formula(seed, T, N, D, H, k):
    p, dhs = make(seed, T, N, D, H)
    g, counts = checkpointed_rnn_backward(dhs, **p, k=k)
    full = rnn_backward(dhs, p["xs"], p["h0"], rnn_forward(**p), p["W_x"], p["W_h"])
    assert list(g) == list(full)
    for key in KEYS:
        assert_close(g[key], full[key], rtol=1e-11, atol=1e-13, name=f"{key} (k={k})")
    k = math.ceil(math.sqrt(T)) if k is None else k
    segments = math.ceil(T / k)
    last = T - (segments - 1) * k
    assert counts == CheckpointCounts(stored_states=segments + min(k, T), forward_steps=2 * T - last,
                                      segments=segments)


def test_extreme_segment_lengths_store_as_much_as_bptt_and_sqrt_t_stores_least():
    p, dhs = make(1, 36, 2, 3, 4)
    plain = checkpointed_rnn_backward(dhs, **p, k=36)[1]
    assert (plain.stored_states, plain.forward_steps) == (37, 36)      # one segment: plain BPTT
    every = checkpointed_rnn_backward(dhs, **p, k=1)[1]
    assert every.stored_states == 37 and every.forward_steps == 2 * 36 - 1
    stored = {k: checkpointed_rnn_backward(dhs, **p, k=k)[1].stored_states for k in range(1, 37)}
    assert min(stored, key=stored.get) == 6 and stored[6] == 12
    assert checkpointed_rnn_backward(dhs, **p)[1] == checkpointed_rnn_backward(dhs, **p, k=6)[1]


def test_gradient_matches_finite_differences():
    p, G = make(4, 7, 2, 3, 3)
    g, _ = checkpointed_rnn_backward(G, **p, k=3)
    for key in KEYS:
        loss = lambda v, key=key: float((rnn_forward(**dict(p, **{key: v})) * G).sum())
        assert_close(g[key], numerical_gradient(loss, p[key]), rtol=1e-6, atol=1e-8, name=key)


def test_empty_sequence():
    p, dhs = make(0, 1, 2, 3, 4)
    p["xs"], dhs = p["xs"][:0], dhs[:0]
    g, counts = checkpointed_rnn_backward(dhs, **p, k=2)
    assert g["xs"].shape == (0, 2, 3) and not g["h0"].any() and not g["W_h"].any()
    assert counts == CheckpointCounts(stored_states=1, forward_steps=0, segments=0)


def test_bad_input_is_named():
    p, dhs = make(0, 5, 2, 3, 4)
    for bad in (0, -2, 1.5, True, "3"):
        with pytest.raises(RnngradInputError, match=r"^k: expected a positive integer"):
            checkpointed_rnn_backward(dhs, **p, k=bad)
    with pytest.raises(ShapeError, match=r"^xs: "):
        checkpointed_rnn_backward(dhs, **dict(p, xs=p["xs"][:4]))
    with pytest.raises(ShapeError, match=r"^b: .*H=4"):
        checkpointed_rnn_backward(dhs, **dict(p, b=np.zeros(3)))
    with pytest.raises(DTypeError, match=r"^h0: "):
        checkpointed_rnn_backward(dhs, **dict(p, h0=np.zeros((2, 4), dtype=int)))
