"""Real-time recurrent learning: its sensitivities against forward mode and finite differences, its gradient
against back-propagation through time (rnngrad.rnn_backward) and finite differences, and its input checks."""
import numpy as np
import pytest
from hypothesis import given, settings

from rnngrad import DTypeError, NonFiniteError, RnngradInputError, ShapeError
from rnngrad.extras import rnn_param_jvp
from rnngrad.gradcheck import numerical_gradient, numerical_jacobian
from rnngrad.rnn import rnn_backward, rnn_forward, rnn_step_forward
from rnngrad.rtrl import rtrl_grad, rtrl_step
from strategies import assert_close, dims, seeds

KEYS = ("W_x", "W_h", "b")


def make(seed, T, N, D, H):
    rng = np.random.default_rng(seed)
    return dict(xs=rng.standard_normal((T, N, D)), h0=rng.standard_normal((N, H)) * 0.5,
                W_x=rng.standard_normal((D, H)) / np.sqrt(D), W_h=rng.standard_normal((H, H)) * 1.2 / np.sqrt(H),
                b=rng.standard_normal(H) * 0.3), rng.standard_normal((T, N, H))


def sensitivities(p):
    """All states and the sensitivities after every step, by repeated rtrl_step."""
    h, sens, out = p["h0"], None, []
    for x in p["xs"]:
        h, sens = rtrl_step(x, h, sens, p["W_x"], p["W_h"], p["b"])
        out.append((h, sens))
    return out


@settings(max_examples=25, deadline=None)
@given(seed=seeds, T=dims(1, 5), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4))
def test_rtrl_gradient_equals_bptt(seed, T, N, D, H):
    p, dhs = make(seed, T, N, D, H)
    g = rtrl_grad(dhs, **p)
    hs = rnn_forward(**p)
    bptt = rnn_backward(dhs, p["xs"], p["h0"], hs, p["W_x"], p["W_h"])
    assert sorted(g) == sorted(KEYS)
    for key in KEYS:
        assert g[key].shape == p[key].shape and g[key].dtype == np.float64
        assert_close(g[key], bptt[key], rtol=1e-10, atol=1e-12, name=f"{key} vs rnn_backward")


@settings(max_examples=15, deadline=None)
@given(seed=seeds, T=dims(1, 4), N=dims(1, 2), D=dims(1, 3), H=dims(1, 3))
def test_rtrl_gradient_matches_finite_differences(seed, T, N, D, H):
    p, G = make(seed, T, N, D, H)
    g = rtrl_grad(G, **p)
    for key in KEYS:
        loss = lambda w, key=key: float((rnn_forward(**dict(p, **{key: w})) * G).sum())
        assert_close(g[key], numerical_gradient(loss, p[key]), rtol=1e-6, atol=1e-8, name=f"{key} vs differences")


@settings(max_examples=15, deadline=None)
@given(seed=seeds, T=dims(1, 4), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4))
def test_every_column_of_the_sensitivity_is_a_forward_mode_tangent(seed, T, N, D, H):
    p, _ = make(seed, T, N, D, H)
    steps = sensitivities(p)
    hs = rnn_forward(**p)
    assert_close(np.stack([h for h, _ in steps]), hs, rtol=1e-14, atol=1e-15, name="states")
    rng = np.random.default_rng(seed + 1)
    direction = {key: rng.standard_normal(p[key].shape) for key in KEYS}
    _, tangents = rnn_param_jvp(**p, dW_x=direction["W_x"], dW_h=direction["W_h"], db=direction["b"])
    for t, (_, sens) in enumerate(steps):
        along = sum(np.tensordot(sens[key], direction[key], axes=direction[key].ndim) for key in KEYS)
        assert_close(along, tangents[t], rtol=1e-10, atol=1e-12, name=f"S_{t + 1} · direction")


def test_last_sensitivity_is_the_jacobian_of_the_last_state():
    p, _ = make(3, 4, 2, 3, 3)
    _, sens = sensitivities(p)[-1]
    for key in KEYS:
        J = numerical_jacobian(lambda w, key=key: rnn_forward(**dict(p, **{key: w}))[-1], p[key])
        # numerical_jacobian: output axes then input axes, i.e. (N, H) + θ.shape as the sensitivity
        assert_close(sens[key], J.reshape(sens[key].shape), rtol=1e-6, atol=1e-8, name=key)


def test_one_step_matches_the_cell_and_its_direct_effects():
    rng = np.random.default_rng(0)
    x, h_prev = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    W_x, W_h, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    h, sens = rtrl_step(x, h_prev, None, W_x, W_h, b)
    assert_close(h, rnn_step_forward(x, h_prev, W_x, W_h, b), rtol=0, atol=0)
    slope = 1 - h ** 2
    # from zero sensitivities only the direct effect remains: dh_i/dW_x[d, j] = tanh'(a_i) x_d δ_ij
    expected = np.einsum("ni,nd,ij->nidj", slope, x, np.eye(4))
    assert_close(sens["W_x"], expected, rtol=1e-14, atol=0)
    assert sens["W_h"].shape == (2, 4, 4, 4) and sens["b"].shape == (2, 4, 4)
    # passing the zero sensitivities explicitly gives the same step
    zeros = {"W_x": np.zeros((2, 4, 3, 4)), "W_h": np.zeros((2, 4, 4, 4)), "b": np.zeros((2, 4, 4))}
    assert_close(rtrl_step(x, h_prev, zeros, W_x, W_h, b)[1]["W_h"], sens["W_h"], rtol=0, atol=0)


def test_empty_sequence_gives_zero_gradients():
    p, dhs = make(0, 1, 2, 3, 4)
    p["xs"], dhs = p["xs"][:0], dhs[:0]
    g = rtrl_grad(dhs, **p)
    assert all(not g[key].any() and g[key].shape == p[key].shape for key in KEYS)


def test_bad_input_is_named():
    p, dhs = make(0, 3, 2, 3, 4)
    with pytest.raises(ShapeError, match=r"^dhs: expected 3 axes"):
        rtrl_grad(dhs[None], **p)
    with pytest.raises(ShapeError, match=r"^h0: .*H=3 \(from dhs\)"):
        rtrl_grad(dhs[:, :, :3], **p)
    with pytest.raises(ShapeError, match=r"^W_h: .*H=4"):
        rtrl_grad(dhs, **dict(p, W_h=np.ones((3, 3))))
    with pytest.raises(DTypeError, match=r"^xs: .*floating"):
        rtrl_grad(dhs, **dict(p, xs=np.ones((3, 2, 3), dtype=int)))
    with pytest.raises(NonFiniteError, match=r"^b: "):
        rtrl_grad(dhs, **dict(p, b=np.full(4, np.nan)))
    x, h = p["xs"][0], p["h0"]
    with pytest.raises(RnngradInputError, match=r"^sens_prev: expected a dict"):
        rtrl_step(x, h, [np.zeros((2, 4, 3, 4))], p["W_x"], p["W_h"], p["b"])
    with pytest.raises(RnngradInputError, match=r"^sens_prev: .*missing b"):
        rtrl_step(x, h, {"W_x": np.zeros((2, 4, 3, 4)), "W_h": np.zeros((2, 4, 4, 4))}, p["W_x"], p["W_h"], p["b"])
    bad = {"W_x": np.zeros((2, 4, 3, 4)), "W_h": np.zeros((2, 4, 4, 5)), "b": np.zeros((2, 4, 4))}
    with pytest.raises(ShapeError, match=r'^sens_prev\["W_h"\]: .*H=4'):
        rtrl_step(x, h, bad, p["W_x"], p["W_h"], p["b"])
