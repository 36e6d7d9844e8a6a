"""The machinery every problem-set spec is built from: cases, results, known mistakes, and :class:`Spec`.

A spec is data: a list of :class:`CaseMaker` (how to draw the inputs of one case from a random generator),
the rnngrad reference, and a list of :class:`KnownMistake` (a wrong answer computed from the reference and
the sentence to show). :meth:`Spec.cases` turns it into concrete :class:`Case` objects and
:meth:`Spec.evaluate` judges one returned value with :mod:`autograder.compare`.

Published and fresh cases. A maker is *published* (``hidden=False``) or *hidden*. The draw of every
published maker from :data:`PUBLIC_SEED` is a published case: it is in the release fixtures, the student's
local check runs it, and the official grading runs it again for feedback, with no points (a lookup table of
the published answers must earn nothing). The points come only from *fresh* cases: every maker with a
positive weight, published ones included, drawn again from the grading seed, which the instructor keeps
secret. A fresh draw of a published maker is named ``<maker>_fresh``; a hidden maker's keeps its name.
A maker with weight 0 is a published check only (an edge case shown to students, never scored).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import compare as _compare
from ._case_digest import case_key as _case_key
from ._diagnosis_budget import DiagnosisBudget, bounded_verdict
from ._messages import MessageTable

__all__ = ["PUBLIC_SEED", "FRESH_SUFFIX", "Case", "CaseResult", "CaseMaker", "KnownMistake", "Spec", "normalize",
           "float64_error", "MessageTable"]

#: seed of the published cases (in the release fixtures)
PUBLIC_SEED = 20240611
#: name of a published maker's fresh draw: the maker's name followed by this
FRESH_SUFFIX = "_fresh"
#: how many cases' known-mistake answers a spec keeps
_CACHED_CASES = 64
#: last entry of a fresh draw's seed sequence (so a fresh draw never repeats a published one, whatever the seed)
_FRESH_STREAM = 1


@dataclass(frozen=True)
class Case:
    """One call of a graded function: its inputs and its share of the spec's points.

    ``hidden`` is True when the inputs are secret (a fresh case), False for a published case.
    """
    name: str
    args: tuple
    kwargs: dict
    hidden: bool
    points: float


@dataclass
class CaseResult:
    """The verdict on one case."""
    case: str
    points: float
    max_points: float
    passed: bool
    message: str
    diagnosis: str | None
    #: largest leaf error relative to its scale, for a valid answer returned in float64 only (None otherwise);
    #: read by :mod:`autograder.case_flags`, never shown to the student
    error: float | None = None


@dataclass(frozen=True)
class CaseMaker:
    """How to make one case: ``make(rng) -> (args, kwargs)``.

    ``hidden=False`` makes it a published maker (its draw from :data:`PUBLIC_SEED` is in the release
    fixtures). ``weight`` is the relative share of points of its fresh draw; 0 makes it a published check only.
    """
    name: str
    make: Callable[[np.random.Generator], tuple]
    hidden: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class KnownMistake:
    """A recognised mistake: ``answer(args, kwargs, reference_value) -> wrong value`` and its explanation.

    ``answer`` may return None where the mistake cannot be told apart on a case (e.g. a transposed square
    matrix asked of a non-square one). ``generated`` marks a mistake made by a mutation class
    (:mod:`autograder.specs._classes`) rather than written for this function alone; the mutation audit
    measures those, and they may not apply to every function's cases.
    """
    id: str
    message: str
    answer: Callable
    generated: bool = False


def normalize(value):
    """Reference outputs as plain nested structures: float64 arrays, python floats, dicts and tuples."""
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(normalize(v) for v in value)
    if isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return float(value)
    return np.array(value, dtype=np.float64)


def _copy(x):
    """A copy of an input: arrays copied, also inside dicts, tuples and lists (a kept case's are read-only)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if type(x) is dict:
        return {k: _copy(v) for k, v in x.items()}
    if type(x) in (tuple, list):
        return type(x)(_copy(v) for v in x)
    return x


def _frozen(value):
    """``value`` with every ndarray in it (in dicts, tuples and lists) made read-only; returns ``value``."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, dict):
        for item in value.values():
            _frozen(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _frozen(item)
    return value


def _frozen_case(case: Case) -> Case:
    """``case`` with its input arrays read-only (a kept case is shared by every submission's grading)."""
    _frozen(case.args)
    _frozen(case.kwargs)
    return case


def _seed_for(function: str) -> int:
    return zlib.crc32(function.encode())


def float64_error(value, expected) -> float | None:
    """Largest leaf error of ``value`` relative to the leaf's scale (see :func:`autograder.compare.leaf_errors`).

    None when ``value`` is not structurally valid for ``expected`` or when any leaf came back in float32
    (whose rounding, about 6e-8, hides the small errors this number is read for).
    """
    if _compare.validate(value, expected) is not None:
        return None
    return _largest_float64_error(_compare.leaf_errors(value, expected))


def _largest_float64_error(errors) -> float | None:
    """The largest error of :func:`autograder.compare.leaf_errors`' list, None when a leaf was float32."""
    if any(tol != _compare.FLOAT64_TOL for _, _, tol in errors):
        return None
    return max((err for _, err, _ in errors), default=0.0)


class Spec:
    """What is graded for one function of one problem set.

    Args:
        assignment: problem-set id, e.g. ``"ps1_softmax"``.
        function: the name the student defines (also the answer cell's grade_id).
        points: points of the autograded test cell ``test_<function>``.
        reference: callable with the student's signature returning the right answer (built on rnngrad).
        makers: the cases (visible and hidden).
        mistakes: recognised mistakes.
        nonfinite: optional (id, sentence) shown when the answer contains NaN/inf (e.g. softmax overflow).
        signature: the student-facing signature, for documentation and notebooks.
        derivative: True when the answer is a derivative (Jacobian, gradient, vector-Jacobian or
            Jacobian-vector product, tangent) of a quantity the student can evaluate from the case's inputs,
            so that finite differences could stand in for the derivation the set asks for. Only these specs
            are read for the finite-difference flag (:mod:`autograder.case_flags`).
    """

    def __init__(self, assignment: str, function: str, points: float, reference: Callable,
                 makers: list[CaseMaker], mistakes: list[KnownMistake] = (), *,
                 nonfinite: tuple[str, str] | None = None, signature: str = "", derivative: bool = False):
        self.assignment = assignment
        self.function = function
        self.grade_id = "test_" + function
        self.points = float(points)
        self.reference = reference
        self.makers = list(makers)
        self.mistakes = list(mistakes)
        self.nonfinite = nonfinite
        self.signature = signature
        self.derivative = bool(derivative)
        #: ids of generated mistake classes shown with a worked mutant solution (see :attr:`diagnoses`)
        self.examples: tuple[str, ...] = ()
        names = [m.name for m in self.makers] + [self.fresh_name(m) for m in self.makers if not m.hidden]
        if len(set(names)) != len(names):
            raise ValueError(f"{function}: duplicate case names {names}")
        if any(m.weight < 0 or (m.hidden and m.weight == 0) for m in self.makers):
            raise ValueError(f"{function}: weights must be >= 0, and 0 only for a published check")
        if not any(m.weight > 0 and not m.hidden for m in self.makers) or not any(m.hidden for m in self.makers):
            raise ValueError(f"{function}: a spec needs a hidden maker and a published maker with points")

    #: what a spec keeps as it grades (drawn cases, answers); not pickled: a copy in another process
    #: (a grading process, a cluster's worker) draws its own
    _KEPT = ("_published_points", "_published_plain", "_kept_cases", "_kept_answers", "_mistake_cache",
             "_published_cache")

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._KEPT}

    def __repr__(self) -> str:
        return f"Spec({self.assignment}.{self.function}, {self.points:g} points, {len(self.makers)} makers)"

    @staticmethod
    def fresh_name(maker: CaseMaker) -> str:
        """The name of ``maker``'s fresh draw: its own for a hidden maker, ``<name>_fresh`` for a published one."""
        return maker.name if maker.hidden else maker.name + FRESH_SUFFIX

    @property
    def published_names(self) -> list[str]:
        """Names of the published cases (the release fixtures' cases), in order."""
        return [m.name for m in self.makers if not m.hidden]

    @property
    def hidden_names(self) -> list[str]:
        """Names of the fresh cases, whose inputs are secret (feedback must not quote what they returned)."""
        return [self.fresh_name(m) for m in self.makers if m.weight > 0]

    @property
    def twins(self) -> dict[str, str]:
        """Published case name -> the name of the fresh draw of the same maker (for makers with points)."""
        return {m.name: self.fresh_name(m) for m in self.makers if not m.hidden and m.weight > 0}

    @property
    def diagnoses(self) -> list[str]:
        """The mistakes the course shows with a worked mutant solution: those written for this function, the
        generated classes listed in ``examples``, and the non-finite diagnosis."""
        written = [m.id for m in self.mistakes if not m.generated]
        shown = written + list(self.examples) + ([self.nonfinite[0]] if self.nonfinite else [])
        return list(dict.fromkeys(shown))

    @property
    def messages(self) -> dict[str, str]:
        """Diagnosis id -> the fixed sentence of each recognised mistake (and of a non-finite answer).

        Composite diagnoses (``a|b``, ``a@W_h+b@h0``, see :func:`autograder.compare.diagnosis_message`) are
        looked up too, so a hidden case's fixed sentence can be rebuilt from its diagnosis alone.
        """
        table: dict[str, str] = {}
        for m in self.mistakes:             # the first mistake of an id wins, as in the comparison
            table.setdefault(m.id, m.message)
        return MessageTable(table | (dict([self.nonfinite]) if self.nonfinite else {}))

    def _draw(self, maker: CaseMaker, entropy: list[int], name: str, hidden: bool, points: float) -> Case:
        rng = np.random.default_rng(entropy)
        args, kwargs = maker.make(rng)
        return Case(name, tuple(args), dict(kwargs), hidden, points)

    def published_cases(self, points: bool = True) -> list[Case]:
        """The published cases (drawn from :data:`PUBLIC_SEED`, in the release fixtures), in maker order.

        With ``points`` each carries its share of the student's local check (the spec's points split by the
        published makers' weights); without, 0 (their place in the official grading). They are the same for
        every submission, so they are drawn once per spec and kept, their arrays read-only.
        """
        key = "_published_points" if points else "_published_plain"
        kept = self.__dict__.get(key)
        if kept is None:
            total = sum(m.weight for m in self.makers if not m.hidden)
            kept = [_frozen_case(self._draw(m, [PUBLIC_SEED, _seed_for(self.function), i], m.name, False,
                                            self.points * m.weight / total if points else 0.0))
                    for i, m in enumerate(self.makers) if not m.hidden]
            self.__dict__[key] = kept
            self.__dict__.setdefault("_kept_cases", {}).update((id(c), c) for c in kept)
        return list(kept)

    def fresh_cases(self, seed: int) -> list[Case]:
        """One fresh case per maker with points, drawn from ``seed``; together they carry all the points."""
        total = sum(m.weight for m in self.makers)
        return [self._draw(m, [int(seed), _seed_for(self.function), i, _FRESH_STREAM], self.fresh_name(m),
                           True, self.points * m.weight / total)
                for i, m in enumerate(self.makers) if m.weight > 0]

    def cases(self, seed: int, hidden: bool = True) -> list[Case]:
        """The cases one grading runs: the published cases with 0 points, then the fresh cases from ``seed``.

        ``hidden=False`` gives the published cases alone with their local-check points (what the release
        fixtures hold; ``seed`` is then not used).
        """
        if not hidden:
            return self.published_cases()
        return self.published_cases(points=False) + self.fresh_cases(seed)

    def expected(self, case: Case):
        """The reference answer on ``case`` (inputs are copied: the reference cannot alter the case).

        The answer on one of the kept published cases (:meth:`published_cases`) is computed once and kept,
        read-only; any other case's is computed each time.
        """
        kept = self.__dict__.get("_kept_cases", {}).get(id(case)) is case
        answers = self.__dict__.setdefault("_kept_answers", {})
        if kept and id(case) in answers:
            return answers[id(case)]
        value = normalize(self.reference(*map(_copy, case.args), **{k: _copy(v) for k, v in case.kwargs.items()}))
        if kept:
            answers[id(case)] = _frozen(value)
        return value

    def known_mistakes(self, case: Case, expected=None) -> list[_compare.Mistake]:
        """The wrong answers of this spec's mistakes on ``case`` that differ from the right answer.

        The answers of the last :data:`_CACHED_CASES` published and as many hidden cases are kept, keyed by
        the case's name and a digest of its inputs (published cases are the same for every submission; hidden
        ones only when a batch is graded again with the same seed). The two are kept apart, so the fresh cases
        of a batch never push out the published ones.
        """
        cache = self.__dict__.setdefault("_mistake_cache" if case.hidden else "_published_cache", {})
        key = _case_key(case)
        if key in cache:
            return cache[key]
        out = self._compute_known_mistakes(case, expected)
        if len(cache) >= _CACHED_CASES:
            cache.pop(next(iter(cache)))
        cache[key] = out
        return out

    def _compute_known_mistakes(self, case: Case, expected=None, ids=None) -> list[_compare.Mistake]:
        """The known mistakes on ``case`` (those whose id is in ``ids`` when given), computed now."""
        if expected is None:
            expected = self.expected(case)
        out = []
        for m in self.mistakes:
            if ids is not None and m.id not in ids:
                continue
            with np.errstate(all="ignore"):
                wrong = m.answer(tuple(map(_copy, case.args)), {k: _copy(v) for k, v in case.kwargs.items()},
                                 expected)
            if wrong is None:
                continue
            wrong = normalize(wrong)
            if _compare.distinct(wrong, expected):
                out.append(_compare.Mistake(m.id, wrong, m.message))
        return out

    def evaluate(self, case: Case, result, budget: DiagnosisBudget | None = None) -> CaseResult:
        """Judge one call's result (an object with ``ok``, ``value``, ``error``, ``timed_out``) on ``case``.

        ``budget`` (one per function and submission, shared by its cases in order) bounds the known-mistake
        search of failed hidden cases (see :mod:`autograder.specs._diagnosis_budget`); without it every failed
        case searches every known mistake.
        """
        if getattr(result, "timed_out", False):
            return CaseResult(case.name, 0.0, case.points, False,
                              "the call ran out of time (look for an endless loop or needless work)", "timeout")
        if not result.ok:
            error = (result.error or "an error").strip()
            if error.startswith("NotImplementedError"):
                return CaseResult(case.name, 0.0, case.points, False, "not implemented yet", "not_implemented")
            first = error.splitlines()[0] if error else "an error"
            return CaseResult(case.name, 0.0, case.points, False, f"the function raised {first}", "exception")
        expected = self.expected(case)
        # the structure and the leaves' errors are found once: a right answer (most cases) needs nothing more
        errors = _compare.leaf_errors(result.value, expected) \
            if _compare.validate(result.value, expected) is None else None
        if errors is not None and all(err <= tol for _, err, tol in errors):
            verdict = _compare.Verdict(True, "correct")
        elif budget is None or not case.hidden:
            verdict = _compare.compare(result.value, expected, self.known_mistakes(case, expected), self.nonfinite)
        else:
            verdict = bounded_verdict(self, case, result.value, expected, budget)
        if budget is not None:
            budget.record(verdict.diagnosis, {m.id for m in self.mistakes})
        verdict = _compare.with_returned_parts(verdict, result.value, expected, self.function, self.signature)
        return CaseResult(case.name, case.points if verdict.passed else 0.0, case.points, verdict.passed,
                          verdict.message, verdict.diagnosis,
                          None if errors is None else _largest_float64_error(errors))
