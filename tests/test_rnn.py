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
    p = init_rnn_params(D, H, C=C, rng=seed)
    want = {"W_x": (D, H), "W_h": (H, H), "b": (H,)}
    if C is not None:
        want.update(W_y=(H, C), b_y=(C,))
    assert {k: v.shape for k, v in p.items()} == want
    assert all(v.dtype == np.float64 for v in p.values())
    q = init_rnn_params(D, H, C=C, rng=seed)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert not p["b"].any()


def test_init_rnn_params_scale():
    p = init_rnn_params(400, 300, C=200, rng=0)
    assert abs(p["W_x"].std() * np.sqrt(400) - 1) < 0.02
    assert abs(p["W_h"].std() * np.sqrt(300) - 1) < 0.02
    assert abs(p["W_y"].std() * np.sqrt(300) - 1) < 0.02
    assert abs(init_rnn_params(50, 60, rng=0, scale=0.01)["W_h"].std() - 0.01) < 0.001
    assert not np.array_equal(init_rnn_params(3, 4, rng=0)["W_h"], init_rnn_params(3, 4, rng=1)["W_h"])
    with pytest.raises(RnngradInputError, match=r"^H: expected a positive integer"):
        init_rnn_params(3, 0)
    with pytest.raises(RnngradInputError, match=r"^scale: "):
        init_rnn_params(3, 4, scale=-1.0)
    for bad in (-2, None, 1.5, True):
        with pytest.raises(RnngradInputError, match=r"^rng: expected an int seed >= 0 or a numpy.random.Generator"):
            init_rnn_params(3, 4, rng=bad)
    # an int seed and a Generator seeded alike give the same parameters
    same = init_rnn_params(3, 4, C=2, rng=np.random.default_rng(5))
    assert all(np.array_equal(same[k], v) for k, v in init_rnn_params(3, 4, C=2, rng=5).items())


# ------------------------------------------------------------------ states that no tanh gives are refused

def test_backward_refuses_states_outside_the_range_of_tanh():
    # 1 - h**2 is tanh' only at an output of tanh; a pre-activation passed as h gave wrong numbers silently
    p = make_rnn(3, 4, 2, 3, 5)
    hs = rnn_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])
    pres = np.arctanh(hs)              # what a mistaken caller keeps: the pre-activations
    assert np.abs(pres).max() > 1
    with pytest.raises(RnngradInputError, match=r"^hs: expected tanh outputs, in \[-1, 1\], got \d+ entr"):
        rnn_backward(p["dhs"], p["xs"], p["h0"], pres, p["W_x"], p["W_h"])
    with pytest.raises(RnngradInputError, match=r"^h: expected tanh outputs, in \[-1, 1\], got 1 entry outside "
                                                r"\(1\.5 at \(1, 2\)\); pass the states the forward pass returned"):
        bad = hs[0].copy()
        bad[1, 2] = 1.5
        rnn_step_backward(p["dhs"][0], p["xs"][0], p["h0"], bad, p["W_x"], p["W_h"])
    with pytest.raises(RnngradInputError, match=r"^h: .*NaN"):
        rnn_step_backward(p["dhs"][0], p["xs"][0], p["h0"], np.full_like(hs[0], np.nan), p["W_x"], p["W_h"])


def test_saturated_states_of_exactly_one_are_accepted():
    # in float64 tanh rounds to exactly +-1 above about 19.06: an honest forward pass gives |h| == 1, where the
    # true slope 1 - tanh(a)**2 < 1e-16 is 0 to float64 precision
    assert np.tanh(20.0) == 1.0 and np.tanh(-20.0) == -1.0
    x, h_prev = np.array([[40.0], [-40.0]]), np.zeros((2, 1))
    W_x, W_h, b = np.ones((1, 1)), np.ones((1, 1)), np.zeros(1)
    h = rnn_step_forward(x, h_prev, W_x, W_h, b)
    assert np.array_equal(np.abs(h), np.ones((2, 1)))
    g = rnn_step_backward(np.ones((2, 1)), x, h_prev, h, W_x, W_h)
    assert all(np.array_equal(v, np.zeros_like(v)) for v in g.values())
    dhs = np.ones((3, 2, 1))
    hs = rnn_forward(np.repeat(x[None], 3, axis=0), h_prev, W_x, W_h, b)
    back = rnn_backward(dhs, np.repeat(x[None], 3, axis=0), h_prev, hs, W_x, W_h)
    assert_close(back["W_x"], t_rnn_backward(dhs, np.repeat(x[None], 3, axis=0), h_prev, W_x, W_h, b)["W_x"],
                 rtol=0, atol=1e-15, name="saturated W_x vs torch")


def test_every_function_reading_the_slope_off_a_state_refuses_one_outside_the_range():
    from rnngrad.extras import activation_derivative_from_output, cell_step_backward
    from rnngrad.hidden_jacobians import (rnn_jacobian_products, rnn_jacobians_from_start, rnn_step_jacobian,
                                          rnn_step_jacobians)
    rng = np.random.default_rng(0)
    W_h, hs = rng.standard_normal((3, 3)), rng.standard_normal((4, 2, 3)) * 3
    for function in (rnn_step_jacobians, rnn_jacobian_products, rnn_jacobians_from_start):
        with pytest.raises(RnngradInputError, match=r"^hs: expected tanh outputs"):
            function(hs, W_h)
    with pytest.raises(RnngradInputError, match=r"^h: expected tanh outputs"):
        rnn_step_jacobian(hs[0], W_h)
    with pytest.raises(RnngradInputError, match=r"^h: expected sigmoid outputs, in \[0, 1\]"):
        cell_step_backward(hs[0], hs[0], hs[0], np.full((2, 3), -0.1), W_h, W_h, activation="sigmoid")
    with pytest.raises(RnngradInputError, match=r"^h: expected relu outputs, in \[0, inf\)"):
        activation_derivative_from_output("relu", np.array([-1.0]))
    assert activation_derivative_from_output("identity", np.array([-7.0])).tolist() == [1.0]
    assert activation_derivative_from_output("tanh", np.array([1.0, -1.0])).tolist() == [0.0, 0.0]


def test_the_autograder_variants_still_read_the_slope_off_a_pre_activation():
    # the known mistake "derivative from the pre-activation" goes through rnngrad's unchecked step backward
    from autograder.specs._variants import bptt, states
    p = make_rnn(5, 4, 2, 3, 5, w_scale=2.0)
    pres, hs = states(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])
    assert np.abs(pres).max() > 1
    wrong = bptt(p["dhs"], p["xs"], p["h0"], hs, p["W_x"], p["W_h"], mutation="preactivation_derivative", pres=pres)
    right = rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_x"], p["W_h"])
    assert np.abs(wrong["W_h"] - right["W_h"]).max() > 1e-3
