"""The tanh RNN backward pass (one step and through time) against torch autograd and finite differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import RnngradInputError, ShapeError, DTypeError
from rnngrad.gradcheck import numerical_gradient
from rnngrad.rnn import init_rnn_params, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnngrad.torch_ref.rnn import t_rnn_backward, t_rnn_forward, t_rnn_step_backward
from strategies import assert_close, dims, seeds


def make_rnn(seed, T, N, D, H, w_scale=0.8):
    """Inputs, initial state, parameters and upstream gradients of one random problem."""
    rng = np.random.default_rng(seed)
    return {
        "xs": rng.standard_normal((T, N, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "W_x": rng.standard_normal((D, H)) * w_scale / np.sqrt(D),
        "W_h": rng.standard_normal((H, H)) * w_scale / np.sqrt(H),
        "b": rng.standard_normal(H) * 0.3,
        "dhs": rng.standard_normal((T, N, H)),
    }


problems = st.builds(make_rnn, seeds, dims(1, 4), dims(1, 3), dims(1, 3), dims(1, 4))


@given(p=problems)
def test_step_backward_matches_torch_and_finite_differences(p):
    x, h_prev, dh = p["xs"][0], p["h0"], p["dhs"][0]
    W_x, W_h, b = p["W_x"], p["W_h"], p["b"]
    h = rnn_step_forward(x, h_prev, W_x, W_h, b)
    g = rnn_step_backward(dh, x, h_prev, h, W_x, W_h)
    ref = t_rnn_step_backward(dh, x, h_prev, W_x, W_h, b)
    assert sorted(g) == sorted(ref) == ["W_h", "W_x", "b", "h_prev", "x"]
    args = {"x": x, "h_prev": h_prev, "W_x": W_x, "W_h": W_h, "b": b}
    for name in args:
        assert g[name].shape == args[name].shape
        assert_close(g[name], ref[name], rtol=1e-10, atol=1e-12, name=f"{name} vs torch")

        def loss(value, name=name):
            return float((dh * rnn_step_forward(**dict(args, **{name: value}))).sum())

        assert_close(g[name], numerical_gradient(loss, args[name]), rtol=1e-6, atol=1e-8, name=f"{name} vs fd")


@given(p=problems)
def test_rnn_backward_matches_torch_and_finite_differences(p):
    args = {k: p[k] for k in ("xs", "h0", "W_x", "W_h", "b")}
    hs = rnn_forward(**args)
    assert_close(hs, t_rnn_forward(**args), rtol=1e-12, atol=1e-14, name="forward vs torch")
    g = rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_x"], p["W_h"])
    ref = t_rnn_backward(p["dhs"], **args)
    assert sorted(g) == sorted(ref) == ["W_h", "W_x", "b", "h0", "xs"]
    for name in args:
        assert g[name].shape == args[name].shape
        assert_close(g[name], ref[name], rtol=1e-10, atol=1e-12, name=f"{name} vs torch")

        def loss(value, name=name):
            return float((p["dhs"] * rnn_forward(**dict(args, **{name: value}))).sum())

        assert_close(g[name], numerical_gradient(loss, args[name]), rtol=1e-6, atol=1e-8, name=f"{name} vs fd")


@given(p=problems)
def test_rnn_backward_is_the_chain_of_step_backwards(p):
    # running rnn_step_backward from the last step down, adding each step's direct gradient,
    # is the definition of BPTT; the vectorised rnn_backward must agree with it
    xs, h0, W_x, W_h, b, dhs = (p[k] for k in ("xs", "h0", "W_x", "W_h", "b", "dhs"))
    hs = rnn_forward(xs, h0, W_x, W_h, b)
    g = rnn_backward(dhs, xs, h0, hs, W_x, W_h)
    T = xs.shape[0]
    acc = {"W_x": 0.0, "W_h": 0.0, "b": 0.0}
    dxs = np.zeros_like(xs)
    carry = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[t - 1]
        step = rnn_step_backward(dhs[t] + carry, xs[t], h_prev, hs[t], W_x, W_h)
        for k in acc:
            acc[k] = acc[k] + step[k]
        dxs[t] = step["x"]
        carry = step["h_prev"]
    for k in acc:
        assert_close(g[k], acc[k], rtol=1e-12, atol=1e-13, name=k)
    assert_close(g["xs"], dxs, rtol=1e-12, atol=1e-13, name="xs")
    assert_close(g["h0"], carry, rtol=1e-12, atol=1e-13, name="h0")


def test_backward_uses_the_cached_states_and_does_not_modify_inputs():
    p = make_rnn(0, 5, 2, 3, 4)
    hs = rnn_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])
    args = [p["dhs"], p["xs"], p["h0"], hs, p["W_x"], p["W_h"]]
    copies = [a.copy() for a in args]
    g = rnn_backward(*args)
    for a, c in zip(args, copies):
        assert np.array_equal(a, c)
    # tanh' is read off the given states: other states give another answer
    g_other = rnn_backward(p["dhs"], p["xs"], p["h0"], 0.5 * hs, p["W_x"], p["W_h"])
    assert not np.allclose(g["W_h"], g_other["W_h"])


def test_only_the_last_state_matters_when_only_it_is_scored():
    # with dL/dh_t = 0 for t < T the gradient wrt h0 is the product of all step Jacobians
    p = make_rnn(1, 4, 1, 2, 3)
    hs = rnn_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])
    dhs = np.zeros_like(hs)
    dhs[-1] = p["dhs"][-1]
    g = rnn_backward(dhs, p["xs"], p["h0"], hs, p["W_x"], p["W_h"])
    v = dhs[-1][0]
    for t in reversed(range(4)):
        v = (v * (1 - hs[t][0] ** 2)) @ p["W_h"].T
    assert_close(g["h0"][0], v, rtol=1e-12, atol=1e-14, name="h0")


def test_bad_inputs_name_the_argument():
    p = make_rnn(0, 3, 2, 3, 4)
    hs = rnn_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])
    good = dict(dhs=p["dhs"], xs=p["xs"], h0=p["h0"], hs=hs, W_x=p["W_x"], W_h=p["W_h"])
    with pytest.raises(ShapeError, match=r"^hs: expected shape \(T, N, H\)"):
        rnn_backward(**dict(good, hs=hs[:2]))
    with pytest.raises(ShapeError, match=r"^W_h: "):
        rnn_backward(**dict(good, W_h=np.ones((3, 3))))
    with pytest.raises(ShapeError, match=r"^dhs: expected 3 axes"):
        rnn_backward(**dict(good, dhs=p["dhs"][0]))
    with pytest.raises(DTypeError, match=r"^xs: expected a floating-point array"):
        rnn_backward(**dict(good, xs=np.ones((3, 2, 3), dtype=int)))
    with pytest.raises(RnngradInputError, match=r"^h0: expected finite"):
        rnn_backward(**dict(good, h0=np.full((2, 4), np.nan)))
    with pytest.raises(ShapeError, match=r"^h: "):
        rnn_step_backward(p["dhs"][0], p["xs"][0], p["h0"], hs[0][:, :3], p["W_x"], p["W_h"])


def test_a_batch_major_sequence_is_blamed_on_xs_not_h0():
    p = make_rnn(0, 3, 2, 3, 4)          # T=3, N=2
    batch_major = p["xs"].transpose(1, 0, 2)
    with pytest.raises(ShapeError, match=r"^xs: expected a time-major sequence .*batch-major"):
        rnn_forward(batch_major, p["h0"], p["W_x"], p["W_h"], p["b"])
    hs = rnn_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])
    with pytest.raises(ShapeError, match=r"^xs: expected a time-major sequence .*batch-major"):
        rnn_backward(p["dhs"], batch_major, p["h0"], hs, p["W_x"], p["W_h"])
    # an h0 with the wrong number of rows (xs time-major) is still blamed on h0
    with pytest.raises(ShapeError, match=r"^h0: "):
        rnn_forward(p["xs"], p["h0"][:1], p["W_x"], p["W_h"], p["b"])


@given(D=dims(1, 5), H=dims(1, 5), C=st.none() | dims(1, 5), seed=st.integers(0, 1000))
def test_init_rnn_params_shapes_and_determinism(D, H, C, seed):
    p = init_rnn_params(D, H, C=C, seed=seed)
    want = {"W_x": (D, H), "W_h": (H, H), "b": (H,)}
    if C is not None:
        want.update(W_y=(H, C), b_y=(C,))
    assert {k: v.shape for k, v in p.items()} == want
    assert all(v.dtype == np.float64 for v in p.values())
    q = init_rnn_params(D, H, C=C, seed=seed)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert not p["b"].any()


def test_init_rnn_params_scale():
    p = init_rnn_params(400, 300, C=200, seed=0)
    assert abs(p["W_x"].std() * np.sqrt(400) - 1) < 0.02
    assert abs(p["W_h"].std() * np.sqrt(300) - 1) < 0.02
    assert abs(p["W_y"].std() * np.sqrt(300) - 1) < 0.02
    assert abs(init_rnn_params(50, 60, seed=0, scale=0.01)["W_h"].std() - 0.01) < 0.001
    assert not np.array_equal(init_rnn_params(3, 4, seed=0)["W_h"], init_rnn_params(3, 4, seed=1)["W_h"])
    with pytest.raises(RnngradInputError, match=r"^H: expected a positive integer"):
        init_rnn_params(3, 0)
    with pytest.raises(RnngradInputError, match=r"^scale: "):
        init_rnn_params(3, 4, scale=-1.0)
    with pytest.raises(RnngradInputError, match=r"^seed: "):
        init_rnn_params(3, 4, seed=-2)
