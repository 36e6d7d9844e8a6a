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

from ._classes import hint, output_classes, scaled, section, with_argument_classes, with_examples
from ._classes import KnownMistake as ClassMistake
from ._core import CaseMaker, KnownMistake, Spec
from ._gen import labels, logits

ASSIGNMENT = "ps1_softmax"

STABLE = section("softmax", "Computing the softmax without overflow")
JACOBIAN = section("softmax", "The Jacobian")
BACKWARD = section("softmax", "The backward pass never forms $J$")
GRADIENT = section("cross_entropy", "The gradient, two ways")

OVERFLOW = ("softmax_overflow",
            "The exponential of a logit far from zero is not representable in float64: above about 709 it is "
            "infinite, below about -745 it is zero, and the quotient becomes infinity over infinity or zero "
            "over zero. The softmax does not change when the same number is subtracted from every logit of a "
            "row, so pick that number to keep the exponents small. " + STABLE)


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


def _column_shifted(z):
    """The logits with each column's maximum subtracted (a shift that differs between the classes of a row)."""
    return z - z.max(axis=0, keepdims=True)


def _unnormalised(z):
    """The exponentials of the shifted logits, never divided by their row sum."""
    return np.exp(z - z.max(axis=-1, keepdims=True))


COLUMN_SHIFT = ("The shift before exponentiating is taken along the wrong axis: subtracting one number per "
                "row leaves the softmax unchanged, but a number per class changes it. " + STABLE)
TARGET = ("The target's part is missing: the gradient of the cross-entropy compares the predicted "
          "probabilities with the target distribution, and the target's share is taken off. " + GRADIENT)
SMOOTH_TARGETS = ("Your smoothed targets are off: the label keeps the one-hot share plus its part of the uniform "
                  "share, every other class gets the uniform share only, and the targets sum to one. " + GRADIENT)


#: ways the softmax inside a function can be computed wrong
SOFTMAX_MUTATIONS = ("normaliser_mean", "not_normalised", "normaliser_axis")


def softmax_variant(z, mutation=None):
    """rnngrad's softmax, or (with a mutation) the row normaliser taken as a mean, left out, or over the batch."""
    from rnngrad.softmax import softmax
    if mutation is None:
        return softmax(z)
    e = _unnormalised(z)
    if mutation == "normaliser_mean":
        return softmax(z) * z.shape[-1]
    if mutation == "not_normalised":
        return e
    if mutation == "normaliser_axis":
        return e / e.sum(axis=0, keepdims=True)
    raise ValueError(mutation)


def _from_softmax(kind):
    """A set-1 answer re-expressed from a given softmax ``s``, to carry a mistaken softmax through it.

    Only the mistaken variants use it; ``tests/test_mistake_classes.py`` checks that with rnngrad's softmax it
    gives the reference answer.
    """
    def answer(a, k, mutation):
        from rnngrad.cross_entropy import cross_entropy_grad
        z = a[0]
        s = softmax_variant(z, mutation)
        if kind == "jacobian":
            return np.eye(z.shape[-1]) * s[:, None, :] - s[:, :, None] * s[:, None, :]
        if kind == "vjp":
            v = a[1]
            return s * (v - (v * s).sum(axis=-1, keepdims=True))
        targets = (np.eye(z.shape[-1])[a[1]] if kind == "ce" else smoothed_targets(a[1], z.shape[-1], a[2]))
        # rnngrad's gradient is softmax(z) * sum(y) - y (mean over the batch): replace its softmax by s
        return cross_entropy_grad(z, targets, reduction="mean") + (s - softmax_variant(z)) \
            * targets.sum(axis=-1, keepdims=True) / z.shape[0]
    return answer


NORMALISER_HINT = ("The softmax inside is computed wrong: each row is divided by the sum of its exponentials over "
                   "the classes (not their mean, not a sum over the batch), so that it sums to one. " + STABLE)


def _softmax_classes(kind):
    return [ClassMistake("wrong_normaliser", NORMALISER_HINT,
                         (lambda m: lambda a, k, ref: _from_softmax(kind)(a, k, m))(m)) for m in SOFTMAX_MUTATIONS]


#: mutation of one term of the softmax's Jacobian -> its class
JACOBIAN_TERM_MUTATIONS = {"shared_term_missing": "missing_shared_term", "shift:diagonal": "shifted_index",
                           "shift:shared_left": "shifted_index", "shift:shared_right": "shifted_index"}
#: mutation of one term of the softmax's vector-Jacobian product -> its class
VJP_TERM_MUTATIONS = {"shared_mean": "wrong_shared_term", "shared_over_batch": "wrong_shared_term",
                      "shared_without_v": "wrong_shared_term", "softmax_factor_missing": "missing_softmax_factor",
                      "vector_missing": "missing_upstream"}
