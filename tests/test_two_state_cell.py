"""The two-state cell: steps, sequences, and its state, output and input Jacobians in both output variants."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import RnngradInputError
from rnngrad.gradcheck import numerical_jacobian
from rnngrad.torch_ref.jacobians import (t_two_state_forward, t_two_state_input_jacobian,
                                         t_two_state_output_jacobian, t_two_state_state_jacobian, t_two_state_step)
from rnngrad.two_state_cell import (TWO_STATE_ACTIVATIONS, TWO_STATE_VARIANTS, two_state_forward,
                                    two_state_input_jacobian, two_state_output_jacobian, two_state_state_jacobian,
                                    two_state_step)
from strategies import assert_close, dims, seeds

activations = st.sampled_from(TWO_STATE_ACTIVATIONS)
variants = st.sampled_from(TWO_STATE_VARIANTS)


def away_from_kinks(x):
    """Keep states off relu's kink at 0, where the one-sided derivatives disagree."""
    return np.where(np.abs(x) < 1e-3, 0.5, x)


def make_cell(seed, N, D, H):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, D)), away_from_kinks(rng.standard_normal((N, H))), rng.standard_normal((N, H)),
            rng.standard_normal((H, H)) / np.sqrt(H), rng.standard_normal(H) * 0.1, rng.standard_normal((D, H)))


@given(N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), act=activations, variant=variants, seed=seeds)
def test_step_matches_torch_and_the_equations(N, D, H, act, variant, seed):
    x, h_prev, c_prev, W_h, b, W_o = make_cell(seed, N, D, H)
    o, h, c = two_state_step(x, h_prev, c_prev, W_h, b, W_o, act, variant)
    for mine, theirs, name in zip((o, h, c), t_two_state_step(x, h_prev, c_prev, W_h, b, W_o, act, variant), "ohc"):
        assert_close(mine, theirs, rtol=1e-13, atol=1e-14, name=f"{name} vs torch")
    assert_close(c - c_prev, h - h_prev, rtol=0, atol=1e-14, name="c changes as much as h")
    sig = 1 / (1 + np.exp(-(x @ W_o)))
    if variant == "after":
        assert_close(o, sig + c, rtol=1e-13, atol=1e-14, name="o = sigmoid(x W_o) + c")
    else:
        assert ((o > 0) & (o < 1)).all(), "inside the sigmoid the output stays in (0, 1)"


@given(T=dims(1, 5), N=dims(1, 3), D=dims(1, 2), H=dims(1, 4), act=activations, variant=variants, seed=seeds)
def test_forward_repeats_the_step_and_matches_torch(T, N, D, H, act, variant, seed):
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, N, D))
    _, h0, c0, W_h, b, W_o = make_cell(seed, N, D, H)
    os, hs, cs = two_state_forward(xs, h0, c0, W_h, b, W_o, act, variant)
    assert os.shape == hs.shape == cs.shape == (T, N, H)
    for mine, theirs, name in zip((os, hs, cs), t_two_state_forward(xs, h0, c0, W_h, b, W_o, act, variant), "ohc"):
        assert_close(mine, theirs, rtol=1e-12, atol=1e-13, name=f"{name}s vs torch")
    h, c = h0, c0
    for t in range(T):
        o, h, c = two_state_step(xs[t], h, c, W_h, b, W_o, act, variant)
        assert_close(os[t], o, rtol=0, atol=1e-14, name=f"o_{t + 1}")
    # c telescopes: c_T = c_0 - h_0 + h_T
    assert_close(cs[-1], c0 - h0 + hs[-1], rtol=1e-12, atol=1e-12, name="telescoping c")


@given(N=dims(1, 3), D=dims(1, 2), H=dims(1, 4), act=activations, variant=variants, seed=seeds)
def test_state_jacobian_matches_torch_and_finite_differences(N, D, H, act, variant, seed):
    x, h_prev, c_prev, W_h, b, W_o = make_cell(seed, N, D, H)
    J = two_state_state_jacobian(h_prev, W_h, act)
    assert J.shape == (N, 2 * H, 2 * H)
    assert_close(J, t_two_state_state_jacobian(x, h_prev, c_prev, W_h, b, W_o, act, variant),
                 rtol=1e-12, atol=1e-14, name="vs torch jacrev")
    # block structure [[A, 0], [A - I, I]]
    A, eye = J[:, :H, :H], np.eye(H)
    assert np.array_equal(J[:, :H, H:], np.zeros((N, H, H)))
    assert np.array_equal(J[:, H:, H:], np.broadcast_to(eye, (N, H, H)))
    assert_close(J[:, H:, :H], A - eye, rtol=0, atol=1e-15, name="A - I block")
    for n in range(N):
        def state(s):
            _, h, c = two_state_step(x[n:n + 1], s[None, :H], s[None, H:], W_h, b, W_o, act, variant)
            return np.concatenate([h[0], c[0]])
        fd = numerical_jacobian(state, np.concatenate([h_prev[n], c_prev[n]]))
        assert_close(J[n], fd, rtol=1e-6, atol=1e-9, name=f"FD row {n}")


