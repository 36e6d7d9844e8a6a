"""k-step truncated BPTT against torch (detach), and the unbiasedness of randomized truncation.

The randomized estimator is checked twice: exactly, by averaging its value over every
possible pattern of cuts with that pattern's probability, and by Monte Carlo, where the
mean of M draws must lie within 5 standard errors of the full gradient in every entry.
The Monte Carlo check is shown to have teeth: the same check rejects the uncompensated
(plain random truncation) estimator and fixed truncation.
"""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import DTypeError, RnngradInputError, ShapeError
from rnngrad.char_lm import _output_backward, char_lm_grad, char_lm_loss
from rnngrad.rnn import init_rnn_params
from rnngrad.torch_ref.rnn import t_char_lm_chunked_grad, t_char_lm_truncated_grad
from rnngrad.truncation import (_sweep_with_link_scale, char_lm_chunked_grad, char_lm_truncated_grad,
                                randomized_truncation_grad)
from strategies import assert_close, dims, seeds

KEYS = ("W_x", "W_h", "b", "W_y", "b_y", "h0")


def make_lm(seed, T, N, V, H, w_scale=None):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(V, H, C=V, rng=seed, scale=w_scale)
    params["b"] = rng.standard_normal(H) * 0.3
    return {"params": params, "inputs": rng.integers(0, V, (T, N)), "targets": rng.integers(0, V, (T, N)),
            "h0": rng.standard_normal((N, H)) * 0.5}


problems = st.builds(make_lm, seeds, dims(1, 6), dims(1, 3), dims(1, 4), dims(1, 4))


@given(p=problems, k=st.integers(1, 8))
def test_truncated_matches_torch_detach(p, k):
    args = (p["params"], p["inputs"], p["targets"], p["h0"])
    loss, g, h_last = char_lm_truncated_grad(*args, k=k)
    t_loss, t_g, t_h_last = t_char_lm_truncated_grad(*args, k=k)
    full_loss, full, full_h = char_lm_grad(*args)
    assert abs(loss - t_loss) <= 1e-11 * max(1.0, abs(loss)) and loss == full_loss
    assert np.array_equal(h_last, full_h)
    assert_close(h_last, t_h_last, rtol=1e-12, atol=1e-14, name="h_last")
    for key in KEYS:
        assert g[key].shape == full[key].shape
        assert_close(g[key], t_g[key], rtol=1e-10, atol=1e-12, name=f"{key} (k={k}) vs torch")
    # the output layer does not go through time
    assert_close(g["W_y"], full["W_y"], rtol=1e-13, atol=1e-15, name="W_y")


@given(p=problems)
def test_truncation_limits(p):
    args = (p["params"], p["inputs"], p["targets"], p["h0"])
    T = p["inputs"].shape[0]
    full = char_lm_grad(*args)[1]
    beyond = char_lm_truncated_grad(*args, k=T + 1)[1]
    at_T = char_lm_truncated_grad(*args, k=T)[1]
    for key in KEYS:
        assert_close(beyond[key], full[key], rtol=1e-12, atol=1e-14, name=f"{key} (k=T+1)")
    for key in ("W_x", "W_h", "b"):
        assert_close(at_T[key], full[key], rtol=1e-12, atol=1e-14, name=f"{key} (k=T)")
    # with k = 1 every loss term stops at its own state, so none reaches h0
    one = char_lm_truncated_grad(*args, k=1)[1]
    assert not one["h0"].any()


@given(p=problems, k=st.integers(1, 7))
def test_chunked_matches_torch_detach_and_the_sum_over_chunks(p, k):
    args = (p["params"], p["inputs"], p["targets"], p["h0"])
    loss, g, h_last = char_lm_chunked_grad(*args, k=k)
    t_loss, t_g, _ = t_char_lm_chunked_grad(*args, k=k)
    assert abs(loss - t_loss) <= 1e-11 * max(1.0, abs(loss))
    for key in KEYS:
        assert_close(g[key], t_g[key], rtol=1e-10, atol=1e-12, name=f"{key} (k={k}) vs torch")
    # the same as full BPTT on each chunk, carrying the last state
    T, h, total = p["inputs"].shape[0], p["h0"], {key: 0.0 for key in KEYS}
    for start in range(0, T, k):
        _, gc, h = char_lm_grad(p["params"], p["inputs"][start:start + k], p["targets"][start:start + k], h)
        for key in KEYS:
            total[key] = total[key] + (gc[key] if key != "h0" or start == 0 else 0.0)
    for key in KEYS:
        assert_close(g[key], total[key], rtol=1e-12, atol=1e-13, name=f"{key} (k={k}) vs chunks")
    assert_close(h_last, h, rtol=1e-14, atol=1e-15, name="h_last")


def test_one_step_truncation_keeps_only_each_steps_own_contribution():
    p = make_lm(2, 5, 2, 4, 3)
    args = (p["params"], p["inputs"], p["targets"], p["h0"])
    g = char_lm_truncated_grad(*args, k=1)[1]
    _, cache = char_lm_loss(*args)
    _, dhs = _output_backward(cache)
    hs = cache["hs"]
    h_prev = np.concatenate([p["h0"][None], hs[:-1]])
    das = dhs * (1 - hs ** 2)
    assert_close(g["W_h"], np.einsum("tni,tnj->ij", h_prev, das), rtol=1e-12, atol=1e-14, name="W_h")
    assert_close(g["b"], das.sum(axis=(0, 1)), rtol=1e-12, atol=1e-14, name="b")


