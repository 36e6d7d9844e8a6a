"""Forward mode: tangents of the hidden states and the slope of an RNN's output along its sequence."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import RnngradInputError
from rnngrad.forward_mode import (SLOPE_ACTIVATIONS, SLOPE_OUTPUTS, output_jacobian_at_step, rnn_jvp,
                                  sequence_slope, sequence_slope_feedback, slope_by_prefix_differentiation)
from rnngrad.gradcheck import numerical_jacobian, numerical_jvp
from rnngrad.rnn import rnn_forward
from rnngrad.torch_ref.forward import (t_output_jacobian_at_step, t_rnn_jvp, t_sequence_slope,
                                       t_sequence_slope_feedback)
from strategies import assert_close, dims, seeds

activations = st.sampled_from(SLOPE_ACTIVATIONS)
outputs = st.sampled_from(SLOPE_OUTPUTS)


def make_model(seed, T, N, D, H, C, D_in=None):
    """Inputs, initial state, parameters (W_x has D_in rows, default D) and input rates."""
    rng = np.random.default_rng(seed)
    D_in = D if D_in is None else D_in
    params = {"W_x": rng.standard_normal((D_in, H)) / np.sqrt(D_in), "W_h": rng.standard_normal((H, H)) / np.sqrt(H),
              "b": rng.standard_normal(H) * 0.1, "W_y": rng.standard_normal((H, C)), "b_y": rng.standard_normal(C)}
    return (rng.standard_normal((T, N, D)), rng.standard_normal((N, H)) * 0.5, params,
            rng.standard_normal((T, N, D)), rng.standard_normal((N, H)))


def model_outputs(xs, h0, p, activation, output):
    """The model written out step by step (the function finite differences are taken of)."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    sigma = np.tanh if activation == "tanh" else sig
    h, ys = h0, []
    for x in xs:
        h = sigma(x @ p["W_x"] + h @ p["W_h"] + p["b"])
        y = h @ p["W_y"] + p["b_y"]
        ys.append(sig(y) if output == "sigmoid" else y)
    return np.stack(ys)


@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), seed=seeds, with_dh0=st.booleans())
def test_rnn_jvp_matches_torch_and_finite_differences(T, N, D, H, seed, with_dh0):
    xs, h0, p, dxs, dh0 = make_model(seed, T, N, D, H, 1)
    dh0 = dh0 if with_dh0 else None
    hs, dhs = rnn_jvp(xs, h0, p["W_x"], p["W_h"], p["b"], dxs, dh0)
    assert_close(hs, rnn_forward(xs, h0, p["W_x"], p["W_h"], p["b"]), rtol=0, atol=1e-15, name="hs")
    t_hs, t_dhs = t_rnn_jvp(xs, h0, p["W_x"], p["W_h"], p["b"], dxs, dh0)
    assert_close(hs, t_hs, rtol=1e-12, atol=1e-14, name="hs vs torch")
    assert_close(dhs, t_dhs, rtol=1e-11, atol=1e-13, name="dhs vs torch jvp")
    # finite differences along the tangent of the flattened (xs, h0)
    split = xs.size
    flat = np.concatenate([xs.ravel(), h0.ravel()])
    tangent = np.concatenate([dxs.ravel(), (np.zeros_like(h0) if dh0 is None else dh0).ravel()])
    f = lambda z: rnn_forward(z[:split].reshape(xs.shape), z[split:].reshape(h0.shape),  # noqa: E731
                              p["W_x"], p["W_h"], p["b"])
    assert_close(dhs, numerical_jvp(f, flat, tangent), rtol=1e-6, atol=1e-9, name="dhs vs FD")


@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), C=dims(1, 2), act=activations, out=outputs,
       seed=seeds, with_dh0=st.booleans())
