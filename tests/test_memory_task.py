"""rnngrad.memory_task: the adding problem's data, the model's loss and gradient, and the training loop."""
from __future__ import annotations

import numpy as np
import pytest

from rnngrad import RnngradInputError, gru_forward, lstm_forward, rnn_forward
from rnngrad.gradcheck import numerical_gradient, relative_error
from rnngrad.memory_task import (ADDING_CHANCE_MSE, MEMORY_CELLS, adding_problem, init_memory_params,
                                 memory_task_loss_grad, train_memory_task)


@pytest.mark.parametrize("T", [2, 3, 10, 31])
def test_adding_problem_has_one_marker_in_each_half_and_sums_the_marked_numbers(T):
    xs, targets = adding_problem(T, 200, rng=3)
    assert xs.shape == (T, 200, 2) and targets.shape == (200,)
    numbers, markers = xs[..., 0], xs[..., 1]
    assert set(np.unique(markers)) <= {0.0, 1.0}
    assert np.all(markers[:T // 2].sum(axis=0) == 1) and np.all(markers[T // 2:].sum(axis=0) == 1)
    assert np.all((numbers >= 0) & (numbers < 1))
    np.testing.assert_allclose(targets, (numbers * markers).sum(axis=0), rtol=0, atol=0)


def test_adding_problem_is_reproducible_from_a_seed_and_advances_a_generator():
    a, b = adding_problem(8, 5, rng=1), adding_problem(8, 5, rng=1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    gen = np.random.default_rng(1)
    first, second = adding_problem(8, 5, rng=gen), adding_problem(8, 5, rng=gen)
    assert not np.array_equal(first[0], second[0])


def test_the_best_constant_prediction_has_the_chance_error():
    _, targets = adding_problem(20, 200_000, rng=0)
    assert abs(targets.mean() - 1.0) < 0.01
    assert abs(np.mean((targets - 1.0) ** 2) - ADDING_CHANCE_MSE) < 0.002


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, True])
def test_adding_problem_refuses_a_sequence_without_two_halves(bad):
    with pytest.raises(RnngradInputError, match=r"^T: "):
        adding_problem(bad, 4)


def test_adding_problem_refuses_an_unseeded_source():
    with pytest.raises(RnngradInputError, match=r"^rng: "):
        adding_problem(4, 4, rng=None)


@pytest.mark.parametrize("cell", MEMORY_CELLS)
def test_init_gives_the_keys_and_shapes_of_the_cell(cell):
    k = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    p = init_memory_params(cell, 2, 5, rng=0)
    expected = {"W_x": (2, k * 5), "W_h": (5, k * 5), "b": (k * 5,), "W_y": (5, 1), "b_y": (1,)}
    if cell == "gru":
        expected["b_hn"] = (5,)
    assert {key: v.shape for key, v in p.items()} == expected
    assert all(v.dtype == np.float64 for v in p.values())


def test_forget_bias_is_set_on_the_forget_block_only():
    H = 3
    b = init_memory_params("lstm", 2, H, rng=0, forget_bias=1.5)["b"]
    np.testing.assert_array_equal(b[H:2 * H], 1.5)
    np.testing.assert_array_equal(np.delete(b, np.s_[H:2 * H]), 0.0)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_forget_bias_is_refused_for_a_cell_without_a_forget_gate(cell):
    with pytest.raises(RnngradInputError, match=r"^forget_bias: "):
        init_memory_params(cell, 2, 3, forget_bias=1.0)


def _forward_last(cell, xs, p):
    N, H = xs.shape[1], p["W_h"].shape[0]
    h0 = np.zeros((N, H))
    if cell == "lstm":
        return lstm_forward(xs, h0, h0, p["W_x"], p["W_h"], p["b"])[0][-1]
    if cell == "gru":
        return gru_forward(xs, h0, p["W_x"], p["W_h"], p["b"], p["b_hn"])[0][-1]
    return rnn_forward(xs, h0, p["W_x"], p["W_h"], p["b"])[-1]


@pytest.mark.parametrize("cell", MEMORY_CELLS)
def test_loss_is_the_mean_squared_error_of_the_readout_of_the_last_state(cell):
    xs, targets = adding_problem(7, 5, rng=2)
    p = init_memory_params(cell, 2, 4, rng=1)
    p["b_y"] = np.array([0.3])
    loss, _ = memory_task_loss_grad(cell, xs, targets, p)
    y_hat = _forward_last(cell, xs, p) @ p["W_y"][:, 0] + 0.3
    assert loss == pytest.approx(np.mean((y_hat - targets) ** 2), rel=1e-14)


@pytest.mark.parametrize("cell", MEMORY_CELLS)
def test_gradient_matches_finite_differences_for_every_parameter(cell):
    xs, targets = adding_problem(6, 3, rng=4)
    rng = np.random.default_rng(5)
    p = {key: value + 0.3 * rng.standard_normal(value.shape)            # no zero biases: every path is used
         for key, value in init_memory_params(cell, 2, 3, rng=6).items()}
    _, grads = memory_task_loss_grad(cell, xs, targets, p)
    assert sorted(grads) == sorted(p)
    for key in p:
        fd = numerical_gradient(lambda v, key=key: memory_task_loss_grad(cell, xs, targets, dict(p, **{key: v}))[0],
                                p[key])
        assert grads[key].shape == p[key].shape
        assert relative_error(grads[key], fd) < 1e-7, key


@pytest.mark.parametrize("params, match", [
    ({"W_x": np.zeros((2, 4)), "W_h": np.zeros((4, 4)), "b": np.zeros(4), "W_y": np.zeros((4, 1))}, "missing b_y"),
    ({"W_x": np.zeros((2, 4)), "W_h": np.zeros((4, 4)), "b": np.zeros(4), "W_y": np.zeros((4, 1)),
      "b_y": np.zeros(1), "b_hn": np.zeros(4)}, "extra b_hn"),
    ([np.zeros(4)], "expected a dict"),
])
def test_params_with_the_wrong_keys_are_refused_by_name(params, match):
    xs, targets = adding_problem(4, 2, rng=0)
    with pytest.raises(RnngradInputError, match=rf"^params: .*{match}"):
        memory_task_loss_grad("rnn", xs, targets, params)


def test_params_of_another_cell_are_refused_by_shape():
    xs, targets = adding_problem(4, 2, rng=0)
    lstm = init_memory_params("lstm", 2, 3, rng=0)
    with pytest.raises(RnngradInputError, match=r"^params\['W_h'\]"):
        memory_task_loss_grad("rnn", xs, targets, lstm)


def test_training_returns_new_params_and_is_reproducible():
    p = init_memory_params("gru", 2, 4, rng=0)
    before = {key: value.copy() for key, value in p.items()}
    trained, losses = train_memory_task("gru", p, T=6, steps=20, N=8, rng=3)
    again, losses_again = train_memory_task("gru", p, T=6, steps=20, N=8, rng=3)
    assert all(np.array_equal(p[key], before[key]) for key in p)
    assert losses.shape == (20,) and np.array_equal(losses, losses_again)
    assert all(np.array_equal(trained[key], again[key]) for key in p)
    assert not np.array_equal(trained["W_h"], p["W_h"])


def test_training_an_lstm_beats_chance_on_a_short_adding_problem():
    p = init_memory_params("lstm", 2, 8, rng=0, forget_bias=1.0)
    trained, losses = train_memory_task("lstm", p, T=10, steps=150, N=32, lr=0.02, rng=1)
    xs, targets = adding_problem(10, 2000, rng=9)
    loss, _ = memory_task_loss_grad("lstm", xs, targets, trained)
    assert loss < 0.4 * ADDING_CHANCE_MSE
    assert losses[-20:].mean() < 0.5 * losses[:20].mean()


def test_training_takes_the_first_step_adam_prescribes():
    """Adam's first step moves every entry by lr * sign(g) (up to eps): m_hat = g, v_hat = g**2."""
    p = init_memory_params("rnn", 2, 3, rng=0)
    gen = np.random.default_rng(7)
    xs, targets = adding_problem(5, 4, rng=np.random.default_rng(7))
    _, grads = memory_task_loss_grad("rnn", xs, targets, p)
    trained, _ = train_memory_task("rnn", p, T=5, steps=1, N=4, lr=0.01, rng=gen)
    for key in p:
        step = p[key] - trained[key]
        np.testing.assert_allclose(step, 0.01 * grads[key] / (np.abs(grads[key]) + 1e-8), rtol=1e-12, atol=1e-15)
