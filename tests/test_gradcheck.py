"""Finite differences against torch autograd, exact derivatives, and the promise never to touch the caller's arrays."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import NonFiniteError, RnngradInputError, ShapeError
from rnngrad.gradcheck import (check_gradient, numerical_gradient, numerical_jacobian, numerical_jvp,
                               numerical_vjp, relative_error)
from rnngrad.torch_ref import to_numpy, to_tensor
from strategies import assert_close, dims, float_arrays, seeds, shapes


def make_problem(seed, in_shape, out_dim):
    """A smooth array-valued map f(x) = tanh(A vec(x)) * (1 + vec(x)[0]) and its torch twin."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((out_dim, int(np.prod(in_shape))))

    def f(x):
        v = np.asarray(x).reshape(-1)
        return np.tanh(A @ v) * (1.0 + v[0])

    def tf(x):
        v = x.reshape(-1)
        return torch.tanh(to_tensor(A, x.device) @ v) * (1.0 + v[0])

    return f, tf


@given(in_shape=shapes(0, 2, max_side=3), out_dim=dims(1, 4), seed=seeds)
def test_jacobian_matches_torch_jacrev(in_shape, out_dim, seed):
    f, tf = make_problem(seed, in_shape, out_dim)
    x = np.random.default_rng(seed + 1).standard_normal(in_shape)
    J = numerical_jacobian(f, x)
    assert J.shape == (out_dim,) + in_shape
    expected = to_numpy(torch.func.jacrev(tf)(to_tensor(x)))
    assert_close(J, expected, rtol=1e-7, atol=1e-8, name="numerical_jacobian vs jacrev")


@given(in_shape=shapes(0, 3, max_side=3), seed=seeds)
def test_gradient_matches_torch_autograd(in_shape, seed):
    f, tf = make_problem(seed, in_shape, 3)
    x = np.random.default_rng(seed + 1).standard_normal(in_shape)
    g = numerical_gradient(lambda v: float(np.sum(f(v) ** 2)), x)
    xt = to_tensor(x).requires_grad_(True)
    (tf(xt) ** 2).sum().backward()
    assert g.shape == x.shape
    assert_close(g, to_numpy(xt.grad), rtol=1e-7, atol=1e-7, name="numerical_gradient vs autograd")


@given(in_shape=shapes(1, 2, max_side=3), out_dim=dims(1, 3), seed=seeds)
def test_jvp_and_vjp_match_torch_func(in_shape, out_dim, seed):
    f, tf = make_problem(seed, in_shape, out_dim)
    rng = np.random.default_rng(seed + 1)
    x, v, u = rng.standard_normal(in_shape), rng.standard_normal(in_shape), rng.standard_normal(out_dim)
    _, t_jvp = torch.func.jvp(tf, (to_tensor(x),), (to_tensor(v),))
    _, pullback = torch.func.vjp(tf, to_tensor(x))
    assert_close(numerical_jvp(f, x, v), to_numpy(t_jvp), rtol=1e-7, atol=1e-8, name="numerical_jvp")
    assert_close(numerical_vjp(f, x, u), to_numpy(pullback(to_tensor(u))[0]), rtol=1e-7, atol=1e-8,
                 name="numerical_vjp")


@given(x=float_arrays((3,)), seed=seeds)
def test_quadratic_form_is_exact_up_to_round_off(x, seed):
    # central differences are exact for quadratics: only round-off remains
    A = np.random.default_rng(seed).standard_normal((3, 3))
    g = numerical_gradient(lambda v: float(v @ A @ v), x)
    assert_close(g, (A + A.T) @ x, rtol=1e-8, atol=1e-8, name="grad of x^T A x")


def test_float_zero_d_and_one_entry_results_are_accepted():
    x = np.array([1.0, 2.0])
    for f in (lambda v: float(v @ v), lambda v: np.array(v @ v), lambda v: np.array([v @ v])):
        assert_close(numerical_gradient(f, x), 2 * x, rtol=1e-8, atol=0, name="gradient")
    assert numerical_jacobian(lambda v: float(v @ v), x).shape == (2,)
    assert numerical_jacobian(lambda v: np.array([v @ v]), x).shape == (1, 2)
    assert numerical_jacobian(lambda v: v * 3.0, np.array(2.0)).shape == ()


