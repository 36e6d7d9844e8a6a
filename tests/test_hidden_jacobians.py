"""Hidden-state Jacobians of the tanh RNN: step Jacobians, their products both ways, singular values."""
import numpy as np
import pytest
from hypothesis import given

from rnngrad import RnngradInputError
from rnngrad.gradcheck import numerical_jacobian
from rnngrad.hidden_jacobians import (hidden_state_jacobians, jacobian_products, jacobians_from_start,
                                      rnn_jacobian_products, rnn_jacobians_from_start, rnn_step_jacobian,
                                      rnn_step_jacobians, singular_values_over_time)
from rnngrad.rnn import rnn_forward, rnn_step_forward
from rnngrad.torch_ref.jacobians import (t_jacobian_products, t_jacobians_from_start, t_singular_values_over_time,
                                         t_step_jacobian, t_step_jacobians)
from strategies import assert_close, dims, seeds


def make_rnn(seed, T, N, D, H, gain=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((T, N, D)), rng.standard_normal((N, H)) * 0.5,
            rng.standard_normal((D, H)) / np.sqrt(D), gain * rng.standard_normal((H, H)) / np.sqrt(H),
            rng.standard_normal(H) * 0.1)


@given(T=dims(1, 4), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), seed=seeds)
def test_step_jacobians_match_torch_and_finite_differences(T, N, D, H, seed):
    xs, h0, W_x, W_h, b = make_rnn(seed, T, N, D, H)
    hs, J = hidden_state_jacobians(xs, h0, W_x, W_h, b)
    assert J.shape == (T, N, H, H)
    assert_close(J, rnn_step_jacobians(hs, W_h), rtol=0, atol=0, name="hidden_state_jacobians")
    assert_close(J, t_step_jacobians(xs, h0, W_x, W_h, b), rtol=1e-12, atol=1e-14, name="vs torch vmap(jacrev)")
    prev = np.concatenate([h0[None], hs[:-1]])
    for t in range(T):
        assert_close(rnn_step_jacobian(hs[t], W_h), J[t], rtol=0, atol=0, name="one step")
        assert_close(J[t], t_step_jacobian(xs[t], prev[t], W_x, W_h, b), rtol=1e-12, atol=1e-14, name="torch step")
        for n in range(N):
            fd = numerical_jacobian(lambda h: rnn_step_forward(xs[t, n:n + 1], h[None], W_x, W_h, b)[0], prev[t, n])
            assert_close(J[t, n], fd, rtol=1e-6, atol=1e-9, name=f"FD step {t} row {n}")


def test_step_jacobian_is_numerator_layout_not_its_transpose():
    # a non-symmetric W_h at h = 0 (tanh' = 1): d h_t / d h_{t-1} is W_h^T, whose rows are outputs
    W_h = np.array([[0.0, 1.0], [0.0, 0.0]])           # h_t[1] = h_{t-1}[0]
    J = rnn_step_jacobian(np.zeros((1, 2)), W_h)
    assert J[0, 1, 0] == 1.0 and J[0, 0, 1] == 0.0


@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 2), H=dims(1, 4), seed=seeds)
def test_products_to_the_last_state_match_torch_and_finite_differences(T, N, D, H, seed):
    xs, h0, W_x, W_h, b = make_rnn(seed, T, N, D, H)
    hs, J = hidden_state_jacobians(xs, h0, W_x, W_h, b)
    P = jacobian_products(J)
    assert P.shape == (T, N, H, H)
    assert_close(rnn_jacobian_products(hs, W_h), P, rtol=1e-12, atol=1e-15, name="structured sweep")
    assert_close(P, t_jacobian_products(xs, h0, W_x, W_h, b), rtol=1e-10, atol=1e-14, name="vs torch jacrev")
    assert_close(P[-1], J[-1], rtol=0, atol=0, name="P[T-1] = J[T-1]")
    states = np.concatenate([h0[None], hs])             # states[k] = h_k, k = 0..T
    for k in range(T):
        for n in range(N):
            # h_T as a function of h_k alone: run the remaining steps from h_k
            fd = numerical_jacobian(lambda h: rnn_forward(xs[k:, n:n + 1], h[None], W_x, W_h, b)[-1, 0],
                                    states[k, n])
            assert_close(P[k, n], fd, rtol=1e-6, atol=1e-9, name=f"FD d h_T / d h_{k} row {n}")


