"""Free running as a closed-loop RNN: the gradient of rnngrad.free_running_grad against torch autograd through
the fed-back loop and finite differences, the closed-loop weights against the loop itself and against the
fed-back slope of sequence_slope_feedback, and the input checks."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings

from rnngrad import RnngradInputError, ShapeError
from rnngrad.extras import squared_error_rnn_grad
from rnngrad.forward_mode import sequence_slope, sequence_slope_feedback
from rnngrad.gradcheck import numerical_gradient
from rnngrad.rnn import rnn_forward
from rnngrad.teacher_forcing import closed_loop_weights, free_running_grad
from strategies import assert_close, dims, seeds

KEYS = ("h0", "W_x", "W_h", "b", "W_y", "b_y")


def make(seed, T, N, D, H, C):
    rng = np.random.default_rng(seed)
    w = dict(W_x=rng.standard_normal((D + C, H)) / np.sqrt(D + C), W_h=rng.standard_normal((H, H)) / np.sqrt(H),
             b=rng.standard_normal(H) * 0.3, W_y=rng.standard_normal((H, C)) / np.sqrt(H),
             b_y=rng.standard_normal(C) * 0.3)
    return dict(xs=rng.standard_normal((T, N, D)), h0=rng.standard_normal((N, H)) * 0.5, **w,
                targets=rng.standard_normal((T, N, C)))


def torch_free_running_loss(a):
    """The loss of the loop as written: feed y_{t-1} (y_0 = h0 W_y + b_y) back as input."""
    h = a["h0"]
    y = h @ a["W_y"] + a["b_y"]
    total = 0.0
    for t in range(a["xs"].shape[0]):
        h = torch.tanh(torch.cat([a["xs"][t], y], dim=1) @ a["W_x"] + h @ a["W_h"] + a["b"])
        y = h @ a["W_y"] + a["b_y"]
        total = total + ((y - a["targets"][t]) ** 2).sum()
    return 0.5 * total / a["xs"].shape[1], h


@settings(max_examples=25, deadline=None)
@given(seed=seeds, T=dims(1, 6), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), C=dims(1, 2))
def test_free_running_gradient_matches_torch_through_the_loop(seed, T, N, D, H, C):
    p = make(seed, T, N, D, H, C)
    loss, g, h_last = free_running_grad(**p)
    a = {k: torch.tensor(v, requires_grad=k in KEYS) for k, v in p.items()}
    t_loss, t_h = torch_free_running_loss(a)
    t_loss.backward()
    assert abs(loss - t_loss.item()) <= 1e-12 * max(1.0, abs(loss))
    assert_close(h_last, t_h.detach().numpy(), rtol=1e-12, atol=1e-14, name="h_last")
    assert sorted(g) == sorted(KEYS)
    for key in KEYS:
        assert g[key].shape == p[key].shape
        assert_close(g[key], a[key].grad.numpy(), rtol=1e-10, atol=1e-12, name=key)


def test_free_running_gradient_matches_finite_differences():
    p = make(5, 5, 2, 2, 3, 2)
    _, g, _ = free_running_grad(**p)
    for key in KEYS:
        f = lambda v, key=key: free_running_grad(**dict(p, **{key: v}))[0]
        assert_close(g[key], numerical_gradient(f, p[key]), rtol=1e-6, atol=1e-8, name=key)


def test_free_running_differs_from_teacher_forcing_by_the_fed_back_path():
    p = make(2, 6, 3, 1, 4, 1)
    _, g_free, _ = free_running_grad(**p)
    y0 = p["h0"] @ p["W_y"] + p["b_y"]
    fed = np.concatenate([p["xs"], np.concatenate([y0[None], p["targets"][:-1]])], axis=2)
    _, g_tf, _ = squared_error_rnn_grad(fed, p["targets"], p["h0"], p["W_x"], p["W_h"], p["b"], p["W_y"],
                                        p["b_y"])
    assert np.abs(g_free["W_h"] - g_tf["W_h"]).max() > 1e-3
    # fed with its own outputs as "observations", teacher forcing runs the same loop, with a different gradient
    W_u, W_loop, b_loop = closed_loop_weights(p["W_x"], p["W_h"], p["b"], p["W_y"], p["b_y"])
    ys = rnn_forward(p["xs"], p["h0"], W_u, W_loop, b_loop) @ p["W_y"] + p["b_y"]
    own = np.concatenate([p["xs"], np.concatenate([y0[None], ys[:-1]])], axis=2)
    loss_tf, g_own, _ = squared_error_rnn_grad(own, p["targets"], p["h0"], p["W_x"], p["W_h"], p["b"], p["W_y"],
                                               p["b_y"])
    assert abs(loss_tf - free_running_grad(**p)[0]) < 1e-12
    assert np.abs(g_own["W_h"] - g_free["W_h"]).max() > 1e-3


@settings(max_examples=20, deadline=None)
@given(seed=seeds, T=dims(1, 6), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), C=dims(1, 2))
def test_fed_back_slope_is_the_slope_of_the_closed_loop_rnn(seed, T, N, D, H, C):
    p = make(seed, T, N, D, H, C)
    w = [p[k] for k in ("W_x", "W_h", "b", "W_y", "b_y")]
    rates = np.random.default_rng(seed + 1).standard_normal(p["xs"].shape)
    y0 = p["h0"] @ p["W_y"] + p["b_y"]
    ys, slope = sequence_slope_feedback(p["xs"], p["h0"], y0, *w, rates, feedback="predicted")
    W_u, W_loop, b_loop = closed_loop_weights(*w)
    ys_loop, slope_loop = sequence_slope(p["xs"], p["h0"], W_u, W_loop, b_loop, p["W_y"], p["b_y"], rates)
    assert_close(ys, ys_loop, rtol=1e-12, atol=1e-13, name="outputs")
    assert_close(slope, slope_loop, rtol=1e-10, atol=1e-12, name="slope")


def test_bad_input_is_named():
    p = make(0, 3, 2, 2, 4, 1)
    with pytest.raises(ShapeError, match=r"^W_x: .*D\+C=3"):
        free_running_grad(**dict(p, W_x=np.zeros((2, 4))))
    with pytest.raises(ShapeError, match=r"^targets: "):
        free_running_grad(**dict(p, targets=np.zeros((3, 2, 2))))
    with pytest.raises(ShapeError, match=r"^W_x: .*C=2"):
        closed_loop_weights(np.zeros((1, 4)), p["W_h"], p["b"], np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(RnngradInputError, match=r"^b_y: "):
        closed_loop_weights(p["W_x"], p["W_h"], p["b"], p["W_y"], np.zeros(3))