def test_the_callers_array_is_never_modified():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    x0 = x.copy()
    seen = []

    def greedy(v):
        seen.append(v)          # keeps a reference to what it was given
        out = float(np.sum(v ** 3))
        v += 100.0              # and scribbles over it afterwards
        return out

    g = numerical_gradient(greedy, x)
    assert np.array_equal(x, x0)
    assert all(s is not x and not np.shares_memory(s, x) for s in seen)
    assert_close(g, 3 * x0 ** 2, rtol=1e-8, atol=1e-8, name="gradient despite the scribbling")
    for fn in (lambda: numerical_jacobian(greedy, x), lambda: numerical_jvp(greedy, x, np.ones_like(x)),
               lambda: numerical_vjp(lambda v: np.atleast_1d(greedy(v)), x, np.ones(1)),
               lambda: check_gradient(greedy, x, 3 * x0 ** 2)):
        fn()
        assert np.array_equal(x, x0)


def test_relative_error_properties():
    a = np.array([1.0, -2.0, 0.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, -a) == 1.0                       # opposite signs: the largest possible error
    assert relative_error(np.array([1e-20]), np.array([-1e-20])) < 1e-7   # both below the floor: tiny
    b = a + np.array([0.0, 0.0, 1e-13])                       # a zero entry against 1e-13: no blow-up
    assert relative_error(a, b) < 1e-13
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(np.array([1.0, 1.0]), np.array([1.0, 1.1])) == pytest.approx(0.1 / 2.1)
    assert relative_error(1.0, 3.0) == 0.5                    # plain floats


@given(a=float_arrays(shapes(0, 2)), data=st.data())
def test_relative_error_is_bounded_and_symmetric(a, data):
    b = data.draw(float_arrays(a.shape, scale=data.draw(st.sampled_from([1e-15, 1.0, 1e6]))))
    e = relative_error(a, b)
    assert 0.0 <= e <= 1.0 and e == relative_error(b, a)


def test_check_gradient_accepts_right_and_rejects_wrong_derivatives():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    f = lambda v: np.tanh(W @ v)  # noqa: E731
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    ok, err = check_gradient(f, x, J)
    assert ok and err < 1e-8
    assert not check_gradient(f, x, -J)[0]
    assert not check_gradient(f, x, W)[0]                     # forgot the σ' factor
    with pytest.raises(ShapeError, match="analytic"):
        check_gradient(f, x, J.T)                             # denominator layout has the wrong shape here
    g = lambda v: float(np.sum(np.sin(v)))  # noqa: E731
    assert check_gradient(g, x, np.cos(x))[0] and not check_gradient(g, x, np.sin(x))[0]


def test_bad_arguments_are_named():
    x = np.ones(2)
    with pytest.raises(RnngradInputError, match="f: expected a callable"):
        numerical_gradient("sum", x)
    with pytest.raises(RnngradInputError, match="eps"):
        numerical_gradient(np.sum, x, eps=0.0)
    with pytest.raises(ShapeError, match="f: expected a scalar"):
        numerical_gradient(lambda v: v, x)
    with pytest.raises(NonFiniteError, match="f: returned NaN"):
        numerical_jacobian(lambda v: v * np.nan, x)
    with pytest.raises(ShapeError, match="v: expected the shape of x"):
        numerical_jvp(lambda v: v, x, np.ones(3))
    with pytest.raises(ShapeError, match="u: expected the shape of f"):
        numerical_vjp(lambda v: v, x, np.ones(3))
    with pytest.raises(ShapeError, match="b: expected the shape of a"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(RnngradInputError, match="floor"):
        relative_error(x, x, floor=0)
    with pytest.raises(RnngradInputError, match="tol"):
        check_gradient(np.sum, x, x, tol=-1.0)
    with pytest.raises(RnngradInputError, match="f: expected a float"):
        numerical_gradient(lambda v: "0.5x", x)
    with pytest.raises(RnngradInputError, match="x: expected a floating-point array"):
        numerical_gradient(np.sum, np.ones(2, dtype=int))