def test_sequence_slope_matches_torch_prefix_differentiation_and_finite_differences(T, N, D, H, C, act, out, seed,
                                                                                     with_dh0):
    xs, h0, p, dxs, dh0 = make_model(seed, T, N, D, H, C)
    dh0 = dh0 if with_dh0 else None
    ys, dys = sequence_slope(xs, h0, **p, dxs_dt=dxs, dh0_dt=dh0, activation=act, output=out)
    assert ys.shape == dys.shape == (T, N, C)
    assert_close(ys, model_outputs(xs, h0, p, act, out), rtol=1e-12, atol=1e-13, name="ys")
    t_ys, t_dys = t_sequence_slope(xs, h0, **p, dxs_dt=dxs, dh0_dt=dh0, activation=act, output=out)
    assert_close(ys, t_ys, rtol=1e-12, atol=1e-13, name="ys vs torch")
    assert_close(dys, t_dys, rtol=1e-10, atol=1e-12, name="slope vs torch jvp")
    slow_ys, slow = slope_by_prefix_differentiation(xs, h0, **p, dxs_dt=dxs, dh0_dt=dh0, activation=act, output=out)
    assert_close(slow_ys, ys, rtol=0, atol=1e-13, name="prefix ys")
    assert_close(slow, dys, rtol=1e-10, atol=1e-12, name="slope vs prefix differentiation")
    # finite differences along the path (xs + τ dxs, h0 + τ dh0)
    split = xs.size
    flat = np.concatenate([xs.ravel(), h0.ravel()])
    tangent = np.concatenate([dxs.ravel(), (np.zeros_like(h0) if dh0 is None else dh0).ravel()])
    f = lambda z: model_outputs(z[:split].reshape(xs.shape), z[split:].reshape(h0.shape), p, act, out)  # noqa: E731
    assert_close(dys, numerical_jvp(f, flat, tangent), rtol=1e-6, atol=1e-9, name="slope vs FD")


@given(T=dims(1, 4), N=dims(1, 2), D=dims(1, 3), H=dims(1, 4), C=dims(1, 2), act=activations, out=outputs,
       seed=seeds)
def test_output_jacobian_at_step_holds_the_previous_state_fixed(T, N, D, H, C, act, out, seed):
    xs, h0, p, dxs, _ = make_model(seed, T, N, D, H, C)
    J = output_jacobian_at_step(xs, h0, **p, activation=act, output=out)
    assert J.shape == (T, N, C, D)
    assert_close(J, t_output_jacobian_at_step(xs, h0, **p, activation=act, output=out), rtol=1e-11, atol=1e-13, name="vs torch jacrev")
    hs = rnn_forward(xs, h0, p["W_x"], p["W_h"], p["b"]) if act == "tanh" else None
    prev = h0
    for t in range(T):
        for n in range(N):
            fd = numerical_jacobian(lambda x: model_outputs(x[None, None], prev[n:n + 1], p, act, out)[0, 0], xs[t, n])
            assert_close(J[t, n], fd, rtol=1e-6, atol=1e-9, name=f"FD step {t} row {n}")
        prev = model_hidden(xs[t], prev, p, act)
        if hs is not None:
            assert_close(prev, hs[t], rtol=0, atol=1e-15, name="state")


def model_hidden(x, h, p, activation):
    pre = x @ p["W_x"] + h @ p["W_h"] + p["b"]
    return np.tanh(pre) if activation == "tanh" else 1 / (1 + np.exp(-pre))


def test_the_naive_jacobian_gives_the_slope_only_at_the_first_step():
    xs, h0, p, dxs, _ = make_model(4, 6, 2, 3, 10, 1)
    _, dys = sequence_slope(xs, h0, **p, dxs_dt=dxs, activation="sigmoid")
    naive = np.einsum("tncd,tnd->tnc", output_jacobian_at_step(xs, h0, **p, activation="sigmoid"), dxs)
    assert_close(naive[0], dys[0], rtol=1e-12, atol=1e-14, name="first step")
    assert np.abs(naive[1:] - dys[1:]).max() > 1e-3
    # without recurrence there is no hidden path and the two agree everywhere
    p0 = dict(p, W_h=np.zeros_like(p["W_h"]))
    _, dys0 = sequence_slope(xs, h0, **p0, dxs_dt=dxs, activation="sigmoid")
    assert_close(np.einsum("tncd,tnd->tnc", output_jacobian_at_step(xs, h0, **p0, activation="sigmoid"), dxs), dys0,
                 rtol=1e-12, atol=1e-14, name="W_h = 0")


def test_slope_of_a_smooth_signal_matches_the_derivative_of_the_output_curve():
    # inputs sampled from a smooth curve x(τ) at τ_t = t * dt; the slope is d y(τ) / dτ of the outputs
    T, dt = 40, 1e-3
    tau = np.arange(T) * dt
    xs = np.stack([np.sin(3 * tau), np.cos(2 * tau), tau], axis=-1)[:, None, :]
    rates = np.stack([3 * np.cos(3 * tau), -2 * np.sin(2 * tau), np.ones(T)], axis=-1)[:, None, :]
    _, _, p, _, _ = make_model(2, T, 1, 3, 10, 1)
    h0 = np.zeros((1, 10))
    eps = 1e-5
    shifted = lambda s: np.stack([np.sin(3 * (tau + s)), np.cos(2 * (tau + s)), tau + s], axis=-1)[:, None, :]  # noqa
    ys, dys = sequence_slope(xs, h0, **p, dxs_dt=rates, activation="sigmoid")
    fd = (model_outputs(shifted(eps), h0, p, "sigmoid", "linear")
          - model_outputs(shifted(-eps), h0, p, "sigmoid", "linear")) / (2 * eps)
    assert_close(dys, fd, rtol=1e-6, atol=1e-8, name="slope of the curve")


