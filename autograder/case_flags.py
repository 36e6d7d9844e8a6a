"""Integrity flags read from the case verdicts: answers looked up rather than computed, finite differences.

Both are flags for the instructor, never penalties: the points are what the cases gave.

* ``published_answers_only``: a function passes every published case (the inputs and answers in the
  release fixtures) but fails the fresh draws of the same makers, cases of the same kind and size with
  other numbers. Honest code that is right on one draw is right on the next; a table of the published
  answers keyed by their inputs is not.
* ``finite_differences``: a function whose answer is a derivative (``Spec.derivative``) returns, on every
  scored case (but at most :data:`FD_SPARE`), float64 values whose error is between :data:`FD_LOW` and
  :data:`FD_HIGH` of the answer's scale (passed or only just failed: a step too small for logits of size 1e4
  fails those cases by 1e-5). An analytic answer computed in float64 agrees
  with the reference to about 1e-15 on almost every case the specs make (the worked solutions stay below
  :data:`ANALYTIC_MAX` on every case; the honest styles of the tests have their smallest error below 1e-15);
  central differences with a step of 1e-5 to 1e-7 leave a truncation and rounding error of about 1e-11 to
  1e-7 on each case. The spare case is a small one where the finite-difference error happens to be tiny.
  Answers returned in float32 are not read: their rounding, about 6e-8, is of the size of the errors
  sought. A float64 answer computed in float32 arithmetic inside looks the same, and the flag says so.
"""
from __future__ import annotations

__all__ = ["LOOKUP", "FINITE_DIFFERENCES", "FD_LOW", "FD_HIGH", "FD_MIN_CASES", "FD_SPARE", "ANALYTIC_MAX", "case_flags",
           "lookup_flag", "finite_difference_flag"]

LOOKUP = "published_answers_only"
FINITE_DIFFERENCES = "finite_differences"

#: smallest relative error read as a finite-difference error (a float64 analytic answer stays below ANALYTIC_MAX)
FD_LOW = 1e-12
#: largest: a hundred times the float64 tolerance (a poor step still gets this close; a wrong formula does not)
FD_HIGH = 1e-4
#: the error an analytic float64 answer must stay below on every case (checked by the spec tests)
ANALYTIC_MAX = 1e-13
#: fewest scored cases answered in float64 for the finite-difference flag to be read at all
FD_MIN_CASES = 4
#: how many of those may fall below FD_LOW and the flag still be raised
FD_SPARE = 1

#: failures that say nothing about the values (the call never returned): not counted by the lookup flag
_NOT_RETURNED = {"timeout", "worker_crash", "load_failed", "missing_function", "unreadable", "not_implemented"}


def lookup_flag(spec, results) -> str | None:
    """The lookup flag of one function, or None.

    Args:
        spec: the function's :class:`~autograder.specs.Spec`.
        results: its :class:`~autograder.specs.CaseResult` list from the official grading (published cases
            first, then fresh ones).

    Returns:
        the flag text when every published case passed and at least half (and at least one) of the fresh
        draws of the same makers that returned failed; else None.
    """
    by_name = {r.case: r for r in results}
    twins = spec.twins
    published = [by_name.get(name) for name in spec.published_names]
    if not published or any(r is None or not r.passed for r in published):
        return None
    fresh = [by_name[name] for name in twins.values() if name in by_name]
    judged = [r for r in fresh if r.passed or r.diagnosis not in _NOT_RETURNED]
    failed = [r for r in judged if not r.passed]
    if not failed or 2 * len(failed) < len(judged):
        return None
    return (f"{LOOKUP}: {spec.function} matches all {len(published)} published answers but fails "
            f"{len(failed)} of {len(judged)} fresh cases of the same kind: a lookup table?")


def finite_difference_flag(spec, results) -> str | None:
    """The finite-difference flag of one function, or None (see the module's notes for the rule).

    Args:
        spec: the function's Spec; only ``spec.derivative`` ones are read.
        results: its CaseResult list; the scored cases (``max_points > 0``) that returned a valid float64
            answer (``error`` not None) are read, passed or not.

    Returns:
        the flag text when at least :data:`FD_MIN_CASES` such cases exist and all of them but at most
        :data:`FD_SPARE` have an error in [FD_LOW, FD_HIGH]; else None.
    """
    if not spec.derivative:
        return None
    errors = [r.error for r in results if r.max_points > 0 and r.error is not None]
    inside = [e for e in errors if FD_LOW <= e <= FD_HIGH]
    if len(errors) < FD_MIN_CASES or len(inside) < len(errors) - FD_SPARE:
        return None
    return (f"{FINITE_DIFFERENCES}: {spec.function} is off by {min(inside):.0e} to {max(inside):.0e} of the "
            f"answer's scale on {len(inside)} of its {len(errors)} scored cases, where an analytic "
            f"answer agrees to about 1e-15: finite differences (or float32 arithmetic) instead of the derivation?")


def case_flags(specs, cases: dict) -> list[str]:
    """Both flags for every graded function.

    Args:
        specs: the assignment's specs.
        cases: test grade_id -> list of CaseResult (``SubmissionResult.cases``).

    Returns:
        the flag texts, in spec order (empty when nothing looks wrong).
    """
    out = []
    for spec in specs:
        results = cases.get(spec.grade_id) or []
        for flag in (lookup_flag(spec, results), finite_difference_flag(spec, results)):
            if flag is not None:
                out.append(flag)
    return out