SHARED_TERM = ("Only the term of the diagonal is there: the normaliser couples the classes, so every entry of a row, "
               "the diagonal included, also carries a term that comes from the shared normaliser. " + JACOBIAN)
WRONG_SHARED = ("The term shared by the row is computed wrong: it is one number per example, a sum over that "
                "example's classes of the incoming vector weighted by the softmax outputs (not a mean, not a sum "
                "over the batch). " + BACKWARD)
SOFTMAX_FACTOR = ("The softmax outputs' factor is missing: each entry of the result is scaled by its own class's "
                  "softmax output, besides the correction by the shared term. " + BACKWARD)


def _term_variant(kind):
    """The softmax's Jacobian (``kind="jacobian"``) or vector-Jacobian product (``"vjp"``) written term by term on
    rnngrad's softmax, with one term mutated: left out, read from the neighbouring row, or reduced wrong.

    ``tests/test_mistake_classes.py`` checks that without a mutation it gives the reference answer.
    """
    def answer(a, k, mutation):
        s = _ref_softmax(a[0])
        C = s.shape[-1]
        if kind == "jacobian":
            diagonal, left, right = s, s, s
            shifted = np.roll(s, 1, axis=0)
            if mutation == "shift:diagonal":
                diagonal = shifted
            elif mutation == "shift:shared_left":
                left = shifted
            elif mutation == "shift:shared_right":
                right = shifted
            shared = 0.0 if mutation == "shared_term_missing" else left[:, :, None] * right[:, None, :]
            return np.eye(C) * diagonal[:, None, :] - shared
        v = a[1]
        weighted = s if mutation == "shared_without_v" else v * s
        shared = weighted.sum(axis=0 if mutation == "shared_over_batch" else -1, keepdims=True)
        if mutation == "shared_mean":
            shared = shared / C
        if mutation == "vector_missing":
            return s
        return (v - shared) if mutation == "softmax_factor_missing" else s * (v - shared)
    return answer


def _term_classes(kind, mutations, messages):
    return [ClassMistake(cls, messages.get(cls) or hint(cls),
                         (lambda m: lambda a, k, ref: _term_variant(kind)(a, k, m))(m))
            for m, cls in mutations.items()]


def _target_overwritten(a, k, ref):
    """The softmax with the label's entry overwritten by the target's one (nothing taken off), over the batch."""
    z, y = a
    return np.where(np.eye(z.shape[-1])[y] > 0, 1.0, _ref_softmax(z)) / z.shape[0]


def _wrong_targets(a, k, ref):
    """Targets whose label entry got the one-hot share only (the uniform share forgotten there)."""
    from rnngrad.cross_entropy import cross_entropy_grad
    z, y, epsilon = a
    q = smoothed_targets(y, z.shape[-1], epsilon)
    q[np.arange(len(y)), y] = 1.0 - epsilon
    return cross_entropy_grad(z, q, reduction="mean")


def _wrong_targets_sum(a, k, ref):
    """Targets whose label entry got the full one-hot 1 besides the uniform share (they sum to more than one)."""
    from rnngrad.cross_entropy import cross_entropy_grad
    z, y, epsilon = a
    q = np.full(z.shape, epsilon / z.shape[-1])
    q[np.arange(len(y)), y] += 1.0
    return cross_entropy_grad(z, q, reduction="mean")


#: generated mistake classes shown with a worked mutant solution (tests/mutants), per function
EXAMPLES = {
    "softmax_jacobian": ("wrong_sign",),
    "cross_entropy_grad": ("sum_vs_mean", "wrong_sign"),
    "smoothed_cross_entropy_grad": ("sum_vs_mean",),
}