@given(T=dims(1, 5), N=dims(1, 2), D=dims(1, 2), H=dims(1, 4), C=dims(1, 2), act=activations, out=outputs,
       seed=seeds)
def test_teacher_forced_feedback_is_the_slope_with_the_observations_as_inputs(T, N, D, H, C, act, out, seed):
    xs, h0, p, dxs, dh0 = make_model(seed, T, N, D, H, C, D_in=D + C)
    rng = np.random.default_rng(seed + 1)
    y_init, dy_init = rng.standard_normal((N, C)), rng.standard_normal((N, C))
    obs, dobs = rng.standard_normal((T, N, C)), rng.standard_normal((T, N, C))
    ys, dys = sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="observed", ys_observed=obs,
                                      dys_observed_dt=dobs, dy_init_dt=dy_init, dh0_dt=dh0, activation=act,
                                      output=out)
    fed = np.concatenate([y_init[None], obs[:-1]])
    dfed = np.concatenate([dy_init[None], dobs[:-1]])
    e_ys, e_dys = sequence_slope(np.concatenate([xs, fed], axis=2), h0, **p,
                                 dxs_dt=np.concatenate([dxs, dfed], axis=2), dh0_dt=dh0, activation=act, output=out)
    assert_close(ys, e_ys, rtol=1e-13, atol=1e-14, name="ys")
    assert_close(dys, e_dys, rtol=1e-12, atol=1e-14, name="slope")
    t_ys, t_dys = t_sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="observed", ys_observed=obs,
                                            dys_observed_dt=dobs, dy_init_dt=dy_init, dh0_dt=dh0, activation=act,
                                            output=out)
    assert_close(dys, t_dys, rtol=1e-10, atol=1e-12, name="slope vs torch jvp")


def run_free(xs, y_init, h0, p, act, out):
    """The free-running model written out: its own output is the next step's extra input."""
    D = xs.shape[2]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    sigma = np.tanh if act == "tanh" else sig
    h, y, ys = h0, y_init, []
    for x in xs:
        h = sigma(x @ p["W_x"][:D] + y @ p["W_x"][D:] + h @ p["W_h"] + p["b"])
        y = h @ p["W_y"] + p["b_y"]
        y = sig(y) if out == "sigmoid" else y
        ys.append(y)
    return np.stack(ys)


@given(T=dims(1, 5), N=dims(1, 2), D=dims(1, 2), H=dims(1, 4), C=dims(1, 2), act=activations, out=outputs,
       seed=seeds)
def test_free_running_feedback_matches_torch_and_finite_differences(T, N, D, H, C, act, out, seed):
    xs, h0, p, dxs, dh0 = make_model(seed, T, N, D, H, C, D_in=D + C)
    rng = np.random.default_rng(seed + 2)
    y_init, dy_init = rng.standard_normal((N, C)), rng.standard_normal((N, C))
    ys, dys = sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="predicted", dy_init_dt=dy_init,
                                      activation=act, output=out, dh0_dt=dh0)
    assert_close(ys, run_free(xs, y_init, h0, p, act, out), rtol=1e-12, atol=1e-13, name="ys")
    t_ys, t_dys = t_sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="predicted",
                                            dy_init_dt=dy_init, activation=act, output=out, dh0_dt=dh0)
    assert_close(dys, t_dys, rtol=1e-10, atol=1e-12, name="slope vs torch jvp")
    a, b = xs.size, xs.size + y_init.size
    flat = np.concatenate([xs.ravel(), y_init.ravel(), h0.ravel()])
    tangent = np.concatenate([dxs.ravel(), dy_init.ravel(), dh0.ravel()])
    f = lambda z: run_free(z[:a].reshape(xs.shape), z[a:b].reshape(y_init.shape),  # noqa: E731
                           z[b:].reshape(h0.shape), p, act, out)
    assert_close(dys, numerical_jvp(f, flat, tangent), rtol=1e-6, atol=1e-9, name="slope vs FD")


