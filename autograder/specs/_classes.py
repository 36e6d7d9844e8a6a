"""Known mistakes generated from mutation classes, and the hints they show.

A spec lists its known mistakes as *classes* rather than as one wrong answer each:

* :func:`from_variant`: one mistake per mutation of the function's reference computation (a mistaken
  variant that takes a ``mutation`` argument, see :mod:`autograder.specs._variants`);
* :func:`output_classes`: mistakes that apply to any answer: the opposite sign, a Jacobian in the other
  layout, a part left at zero, parts shifted by one index; :func:`scaled`: a wrong reduction (a factor N, T, 2 ...).

Because :func:`autograder.compare.compare` matches every part of a dict or tuple answer on its own, one class
also names the answers that make the mistake in a single part (one gradient overwritten instead of
accumulated, say). The sentences are hints: they name the idea and the book section that teaches it, never
the expression to write (``tests/test_hints.py`` checks every one).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._core import KnownMistake as _KnownMistake


def KnownMistake(*args, **kwargs) -> _KnownMistake:  # noqa: N802 (a constructor)
    """A known mistake made by a mutation class (``generated=True``)."""
    return _KnownMistake(*args, generated=True, **kwargs)

__all__ = ["section", "HINTS", "hint", "from_variant", "output_classes", "scaled", "argument_classes",
           "argument_names", "with_argument_classes", "with_examples"]


def section(page: str, title: str) -> str:
    """A reference to a book section: ``(book: <page>, section "<title>")``; the test checks that it exists."""
    return f'(book: {page}, section "{title}")'


VJP = section("matrix_calculus", 'Where "$W^\\top$" really comes from: the vector-Jacobian product')
ROW = section("matrix_calculus", "The row convention: derivatives of $h W$")
LAYOUTS = section("matrix_calculus", "Jacobians and their two layouts")
LOCAL = section("rnn_cell", "Local derivatives, side by side")
CELL_VJP = section("rnn_cell", "Every gradient by the vector-Jacobian product")
SUMS = section("bptt", "Why the parameter gradients add up over time")
HIDDEN = section("bptt", "The gradient with respect to the hidden states")
UNROLLED = section("bptt", "The unrolled model")
MEAN_SUM = section("cross_entropy", "Sequences, masks, and mean versus sum")
TOTAL = section("sequence_slope", "The total derivative along the sequence")
PRODUCTS = section("hidden_jacobians", "Products along the sequence")
ONE_STEP = section("hidden_jacobians", "The Jacobian of one step")

#: mutation class -> the hint shown when an answer (or one part of it) makes that mistake
HINTS = {
    "missing_transpose": "A weight is applied in its forward orientation where the gradient or tangent passes "
                         "back through it the other way round. Write one entry of the derivative with its "
                         "indices to see which index of the weight is summed over. " + VJP,
    "not_accumulated": "This holds the contribution of a single time step. The parameters are shared by every "
                       "step, so their gradient collects the contributions of all steps: each step adds to it "
                       "rather than replacing it. " + SUMS,
    "off_by_one": "A quantity from the wrong time step is used: each step's derivative is built from that "
                  "step's own quantities and from the state that came right before it (the initial state for "
                  "the first step). " + UNROLLED,
    "shifted_index": "Something is read or written at the neighbouring index (one time step or one row "
                     "early): check the index of every quantity inside the loop. " + UNROLLED,
    "negated_input": "This is the answer for one input with its sign flipped: check the sign of every term "
                     "that reads it (a difference taken the wrong way round). ",
    "missing_step": "A time step is missing: the loop stops one step short, so the contribution of one step "
                    "(and everything it passes on) is left out. " + UNROLLED,
    "carry_without_weight": "What is passed from one step to the next skips the recurrent weight: the previous "
                            "state reaches the next pre-activation only through that weight, so whatever travels "
                            "between the steps goes through it too. " + HIDDEN,
    "forward_states": "The forward pass your derivative is built on is wrong: the states are not the model's "
                      "(check every term of the pre-activation, and the orientation of each weight in the row "
                      "convention). " + section("rnn_cell", "One step, two conventions"),
    "preactivation_derivative": "The activation's derivative is evaluated at the wrong place: written with the "
                                "activation's output, it must be fed the output (the state), not the "
                                "pre-activation. " + LOCAL,
    "swapped_derivative": "This uses the derivative of the other activation (tanh and the sigmoid have "
                          "different derivatives, each written with its own output). " + LOCAL,
    "wrong_normaliser": "The softmax inside is computed wrong: each row is divided by the sum of its "
                        "exponentials over the classes (not their mean, not a sum over the batch), so that it sums "
                        "to one. " + section("softmax", "Computing the softmax without overflow"),
    "missing_target": "The target's part is missing: the gradient of the cross-entropy compares the predicted "
                      "probabilities with the target distribution, and the target's share is taken off. "
                      + section("cross_entropy", "The gradient, two ways"),
    "wrong_slope": "The activation's slope is wrong: check the derivative of the activation, written with its "
                   "output, on a point you can work out by hand (its sign and its size at 0). " + LOCAL,
    "missing_diag": "The activation's derivative is missing: every path through the activation is scaled "
                    "elementwise by its local slope. " + LOCAL,
    "missing_hidden_path": "The path through the later (or earlier) states is missing: a state also changes "
                           "every state after it, so the gradient of a state collects what flows back from the "
                           "next step as well as its direct part. " + HIDDEN,
    "wrong_direction": "The steps are visited in the wrong order: what a step passes on must reach the step it "
                       "depends on, so a backward pass runs from the last step to the first. " + HIDDEN,
    "wrong_sign": "This has the opposite sign: check which of the two terms of a difference comes first. ",
    "transposed": "This is the transpose of the answer: the course writes Jacobians in numerator layout, where "
                  "the outputs index the rows (the leading axes) and the inputs the columns. " + LAYOUTS,
    "zero": "This part is zero everywhere: nothing was added into it, or what drives it never enters. Check "
            "that it is filled, and filled from the right quantities. ",
    "sum_vs_mean": "This is N times too large: the loss is a mean over the batch, so each example's share is "
                   "divided by the batch size. " + MEAN_SUM,
    "mean_vs_sum": "This is N times too small: it averages over the batch where the contributions of the "
                   "examples add up (or divides by the batch size twice). " + MEAN_SUM,
    "mean_over_time": "This is T times too small: the loss sums over the time steps; it is a mean over the "
                      "batch only. " + MEAN_SUM,
    "factor_two": "This is twice too large: the factor one half in the loss cancels the two that "
                  "differentiating a square brings down. " + MEAN_SUM,
    "half": "This is half the answer: a factor one half was applied twice, or the two from differentiating a "
            "square was dropped. " + MEAN_SUM,
    "reversed_order": "The product of Jacobians is taken in the wrong order: along the chain rule the latest "
                      "step's Jacobian stands on the left, and matrix products do not commute. " + PRODUCTS,
    "missing_output_layer": "This is the derivative of the hidden state: the output is read from the state "
                            "through the output layer, and the chain rule goes through that layer too. " + TOTAL,
}


def hint(mistake_id: str) -> str:
    """The hint of one mutation class (a KeyError names the unknown class)."""
    return HINTS[mistake_id].strip()


def _scale(value, factor):
    if isinstance(value, dict):
        return {k: _scale(v, factor) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_scale(v, factor) for v in value)
    return value * factor


#: mutations that are instances of a wider class, shown with that class's id and hint
CLASS_OF = {
    "normaliser_mean": "wrong_normaliser",
    "not_normalised": "wrong_normaliser",
    "normaliser_axis": "wrong_normaliser",
    "derivative_previous_state": "off_by_one",
    "slope:negated": "wrong_slope",
    "slope:one_minus_output": "wrong_slope",
    "slope:output": "wrong_slope",
    "slope:output_squared": "wrong_slope",
    "slope:one_plus_output_squared": "wrong_slope",
    "off_by_one_after_first": "off_by_one",
    "derivative_time_shift": "off_by_one",
    "forward_no_bias": "forward_states",
    "forward_no_input": "forward_states",
    "forward_no_recurrence": "forward_states",
    "forward_transposed": "forward_states",
    "forward_unweighted_recurrence": "forward_states",
}


def from_variant(variant: Callable, mutations, message: Callable = hint) -> list[KnownMistake]:
    """One known mistake per mutation: ``variant(args, kwargs, mutation)`` computes the mistaken answer.

    Mutations of one class (:data:`CLASS_OF`) share the class's id and hint.
    """
    return [KnownMistake(CLASS_OF.get(m, m), message(CLASS_OF.get(m, m)),
                         (lambda m: lambda a, k, ref: variant(a, k, m))(m)) for m in mutations]


def scaled(mistake_id: str, factor: Callable) -> KnownMistake:
    """A wrong reduction: the answer times ``factor(args)`` (every part of it)."""
    return KnownMistake(mistake_id, hint(mistake_id), lambda a, k, ref: _scale(ref, factor(a)))


def _transposed(value):
    if isinstance(value, dict):
        return {k: _transposed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_transposed(v) for v in value)
    if isinstance(value, np.ndarray) and value.ndim >= 2:
        return np.swapaxes(value, -1, -2)
    return value


def _layout_swapped(out_ndim: int):
    """Numerator -> denominator layout of a Jacobian whose output takes the first ``out_ndim`` axes."""
    def answer(a, k, ref):
        from rnngrad.layout import to_denominator_layout
        return to_denominator_layout(ref, out_ndim=out_ndim)
    return answer


def _rolled(value):
    """Every array part with two or more axes, its first axis shifted by one (what writing at i - 1 leaves)."""
    if isinstance(value, dict):
        return {k: _rolled(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_rolled(v) for v in value)
    if isinstance(value, np.ndarray) and value.ndim >= 2 and value.shape[0] > 1:
        return np.roll(value, -1, axis=0)
    return value


def argument_names(signature: str) -> list[str]:
    """The argument names of a spec's signature ``"f(a, b) -> ..."``."""
    inside = signature.split("(", 1)[1].split(")", 1)[0]
    return [name.strip() for name in inside.split(",") if name.strip()]