def test_state_jacobian_scales_columns_by_the_previous_state():
    # relu'(h_prev) zeroes the columns of A that belong to negative units of h_{t-1}
    W_h = np.arange(1.0, 10.0).reshape(3, 3)
    A = two_state_state_jacobian(np.array([[1.0, -2.0, 3.0]]), W_h, "relu")[0, :3, :3]
    assert np.array_equal(A, W_h.T * np.array([1.0, 0.0, 1.0]))


@given(N=dims(1, 3), D=dims(1, 3), H=dims(1, 4), act=activations, variant=variants, seed=seeds)
def test_output_and_input_jacobians_match_torch_and_finite_differences(N, D, H, act, variant, seed):
    x, h_prev, c_prev, W_h, b, W_o = make_cell(seed, N, D, H)
    args = (x, h_prev, c_prev, W_h, b, W_o, act, variant)
    Js = two_state_output_jacobian(*args)
    Jx = two_state_input_jacobian(*args)
    assert Js.shape == (N, H, 2 * H) and Jx.shape == (N, H, D)
    assert_close(Js, t_two_state_output_jacobian(*args), rtol=1e-12, atol=1e-14, name="d o / d state vs torch")
    assert_close(Jx, t_two_state_input_jacobian(*args), rtol=1e-12, atol=1e-14, name="d o / d x vs torch")
    for n in range(N):
        def out_of_state(s):
            return two_state_step(x[n:n + 1], s[None, :H], s[None, H:], W_h, b, W_o, act, variant)[0][0]

        def out_of_input(v):
            return two_state_step(v[None], h_prev[n:n + 1], c_prev[n:n + 1], W_h, b, W_o, act, variant)[0][0]
        fd_s = numerical_jacobian(out_of_state, np.concatenate([h_prev[n], c_prev[n]]))
        assert_close(Js[n], fd_s, rtol=1e-6, atol=1e-9, name=f"FD d o / d state row {n}")
        assert_close(Jx[n], numerical_jacobian(out_of_input, x[n]), rtol=1e-6, atol=1e-9, name=f"FD d o / d x row {n}")


@given(N=dims(1, 2), D=dims(1, 2), H=dims(1, 3), act=activations, seed=seeds)
def test_the_two_variants_have_different_output_jacobians(N, D, H, act, seed):
    x, h_prev, c_prev, W_h, b, W_o = make_cell(seed, N, D, H)
    after = two_state_output_jacobian(x, h_prev, c_prev, W_h, b, W_o, act, "after")
    inside = two_state_output_jacobian(x, h_prev, c_prev, W_h, b, W_o, act, "inside")
    # "after" has the identity block on c_{t-1}; "inside" squashes it by sigmoid' <= 1/4
    assert np.array_equal(after[:, :, H:], np.broadcast_to(np.eye(H), (N, H, H)))
    diag = np.einsum("nii->ni", inside[:, :, H:])
    assert ((diag > 0) & (diag <= 0.25)).all()


def test_bad_inputs_name_the_argument():
    x, h_prev, c_prev, W_h, b, W_o = make_cell(0, 2, 3, 4)
    with pytest.raises(RnngradInputError, match=r"^variant: expected one of 'after', 'inside', got 'before'"):
        two_state_step(x, h_prev, c_prev, W_h, b, W_o, variant="before")
    with pytest.raises(RnngradInputError, match=r"^activation: expected one of"):
        two_state_state_jacobian(h_prev, W_h, "softplus")
    with pytest.raises(RnngradInputError, match=r"^W_o: expected shape \(D, H\) with D=3 \(from x\)"):
        two_state_output_jacobian(x, h_prev, c_prev, W_h, b, W_o.T)
    with pytest.raises(RnngradInputError, match=r"^c0: expected shape \(N, H\)"):
        two_state_forward(x[None], h_prev, c_prev[:1], W_h, b, W_o)
    with pytest.raises(RnngradInputError, match=r"^h_prev: expected a floating-point array"):
        two_state_input_jacobian(x, h_prev.astype(int), c_prev, W_h, b, W_o)