def test_free_running_and_teacher_forced_slopes_differ_even_on_the_model_own_outputs():
    # feed the model's own predictions as "observations" with zero observed rate: the values agree,
    # the slopes do not, because teacher forcing cuts the path y_{t-1} -> h_t
    xs, h0, p, dxs, _ = make_model(9, 8, 1, 2, 10, 1, D_in=3)
    y_init = np.zeros((1, 1))
    ys_free, dys_free = sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="predicted")
    ys_tf, dys_tf = sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="observed", ys_observed=ys_free)
    assert_close(ys_tf, ys_free, rtol=1e-13, atol=1e-14, name="same values")
    assert np.abs(dys_tf[1:] - dys_free[1:]).max() > 1e-3
    # giving teacher forcing the model's own slope as the observed rate restores the free-running slope
    _, dys_tf2 = sequence_slope_feedback(xs, h0, y_init, **p, dxs_dt=dxs, feedback="observed", ys_observed=ys_free,
                                         dys_observed_dt=dys_free)
    assert_close(dys_tf2, dys_free, rtol=1e-12, atol=1e-14, name="same slopes")


def test_inputs_are_not_modified():
    xs, h0, p, dxs, dh0 = make_model(0, 3, 2, 2, 3, 1)
    snapshot = [a.copy() for a in (xs, h0, dxs, dh0, *p.values())]
    sequence_slope(xs, h0, **p, dxs_dt=dxs, dh0_dt=dh0)
    slope_by_prefix_differentiation(xs, h0, **p, dxs_dt=dxs, dh0_dt=dh0)
    output_jacobian_at_step(xs, h0, **p)
    rnn_jvp(xs, h0, p["W_x"], p["W_h"], p["b"], dxs, dh0)
    for a, c in zip((xs, h0, dxs, dh0, *p.values()), snapshot):
        assert np.array_equal(a, c)


def test_bad_inputs_name_the_argument():
    xs, h0, p, dxs, _ = make_model(0, 3, 2, 2, 3, 1)
    with pytest.raises(RnngradInputError, match=r"^dxs_dt: expected shape \(T, N, D\)"):
        sequence_slope(xs, h0, **p, dxs_dt=dxs[:2])
    with pytest.raises(TypeError, match=r"b_y"):
        sequence_slope(xs, h0, **{k: v for k, v in p.items() if k != "b_y"}, dxs_dt=dxs)
    with pytest.raises(RnngradInputError, match=r'^W_y: expected shape \(H, C\) with H=3'):
        sequence_slope(xs, h0, **dict(p, W_y=np.zeros((4, 1))), dxs_dt=dxs)
    with pytest.raises(RnngradInputError, match=r"^activation: expected one of 'tanh', 'sigmoid', got 'relu'"):
        slope_by_prefix_differentiation(xs, h0, **p, dxs_dt=dxs, activation="relu")
    with pytest.raises(RnngradInputError, match=r"^output: expected one of"):
        output_jacobian_at_step(xs, h0, **p, output="softmax")
    with pytest.raises(TypeError, match=r"positional arguments"):  # options are keywords only
        sequence_slope(xs, h0, *p.values(), dxs, None, "sigmoid")
    # a batch-major xs (N, T, D) is blamed on xs, not on h0
    with pytest.raises(RnngradInputError, match=r"^xs: expected a time-major sequence"):
        sequence_slope(xs.transpose(1, 0, 2), h0, **p, dxs_dt=dxs.transpose(1, 0, 2))
    with pytest.raises(RnngradInputError, match=r"^dh0: expected shape \(N, H\)"):
        rnn_jvp(xs, h0, p["W_x"], p["W_h"], p["b"], dxs, np.zeros((2, 4)))
    with pytest.raises(RnngradInputError, match=r'^W_x: expected shape \(D\+C, H\) with D\+C=3 \(from xs and y_init\)'):
        sequence_slope_feedback(xs, h0, np.zeros((2, 1)), **p, dxs_dt=dxs, feedback="predicted")
    pf = dict(p, W_x=np.zeros((3, 3)))
    with pytest.raises(RnngradInputError, match=r'^ys_observed: required when feedback="observed"'):
        sequence_slope_feedback(xs, h0, np.zeros((2, 1)), **pf, dxs_dt=dxs, feedback="observed")
    with pytest.raises(RnngradInputError, match=r"^feedback: expected one of 'observed', 'predicted'"):
        sequence_slope_feedback(xs, h0, np.zeros((2, 1)), **pf, dxs_dt=dxs, feedback="own")
