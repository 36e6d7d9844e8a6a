"""cross_entropy and cross_entropy_grad against torch (F.cross_entropy + autograd) and finite differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad import RnngradInputError
from rnngrad.cross_entropy import cross_entropy, cross_entropy_grad
from rnngrad.gradcheck import numerical_gradient, relative_error
from rnngrad.softmax import softmax
from rnngrad.torch_ref.softmax import t_cross_entropy
from strategies import assert_close, dims, logits_arrays, seeds

LABEL_KINDS = ("int", "one_hot", "soft", "unnormalised")


@st.composite
def problems(draw, max_lead_ndim=2, scales=(1.0, 30.0, 1e4), masked=None):
    """(logits, labels, mask, reduction) with leading shape (), (N,) or (T, N) and C >= 1."""
    lead = tuple(draw(st.lists(dims(1, 4), min_size=0, max_size=max_lead_ndim)))
    C = draw(dims(1, 5))
    z = draw(logits_arrays(lead + (C,), scales=scales))
    rng = np.random.default_rng(draw(seeds))
    kind = draw(st.sampled_from(LABEL_KINDS))
    k = rng.integers(0, C, size=lead)
    if kind == "int":
        labels = k
    elif kind == "one_hot":
        labels = np.eye(C)[k]
    else:
        w = rng.random(lead + (C,))
        labels = w / w.sum(axis=-1, keepdims=True) if kind == "soft" else 3.0 * w
    use_mask = draw(st.booleans()) if masked is None else masked
    mask = np.asarray(rng.random(lead) < 0.6) if use_mask else None  # 0-d array, not a numpy bool, for lead ()
    reduction = draw(st.sampled_from(["sum", "mean"]))
    if reduction == "mean" and mask is not None and not mask.any():
        mask = mask.copy()
        mask[(0,) * len(lead)] = True
    return z, labels, mask, reduction


@given(p=problems())
def test_loss_and_gradient_match_torch(p):
    z, labels, mask, reduction = p
    loss, grad = cross_entropy(z, labels, mask, reduction), cross_entropy_grad(z, labels, mask, reduction)
    t_loss, t_grad = t_cross_entropy(z, labels, mask, reduction)
    assert isinstance(loss, float) and grad.shape == z.shape
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert abs(loss - t_loss) <= 1e-12 * max(1.0, abs(t_loss)), (loss, t_loss)
    assert_close(grad, t_grad, rtol=1e-10, atol=1e-14, name="cross_entropy_grad vs torch autograd")


@given(p=problems(scales=(0.5, 3.0, 1e4)))
def test_gradient_matches_finite_differences(p):
    z, labels, mask, reduction = p
    numeric = numerical_gradient(lambda x: cross_entropy(x, labels, mask, reduction), z, eps=1e-5)
    err = relative_error(cross_entropy_grad(z, labels, mask, reduction), numeric)
    # losses near 1e5 (logits of 1e4 summed over positions) leave ~1e-6 of round-off in the differences
    assert err < 1e-5, err


@given(p=problems(masked=False))
def test_gradient_is_softmax_times_label_mass_minus_labels(p):
    z, labels, _, reduction = p
    y = np.eye(z.shape[-1])[labels] if labels.dtype.kind == "i" else labels
    positions = int(np.prod(z.shape[:-1]))
    expected = softmax(z) * y.sum(axis=-1, keepdims=True) - y
    if reduction == "mean":
        expected = expected / positions
    assert_close(cross_entropy_grad(z, labels, reduction=reduction), expected, rtol=1e-12, atol=1e-15, name="grad")


@given(p=problems(masked=False))
def test_integer_labels_equal_their_one_hot_rows(p):
    z, labels, _, reduction = p
    if labels.dtype.kind != "i":
        labels = labels.argmax(axis=-1)
    one_hot = np.eye(z.shape[-1])[labels]
    assert cross_entropy(z, labels, reduction=reduction) == cross_entropy(z, one_hot, reduction=reduction)
    assert_close(cross_entropy_grad(z, labels, reduction=reduction),
                 cross_entropy_grad(z, one_hot, reduction=reduction), rtol=0, atol=0, name="int vs one-hot")


@given(p=problems(max_lead_ndim=2, masked=True))
def test_masked_positions_do_not_count(p):
    z, labels, mask, _ = p
    kept = int(mask.sum())
    total = cross_entropy(z, labels, mask, "sum")
    grad = cross_entropy_grad(z, labels, mask, "sum")
    assert (grad[~mask] == 0).all()
    # changing the logits of masked positions changes nothing
    z2 = np.where(mask[..., None], z, z + 17.0)
    assert cross_entropy(z2, labels, mask, "sum") == total
    if kept:
        assert cross_entropy(z, labels, mask, "mean") == pytest.approx(total / kept, rel=1e-14)
        assert_close(cross_entropy_grad(z, labels, mask, "mean"), grad / kept, rtol=1e-14, atol=0, name="mean grad")
    else:
        assert total == 0.0


def test_every_position_masked():
    z, labels, mask = np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=bool)
    assert cross_entropy(z, labels, mask, "sum") == 0.0
    assert (cross_entropy_grad(z, labels, mask, "sum") == 0).all()
    for fn in (cross_entropy, cross_entropy_grad):
        with pytest.raises(RnngradInputError, match="mask: every position is masked"):
            fn(z, labels, mask, "mean")


def test_known_values():
    z = np.array([[0.0, 0.0, 0.0, 0.0], [1e4, 0.0, -1e4, 0.0]])
    assert cross_entropy(z, np.array([2, 2]), reduction="sum") == pytest.approx(np.log(4) + 2e4, rel=1e-15)
    assert cross_entropy(z, np.array([2, 0]), reduction="mean") == pytest.approx(np.log(4) / 2, rel=1e-15)
    # a single position, labels of shape ()
    assert cross_entropy(np.array([0.0, np.log(3.0)]), np.array(1)) == pytest.approx(np.log(4 / 3), rel=1e-14)
    # label weights summing to 2 count the position twice
    assert cross_entropy(z[:1], np.array([[1.0, 1.0, 0.0, 0.0]])) == pytest.approx(2 * np.log(4), rel=1e-15)


def test_unnormalised_labels_keep_the_label_mass_factor():
    z = np.array([0.3, -0.2, 1.0])
    y = np.array([0.0, 2.0, 1.0])
    g = cross_entropy_grad(z, y)
    assert_close(g, softmax(z) * 3.0 - y, rtol=1e-14, atol=0, name="grad")
    # softmax - y would be the gradient of a different function: it fails the check
    numeric = numerical_gradient(lambda x: cross_entropy(x, y), z)
    assert relative_error(g, numeric) < 1e-8
    assert relative_error(softmax(z) - y, numeric) > 0.1


def test_inputs_are_not_modified():
    z, labels, mask = np.array([[1.0, 2.0], [3.0, 1e4]]), np.array([[0.2, 0.8], [1.0, 0.0]]), np.array([True, False])
    copies = [a.copy() for a in (z, labels, mask)]
    cross_entropy(z, labels, mask), cross_entropy_grad(z, labels, mask)
    assert all(np.array_equal(a, b) for a, b in zip((z, labels, mask), copies))
