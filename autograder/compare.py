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
   When several mistakes fit equally, every one is named (diagnosis ``a|b``).
4. Otherwise, for an answer with several parts (a dict or tuple), each wrong part is matched on its own: a
   gradient dict whose ``W_h`` alone was overwritten instead of accumulated matches the ``W_h`` part of the
   "not accumulated" mistake. When every wrong part is explained, the verdict names each part and its
   mistake (diagnosis ``id@W_h,b``, parts joined by ``+``); :func:`diagnosis_message` rebuilds the same
   sentence from the diagnosis and the fixed sentences, so a hidden case can be explained without its values.
   A wrong part that no mistake explains is still named when it is a constant multiple of the right part
   (``constant_factor``) or the right part with each row or column scaled by its own factor
   (``row_factors``, ``column_factors``); their sentences are in :data:`GENERIC_MESSAGES`.
5. When nothing known explains the answer, the message lists every wrong part: how far off and where
   (which indices along the first axis), the most localised part first (``wrong_value``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["FLOAT64_TOL", "FLOAT32_TOL", "SCALE_FLOOR", "Verdict", "Mistake", "validate", "leaf_errors",
           "matches", "distinct", "compare", "describe", "diagnosis_message", "with_returned_parts"]

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
        is32 = isinstance(v, (np.ndarray, np.floating)) and v.dtype == np.float32
        if type(e) is float and not isinstance(v, np.ndarray):     # a number: the same sums in Python floats
            err = abs(float(v) - e) / max(abs(e), SCALE_FLOOR)
        else:
            got = np.asarray(v, dtype=np.float64)
            want = np.asarray(e, dtype=np.float64)
            err = float(np.abs(got - want).max()) / max(float(np.abs(want).max()), SCALE_FLOOR) if want.size else 0.0
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


#: sentences of the diagnoses that compare itself makes (known to every spec)
GENERIC_MESSAGES = {
    "constant_factor": "This is a constant multiple of the right value: a factor is off (a mean where a sum "
                       "belongs or the reverse, a factor applied twice or forgotten, or a sign).",
    "row_factors": "Each row of this part is the right row times a factor of its own: an elementwise factor that "
                   "scales the rows (such as the activation's slope at each output) is wrong.",
    "column_factors": "Each column of this part is the right column times a factor of its own: an elementwise "
                      "factor that scales the columns (such as the activation's slope at each input) is wrong.",
}


def _axis_factors(got, want, tol: float, axis: int) -> bool:
    """True when ``got`` is ``want`` with each slice along ``axis`` scaled by its own factor (not all ones)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if want.ndim < 2 or want.shape[axis] < 2 or not np.isfinite(got).all():
        return False
    norm = np.sum(want * want, axis=axis, keepdims=True)
    c = np.divide(np.sum(got * want, axis=axis, keepdims=True), norm, out=np.zeros_like(norm), where=norm > 0)
    scale = max(float(np.max(np.abs(want))) * max(float(np.max(np.abs(c))), 1.0), SCALE_FLOOR)
    if float(np.max(np.abs(got - c * want))) > tol * scale or float(np.max(np.abs(c))) <= 1e-3:
        return False
    return float(np.max(np.abs(c - 1.0))) > 1e-3


def _constant_factor(got, want, tol: float) -> float | None:
    """c when ``got`` is c times ``want`` (c not 1, within tolerance), else None."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    norm = float(np.sum(want * want))
    if norm == 0.0 or not np.isfinite(got).all():
        return None
    c = float(np.sum(got * want)) / norm
    scale = max(float(np.max(np.abs(want))) * max(abs(c), 1.0), SCALE_FLOOR)
    if abs(c - 1.0) <= 1e-3 or abs(c) <= 1e-3 or float(np.max(np.abs(got - c * want))) > tol * scale:
        return None
    return c


def _leaf_map(value, expected) -> dict:
    """path -> leaf of ``value`` laid out like ``expected`` (``value`` must be structurally valid)."""
    return {path: v for path, v, _ in _leaves(value, expected)}


def _leaf_matches(got, want) -> bool:
    """One leaf: same shape and within tolerance of ``want`` (relative to ``want``'s scale)."""
    if validate(got, want) is not None:
        return False
    return all(err <= tol for _, err, tol in leaf_errors(got, want))


def _key_of(path: str) -> str:
    """``"[1]['W_h']"`` -> ``"1.W_h"`` (the compact form used inside a diagnosis id)."""
    return ".".join(part.strip("'\"") for part in path.strip("[]").split("][")) if path else ""


def _path_of(key: str) -> str:
    """Inverse of :func:`_key_of`: ``"1.W_h"`` -> ``"[1]['W_h']"``."""
    if not key:
        return ""
    return "".join(f"[{p}]" if p.isdigit() else f"[{p!r}]" for p in key.split("."))


def _either(ids: list[str], messages: dict) -> str:
    messages = {**GENERIC_MESSAGES, **messages}
    if len(ids) == 1:
        return messages.get(ids[0], ids[0])
    listed = " ".join(f"({i + 1}) {messages.get(d, d)}" for i, d in enumerate(ids))
    return f"{len(ids)} explanations fit this answer equally well: {listed}"


def diagnosis_message(diagnosis: str, messages: dict) -> str | None:
    """The sentence of a (possibly composite) known-mistake diagnosis, from the fixed sentences ``messages``.

    ``"a"`` gives a's sentence, ``"a|b"`` says that both fit, ``"a@W_h,b+c@h0"`` names the parts each explains.
    None when an id in it is unknown.

        >>> diagnosis_message("x@W_h", {"x": "Accumulate over time."})
        "output['W_h']: Accumulate over time."
    """
    parts = []
    messages = {**GENERIC_MESSAGES, **messages}
    for part in diagnosis.split("+"):
        ids, _, keys = part.partition("@")
        ids = ids.split("|")
        if not all(d in messages for d in ids):
            return None
        text = _either(ids, messages)
        if keys:
            text = ", ".join(describe(_path_of(k)) for k in keys.split(",")) + ": " + text
        parts.append(text)
    return " ".join(parts)


def _named(found: list) -> str:
    """The diagnosis of the mistakes that match the whole answer: one id, or ids joined by ``|``."""
    return "|".join(dict.fromkeys(m.id for m in found))


def _explain_parts(value, expected, wrong_paths: list[str], mistakes) -> dict:
    """wrong path -> ids of the mistakes whose answer matches ``value`` at that part (and only there it is wrong)."""
    got = _leaf_map(value, expected)
    want = _leaf_map(expected, expected)
    found: dict[str, list[str]] = {}
    for mistake in mistakes:
        if validate(mistake.answer, expected) is not None:
            continue  # a different structure: it can only explain the answer as a whole
        theirs = _leaf_map(mistake.answer, expected)
        for path in wrong_paths:
            if _leaf_matches(got[path], theirs[path]) and not _leaf_matches(theirs[path], want[path]):
                found.setdefault(path, [])
                if mistake.id not in found[path]:
                    found[path].append(mistake.id)
    return found


def _where(got, want, tol: float) -> tuple[float, str]:
    """(share of entries off, where they are) of one wrong leaf."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if want.ndim == 0:
        return 1.0, ""
    scale = max(float(np.max(np.abs(want))), SCALE_FLOOR)
    off = np.abs(got - want) > tol * scale
    share = float(off.mean())
    if not got.any():
        return share, f"{int(off.sum())} of {off.size} entries off (it is zero everywhere)"
    if want.ndim >= 2 and want.shape[0] > 1:
        rows = [i for i in range(want.shape[0]) if off[i].any()]
        if len(rows) == want.shape[0]:
            return share, f"{int(off.sum())} of {off.size} entries off, at every index of the first axis"
        shown = ", ".join(map(str, rows[:8])) + (", ..." if len(rows) > 8 else "")
        return share, (f"{int(off.sum())} of {off.size} entries off, at first-axis indices {shown} of "
                       f"0..{want.shape[0] - 1} (the others are right)")
    return share, f"{int(off.sum())} of {off.size} entries off"


def _generic(value, expected, errors, explained: dict, messages: dict) -> str:
    """Every wrong part: how far off and where, the most localised first; explained parts with their sentence."""
    got = _leaf_map(value, expected)
    want = _leaf_map(expected, expected)
    rows = []
    for path, err, tol in errors:
        if err <= tol:
            continue
        share, where = _where(got[path], want[path], tol)
        rows.append((path in explained, share, -err / tol, path, err, tol, where))
    rows.sort()
    texts = []
    for is_explained, _, _, path, err, tol, where in rows:
        if is_explained:
            texts.append(f"{describe(path)}: {_either(explained[path], messages)}")
        else:
            place = f"; {where}" if where else ""
            texts.append(f"{describe(path)} is wrong: largest error {err:.2e} relative to its scale "
                         f"(tolerance {tol:.0e}){place}")
    head = f"{len(rows)} of {len(errors)} parts are wrong. " if len(errors) > 1 else ""
    return head + " ".join(t if t.endswith(".") else t + "." for t in texts)


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
    mistakes = list(mistakes)
    messages = {}
    for m in mistakes:
        messages.setdefault(m.id, m.message)
    whole = [m for m in mistakes if matches(value, m.answer)]
    if whole:
        diagnosis = _named(whole)
        return Verdict(False, diagnosis_message(diagnosis, messages), diagnosis)
    if bad is not None:
        if bad.diagnosis == "non_finite" and nonfinite is not None:
            return Verdict(False, f"{bad.message}. {nonfinite[1]}", nonfinite[0])
        return bad
    explained = _explain_parts(value, expected, [p for p, _, _ in worst], mistakes) if len(errors) > 1 else {}
    got, want = _leaf_map(value, expected), _leaf_map(expected, expected)
    factors = {}
    for path, _, tol in worst:
        if path in explained:
            continue
        c = _constant_factor(got[path], want[path], tol)
        if c is not None:
            explained[path] = ["constant_factor"]
            factors[path] = c
        elif _axis_factors(got[path], want[path], tol, -1):
            explained[path] = ["row_factors"]
        elif _axis_factors(got[path], want[path], tol, -2):
            explained[path] = ["column_factors"]
    if explained and len(explained) == len(worst):
        groups: dict[str, list[str]] = {}
        for path, _, _ in worst:
            groups.setdefault("|".join(explained[path]), []).append(_key_of(path))
        if len(errors) == 1:
            diagnosis = next(iter(groups))
        else:
            diagnosis = "+".join(f"{ids}@{','.join(keys)}" for ids, keys in groups.items())
        text = diagnosis_message(diagnosis, messages)
        if factors:
            text += " Factors: " + ", ".join(f"{describe(p)} is {c:.4g} times the right value"
                                              for p, c in factors.items()) + "."
        return Verdict(False, text, diagnosis)
    return Verdict(False, _generic(value, expected, errors, explained, messages), "wrong_value")


def with_returned_parts(verdict: Verdict, value, expected, function: str, signature: str) -> Verdict:
    """``verdict`` with what ``function`` returns (from its ``signature``, ``"f(a) -> (loss, grads)"``) added
    when ``value`` is a tuple with another number of parts than ``expected``; otherwise ``verdict`` itself.

    Example:
        >>> v = Verdict(False, "the output should have 3 items, got 2", "wrong_type")
        >>> with_returned_parts(v, (1.0, {}), (1.0, {}, None), "f", "f(h0) -> (loss, grads)").message
        'the output should have 3 items, got 2: f returns (loss, grads)'
    """
    if not (verdict.diagnosis == "wrong_type" and isinstance(expected, tuple)
            and isinstance(value, (tuple, list)) and len(value) != len(expected)):
        return verdict
    returns = str(signature).partition("->")[2].strip()
    if not returns:
        return verdict
    sentence = f"{function} returns {returns}"
    if "h_last" in returns:
        sentence += ", h_last being the state after the last step, where the next chunk starts"
    return Verdict(False, f"{verdict.message}: {sentence}", verdict.diagnosis)
