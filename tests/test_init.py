"""Glorot initialisation and the variance of the recurrent Jacobian it produces."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnngrad import RnngradInputError
from rnngrad.init import activation_derivative_moments, glorot_jacobian_variance, glorot_limit, glorot_uniform
from rnngrad.torch_ref.jacobians import t_two_state_state_jacobian
from strategies import dims, seeds


@given(fan_in=dims(1, 40), fan_out=dims(1, 40), seed=seeds)
def test_glorot_uniform_shape_range_and_determinism(fan_in, fan_out, seed):
    W = glorot_uniform(fan_in, fan_out, seed)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert W.shape == (fan_in, fan_out) and W.dtype == np.float64
    assert np.abs(W).max() <= limit == glorot_limit(fan_in, fan_out)
    assert np.array_equal(W, glorot_uniform(fan_in, fan_out, np.random.default_rng(seed)))


def test_glorot_uniform_moments_within_sampling_error():
    fan_in, fan_out = 300, 500
    W = glorot_uniform(fan_in, fan_out, 7)
    var = 2.0 / (fan_in + fan_out)
    M = W.size
    # uniform law: Var(W^2) = 0.8 var^2, so the sample mean of W^2 has sd sqrt(0.8 / M) var
    assert abs((W**2).mean() / var - 1.0) < 5 * math.sqrt(0.8 / M)
    assert abs(W.mean()) < 5 * math.sqrt(var / M)


def test_a_generator_is_advanced_so_two_draws_differ():
    rng = np.random.default_rng(0)
    assert not np.array_equal(glorot_uniform(4, 4, rng), glorot_uniform(4, 4, rng))


@pytest.mark.parametrize("activation, value", [("relu", 0.5), ("identity", 1.0)])
def test_relu_halves_the_jacobian_variance_that_identity_keeps_at_one(activation, value):
    H, trials = 64, 40
    r = glorot_jacobian_variance(H, activation, trials=trials, rng=11)
    assert r.per_trial.shape == (trials,)
    # the tolerance is the standard error derived from H (entries per trial) and the number of trials
    assert abs(r.expected - value) < 2.0 / H**2
    assert abs(r.estimate - r.expected) < 5 * r.standard_error, (r.estimate, r.expected, r.standard_error)
    # the per-trial spread agrees with the derived one (sampling error of an sd from 40 trials is ~11 %)
    assert 0.6 < r.spread / r.predicted_sd < 1.5


def test_relu_and_identity_are_told_apart():
    relu = glorot_jacobian_variance(32, "relu", trials=10, rng=1)
    ident = glorot_jacobian_variance(32, "identity", trials=10, rng=1)
    gap = ident.estimate - relu.estimate
    assert gap > 10 * math.hypot(relu.standard_error, ident.standard_error)
    assert abs(gap - 0.5) < 5 * math.hypot(relu.standard_error, ident.standard_error)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_smooth_activations_match_the_gaussian_moment(activation):
    r = glorot_jacobian_variance(48, activation, trials=30, rng=5, N=4)
    m1, m2, m4 = activation_derivative_moments(activation)
    assert 0 < m1 and m1**2 <= m2 and m2**2 <= m4
    assert abs(r.estimate - r.expected) < 5 * r.standard_error


def test_moments_agree_with_monte_carlo():
    z = np.random.default_rng(0).standard_normal(400_000)
    s = 1 / (1 + np.exp(-z))
    for name, d in [("tanh", 1 - np.tanh(z) ** 2), ("sigmoid", s * (1 - s))]:
        for got, sample in zip(activation_derivative_moments(name), (d, d**2, d**4)):
            assert abs(got - sample.mean()) < 5 * sample.std() / math.sqrt(z.size)


@settings(max_examples=5)
@given(H=dims(2, 12), N=dims(1, 3), seed=st.integers(0, 1000), activation=st.sampled_from(["relu", "identity"]))
def test_each_trial_is_H_times_the_variance_of_the_torch_jacobian(H, N, seed, activation):
    # redo the first trial by hand, with the Jacobian from torch.func instead of the closed form
    r = glorot_jacobian_variance(H, activation, trials=2, rng=seed, N=N)
    gen = np.random.default_rng(seed)
    W_h = glorot_uniform(H, H, gen)
    h_prev = gen.standard_normal((N, H))
    zeros = np.zeros
    J = t_two_state_state_jacobian(zeros((N, 1)), h_prev, zeros((N, H)), W_h, zeros(H), zeros((1, H)), activation)
    assert math.isclose(r.per_trial[0], H * np.var(J[:, :H, :H]), rel_tol=1e-12)


def test_state_scale_does_not_matter_for_relu_but_does_for_tanh():
    small, large = (glorot_jacobian_variance(32, "relu", trials=5, rng=2, state_std=s) for s in (0.1, 10.0))
    assert np.allclose(small.per_trial, large.per_trial)
    t_small, t_large = (glorot_jacobian_variance(32, "tanh", trials=5, rng=2, state_std=s) for s in (0.1, 10.0))
    assert t_small.estimate > 0.9 and t_large.estimate < 0.2


def test_bad_inputs_name_the_argument():
    with pytest.raises(RnngradInputError, match=r"^fan_in: expected a positive integer, got 0"):
        glorot_uniform(0, 3, 0)
    with pytest.raises(RnngradInputError, match=r"^rng: expected an int seed >= 0 or a numpy.random.Generator"):
        glorot_uniform(2, 3, "seed")
    with pytest.raises(RnngradInputError, match=r"^rng: .*got None \(rnngrad draws nothing unseeded"):
        glorot_jacobian_variance(4, rng=None)
    with pytest.raises(RnngradInputError, match=r"^H: expected a positive integer"):
        glorot_jacobian_variance(2.5)
    with pytest.raises(RnngradInputError, match=r"^activation: expected one of"):
        glorot_jacobian_variance(4, "gelu")
    with pytest.raises(RnngradInputError, match=r"^trials: expected a positive integer"):
        glorot_jacobian_variance(4, trials=0)
    with pytest.raises(RnngradInputError, match=r"^state_std: expected a positive finite number"):
        glorot_jacobian_variance(4, state_std=-1.0)
