"""Problem set 3: back-propagation through time, a character-level model, clipping and truncation.

Graded functions:

* ``rnn_backward(dhs, xs, h0, hs, W_x, W_h)`` BPTT of the tanh RNN given the direct gradients ``dhs``;
* ``char_lm_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0)`` loss and full gradient of the character model
  (cross-entropy, mean over the batch, sum over time) -> ``(loss, grads)`` with grads keys
  ``W_x, W_h, b, W_y, b_y, h0``;
* ``truncated_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0, k)`` the k-step truncated gradient (dict);
* ``squared_error_grad(xs, h0, W_x, W_h, b, W_y, b_y, targets)`` a real-valued read-out with the loss
  ``(1/2N) sum (y - target)^2`` (beyond the chapter) -> ``(loss, grads)``;
* ``clip_global_norm(grads, max_norm)`` rescale a gradient dict to norm at most ``max_norm`` -> ``(clipped, norm)``.
"""
from __future__ import annotations

import numpy as np

from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, rnn_params, weights

ASSIGNMENT = "ps3_bptt"

HIDDEN_PATH = ("Your gradient misses the hidden-state path: h_t also changes every later state, so dL/dh_t is "
               "the direct gradient plus the gradient carried back from step t + 1 (dh_next). Only the last "
               "step is right this way.")


# ----------------------------------------------------------------------------------------- rnn_backward
def _ref_rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    from rnngrad.rnn import rnn_backward
    return rnn_backward(dhs, xs, h0, hs, W_x, W_h)


def _rnn_no_hidden_path(a, k, ref):
    from rnngrad.rnn import rnn_step_backward
    dhs, xs, h0, hs, W_x, W_h = a
    out = {"xs": np.zeros_like(xs), "h0": None, "W_x": 0.0, "W_h": 0.0, "b": 0.0}
    for t in range(len(xs)):
        g = rnn_step_backward(dhs[t], xs[t], h0 if t == 0 else hs[t - 1], hs[t], W_x, W_h)
        out["xs"][t] = g["x"]
        out["W_x"], out["W_h"], out["b"] = out["W_x"] + g["W_x"], out["W_h"] + g["W_h"], out["b"] + g["b"]
        if t == 0:
            out["h0"] = g["h_prev"]
    return out


def _rnn_not_accumulated(a, k, ref):
    """Parameter gradients of step 0 only (the value a reversed loop leaves when it overwrites instead of adding)."""
    from rnngrad.rnn import rnn_backward, rnn_step_backward
    dhs, xs, h0, hs, W_x, W_h = a
    if len(xs) == 1:
        return None
    carried = rnn_backward(dhs[1:], xs[1:], hs[0], hs[1:], W_x, W_h)["h0"]
    step0 = rnn_step_backward(dhs[0] + carried, xs[0], h0, hs[0], W_x, W_h)
    return {**ref, "W_x": step0["W_x"], "W_h": step0["W_h"], "b": step0["b"]}


def _rnn_off_by_one(a, k, ref):
    """dW_h built with h_t instead of h_{t-1}: sum_t h_t^T da_t (passing hs as the 'inputs' of W_x yields it)."""
    from rnngrad.rnn import rnn_backward
    dhs, xs, h0, hs, W_x, W_h = a
    return {**ref, "W_h": rnn_backward(dhs, hs, h0, hs, W_h, W_h)["W_x"]}


