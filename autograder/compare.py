"""Trusted comparison of a returned value with the reference answer, and recognition of known mistakes.

This module is the single comparison used everywhere a graded answer is judged:

* the grading pipeline calls it (through :meth:`autograder.specs.Spec.evaluate`) on values that came back
  from the sandbox, in the instructor's process; it never runs student code;
* the student-side checker ``rnncheck.py`` shipped with each problem set embeds this file's source verbatim
  (``python -m autograder.fixtures`` writes it), so a student sees the same verdicts on the visible cases.

It therefore imports nothing but numpy and the standard library.

Values are nested structures of arrays: an ndarray, a float (a scalar such as a loss), or a dict / tuple /
list of those. The steps, in order:

1. *Validate* the returned structure against the expected one: same container type and keys, an ndarray
   of a floating dtype and of the expected shape at every array leaf, finite values. Each failure names the
   leaf and carries a diagnosis id (``wrong_type``, ``wrong_keys``, ``wrong_shape``, ``wrong_dtype``,
   ``non_finite``).
2. *Compare* every leaf: ``max|got - want| <= tol * max(max|want|, SCALE_FLOOR)``. The scale is the leaf's
   largest reference entry, so the test is relative for the leaf as a whole (entries near zero inside a large
   leaf do not make it brittle). ``tol`` is ``FLOAT64_TOL`` for float64 answers and ``FLOAT32_TOL`` when the
   student chose float32: float32 answers are promoted to float64 and accepted at float32 accuracy.
3. If the answer is wrong, look for a *known mistake*: each one is a wrong answer computed from the reference
   (the reference transposed, without the hidden-state path, with a mean instead of a sum, ...). When the
   returned value matches one of them at the same tolerance, its sentence is shown. A known mistake whose
   wrong answer coincides with the right one on a case is dropped for that case (see :func:`distinct`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["FLOAT64_TOL", "FLOAT32_TOL", "SCALE_FLOOR", "Verdict", "Mistake", "validate", "leaf_errors",
           "matches", "distinct", "compare", "describe"]

#: relative tolerance for answers computed in float64
FLOAT64_TOL = 1e-6
#: relative tolerance for answers the student returned in float32 (about 1000 float32 ulps)
FLOAT32_TOL = 1e-4
#: smallest scale a leaf is measured against (so an all-zero reference leaf is compared absolutely)
SCALE_FLOOR = 1e-6


@dataclass
class Verdict:
    """Outcome of comparing one returned value with one expected value."""
    passed: bool
    message: str
    diagnosis: str | None = None


@dataclass
class Mistake:
    """A known wrong answer on one case and the sentence that explains it."""
    id: str
    answer: object
    message: str


def describe(path: str) -> str:
    """Human name of a leaf: ``"the output"`` or ``"output['W_h']"``."""
    return "the output" if not path else "output" + path


def _is_scalar_expected(x) -> bool:
    return isinstance(x, float)


def validate(value, expected, path: str = "") -> Verdict | None:
    """Check that ``value`` has the structure, dtypes and shapes of ``expected`` and is finite.

    Returns None when it does, otherwise a failed :class:`Verdict` naming the first bad leaf.
    """
    where = describe(path)
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            return Verdict(False, f"{where} should be a dict with keys {sorted(expected)}, got {type(value).__name__}",
                           "wrong_type")
        if set(value) != set(expected):
            missing = sorted(set(expected) - set(value))
            extra = sorted(set(map(str, value)) - set(expected))
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if extra:
                parts.append(f"unexpected keys {extra}")
            return Verdict(False, f"{where} has the wrong keys: {'; '.join(parts)} (expected {sorted(expected)})",
                           "wrong_keys")
        for key in sorted(expected):
            bad = validate(value[key], expected[key], f"{path}[{key!r}]")
            if bad is not None:
                return bad
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(value, (tuple, list)):
            return Verdict(False, f"{where} should be a tuple of {len(expected)} items, got {type(value).__name__}",
                           "wrong_type")
        if len(value) != len(expected):
            return Verdict(False, f"{where} should have {len(expected)} items, got {len(value)}", "wrong_type")
        for i, (v, e) in enumerate(zip(value, expected)):
            bad = validate(v, e, f"{path}[{i}]")
            if bad is not None:
                return bad
        return None
    if _is_scalar_expected(expected):
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (float, int, np.floating, np.integer)):
            return Verdict(False, f"{where} should be a float, got {type(value).__name__}", "wrong_type")
        if not math.isfinite(float(value)):
            return Verdict(False, f"{where} is {float(value)}, expected a finite number", "non_finite")
        return None
    # an array leaf
    if not isinstance(value, np.ndarray):
        return Verdict(False, f"{where} should be a numpy array of shape {expected.shape}, got {type(value).__name__}",
                       "wrong_type")
    if value.dtype.kind != "f" or value.dtype.itemsize < 4:
        return Verdict(False, f"{where} has dtype {value.dtype}; expected floating-point values (float64, or float32)",
                       "wrong_dtype")
    if value.shape != expected.shape:
        return Verdict(False, f"{where} has shape {value.shape}, expected {expected.shape}", "wrong_shape")
    if not np.isfinite(value).all():
        bad = int((~np.isfinite(value)).sum())
        return Verdict(False, f"{where} contains {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}", "non_finite")
    return None


def _leaves(value, expected, path=""):
    if isinstance(expected, dict):
        for key in sorted(expected):
            yield from _leaves(value[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, (tuple, list)):
        for i, (v, e) in enumerate(zip(value, expected)):
            yield from _leaves(v, e, f"{path}[{i}]")
    else:
        yield path, value, expected


def leaf_errors(value, expected) -> list[tuple[str, float, float]]:
    """For a structurally valid ``value``: (path, scaled error, tolerance) of every leaf, errors relative to scale."""
    out = []
    for path, v, e in _leaves(value, expected):
        is32 = isinstance(v, (np.ndarray, np.floating)) and np.asarray(v).dtype == np.float32
        got = np.asarray(v, dtype=np.float64)
        want = np.asarray(e, dtype=np.float64)
        scale = max(float(np.max(np.abs(want))) if want.size else 0.0, SCALE_FLOOR)
        err = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
        out.append((path, err, FLOAT32_TOL if is32 else FLOAT64_TOL))
    return out


def matches(value, expected) -> bool:
    """True when ``value`` is structurally valid for ``expected`` and every leaf is within tolerance."""
    if validate(value, expected) is not None:
        return False
    return all(err <= tol for _, err, tol in leaf_errors(value, expected))


def distinct(wrong, expected, margin: float = 100.0) -> bool:
    """True when the wrong answer differs from the right one by clearly more than the float32 tolerance.

    Only then can a returned value that matches ``wrong`` be told apart from a right answer.
    """
    if validate(wrong, expected) is not None:
        return True  # a different structure or shape is always distinguishable
    return any(err > margin * FLOAT32_TOL for _, err, _ in leaf_errors(wrong, expected))


def compare(value, expected, mistakes=(), nonfinite: tuple[str, str] | None = None) -> Verdict:
    """Judge ``value`` against ``expected``; name a known mistake when the value matches one.

    Args:
        value: what the student's function returned.
        expected: the reference answer (same nested structure).
        mistakes: :class:`Mistake` objects whose answers are distinct from ``expected`` on this case.
        nonfinite: optional (id, sentence) to use instead of the generic ``non_finite`` diagnosis (for example
            softmax overflow on large logits).

    Returns:
        a :class:`Verdict`; its message never contains the case's inputs.
    """
    bad = validate(value, expected)
    if bad is None:
        errors = leaf_errors(value, expected)
        worst = [(p, e, t) for p, e, t in errors if e > t]
        if not worst:
            return Verdict(True, "correct")
    for mistake in mistakes:
        if matches(value, mistake.answer):
            return Verdict(False, mistake.message, mistake.id)
    if bad is not None:
        if bad.diagnosis == "non_finite" and nonfinite is not None:
            return Verdict(False, f"{bad.message}. {nonfinite[1]}", nonfinite[0])
        return bad
    path, err, tol = max(worst, key=lambda x: x[1] / x[2])
    extra = f" ({len(worst)} of {len(errors)} parts are off)" if len(errors) > 1 else ""
    return Verdict(False, f"{describe(path)} is wrong: largest error {err:.2e} relative to its scale "
                          f"(tolerance {tol:.0e}){extra}", "wrong_value")
