"""Problem set 3: back-propagation through time, a character-level model, clipping and truncation.

Graded functions:

* ``rnn_backward(dhs, xs, h0, hs, W_x, W_h)`` BPTT of the tanh RNN given the direct gradients ``dhs``;
* ``char_lm_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y)`` loss and full gradient of the character model
  (cross-entropy, mean over the batch, sum over time) -> ``(loss, grads, h_last)`` with grads keys
  ``W_x, W_h, b, W_y, b_y, h0`` and ``h_last`` the state after the last step;
* ``truncated_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y, *, k)`` the loss, the k-step truncated gradient
  and the last state -> ``(loss, grads, h_last)``;
* ``squared_error_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y)`` a real-valued read-out with the loss
  ``(1/2N) sum (y - target)^2`` (beyond the chapter) -> ``(loss, grads, h_last)``;
* ``clip_global_norm(grads, max_norm)`` rescale a gradient dict to norm at most ``max_norm`` -> ``(clipped, norm)``.

The loss-and-gradient functions follow rnngrad's scheme: arrays in the order data, state, weights, options as
keywords, ``(loss, grads, h_last)`` from a function that starts from ``h0``; the last state is graded like the
other parts.
"""
from __future__ import annotations

import numpy as np

from ._classes import KnownMistake as ClassMistake
from ._classes import from_variant, hint, output_classes, scaled, section, with_argument_classes, with_examples
from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, rnn_params, weights
from ._variants import BPTT_MUTATIONS, FORWARD_MUTATIONS, READOUT_MUTATIONS, WRONG_SLOPES, bptt, readout_model

ASSIGNMENT = "ps3_bptt"

BPTT_CLASSES = list(BPTT_MUTATIONS) + list(WRONG_SLOPES)
MODEL_CLASSES = BPTT_CLASSES + list(FORWARD_MUTATIONS)
#: read-out mistakes of a squared-error model (no softmax: no shift before exponentiating)
SQUARED_CLASSES = MODEL_CLASSES + ["logits_no_bias", "logits_no_state", "logits_time_shift", "readout_previous_state",
                                   "targets_missing"]
CHAR_CLASSES = MODEL_CLASSES + list(READOUT_MUTATIONS) + ["missing_target", "target_overwritten", "normaliser_mean",
                                                          "not_normalised", "normaliser_axis"]


#: mutations that only the full backward pass can make: one window of the truncated gradient has no state to
#: carry from after it, nor a step before its first one to read
WHOLE_SEQUENCE_ONLY = ("missing_hidden_path", "input_time_shift", "previous_state_shift", "logits_time_shift")


# ----------------------------------------------------------------------------------------- rnn_backward
def _ref_rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    from rnngrad.rnn import rnn_backward
    return rnn_backward(dhs, xs, h0, hs, W_x, W_h)


def _rnn_variant(a, k, mutation):
    return bptt(*a, mutation=mutation)


