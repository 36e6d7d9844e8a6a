"""rnngrad.extras against torch autograd (float64, primitive ops) and central finite differences.

Shapes are drawn by hypothesis and include size-1 axes (N = 1, T = 1, H = 1).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnngrad import extras
from rnngrad._validate import RnngradInputError, ShapeError
from rnngrad.gradcheck import numerical_jacobian, numerical_jvp
from rnngrad.rnn import rnn_forward, rnn_step_backward
from rnngrad.torch_ref import T_ACTIVATIONS as T_ACT
from rnngrad.torch_ref import to_numpy as n
from rnngrad.torch_ref import to_tensor as t

from strategies import assert_close, dims, seeds


def _weights(rng, D, H, gain=1.0):
    return gain * rng.standard_normal((D, H)) / np.sqrt(D)



@settings(max_examples=15)
@given(N=dims(), D=dims(), H=dims(), seed=seeds, activation=st.sampled_from(["tanh", "sigmoid", "relu", "identity"]))
def test_cell_step_backward_matches_torch_autograd(N, D, H, seed, activation):
    rng = np.random.default_rng(seed)
    x, h_prev, dh = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    W_x, W_h, b = _weights(rng, D, H, 1.5), _weights(rng, H, H, 1.5), rng.standard_normal(H)
    leaves = [t(v).requires_grad_() for v in (x, h_prev, W_x, W_h, b)]
    h_t = T_ACT[activation](leaves[0] @ leaves[2] + leaves[1] @ leaves[3] + leaves[4])
    grads = torch.autograd.grad(h_t, leaves, grad_outputs=t(dh))
    got = extras.cell_step_backward(dh, x, h_prev, n(h_t), W_x, W_h, activation)
    for key, want in zip(["x", "h_prev", "W_x", "W_h", "b"], grads):
        assert_close(got[key], n(want), name=key)


def test_cell_step_backward_with_tanh_is_rnn_step_backward():
    rng = np.random.default_rng(3)
    x, h_prev, dh = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    W_x, W_h = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    h = np.tanh(x @ W_x + h_prev @ W_h)
    got, want = extras.cell_step_backward(dh, x, h_prev, h, W_x, W_h, "tanh"), rnn_step_backward(dh, x, h_prev, h, W_x, W_h)
    for key in want:
        assert_close(got[key], want[key], name=key)


@settings(max_examples=15)
@given(T=dims(1, 4), N=dims(1, 3), H=dims(1, 4), seed=seeds, alpha=st.sampled_from([0.1, 0.5, 1.0]))
def test_leaky_step_jacobians_match_torch_and_finite_differences(T, N, H, seed, alpha):
    rng = np.random.default_rng(seed)
    xs, h0 = rng.standard_normal((T, N, 2)), np.tanh(rng.standard_normal((N, H)))
    W_x, W_h, b = _weights(rng, 2, H), _weights(rng, H, H, 1.3), 0.2 * rng.standard_normal(H)
    hs = extras.leaky_rnn_forward(xs, h0, W_x, W_h, b, alpha)
    J = extras.leaky_step_jacobians(hs, h0, W_h, alpha)
    assert J.shape == (T, N, H, H)
    prevs = np.concatenate([h0[None], hs[:-1]])

    def step(x, W_x_, W_h_, b_, a):
        return lambda hp: (1 - a) * hp + a * torch.tanh(x @ W_x_ + hp @ W_h_ + b_)

    for s in range(T):
        # one row at a time: the Jacobian of a row map, (H, H)
        for r in range(N):
            f = step(t(xs[s, r:r + 1]), t(W_x), t(W_h), t(b), alpha)
            jt = torch.autograd.functional.jacobian(lambda hp: f(hp[None])[0], t(prevs[s, r]))
            assert_close(J[s, r], n(jt), name=f"J[{s}, {r}] vs torch")
            jn = numerical_jacobian(lambda hp: (1 - alpha) * hp + alpha * np.tanh(xs[s, r] @ W_x + hp @ W_h + b),
                                    prevs[s, r])
            assert_close(J[s, r], jn, rtol=1e-6, atol=1e-8, name="J vs finite differences")


def test_leaky_forward_with_alpha_one_is_the_tanh_rnn():
    rng = np.random.default_rng(1)
    args = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 5)), rng.standard_normal((3, 5)), \
        rng.standard_normal((5, 5)) / 3, rng.standard_normal(5)
    assert_close(extras.leaky_rnn_forward(*args, 1.0), rnn_forward(*args))


@settings(max_examples=12)
@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), C=dims(1, 3), seed=seeds)
def test_squared_error_rnn_grad_matches_torch_autograd(T, N, D, H, C, seed):
    rng = np.random.default_rng(seed)
    xs, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    p = {"W_x": _weights(rng, D, H), "W_h": _weights(rng, H, H, 1.2), "b": rng.standard_normal(H),
         "W_y": _weights(rng, H, C), "b_y": rng.standard_normal(C)}
    targets = rng.standard_normal((T, N, C))
    loss, grads, h_last = extras.squared_error_rnn_grad(xs, targets, h0, p["W_x"], p["W_h"], p["b"], p["W_y"],
                                                        p["b_y"])
    tp = {k: t(v).requires_grad_() for k, v in p.items()}
    th0 = t(h0).requires_grad_()
    h, total = th0, 0.0
    for s in range(T):
        h = torch.tanh(t(xs[s]) @ tp["W_x"] + h @ tp["W_h"] + tp["b"])
        total = total + 0.5 * ((h @ tp["W_y"] + tp["b_y"] - t(targets[s])) ** 2).sum() / N
    total.backward()
    assert loss == pytest.approx(float(total.detach()), rel=1e-12)
    for k in p:
        assert_close(grads[k], n(tp[k].grad), name=k)
    assert_close(grads["h0"], n(th0.grad), name="h0")
    assert_close(h_last, n(h.detach()), name="h_last")


def test_squared_error_rnn_grad_matches_finite_differences_of_its_loss():
    rng = np.random.default_rng(7)
    args = {"xs": rng.standard_normal((3, 2, 2)), "h0": rng.standard_normal((2, 3)),
            "W_x": rng.standard_normal((2, 3)), "W_h": rng.standard_normal((3, 3)) / 2, "b": rng.standard_normal(3),
            "W_y": rng.standard_normal((3, 2)), "b_y": rng.standard_normal(2), "targets": rng.standard_normal((3, 2, 2))}
    _, grads, _ = extras.squared_error_rnn_grad(**args)
    for key in ("W_x", "W_h", "b", "W_y", "b_y", "h0"):
        def loss(w, key=key):
            return extras.squared_error_rnn_grad(**dict(args, **{key: w}))[0]
        assert_close(grads[key], numerical_jacobian(loss, args[key]), rtol=1e-6, atol=1e-8, name=f"{key} vs FD")


@settings(max_examples=12)
@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), seed=seeds)
def test_rnn_param_jvp_matches_torch_jvp_and_finite_differences(T, N, D, H, seed):
    rng = np.random.default_rng(seed)
    xs, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    W_x, W_h, b = _weights(rng, D, H), _weights(rng, H, H, 1.2), rng.standard_normal(H)
    dW_x, dW_h, db = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    hs, dhs = extras.rnn_param_jvp(xs, h0, W_x, W_h, b, dW_x, dW_h, db)
    assert_close(hs, rnn_forward(xs, h0, W_x, W_h, b), name="hs")

    def run(wx, wh, bb):
        h, out = t(h0), []
        for s in range(T):
            h = torch.tanh(t(xs[s]) @ wx + h @ wh + bb)
            out.append(h)
        return torch.stack(out)

    _, tangent = torch.func.jvp(run, (t(W_x), t(W_h), t(b)), (t(dW_x), t(dW_h), t(db)))
    assert_close(dhs, n(tangent), name="dhs vs torch.func.jvp")
    num = numerical_jvp(lambda w: rnn_forward(xs, h0, W_x, w, b), W_h, dW_h)
    only_h = extras.rnn_param_jvp(xs, h0, W_x, W_h, b, dW_h=dW_h)[1]
    assert_close(only_h, num, rtol=1e-6, atol=1e-8, name="dhs vs finite differences")


def test_rnn_param_jvp_with_zero_direction_is_zero_and_linear_in_the_direction():
    rng = np.random.default_rng(2)
    args = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((3, 3)), \
        rng.standard_normal((3, 3)) / 2, rng.standard_normal(3)
    assert not extras.rnn_param_jvp(*args)[1].any()
    d = rng.standard_normal((3, 3))
    assert_close(extras.rnn_param_jvp(*args, dW_h=2 * d)[1], 2 * extras.rnn_param_jvp(*args, dW_h=d)[1])


def test_extras_validate_their_inputs_and_never_mutate_them():
    rng = np.random.default_rng(0)
    hs, h0, W_h = rng.standard_normal((3, 2, 4)), rng.standard_normal((2, 4)), rng.standard_normal((4, 4))
    copies = [a.copy() for a in (hs, h0, W_h)]
    extras.leaky_step_jacobians(hs, h0, W_h, 0.5)
    assert all(np.array_equal(a, c) for a, c in zip((hs, h0, W_h), copies))
    with pytest.raises(RnngradInputError, match="alpha"):
        extras.leaky_step_jacobians(hs, h0, W_h, 0.0)
    with pytest.raises(ShapeError, match="W_h"):
        extras.leaky_step_jacobians(hs, h0, np.ones((3, 3)), 0.5)
    with pytest.raises(RnngradInputError, match="activation|name"):
        extras.cell_step_backward(h0, h0, h0, h0, W_h, W_h, activation="softsign")
    with pytest.raises(ShapeError, match="targets"):
        extras.squared_error_rnn_grad(hs, np.ones((3, 2)), h0, W_h, W_h, h0[0], W_h, h0[0])
