"""How much known-mistake search one function of one submission may cause.

Naming a mistake means computing every known mistake's answer on the failed case (hundreds of LSTM backward
passes for problem set 6), and the hidden cases are drawn afresh for every submission, so nothing computed for
one submission serves the next. A :class:`DiagnosisBudget` bounds that work per function:

* a published case is always searched in full: its inputs are the same for every submission, so its known
  mistakes are computed once per process (:meth:`autograder.specs.Spec.known_mistakes` keeps them);
* a failed hidden case is first tried against the mistakes already named on this function's earlier cases
  (a handful of answers, and the usual case: a student makes one mistake in every case);
* when those do not name it, the full search runs for at most :data:`FULL_HIDDEN_SEARCHES` hidden cases;
  past that the case gets the comparison's own verdict (every wrong part, how far off and where).

Every failed case still says that it failed and why as far as the comparison can tell.

    >>> budget = DiagnosisBudget()
    >>> budget.record("not_accumulated@W_h+off_by_one@b", {"not_accumulated", "off_by_one"})
    >>> budget.named, budget.take_full_search()
    (['not_accumulated', 'off_by_one'], True)
    >>> budget.take_full_search()
    False
"""
from __future__ import annotations

from .. import compare as _compare

__all__ = ["FULL_HIDDEN_SEARCHES", "DiagnosisBudget", "named_ids", "bounded_verdict"]

#: failed hidden cases per function and submission that may search every known mistake
FULL_HIDDEN_SEARCHES = 1


def named_ids(diagnosis: str | None) -> list[str]:
    """The mistake ids a (possibly composite) diagnosis names, in order: ``"a|b@W_h+c@h0"`` -> a, b, c."""
    ids = (i for part in (diagnosis or "").split("+") for i in part.partition("@")[0].split("|"))
    return list(dict.fromkeys(i for i in ids if i))


class DiagnosisBudget:
    """The known-mistake search left to one graded function in one submission, and what it named so far.

    Args:
        full_searches: failed hidden cases that may search every known mistake (default
            :data:`FULL_HIDDEN_SEARCHES`).
    """

    def __init__(self, full_searches: int = FULL_HIDDEN_SEARCHES):
        if not isinstance(full_searches, int) or full_searches < 0:
            raise ValueError(f"full_searches: expected an int >= 0, got {full_searches!r}")
        self.full_searches = full_searches
        #: known-mistake ids named on this function's earlier cases, first named first
        self.named: list[str] = []

    def record(self, diagnosis: str | None, known: set[str]) -> None:
        """Remember the ids of ``known`` (the spec's mistake ids) that ``diagnosis`` names."""
        for i in named_ids(diagnosis):
            if i in known and i not in self.named:
                self.named.append(i)

    def names_known(self, diagnosis: str | None, known: set[str]) -> bool:
        """True when ``diagnosis`` names a mistake of ``known`` for every part it speaks of."""
        parts = (diagnosis or "").split("+")
        return all(any(i in known for i in named_ids(part)) for part in parts)

    def take_full_search(self) -> bool:
        """True (and one search fewer left) when a failed hidden case may still search every mistake."""
        if self.full_searches <= 0:
            return False
        self.full_searches -= 1
        return True


def bounded_verdict(spec, case, value, expected, budget: DiagnosisBudget) -> _compare.Verdict:
    """The verdict on a failed hidden ``case`` of ``spec``: the mistakes named on the function's earlier cases
    first, then (while ``budget`` allows) every known mistake, else the best of those two verdicts: the
    comparison's own, with the parts that the earlier mistakes explain named.

    Args: ``spec`` a :class:`autograder.specs.Spec`; ``value`` what came back; ``expected`` the reference answer.
    """
    known = {m.id for m in spec.mistakes}
    verdict = None
    if budget.named:
        tried = spec._compute_known_mistakes(case, expected, set(budget.named))
        verdict = _compare.compare(value, expected, tried, spec.nonfinite)
        if budget.names_known(verdict.diagnosis, known):
            return verdict
    if budget.take_full_search():
        return _compare.compare(value, expected, spec.known_mistakes(case, expected), spec.nonfinite)
    return verdict if verdict is not None else _compare.compare(value, expected, [], spec.nonfinite)