def _bptt_case(T, N, D, H, gain=1.2):
    def make(rng):
        from rnngrad.rnn import rnn_forward
        xs, h0 = normal(rng, T, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h, b = weights(rng, D, H, gain), weights(rng, H, H, gain), normal(rng, H, scale=0.3)
        hs = rnn_forward(xs, h0, W_x, W_h, b)
        return (normal(rng, T, N, H), xs, h0, hs, W_x, W_h), {}
    return make


# -------------------------------------------------------------------------------------- char model
def _ref_char_lm(inputs, targets, h0, W_x, W_h, b, W_y, b_y):
    from rnngrad.char_lm import char_lm_grad
    return char_lm_grad(rnn_params(W_x, W_h, b, W_y, b_y), inputs, targets, h0)


def _ref_truncated(inputs, targets, h0, W_x, W_h, b, W_y, b_y, *, k):
    from rnngrad.truncation import char_lm_truncated_grad
    return char_lm_truncated_grad(rnn_params(W_x, W_h, b, W_y, b_y), inputs, targets, h0, k=k)


def _char_case(T, N, V, H, gain=1.0, k=None):
    def make(rng):
        W_x, W_h = weights(rng, V, H, 2.0 * gain), weights(rng, H, H, gain)
        b, W_y, b_y = normal(rng, H, scale=0.2), weights(rng, H, V, 2.0 * gain), normal(rng, V, scale=0.2)
        inputs, targets = rng.integers(0, V, (T, N)), rng.integers(0, V, (T, N))
        args = (inputs.astype(np.int64), targets.astype(np.int64), np.tanh(normal(rng, N, H)),
                W_x, W_h, b, W_y, b_y)
        return args, ({} if k is None else {"k": k})
    return make


def _same_state(mistake: KnownMistake) -> KnownMistake:
    """``mistake`` with the last state of the reference: a wrong reduction or sign changes the loss and the
    gradients, not the forward pass that gives ``h_last``."""
    def answer(a, k, ref):
        wrong = mistake.answer(a, k, ref)
        return None if wrong is None else (wrong[0], wrong[1], ref[2])
    return KnownMistake(mistake.id, mistake.message, answer, mistake.generated)


#: mistakes in the softmax part of the character model (the logits' gradient)
SOFTMAX_PART = ("missing_target", "target_overwritten", "normaliser_mean", "not_normalised", "normaliser_axis")


def _logits_gradient(targets, N, mutation):
    """The gradient of the loss with respect to the logits (T, N, V) -> (T, N, V), or a mistaken one."""
    from rnngrad.cross_entropy import cross_entropy_grad

    from .ps1_softmax import softmax_variant

    def grad(z):
        right = cross_entropy_grad(z, targets, reduction="sum") / N
        if mutation not in SOFTMAX_PART:
            return right
        s = softmax_variant(z.reshape(-1, z.shape[-1])).reshape(z.shape)
        if mutation == "missing_target":
            return s / N
        if mutation == "target_overwritten":  # the target's entry overwritten with the target's one
            return np.where(np.eye(z.shape[-1])[targets] > 0, 1.0, s) / N
        wrong = np.stack([softmax_variant(z[t], mutation) for t in range(len(z))])
        return right + (wrong - s) / N
    return grad


def _char_variant(window_arg: bool):
    """The character model's ``(loss, grads, h_last)`` with one mutation (and the k-step window of the keyword
    ``k`` when ``window_arg``)."""
    def variant(a, k, mutation):
        from rnngrad.char_lm import one_hot
        from rnngrad.cross_entropy import cross_entropy
        inputs, targets, h0, W_x, W_h, b, W_y, b_y = a
        N = inputs.shape[1]
        grads = readout_model(one_hot(inputs, W_x.shape[0]), h0, W_x, W_h, b, W_y, b_y,
                              _logits_gradient(targets, N, mutation), mutation,
                              window=k["k"] if window_arg else None,
                              loss_of=lambda z: cross_entropy(z, targets, reduction="sum") / N)
        if grads is None:
            return None
        return grads.pop("loss"), grads, grads.pop("h_last")
    return variant


def _clipped(a, k, ref):
    from rnngrad.optim import clip_elementwise
    loss, grads, h_last = ref
    return loss, clip_elementwise(grads, 5.0), h_last


# ----------------------------------------------------------------------------------- squared error
def _ref_squared(xs, targets, h0, W_x, W_h, b, W_y, b_y):
    from rnngrad.extras import squared_error_rnn_grad
    return squared_error_rnn_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y)


def _squared_variant(a, k, mutation):
    xs, targets, h0, W_x, W_h, b, W_y, b_y = a
    N = xs.shape[1]
    if mutation == "targets_missing":  # the residual without the targets: the outputs alone
        targets = np.zeros_like(targets)

    def loss_of(y):  # rnngrad's loss of outputs y: a zero read-out against the targets less y
        return _ref_squared(xs, targets - y, h0, W_x, W_h, b, np.zeros_like(W_y), np.zeros_like(b_y))[0]
    grads = readout_model(xs, h0, W_x, W_h, b, W_y, b_y, lambda y: (y - targets) / N, mutation, loss_of=loss_of)
    return None if grads is None else (grads.pop("loss"), grads, grads.pop("h_last"))