@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 2), H=dims(1, 4), seed=seeds)
def test_products_from_the_start_match_torch_and_finite_differences(T, N, D, H, seed):
    xs, h0, W_x, W_h, b = make_rnn(seed, T, N, D, H)
    hs, J = hidden_state_jacobians(xs, h0, W_x, W_h, b)
    Q = jacobians_from_start(J)
    assert Q.shape == (T, N, H, H)
    assert_close(rnn_jacobians_from_start(hs, W_h), Q, rtol=1e-12, atol=1e-15, name="structured sweep")
    assert_close(Q, t_jacobians_from_start(xs, h0, W_x, W_h, b), rtol=1e-10, atol=1e-14, name="vs torch jacfwd")
    # the two sweeps meet: d h_T / d h_0 computed backward and forward
    assert_close(jacobian_products(J)[0], Q[-1], rtol=1e-10, atol=1e-14, name="P[0] = Q[T-1]")
    for n in range(N):
        fd = numerical_jacobian(lambda h: rnn_forward(xs[:, n:n + 1], h[None], W_x, W_h, b)[:, 0], h0[n])
        assert_close(Q[:, n], fd, rtol=1e-6, atol=1e-9, name=f"FD d h_t / d h_0 row {n}")


@given(T=dims(1, 5), N=dims(1, 2), D=dims(1, 2), H=dims(1, 4), seed=seeds)
def test_singular_values_match_torch(T, N, D, H, seed):
    xs, h0, W_x, W_h, b = make_rnn(seed, T, N, D, H)
    _, J = hidden_state_jacobians(xs, h0, W_x, W_h, b)
    S = singular_values_over_time(J)
    assert S.shape == (T, N, H)
    assert (np.diff(S, axis=-1) <= 1e-12).all(), "largest first"
    assert_close(S, t_singular_values_over_time(xs, h0, W_x, W_h, b), rtol=1e-9, atol=1e-13, name="vs torch svdvals")


@pytest.mark.parametrize("gain", [0.5, 1.0, 1.5])
def test_singular_values_of_a_scaled_orthogonal_recurrence_are_powers_of_the_gain(gain):
    # zero inputs, bias and start keep every state at 0, where tanh' = 1: d h_t / d h_0 = (gain * O^T)^t
    H, T = 6, 12
    O, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((H, H)))
    zeros = np.zeros
    _, J = hidden_state_jacobians(zeros((T, 2, 1)), zeros((2, H)), zeros((1, H)), gain * O, zeros(H))
    S = singular_values_over_time(J)
    expected = np.broadcast_to(gain ** np.arange(1, T + 1)[:, None, None], (T, 2, H))
    assert_close(S, expected, rtol=1e-10, atol=0, name="singular values")


def test_products_vanish_with_saturated_units():
    # large pre-activations push tanh' towards 0: the products shrink much faster than |W_h|^t
    xs, h0, W_x, W_h, b = make_rnn(0, 20, 2, 3, 5)
    _, J_sat = hidden_state_jacobians(20 * xs, h0, 20 * W_x, W_h, b)
    _, J_lin = hidden_state_jacobians(0 * xs, 0 * h0, W_x, W_h, 0 * b)
    assert singular_values_over_time(J_sat)[-1].max() < 1e-3 * singular_values_over_time(J_lin)[-1].max()


def test_inputs_are_not_modified():
    xs, h0, W_x, W_h, b = make_rnn(1, 3, 2, 2, 3)
    hs, J = hidden_state_jacobians(xs, h0, W_x, W_h, b)
    copies = [a.copy() for a in (hs, W_h, J)]
    rnn_step_jacobians(hs, W_h), rnn_jacobian_products(hs, W_h), rnn_jacobians_from_start(hs, W_h)
    jacobian_products(J), jacobians_from_start(J), singular_values_over_time(J)
    for a, c in zip((hs, W_h, J), copies):
        assert np.array_equal(a, c)


def test_bad_inputs_name_the_argument():
    with pytest.raises(RnngradInputError, match=r"^hs: expected 3 axes"):
        rnn_step_jacobians(np.zeros((2, 3)), np.eye(3))
    with pytest.raises(RnngradInputError, match=r"^W_h: expected shape \(H, H\) with H=3 \(from hs\)"):
        rnn_step_jacobians(np.zeros((2, 1, 3)), np.eye(4))
    with pytest.raises(RnngradInputError, match=r"^h: expected 2 axes"):
        rnn_step_jacobian(np.zeros(3), np.eye(3))
    with pytest.raises(RnngradInputError, match=r"^step_jacobians: expected shape \(T, N, H, H\)"):
        jacobian_products(np.zeros((2, 1, 3, 4)))
    with pytest.raises(RnngradInputError, match=r"^step_jacobians: expected a floating-point array"):
        jacobians_from_start(np.zeros((2, 1, 3, 3), dtype=int))
    with pytest.raises(RnngradInputError, match=r"^hs: expected finite values"):
        rnn_jacobian_products(np.full((2, 1, 2), np.nan), np.eye(2))