def _bptt_case(T, N, D, H, gain=1.2):
    def make(rng):
        from rnngrad.rnn import rnn_forward
        xs, h0 = normal(rng, T, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h, b = weights(rng, D, H, gain), weights(rng, H, H, gain), normal(rng, H, scale=0.3)
        hs = rnn_forward(xs, h0, W_x, W_h, b)
        return (normal(rng, T, N, H), xs, h0, hs, W_x, W_h), {}
    return make


# -------------------------------------------------------------------------------------- char model
def _ref_char_lm(W_x, W_h, b, W_y, b_y, inputs, targets, h0):
    from rnngrad.char_lm import char_lm_grad
    loss, grads, _ = char_lm_grad(rnn_params(W_x, W_h, b, W_y, b_y), inputs, targets, h0)
    return loss, grads


def _ref_truncated(W_x, W_h, b, W_y, b_y, inputs, targets, h0, k):
    from rnngrad.truncation import char_lm_truncated_grad
    return char_lm_truncated_grad(rnn_params(W_x, W_h, b, W_y, b_y), inputs, targets, h0, k)[1]


def _char_case(T, N, V, H, gain=1.0, k=None):
    def make(rng):
        W_x, W_h = weights(rng, V, H, 2.0 * gain), weights(rng, H, H, gain)
        b, W_y, b_y = normal(rng, H, scale=0.2), weights(rng, H, V, 2.0 * gain), normal(rng, V, scale=0.2)
        inputs, targets = rng.integers(0, V, (T, N)), rng.integers(0, V, (T, N))
        args = (W_x, W_h, b, W_y, b_y, inputs.astype(np.int64), targets.astype(np.int64),
                np.tanh(normal(rng, N, H)))
        return (args + (k,) if k is not None else args), {}
    return make


def _char_no_hidden_path(a):
    """Every loss term reaches only its own state (1-step truncation); h0 still gets the first step's share."""
    grads = _ref_truncated(*a, 1)
    grads["h0"] = _ref_truncated(*a, 2)["h0"]
    return grads


def _scale(value, factor):
    if isinstance(value, dict):
        return {key: v * factor for key, v in value.items()}
    return value * factor


def _clipped(a, k, ref):
    from rnngrad.optim import clip_elementwise
    loss, grads = ref
    return loss, clip_elementwise(grads, 5.0)


# ----------------------------------------------------------------------------------- squared error
def _ref_squared(xs, h0, W_x, W_h, b, W_y, b_y, targets):
    from rnngrad.extras import squared_error_rnn_grad
    return squared_error_rnn_grad(xs, h0, W_x, W_h, b, W_y, b_y, targets)


def _squared_case(T, N, D, H, C, gain=1.0):
    def make(rng):
        xs, h0 = normal(rng, T, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h, b = weights(rng, D, H, gain), weights(rng, H, H, gain), normal(rng, H, scale=0.2)
        W_y, b_y = weights(rng, H, C), normal(rng, C, scale=0.2)
        return (xs, h0, W_x, W_h, b, W_y, b_y, normal(rng, T, N, C)), {}
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


SPECS = [
    Spec(ASSIGNMENT, "rnn_backward", 4, _ref_rnn_backward, [
        CaseMaker("short_sequence", _bptt_case(4, 2, 3, 4)),
        CaseMaker("single_step", _bptt_case(1, 3, 2, 3)),
        CaseMaker("single_row", _bptt_case(5, 1, 2, 3)),
        CaseMaker("one_unit", _bptt_case(6, 2, 1, 1), hidden=True),
        CaseMaker("long_sequence", _bptt_case(12, 3, 3, 5), hidden=True),
        CaseMaker("strong_recurrence", _bptt_case(8, 2, 2, 4, gain=2.5), hidden=True),
        CaseMaker("single_step_hidden", _bptt_case(1, 1, 3, 2), hidden=True),
    ], [
        KnownMistake("missing_hidden_path", HIDDEN_PATH, _rnn_no_hidden_path),
        KnownMistake("not_accumulated",
                     "Your weight gradients contain only one time step: W_x, W_h and b are shared by all steps, "
                     "so their gradients are sums over t (use +=, not =).", _rnn_not_accumulated),
        KnownMistake("off_by_one",
                     "Your dW_h uses the wrong time index: step t multiplies W_h by the previous state, so its "
                     "contribution is h_{t-1}^T da_t (h0 at the first step), not h_t^T da_t.", _rnn_off_by_one),
    ], signature="rnn_backward(dhs, xs, h0, hs, W_x, W_h) -> dict(xs, h0, W_x, W_h, b)", derivative=True),

    Spec(ASSIGNMENT, "char_lm_grad", 4, _ref_char_lm, [
        CaseMaker("short_text", _char_case(5, 2, 4, 3)),
        CaseMaker("long_text", _char_case(15, 2, 5, 4, gain=1.5)),
        CaseMaker("single_step", _char_case(1, 2, 3, 3)),
        CaseMaker("single_row", _char_case(6, 1, 4, 2), hidden=True),
        CaseMaker("one_unit", _char_case(4, 3, 3, 1), hidden=True),
        CaseMaker("long_text_hidden", _char_case(20, 3, 6, 5, gain=1.5), hidden=True),
    ], [
        KnownMistake("sum_vs_mean",
                     "Your loss and gradients are N times too large: the loss is a mean over the batch (and a sum "
                     "over time), so divide by the batch size N.", lambda a, k, ref: _scale_pair(ref, a[5].shape[1])),
        KnownMistake("mean_over_time",
                     "Your loss and gradients are T times too small: the loss sums over time steps; it is a mean "
                     "over the batch only.", lambda a, k, ref: _scale_pair(ref, 1.0 / a[5].shape[0])),
        KnownMistake("missing_hidden_path", HIDDEN_PATH,
                     lambda a, k, ref: (ref[0], _char_no_hidden_path(a))),
        KnownMistake("clipped",
                     "Your gradient looks clipped to [-5, 5]: clipping is for the training step, not for the "
                     "gradient itself. Leave it off when checking gradients (and in this function).", _clipped),
    ], signature="char_lm_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0) -> (loss, grads)", derivative=True),

    Spec(ASSIGNMENT, "truncated_grad", 3, _ref_truncated, [
        CaseMaker("window_of_two", _char_case(6, 2, 4, 3, k=2)),
        CaseMaker("window_of_one", _char_case(5, 2, 3, 3, k=1)),
        CaseMaker("window_of_three", _char_case(7, 2, 4, 4, k=3)),
        CaseMaker("window_covers_all", _char_case(4, 2, 3, 3, k=10), hidden=True),
        CaseMaker("window_hidden", _char_case(9, 3, 5, 4, gain=1.3, k=3), hidden=True),
        CaseMaker("one_unit", _char_case(6, 2, 3, 1, k=2), hidden=True),
    ], [
        KnownMistake("ignored_truncation",
                     "This is the full BPTT gradient: with k-step truncation the gradient of the loss at step t "
                     "stops after k states (h_t, ..., h_{t-k+1}); h_{t-k} is treated as a constant.",
                     lambda a, k, ref: _ref_char_lm(*a[:8])[1]),
        KnownMistake("window_off_by_one",
                     "Your window is one step too long: the gradient of the loss at step t should reach k states "
                     "(h_t back to h_{t-k+1}), yours reaches k + 1.",
                     lambda a, k, ref: _ref_truncated(*a[:8], a[8] + 1)),
    ], signature="truncated_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0, k) -> grads", derivative=True),

    Spec(ASSIGNMENT, "squared_error_grad", 3, _ref_squared, [
        # batch sizes other than 2, where "N times too large" and "twice too large" would coincide
        CaseMaker("short_sequence", _squared_case(4, 3, 2, 3, 1)),
        CaseMaker("vector_output", _squared_case(5, 4, 3, 4, 2)),
        CaseMaker("single_step", _squared_case(1, 3, 2, 2, 1), hidden=True),
        CaseMaker("single_row", _squared_case(6, 1, 1, 3, 2), hidden=True),
        CaseMaker("longer", _squared_case(10, 5, 3, 5, 3, gain=1.5), hidden=True),
    ], [
        KnownMistake("wrong_sign",
                     "Your gradients have the opposite sign: dL/dy_t = (y_t - target_t) / N, not target - y.",
                     lambda a, k, ref: (ref[0], _scale(ref[1], -1.0))),
        KnownMistake("sum_vs_mean",
                     "Your loss and gradients are N times too large: the loss is a mean over the batch.",
                     lambda a, k, ref: _scale_pair(ref, a[0].shape[1])),
        KnownMistake("factor_two",
                     "Your loss and gradients are twice too large: the loss has a factor 1/2, which cancels the 2 "
                     "from differentiating the square.", lambda a, k, ref: _scale_pair(ref, 2.0)),
    ], signature="squared_error_grad(xs, h0, W_x, W_h, b, W_y, b_y, targets) -> (loss, grads)", derivative=True),

    Spec(ASSIGNMENT, "clip_global_norm", 2, _ref_clip, [
        CaseMaker("large_gradient", _grads_case(3, 4, 5.0, 5.0)),
        CaseMaker("small_gradient", _grads_case(2, 3, 0.1, 5.0)),
        CaseMaker("exploding", _grads_case(4, 5, 100.0, 1.0), hidden=True),
        CaseMaker("just_below", _grads_case(3, 3, 0.5, 10.0), hidden=True),
        CaseMaker("one_unit", _grads_case(1, 2, 10.0, 2.0), hidden=True),
    ], [
        KnownMistake("elementwise",
                     "You clipped every entry to [-max_norm, max_norm]. Clipping by the global norm rescales the "
                     "whole gradient by one factor min(1, max_norm / ||g||), so its direction is kept.",
                     _clip_elementwise),
        KnownMistake("per_array_norm",
                     "You rescaled each array by its own norm. The norm is global: the square root of the sum of "
                     "squares of every entry of every array, and all arrays share one factor.", _clip_per_array),
        KnownMistake("always_rescaled",
                     "You rescaled to norm max_norm even when the gradient was already smaller; only gradients "
                     "whose norm exceeds max_norm are shrunk.", _clip_always),
    ], signature="clip_global_norm(grads, max_norm) -> (clipped, norm)"),
]


def _scale_pair(ref, factor):
    loss, grads = ref
    return loss * factor, _scale(grads, factor)