def _squared_case(T, N, D, H, C, gain=1.0):
    def make(rng):
        xs, h0 = normal(rng, T, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h, b = weights(rng, D, H, gain), weights(rng, H, H, gain), normal(rng, H, scale=0.2)
        W_y, b_y = weights(rng, H, C), normal(rng, C, scale=0.2)
        return (xs, normal(rng, T, N, C), h0, W_x, W_h, b, W_y, b_y), {}
    return make


# ------------------------------------------------------------------------------------------- clipping
def _ref_clip(grads, max_norm):
    from rnngrad.optim import clip_global_norm
    return clip_global_norm(grads, max_norm)


def _clip_elementwise(a, k, ref):
    from rnngrad.optim import clip_elementwise
    return clip_elementwise(a[0], a[1]), ref[1]


def _clip_per_array(a, k, ref):
    grads, max_norm = a
    clipped = {key: v * min(1.0, max_norm / max(np.linalg.norm(v), 1e-300)) for key, v in grads.items()}
    return clipped, ref[1]


def _clip_always(a, k, ref):
    grads, max_norm = a
    return {key: v * (max_norm / ref[1]) for key, v in grads.items()}, ref[1]


def _grads_case(H, V, scale, max_norm):
    def make(rng):
        grads = {"W_x": normal(rng, V, H, scale=scale), "W_h": normal(rng, H, H, scale=scale),
                 "b": normal(rng, H, scale=scale), "W_y": normal(rng, H, V, scale=scale), "b_y": normal(rng, V)}
        return (grads, float(max_norm)), {}
    return make


CLIP = section("bptt", "Clipping: element-wise or by the global norm")
TRUNC = section("bptt", "Truncated BPTT: what it drops")
CHECKING = section("bptt", "Checking a gradient, with clipping off")

#: generated mistake classes shown with a worked mutant solution (tests/mutants), per function
EXAMPLES = {
    "rnn_backward": ("missing_hidden_path", "missing_transpose", "not_accumulated", "off_by_one", "swapped_derivative"),
    "char_lm_grad": ("mean_over_time", "missing_hidden_path", "preactivation_derivative", "sum_vs_mean"),
    "squared_error_grad": ("factor_two", "sum_vs_mean", "wrong_sign"),
}

SPECS = with_examples(with_argument_classes([
    Spec(ASSIGNMENT, "rnn_backward", 4, _ref_rnn_backward, [
        CaseMaker("short_sequence", _bptt_case(4, 2, 3, 4)),
        CaseMaker("single_step", _bptt_case(1, 3, 2, 3)),
        CaseMaker("single_row", _bptt_case(5, 1, 2, 3)),
        CaseMaker("one_unit", _bptt_case(6, 2, 1, 1), hidden=True),
        CaseMaker("long_sequence", _bptt_case(12, 3, 3, 5), hidden=True),
        CaseMaker("strong_recurrence", _bptt_case(8, 2, 2, 4, gain=2.5), hidden=True),
        CaseMaker("single_step_hidden", _bptt_case(1, 1, 3, 2), hidden=True),
    ], [
        *from_variant(_rnn_variant, [c for c in BPTT_CLASSES if c != "preactivation_derivative"]),
        scaled("mean_vs_sum", lambda a: 1.0 / a[0].shape[1]),
        *output_classes(),
    ], signature="rnn_backward(dhs, xs, h0, hs, W_x, W_h) -> dict(xs, h0, W_x, W_h, b)", derivative=True),

    Spec(ASSIGNMENT, "char_lm_grad", 4, _ref_char_lm, [
        CaseMaker("short_text", _char_case(5, 2, 4, 3)),
        CaseMaker("long_text", _char_case(15, 2, 5, 4, gain=1.5)),
        CaseMaker("single_step", _char_case(1, 2, 3, 3)),
        CaseMaker("single_row", _char_case(6, 1, 4, 2), hidden=True),
        CaseMaker("one_unit", _char_case(4, 3, 3, 1), hidden=True),
        CaseMaker("long_text_hidden", _char_case(20, 3, 6, 5, gain=1.5), hidden=True),
    ], [
        *from_variant(_char_variant(False), CHAR_CLASSES),
        *map(_same_state, [scaled("sum_vs_mean", lambda a: a[0].shape[1]),
                           scaled("mean_over_time", lambda a: 1.0 / a[0].shape[0])]),
        KnownMistake("clipped",
                     "Your gradient looks clipped entry by entry: clipping belongs to the training step, not to "
                     "the gradient itself. Leave it off when checking gradients (and in this function). "
                     + CHECKING, _clipped),
        *map(_same_state, output_classes()),
    ], signature="char_lm_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y) -> (loss, grads, h_last)",
        derivative=True),

    Spec(ASSIGNMENT, "truncated_grad", 3, _ref_truncated, [
        CaseMaker("window_of_two", _char_case(6, 2, 4, 3, k=2)),
        CaseMaker("window_of_one", _char_case(5, 2, 3, 3, k=1)),
        CaseMaker("window_of_three", _char_case(7, 2, 4, 4, k=3)),
        CaseMaker("window_covers_all", _char_case(4, 2, 3, 3, k=10), hidden=True),
        CaseMaker("window_hidden", _char_case(9, 3, 5, 4, gain=1.3, k=3), hidden=True),
        CaseMaker("one_unit", _char_case(6, 2, 3, 1, k=2), hidden=True),
    ], [
        KnownMistake("ignored_truncation",
                     "This is the full BPTT gradient: with k-step truncation the gradient of each step's loss "
                     "stops after k states, and the state before them is treated as a constant. " + TRUNC,
                     lambda a, k, ref: _ref_char_lm(*a)),
        KnownMistake("window_off_by_one",
                     "Your window is one step too long: the gradient of each step's loss should reach k states "
                     "counting that step's own state; yours reaches one more. " + TRUNC,
                     lambda a, k, ref: _ref_truncated(*a, k=k["k"] + 1)),
        *from_variant(_char_variant(True), [c for c in CHAR_CLASSES if c not in WHOLE_SEQUENCE_ONLY]),
        *map(_same_state, [scaled("sum_vs_mean", lambda a: a[0].shape[1]),
                           scaled("mean_over_time", lambda a: 1.0 / a[0].shape[0])]),
        *map(_same_state, output_classes()),
    ], signature="truncated_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y, *, k) -> (loss, grads, h_last)",
        derivative=True),

    Spec(ASSIGNMENT, "squared_error_grad", 3, _ref_squared, [
        # batch sizes other than 2, where "N times too large" and "twice too large" would coincide
        CaseMaker("short_sequence", _squared_case(4, 3, 2, 3, 1)),
        CaseMaker("vector_output", _squared_case(5, 4, 3, 4, 2)),
        CaseMaker("single_step", _squared_case(1, 3, 2, 2, 1), hidden=True),
        CaseMaker("single_row", _squared_case(6, 1, 1, 3, 2), hidden=True),
        CaseMaker("longer", _squared_case(10, 5, 3, 5, 3, gain=1.5), hidden=True),
    ], [
        *from_variant(_squared_variant, SQUARED_CLASSES),
        ClassMistake("wrong_sign", hint("wrong_sign"),  # the residual taken the wrong way round: the loss is right
                     lambda a, k, ref: (ref[0], {key: -v for key, v in ref[1].items()}, ref[2])),
        *map(_same_state, [scaled("sum_vs_mean", lambda a: a[0].shape[1]),
                           scaled("mean_over_time", lambda a: 1.0 / a[0].shape[0]),
                           scaled("factor_two", lambda a: 2.0),
                           scaled("half", lambda a: 0.5)]),
        *map(_same_state, output_classes()),
    ], signature="squared_error_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y) -> (loss, grads, h_last)",
        derivative=True),

    Spec(ASSIGNMENT, "clip_global_norm", 2, _ref_clip, [
        CaseMaker("large_gradient", _grads_case(3, 4, 5.0, 5.0)),
        CaseMaker("small_gradient", _grads_case(2, 3, 0.1, 5.0)),
        CaseMaker("exploding", _grads_case(4, 5, 100.0, 1.0), hidden=True),
        CaseMaker("just_below", _grads_case(3, 3, 0.5, 10.0), hidden=True),
        CaseMaker("one_unit", _grads_case(1, 2, 10.0, 2.0), hidden=True),
    ], [
        KnownMistake("elementwise",
                     "You clipped every entry on its own. Clipping by the global norm rescales the whole "
                     "gradient by one common factor, so its direction is kept. " + CLIP, _clip_elementwise),
        KnownMistake("per_array_norm",
                     "You rescaled each array by its own norm. The norm is global: it is taken over every entry "
                     "of every array at once, and all arrays share one factor. " + CLIP, _clip_per_array),
        KnownMistake("always_rescaled",
                     "You rescaled to the maximum norm even when the gradient was already smaller; only "
                     "gradients whose norm exceeds the maximum are shrunk. " + CLIP, _clip_always),
        *output_classes(),
    ], signature="clip_global_norm(grads, max_norm) -> (clipped, norm)"),
]), EXAMPLES)
