"""Problem set 1: the softmax, its Jacobian and vector-Jacobian product, and the cross-entropy gradient.

Graded functions (students write them in numpy; every array is float64, rows are examples):

* ``softmax(logits)`` (N, C) -> (N, C), stable for logits of size 1e4;
* ``softmax_jacobian(logits)`` (N, C) -> (N, C, C) in numerator layout;
* ``softmax_vjp(logits, v)`` (N, C), (N, C) -> (N, C), without forming the Jacobian;
* ``cross_entropy_grad(logits, labels)`` mean over the batch of the cross-entropy, gradient wrt logits;
* ``smoothed_cross_entropy_grad(logits, labels, epsilon)`` the same loss against label-smoothed targets
  ``(1 - epsilon) onehot + epsilon / C`` (beyond the chapter: the targets are no longer one-hot).
"""
from __future__ import annotations

import numpy as np

from ._core import CaseMaker, KnownMistake, Spec
from ._gen import labels, logits

ASSIGNMENT = "ps1_softmax"

OVERFLOW = ("softmax_overflow",
            "This is softmax overflow: exp of a large logit is infinite in float64 (above about 709). "
            "Subtract each row's maximum logit before exponentiating; the softmax does not change.")


def _ref_softmax(z):
    from rnngrad.softmax import softmax
    return softmax(z)


def _ref_jacobian(z):
    from rnngrad.softmax import softmax_jacobian
    return softmax_jacobian(z)


def _ref_vjp(z, v):
    from rnngrad.softmax import softmax_vjp
    return softmax_vjp(z, v)


def _ref_ce_grad(z, y):
    from rnngrad.cross_entropy import cross_entropy_grad
    return cross_entropy_grad(z, y, reduction="mean")


def smoothed_targets(y, C, epsilon):
    """Label-smoothed targets ``(1 - epsilon) onehot(y) + epsilon / C``, (N, C)."""
    return (1.0 - epsilon) * np.eye(C)[y] + epsilon / C


def _ref_smoothed(z, y, epsilon):
    from rnngrad.cross_entropy import cross_entropy_grad
    return cross_entropy_grad(z, smoothed_targets(y, z.shape[-1], epsilon), reduction="mean")


#: logits shifted by about 1e4 per row (a naive exp overflows), spread by this much within a row
LARGE = {"scale": 2.0, "offset": 1e4}


def _z(N, C, **size):
    return lambda rng: ((logits(rng, N, C, **size),), {})


def _zv(N, C, **size):
    return lambda rng: ((logits(rng, N, C, **size), rng.standard_normal((N, C))), {})


def _zy(N, C, **size):
    return lambda rng: ((logits(rng, N, C, **size), labels(rng, N, C=C)), {})


def _zye(N, C, epsilon, **size):
    return lambda rng: ((logits(rng, N, C, **size), labels(rng, N, C=C), float(epsilon)), {})


# A softmax over one class is all ones and its Jacobian all zeros: a legitimate edge case, but one a constant
# function passes, so it is a published check only (weight 0: shown by the local check and in feedback,
# never scored).


