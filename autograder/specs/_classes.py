"""Known mistakes generated from mutation classes.

A spec lists its known mistakes as *classes* rather than as one wrong answer each:

* :func:`from_variant`: one mistake per mutation of the function's reference computation (a mistaken
  variant that takes a ``mutation`` argument, see :mod:`autograder.specs._variants` and
  :mod:`autograder.specs._jacobian_variants`);
* :func:`output_classes`: mistakes that apply to any answer: the opposite sign, a Jacobian in the other
  layout, a part left at zero, parts shifted by one index (on request: one block negated, square parts
  transposed, a loop's last entry unfilled); :func:`scaled`: a wrong reduction (a factor N, T, 2 ...);
* :func:`argument_classes` and :func:`shifted_inside_classes`: the reference called with one argument
  negated, shifted, transposed or replaced by the identity.

Because :func:`autograder.compare.compare` matches every part of a dict or tuple answer on its own, one class
also names the answers that make the mistake in a single part (one gradient overwritten instead of
accumulated, say). The sentences are hints: they name the idea and the book section that teaches it, never
the expression to write (``tests/test_hints.py`` checks every one); they live in :mod:`autograder.specs._hints`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._core import KnownMistake as _KnownMistake
# the hints and book sections live in _hints; the specs import them from here with the classes
from ._hints import (CELL_VJP, CLASS_OF, HIDDEN, HINTS, LAYOUTS, LOCAL, MEAN_SUM, ONE_STEP, PRODUCTS,  # noqa: F401
                     ROW, SUMS, TOTAL, UNROLLED, VJP, hint, section)


def KnownMistake(*args, **kwargs) -> _KnownMistake:  # noqa: N802 (a constructor)
    """A known mistake made by a mutation class (``generated=True``)."""
    return _KnownMistake(*args, generated=True, **kwargs)

__all__ = ["section", "HINTS", "hint", "from_variant", "output_classes", "scaled", "argument_classes",
           "shifted_inside_classes",
           "argument_names", "with_argument_classes", "with_examples"]


def _scale(value, factor):
    if isinstance(value, dict):
        return {k: _scale(v, factor) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_scale(v, factor) for v in value)
    return value * factor


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
    """The positional argument names of a spec's signature ``"f(a, b, *, k) -> ..."`` (those before a ``*``)."""
    inside = signature.split("(", 1)[1].split(")", 1)[0]
    names = [name.strip() for name in inside.split(",") if name.strip()]
    return names[:names.index("*")] if "*" in names else names


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


def shifted_inside_classes(reference: Callable, n_args: int) -> list[KnownMistake]:
    """The reference called with one argument shifted along its first axis everywhere but at one end.

    What a loop that reads ``x[t - 1]`` for ``x[t]`` gives when the step at the other end is written outside
    the loop (and reads the right entry); arguments with a single entry along the first axis are
    skipped.
    """
    def shifted(i, keep):
        def answer(a, k, ref):
            if not (isinstance(a[i], np.ndarray) and a[i].ndim >= 2 and a[i].shape[0] > 1):
                return None
            args = list(a)
            args[i] = np.roll(a[i], 1, axis=0)
            args[i][keep] = a[i][keep]
            return reference(*args, **k)
        return answer
    return [KnownMistake("shifted_index", hint("shifted_index"), shifted(i, keep))
            for i in range(n_args) for keep in (0, -1)]


def argument_classes(reference: Callable, n_args: int, weights=()) -> list[KnownMistake]:
    """The reference called with one argument changed: negated, shifted along its first axis, transposed, or the
    identity.

    A negated argument is what a difference written the wrong way round gives; the identity in place of a square
    argument is what leaving that factor out of a product gives. A shifted argument is what
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

    def identity(i):
        def answer(a, k, ref):
            if not (isinstance(a[i], np.ndarray) and a[i].ndim == 2 and a[i].shape[0] == a[i].shape[1] > 1
                    and a[i].dtype.kind == "f"):
                return None
            args = list(a)
            args[i] = np.eye(a[i].shape[0])
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
            + [KnownMistake("missing_transpose", hint("missing_transpose"), transposed(i)) for i in weights]
            + [KnownMistake("missing_factor", hint("missing_factor"), identity(i)) for i in range(n_args)])


def _square_transposed(value):
    """Every square matrix part transposed (a part of another shape is left as it is)."""
    if isinstance(value, dict):
        return {k: _square_transposed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_square_transposed(v) for v in value)
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] == value.shape[1]:
        return value.T.copy()
    return value


def _block_negated(row: int, col: int):
    """The answer with one block of a 2 x 2 block Jacobian (last two axes split in halves) negated."""
    def answer(a, k, ref):
        n = ref.shape[-1] // 2
        out = ref.copy()
        out[..., row * n:(row + 1) * n, col * n:(col + 1) * n] *= -1.0
        return out
    return answer


def _last_unfilled(axis: int):
    """The answer with its last entry along ``axis`` left at zero (arrays with more than ``axis + 1`` axes)."""
    def answer(a, k, ref):
        if not (isinstance(ref, np.ndarray) and ref.ndim > axis + 1):
            return None
        out = ref.copy()
        out[(slice(None),) * axis + (-1,)] = 0.0
        return out
    return answer


def output_classes(*, sign=True, zero=True, jacobian_out_ndim=None, blocks=False, square_parts=False,
                   unfilled_axes=()) -> list[KnownMistake]:
    """Mistakes that apply to any answer: opposite sign, a part left at zero, parts shifted by one index, the
    other Jacobian layout; on request one block negated, square parts transposed, a last entry unfilled.

    ``jacobian_out_ndim``: for a Jacobian answer, how many leading axes index the output (2 for a batch of
    matrices (N, H, H) read row by row gives the last two swapped; None for an answer that is not a Jacobian).
    ``blocks``: the answer is a Jacobian of two states by two states (each block negated in turn).
    ``square_parts``: every square matrix part transposed (a gradient of a square weight in the wrong
    orientation). ``unfilled_axes``: axes along which a loop fills the answer (the last entry left at zero).
    """
    out = []
    if blocks:
        out += [KnownMistake("block_sign", hint("block_sign"), _block_negated(r, c)) for r in (0, 1) for c in (0, 1)]
    if square_parts:
        out.append(KnownMistake("transposed_gradient", hint("transposed_gradient"),
                                lambda a, k, ref: _square_transposed(ref)))
    out += [KnownMistake("loop_short", hint("loop_short"), _last_unfilled(axis)) for axis in unfilled_axes]
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
