"""The machinery every problem-set spec is built from: cases, results, known mistakes, and :class:`Spec`.

A spec is data: a list of :class:`CaseMaker` (how to draw the inputs of one case from a random generator),
the rnngrad reference, and a list of :class:`KnownMistake` (a wrong answer computed from the reference and
the sentence to show). :meth:`Spec.cases` turns it into concrete :class:`Case` objects and
:meth:`Spec.evaluate` judges one returned value with :mod:`autograder.compare`.

Seeds: visible cases are always drawn from :data:`PUBLIC_SEED` (they are the cases published in the
release fixtures, so the official verdict on them is the one the student already saw); hidden cases are
drawn from the seed given to :meth:`Spec.cases`, which the instructor keeps secret.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import compare as _compare

__all__ = ["PUBLIC_SEED", "Case", "CaseResult", "CaseMaker", "KnownMistake", "Spec", "normalize"]

#: seed of the visible cases (published in the release fixtures)
PUBLIC_SEED = 20240611


@dataclass(frozen=True)
class Case:
    """One call of a graded function: its inputs and its share of the spec's points."""
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


@dataclass(frozen=True)
class CaseMaker:
    """How to make one case: ``make(rng) -> (args, kwargs)``; ``weight`` is its relative share of points."""
    name: str
    make: Callable[[np.random.Generator], tuple]
    hidden: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class KnownMistake:
    """A recognised mistake: ``answer(args, kwargs, reference_value) -> wrong value`` and its explanation.

    ``answer`` may return None where the mistake cannot be told apart on a case (e.g. a transposed square
    matrix asked of a non-square one).
    """
    id: str
    message: str
    answer: Callable


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
    return x.copy() if isinstance(x, np.ndarray) else x


def _seed_for(function: str) -> int:
    return zlib.crc32(function.encode())


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
    """

    def __init__(self, assignment: str, function: str, points: float, reference: Callable,
                 makers: list[CaseMaker], mistakes: list[KnownMistake] = (), *,
                 nonfinite: tuple[str, str] | None = None, signature: str = ""):
        self.assignment = assignment
        self.function = function
        self.grade_id = "test_" + function
        self.points = float(points)
        self.reference = reference
        self.makers = list(makers)
        self.mistakes = list(mistakes)
        self.nonfinite = nonfinite
        self.signature = signature
        names = [m.name for m in self.makers]
        if len(set(names)) != len(names):
            raise ValueError(f"{function}: duplicate case names {names}")
        if not any(m.hidden for m in self.makers) or all(m.hidden for m in self.makers):
            raise ValueError(f"{function}: a spec needs both visible and hidden cases")

    def __repr__(self) -> str:
        return f"Spec({self.assignment}.{self.function}, {self.points:g} points, {len(self.makers)} cases)"

    @property
    def diagnoses(self) -> list[str]:
        return list(self.messages)

    @property
    def messages(self) -> dict[str, str]:
        """Diagnosis id -> the fixed sentence of each recognised mistake (and of a non-finite answer)."""
        return {m.id: m.message for m in self.mistakes} | (dict([self.nonfinite]) if self.nonfinite else {})

    def cases(self, seed: int, hidden: bool = True) -> list[Case]:
        """Visible cases (from :data:`PUBLIC_SEED`) followed, if ``hidden``, by hidden cases drawn from ``seed``."""
        total = sum(m.weight for m in self.makers)
        out = []
        for i, maker in enumerate(self.makers):
            if maker.hidden and not hidden:
                continue
            base = int(seed) if maker.hidden else PUBLIC_SEED
            rng = np.random.default_rng([base, _seed_for(self.function), i])
            args, kwargs = maker.make(rng)
            out.append(Case(maker.name, tuple(args), dict(kwargs), maker.hidden,
                            self.points * maker.weight / total))
        return out

    def expected(self, case: Case):
        """The reference answer on ``case`` (inputs are copied: the reference cannot alter the case)."""
        return normalize(self.reference(*map(_copy, case.args), **{k: _copy(v) for k, v in case.kwargs.items()}))

    def known_mistakes(self, case: Case, expected=None) -> list[_compare.Mistake]:
        """The wrong answers of this spec's mistakes on ``case`` that differ from the right answer."""
        if expected is None:
            expected = self.expected(case)
        out = []
        for m in self.mistakes:
            wrong = m.answer(tuple(map(_copy, case.args)), dict(case.kwargs), expected)
            if wrong is None:
                continue
            wrong = normalize(wrong)
            if _compare.distinct(wrong, expected):
                out.append(_compare.Mistake(m.id, wrong, m.message))
        return out

    def evaluate(self, case: Case, result) -> CaseResult:
        """Judge one call's result (an object with ``ok``, ``value``, ``error``, ``timed_out``) on ``case``."""
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
        verdict = _compare.compare(result.value, expected, self.known_mistakes(case, expected), self.nonfinite)
        return CaseResult(case.name, case.points if verdict.passed else 0.0, case.points, verdict.passed,
                          verdict.message, verdict.diagnosis)