def with_examples(specs: list, examples: dict[str, tuple[str, ...]]) -> list:
    """Set ``spec.examples`` (generated classes shown with a worked mutant) from ``{function: ids}``."""
    for spec in specs:
        spec.examples = tuple(examples.get(spec.function, ()))
        unknown = set(spec.examples) - {m.id for m in spec.mistakes}
        if unknown:
            raise ValueError(f"{spec.function}: examples {sorted(unknown)} are not mistakes of the spec")
    return specs


def with_argument_classes(specs: list) -> list:
    """Add :func:`argument_classes` (from each spec's reference and signature) to every spec; returns ``specs``."""
    for spec in specs:
        names = argument_names(spec.signature)
        weights = [i for i, name in enumerate(names) if name.startswith("W")]
        spec.mistakes.extend(argument_classes(spec.reference, len(names), weights))
    return specs


def argument_classes(reference: Callable, n_args: int, weights=()) -> list[KnownMistake]:
    """The reference called with one argument changed: negated, shifted along its first axis, or transposed.

    A negated argument is what a difference written the wrong way round gives. A shifted argument is what
    reading ``x[t - 1]`` for ``x[t]`` gives (python wraps at 0); a transposed one is a square weight (an
    argument of index in ``weights``) used in the wrong orientation. Arguments that are not arrays of two or
    more axes (or not square, for a transpose) are skipped on that case.
    """
    def shifted(i):
        def answer(a, k, ref):
            if not (isinstance(a[i], np.ndarray) and a[i].ndim >= 2 and a[i].shape[0] > 1):
                return None
            args = list(a)
            args[i] = np.roll(a[i], 1, axis=0)
            return reference(*args, **k)
        return answer

    def transposed(i):
        def answer(a, k, ref):
            if not (isinstance(a[i], np.ndarray) and a[i].ndim == 2 and a[i].shape[0] == a[i].shape[1]):
                return None
            args = list(a)
            args[i] = a[i].T
            return reference(*args, **k)
        return answer

    def negated(i):
        def answer(a, k, ref):
            if not (isinstance(a[i], np.ndarray) and a[i].dtype.kind == "f"):
                return None
            args = list(a)
            args[i] = -a[i]
            return reference(*args, **k)
        return answer

    return ([KnownMistake("shifted_index", hint("shifted_index"), shifted(i)) for i in range(n_args)]
            + [KnownMistake("negated_input", hint("negated_input"), negated(i)) for i in range(n_args)]
            + [KnownMistake("missing_transpose", hint("missing_transpose"), transposed(i)) for i in weights])


def output_classes(*, sign=True, zero=True, jacobian_out_ndim=None) -> list[KnownMistake]:
    """Mistakes that apply to any answer: opposite sign, a part left at zero, parts shifted by one index, the
    other Jacobian layout.

    ``jacobian_out_ndim``: for a Jacobian answer, how many leading axes index the output (2 for a batch of
    matrices (N, H, H) read row by row gives the last two swapped; None for an answer that is not a Jacobian).
    """
    out = []
    if sign:
        out.append(KnownMistake("wrong_sign", hint("wrong_sign"), lambda a, k, ref: _scale(ref, -1.0)))
    if zero:
        out.append(KnownMistake("zero", hint("zero"), lambda a, k, ref: _scale(ref, 0.0)))
    out.append(KnownMistake("shifted_index", hint("shifted_index"), lambda a, k, ref: _rolled(ref)))
    if jacobian_out_ndim == "last_two":
        out.append(KnownMistake("transposed", hint("transposed"), lambda a, k, ref: _transposed(ref)))
    elif jacobian_out_ndim is not None:
        out.append(KnownMistake("transposed", hint("transposed"), _layout_swapped(jacobian_out_ndim)))
    return out
