"""softmax, log_softmax, softmax_jacobian and softmax_vjp against torch and finite differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad.gradcheck import numerical_jacobian, numerical_vjp
from rnngrad.softmax import log_softmax, softmax, softmax_jacobian, softmax_vjp
from rnngrad.torch_ref.softmax import t_log_softmax, t_softmax, t_softmax_jacobian, t_softmax_vjp
from strategies import assert_close, dims, float_arrays, logits_arrays, shapes

# softmax of any shape with at least one axis, classes last
any_logits = logits_arrays(shapes(min_ndim=1, max_ndim=3, max_side=5))
# moderate logits, where finite differences resolve every entry of the Jacobian
moderate_logits = logits_arrays(shapes(min_ndim=1, max_ndim=2, max_side=5), scales=(0.5, 3.0), mixed=False)


@given(z=any_logits)
def test_softmax_matches_torch_and_is_a_distribution(z):
    s = softmax(z)
    assert_close(s, t_softmax(z), rtol=1e-12, atol=1e-300, name="softmax")
    assert np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all()
    assert_close(s.sum(axis=-1), np.ones(z.shape[:-1]), rtol=0, atol=1e-12, name="row sums")


@given(z=any_logits)
def test_log_softmax_matches_torch_and_stays_finite(z):
    ls = log_softmax(z)
    assert np.isfinite(ls).all()
    assert_close(ls, t_log_softmax(z), rtol=1e-12, atol=1e-10, name="log_softmax")
    assert_close(np.exp(ls), softmax(z), rtol=1e-12, atol=1e-300, name="exp(log_softmax)")


@given(z=logits_arrays(shapes(2, 3, max_side=4)), data=st.data())
def test_softmax_along_other_axes_matches_torch(z, data):
    axis = data.draw(st.integers(-z.ndim, z.ndim - 1))
    assert_close(softmax(z, axis=axis), t_softmax(z, axis=axis), rtol=1e-12, atol=1e-300, name="softmax(axis)")
    assert_close(log_softmax(z, axis=axis), t_log_softmax(z, axis=axis), rtol=1e-12, atol=1e-10, name="log_softmax")


@given(z=any_logits, shift=st.sampled_from([-1e4, -3.0, 0.5, 1e4]))
def test_softmax_ignores_a_common_shift(z, shift):
    assert_close(softmax(z + shift), softmax(z), rtol=1e-9, atol=1e-12, name="shifted softmax")


def test_extreme_logits_give_exact_limits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    assert softmax(z).tolist() == [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]]
    ls = log_softmax(z)
    assert ls[0].tolist() == [0.0, -2e4, -1e4]
    assert_close(ls[2], [-np.log(2), -np.log(2), -2e4 - np.log(2)], rtol=1e-15, atol=0, name="log_softmax")
    # log of the softmax would be -inf here; the direct formula is not
    with np.errstate(divide="ignore"):
        assert np.isinf(np.log(softmax(z)[0])).any()


def test_a_single_class_is_certain():
    z = np.array([[-1e4], [0.0], [3.0]])
    assert softmax(z).tolist() == [[1.0], [1.0], [1.0]]
    assert log_softmax(z).tolist() == [[0.0], [0.0], [0.0]]
    assert softmax_jacobian(z).tolist() == [[[0.0]], [[0.0]], [[0.0]]]


@given(z=logits_arrays(st.tuples(dims(1, 4), dims(1, 6))))
def test_batched_jacobian_matches_torch_jacrev(z):
    J = softmax_jacobian(z)
    assert J.shape == (z.shape[0], z.shape[1], z.shape[1])
    assert_close(J, t_softmax_jacobian(z), rtol=1e-12, atol=1e-15, name="softmax_jacobian")
    # symmetric, and each row sums to zero because the softmax sums to one
    assert_close(J, np.swapaxes(J, -1, -2), rtol=0, atol=1e-17, name="J - J^T")
    assert_close(J.sum(axis=-1), np.zeros(z.shape), rtol=0, atol=1e-15, name="row sums of J")


@given(z=logits_arrays(st.tuples(dims(1, 6))))
def test_single_vector_jacobian_matches_torch_and_the_batched_one(z):
    J = softmax_jacobian(z)
    assert J.shape == (z.size, z.size)
    assert_close(J, t_softmax_jacobian(z), rtol=1e-12, atol=1e-15, name="softmax_jacobian (C,)")
    assert_close(J, softmax_jacobian(z[None])[0], rtol=0, atol=0, name="vector vs batch of one")


@given(z=moderate_logits)
def test_jacobian_matches_finite_differences(z):
    rows = z.reshape(-1, z.shape[-1])
    J = softmax_jacobian(rows)
    for n in range(rows.shape[0]):
        assert_close(J[n], numerical_jacobian(softmax, rows[n]), rtol=1e-6, atol=1e-9, name=f"row {n}")


@given(z=any_logits, seed=st.integers(0, 2**32 - 1))
def test_vjp_matches_torch_and_the_explicit_jacobian(z, seed):
    v = np.random.default_rng(seed).standard_normal(z.shape)
    g = softmax_vjp(z, v)
    assert g.shape == z.shape
    assert_close(g, t_softmax_vjp(z, v), rtol=1e-10, atol=1e-14, name="softmax_vjp vs torch")
    rows, vrows = z.reshape(-1, z.shape[-1]), v.reshape(-1, z.shape[-1])
    explicit = np.einsum("nc,ncd->nd", vrows, softmax_jacobian(rows)).reshape(z.shape)
    assert_close(g, explicit, rtol=1e-10, atol=1e-14, name="softmax_vjp vs v^T J")


@given(z=moderate_logits, v=st.data())
def test_vjp_matches_finite_differences(z, v):
    u = v.draw(float_arrays(z.shape))
    assert_close(softmax_vjp(z, u), numerical_vjp(softmax, z, u), rtol=1e-6, atol=1e-9, name="softmax_vjp vs FD")


def test_vjp_of_a_constant_cotangent_is_zero():
    # v = c * ones changes sum(s) only, which is constant
    z = np.array([[1e4, 0.0, -5.0], [0.1, 0.2, 0.3]])
    assert_close(softmax_vjp(z, 7.0 * np.ones_like(z)), np.zeros_like(z), rtol=0, atol=1e-15, name="vjp")


def test_inputs_are_not_modified():
    z = np.array([[3.0, 1e4, -2.0]])
    v = np.array([[1.0, 2.0, 3.0]])
    z0, v0 = z.copy(), v.copy()
    softmax(z), log_softmax(z), softmax_jacobian(z), softmax_vjp(z, v)
    assert np.array_equal(z, z0) and np.array_equal(v, v0)


@pytest.mark.parametrize("bad_axis", [2, -3, 1.0, True])
def test_bad_axis_is_named(bad_axis):
    from rnngrad import RnngradInputError
    with pytest.raises(RnngradInputError, match="axis"):
        softmax(np.zeros((2, 3)), axis=bad_axis)