def expectation_over_all_cuts(p, probs, compensate=True):
    """The estimator's exact mean: every cut pattern's gradient times that pattern's probability."""
    loss, cache = char_lm_loss(p["params"], p["inputs"], p["targets"], p["h0"])
    out_grads, dhs = _output_backward(cache)
    mean = {k: 0.0 for k in KEYS}
    weight = 1.0 / (1.0 - probs) if compensate else np.ones_like(probs)
    for pattern in itertools.product((False, True), repeat=len(probs)):
        cut = np.array(pattern)
        prob = np.prod(np.where(cut, probs, 1.0 - probs))
        g = _sweep_with_link_scale(cache, out_grads, dhs, np.where(cut, 0.0, weight))
        for k in KEYS:
            mean[k] = mean[k] + prob * g[k]
    return mean


@pytest.mark.parametrize("seed, T, schedule", [(0, 4, 0.3), (1, 5, "ramp"), (2, 1, 0.5)])
def test_randomized_truncation_is_exactly_unbiased_over_all_cut_patterns(seed, T, schedule):
    p = make_lm(seed, T, 2, 3, 3, w_scale=1.2)
    probs = np.linspace(0.1, 0.6, T) if schedule == "ramp" else np.full(T, schedule)
    full = char_lm_grad(p["params"], p["inputs"], p["targets"], p["h0"])[1]
    mean = expectation_over_all_cuts(p, probs)
    for k in KEYS:
        assert_close(mean[k], full[k], rtol=1e-11, atol=1e-13, name=k)
    if T > 1:  # without the weights the expectation is not the gradient
        biased = expectation_over_all_cuts(p, probs, compensate=False)
        assert not np.allclose(biased["W_h"], full["W_h"], rtol=1e-3, atol=1e-6)


def within_standard_errors(samples, target, z=5.0):
    """Is the mean of the rows of ``samples`` within ``z`` standard errors of ``target`` in every entry?

    Entries whose draws never vary must equal the target up to round-off. Returns
    ``(ok, worst)`` with ``worst`` the largest |mean - target| / standard error.
    """
    M = samples.shape[0]
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(M)
    err = np.abs(mean - target)
    round_off = 1e-10 * (1.0 + np.abs(target))
    ok = bool((err <= z * se + round_off).all())
    excess = np.maximum(err - round_off, 0.0)
    worst = float(np.max(np.where(se > 0, excess / np.maximum(se, 1e-300), np.where(excess > 0, np.inf, 0.0))))
    return ok, worst


def draws(estimator, M):
    """M estimates, each flattened into one row (all keys side by side)."""
    return np.array([np.concatenate([g[k].ravel() for k in KEYS]) for g in (estimator() for _ in range(M))])


@pytest.mark.parametrize("seed, p_cut", [(0, 0.3), (1, "schedule")])
def test_randomized_truncation_is_unbiased_by_monte_carlo(seed, p_cut):
    T, M = 5, 3000
    prob = make_lm(seed, T, 2, 3, 3, w_scale=1.5)
    args = (prob["params"], prob["inputs"], prob["targets"], prob["h0"])
    full_g = char_lm_grad(*args)[1]
    full = np.concatenate([full_g[k].ravel() for k in KEYS])
    p = np.linspace(0.15, 0.45, T) if p_cut == "schedule" else p_cut
    rng = np.random.default_rng(100 + seed)

    est = draws(lambda: randomized_truncation_grad(*args, rng=rng, p=p)[1], M)
    ok, worst = within_standard_errors(est, full)
    assert ok, f"unbiased estimator rejected: worst deviation {worst:.2f} standard errors"
    assert est.std(axis=0).max() > 1e-3, "the estimator should be random"

    # the same test rejects the estimator without the 1/(1-p) weights ...
    plain = draws(lambda: randomized_truncation_grad(*args, rng=rng, p=p, compensate=False)[1], M)
    assert not within_standard_errors(plain, full)[0]
    # ... and fixed truncation (no randomness: any bias is caught)
    fixed = draws(lambda: char_lm_truncated_grad(*args, k=2)[1], 3)
    assert not within_standard_errors(fixed, full)[0]


def test_randomized_truncation_edge_cases():
    p = make_lm(4, 4, 2, 3, 3)
    args = (p["params"], p["inputs"], p["targets"], p["h0"])
    full = char_lm_grad(*args)[1]
    never = randomized_truncation_grad(*args, rng=np.random.default_rng(0), p=0.0)[1]
    for k in KEYS:
        assert_close(never[k], full[k], rtol=1e-13, atol=1e-15, name=f"{k} (p=0)")
    a = randomized_truncation_grad(*args, rng=np.random.default_rng(9), p=0.5)[1]
    b = randomized_truncation_grad(*args, rng=np.random.default_rng(9), p=0.5)[1]
    assert all(np.array_equal(a[k], b[k]) for k in KEYS)
    with pytest.raises(RnngradInputError, match=r"^p: expected cut probabilities in \[0, 1\)"):
        randomized_truncation_grad(*args, rng=np.random.default_rng(0), p=1.0)
    with pytest.raises(ShapeError, match=r"^p: "):
        randomized_truncation_grad(*args, rng=np.random.default_rng(0), p=np.full(3, 0.2))
    with pytest.raises(RnngradInputError, match=r"^rng: .*got None"):
        randomized_truncation_grad(*args, rng=None, p=0.2)
    with pytest.raises(TypeError, match="rng"):  # required: a random estimate never comes from a hidden seed
        randomized_truncation_grad(*args, p=0.2)
    c = randomized_truncation_grad(*args, rng=9, p=0.5)[1]  # an int seed is the Generator it seeds
    assert all(np.array_equal(a[k], c[k]) for k in KEYS)
    with pytest.raises(RnngradInputError, match=r"^k: expected a positive integer"):
        char_lm_truncated_grad(*args, k=0)
    with pytest.raises(RnngradInputError, match=r"^k: expected a positive integer"):
        char_lm_chunked_grad(*args, k=2.5)