SPECS = with_examples(with_argument_classes([
    Spec(ASSIGNMENT, "softmax", 2, _ref_softmax, [
        CaseMaker("batch_of_rows", _z(4, 5)),
        CaseMaker("large_logits_1e4", _z(3, 4, **LARGE)),
        CaseMaker("single_row", _z(1, 6), hidden=True),
        CaseMaker("one_class", _z(3, 1), weight=0.0),
        CaseMaker("large_logits_hidden", _z(5, 7, **LARGE), hidden=True),
        CaseMaker("wide_batch", _z(9, 3, scale=3.0), hidden=True),
    ], [
        KnownMistake("wrong_axis",
                     "Each row should sum to one over the classes (the last axis); yours normalises over the "
                     "batch (the first axis) instead. " + STABLE,
                     lambda a, k, ref: _ref_axis0(a[0])),
        ClassMistake("column_shift", COLUMN_SHIFT, lambda a, k, ref: _ref_softmax(_column_shifted(a[0]))),
        *[ClassMistake("wrong_normaliser", NORMALISER_HINT, (lambda m: lambda a, k, ref: softmax_variant(a[0], m))(m))
          for m in SOFTMAX_MUTATIONS],
        *output_classes(),
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
                     "Only the diagonal is right: every output of the softmax also depends on every other logit "
                     "of its row, through the shared normaliser. " + JACOBIAN,
                     lambda a, k, ref: ref * np.eye(ref.shape[-1])),
        KnownMistake("missing_diagonal_term",
                     "The term that only the diagonal has is missing: an output depends on its own logit through "
                     "its exponential as well as through the normaliser. " + JACOBIAN,
                     lambda a, k, ref: ref - np.eye(ref.shape[-1]) * _ref_softmax(a[0])[:, None, :]),
        ClassMistake("column_shift", COLUMN_SHIFT, lambda a, k, ref: _ref_jacobian(_column_shifted(a[0]))),
        *_softmax_classes("jacobian"),
        *_term_classes("jacobian", JACOBIAN_TERM_MUTATIONS, {"missing_shared_term": SHARED_TERM}),
        *output_classes(),
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
                     "Your product keeps the diagonal term's part only: the normaliser couples the classes, so "
                     "a term shared by the whole row is subtracted as well. " + BACKWARD,
                     lambda a, k, ref: _ref_softmax(a[0]) * a[1]),
        KnownMistake("missing_off_diagonal",
                     "This is the product with the diagonal of the Jacobian only; the off-diagonal entries "
                     "contribute too. " + BACKWARD,
                     lambda a, k, ref: _ref_softmax(a[0]) * (1 - _ref_softmax(a[0])) * a[1]),
        KnownMistake("unweighted_sum",
                     "The term shared by the row is a weighted sum of the incoming vector, with the softmax "
                     "outputs as the weights; yours is not weighted that way. " + BACKWARD,
                     lambda a, k, ref: _ref_softmax(a[0]) * (a[1] - a[1].sum(axis=-1, keepdims=True))),
        ClassMistake("column_shift", COLUMN_SHIFT, lambda a, k, ref: _ref_vjp(_column_shifted(a[0]), a[1])),
        *_softmax_classes("vjp"),
        *_term_classes("vjp", VJP_TERM_MUTATIONS, {"wrong_shared_term": WRONG_SHARED,
                                                   "missing_softmax_factor": SOFTMAX_FACTOR}),
        *output_classes(),
    ], nonfinite=OVERFLOW, signature="softmax_vjp(logits, v) -> (N, C)",
         derivative=True),

    Spec(ASSIGNMENT, "cross_entropy_grad", 3, _ref_ce_grad, [
        CaseMaker("batch_of_rows", _zy(4, 5)),
        CaseMaker("large_logits_1e4", _zy(3, 4, **LARGE)),
        CaseMaker("single_row", _zy(1, 4), hidden=True),
        CaseMaker("two_classes", _zy(5, 2), hidden=True),
        CaseMaker("large_logits_hidden", _zy(6, 5, **LARGE), hidden=True),
    ], [
        scaled("sum_vs_mean", lambda a: a[0].shape[0]),
        ClassMistake("missing_target", TARGET, lambda a, k, ref: _ref_softmax(a[0]) / a[0].shape[0]),
        ClassMistake("target_overwritten", hint("target_overwritten"), _target_overwritten),
        ClassMistake("column_shift", COLUMN_SHIFT, lambda a, k, ref: _ref_ce_grad(_column_shifted(a[0]), a[1])),
        *_softmax_classes("ce"),
        *output_classes(),
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
                     "This is the gradient for the one-hot labels: with smoothed targets every class gets a share "
                     "of the target, and the gradient compares the prediction with those targets. " + GRADIENT,
                     lambda a, k, ref: _ref_ce_grad(a[0], a[1])),
        scaled("sum_vs_mean", lambda a: a[0].shape[0]),
        ClassMistake("missing_target", TARGET, lambda a, k, ref: _ref_softmax(a[0]) / a[0].shape[0]),
        KnownMistake("wrong_targets", SMOOTH_TARGETS, _wrong_targets),
        KnownMistake("targets_sum_above_one", SMOOTH_TARGETS, _wrong_targets_sum),
        ClassMistake("column_shift", COLUMN_SHIFT,
                     lambda a, k, ref: _ref_smoothed(_column_shifted(a[0]), a[1], a[2])),
        *_softmax_classes("smoothed"),
        *output_classes(),
    ], nonfinite=OVERFLOW, signature="smoothed_cross_entropy_grad(logits, labels, epsilon) -> (N, C)",
         derivative=True),
]), EXAMPLES)


def _ref_axis0(z):
    from rnngrad.softmax import softmax
    return softmax(z, axis=0)