SPECS = [
    Spec(ASSIGNMENT, "softmax", 2, _ref_softmax, [
        CaseMaker("batch_of_rows", _z(4, 5)),
        CaseMaker("large_logits_1e4", _z(3, 4, **LARGE)),
        CaseMaker("single_row", _z(1, 6), hidden=True),
        CaseMaker("one_class", _z(3, 1), weight=0.0),
        CaseMaker("large_logits_hidden", _z(5, 7, **LARGE), hidden=True),
        CaseMaker("wide_batch", _z(9, 3, scale=3.0), hidden=True),
    ], [
        KnownMistake("wrong_axis",
                     "Each row should sum to 1 over the classes (last axis); yours normalises over the batch "
                     "(axis 0) instead.",
                     lambda a, k, ref: _ref_axis0(a[0])),
    ], nonfinite=OVERFLOW, signature="softmax(logits) -> (N, C)"),

    Spec(ASSIGNMENT, "softmax_jacobian", 3, _ref_jacobian, [
        CaseMaker("batch_of_rows", _z(3, 4)),
        CaseMaker("large_logits_1e4", _z(2, 3, **LARGE)),
        CaseMaker("single_row", _z(1, 5), hidden=True),
        CaseMaker("one_class", _z(2, 1), weight=0.0),
        CaseMaker("random_rows", _z(6, 4, scale=2.0), hidden=True),
        CaseMaker("large_logits_hidden", _z(3, 5, **LARGE), hidden=True),
    ], [
        KnownMistake("missing_off_diagonal",
                     "Only the diagonal s_i (1 - s_i) is right: every output s_i also depends on every other "
                     "logit z_j, with ds_i/dz_j = -s_i s_j for i != j.",
                     lambda a, k, ref: ref * np.eye(ref.shape[-1])),
        KnownMistake("wrong_sign",
                     "Your Jacobian has the opposite sign: it is diag(s) - s s^T, not s s^T - diag(s).",
                     lambda a, k, ref: -ref),
    ], nonfinite=OVERFLOW, signature="softmax_jacobian(logits) -> (N, C, C)",
         derivative=True),

    Spec(ASSIGNMENT, "softmax_vjp", 3, _ref_vjp, [
        CaseMaker("batch_of_rows", _zv(4, 5)),
        CaseMaker("large_logits_1e4", _zv(3, 4, **LARGE)),
        CaseMaker("single_row", _zv(1, 3), hidden=True),
        CaseMaker("many_classes", _zv(2, 30), hidden=True),
        CaseMaker("large_logits_hidden", _zv(4, 6, **LARGE), hidden=True),
    ], [
        KnownMistake("forgot_subtract",
                     "You returned s * v; the product with the Jacobian also subtracts the weighted mean: "
                     "s * (v - sum_k v_k s_k).",
                     lambda a, k, ref: _ref_softmax(a[0]) * a[1]),
        KnownMistake("missing_off_diagonal",
                     "This is v times the diagonal of the Jacobian only; the off-diagonal terms -s_i s_j "
                     "contribute too.",
                     lambda a, k, ref: _ref_softmax(a[0]) * (1 - _ref_softmax(a[0])) * a[1]),
    ], nonfinite=OVERFLOW, signature="softmax_vjp(logits, v) -> (N, C)",
         derivative=True),

    Spec(ASSIGNMENT, "cross_entropy_grad", 3, _ref_ce_grad, [
        CaseMaker("batch_of_rows", _zy(4, 5)),
        CaseMaker("large_logits_1e4", _zy(3, 4, **LARGE)),
        CaseMaker("single_row", _zy(1, 4), hidden=True),
        CaseMaker("two_classes", _zy(5, 2), hidden=True),
        CaseMaker("large_logits_hidden", _zy(6, 5, **LARGE), hidden=True),
    ], [
        KnownMistake("sum_vs_mean",
                     "Your gradient is N times too large: the loss is the mean over the batch, so every row of "
                     "softmax - onehot is divided by N.",
                     lambda a, k, ref: ref * a[0].shape[0]),
        KnownMistake("wrong_sign",
                     "Your gradient has the opposite sign: dL/dz = softmax(z) - onehot(y), not onehot - softmax.",
                     lambda a, k, ref: -ref),
    ], nonfinite=OVERFLOW, signature="cross_entropy_grad(logits, labels) -> (N, C)",
         derivative=True),

    Spec(ASSIGNMENT, "smoothed_cross_entropy_grad", 4, _ref_smoothed, [
        CaseMaker("batch_of_rows", _zye(4, 5, 0.1)),
        CaseMaker("large_logits_1e4", _zye(3, 4, 0.2, **LARGE)),
        CaseMaker("no_smoothing", _zye(3, 3, 0.0), hidden=True),
        CaseMaker("single_row", _zye(1, 6, 0.3), hidden=True),
        CaseMaker("heavy_smoothing", _zye(5, 4, 0.9), hidden=True),
        CaseMaker("large_logits_hidden", _zye(4, 7, 0.05, **LARGE), hidden=True),
    ], [
        KnownMistake("ignored_smoothing",
                     "This is the gradient for the one-hot labels: with smoothed targets the gradient is "
                     "softmax(z) - y_smooth, where y_smooth puts epsilon / C on every class.",
                     lambda a, k, ref: _ref_ce_grad(a[0], a[1])),
        KnownMistake("sum_vs_mean",
                     "Your gradient is N times too large: the loss is the mean over the batch.",
                     lambda a, k, ref: ref * a[0].shape[0]),
    ], nonfinite=OVERFLOW, signature="smoothed_cross_entropy_grad(logits, labels, epsilon) -> (N, C)",
         derivative=True),
]


def _ref_axis0(z):
    from rnngrad.softmax import softmax
    return softmax(z, axis=0)
