"""Faults that cost points, read from one grading record: the grader's own faults and the load errors.

A record's ``errors`` are faults the pipeline found (a call that ran out of time, code that could not be
loaded, a cell that stopped when grading, ...). A cell that raised an error when the code was loaded (an
import of a module the sandbox does not have, a syntax error) may be only a note of the record; it costs
points when a graded function is missing because of it, or when the function fails with a ``NameError``
(a name the failed cell should have defined): such functions are faults too, with the points lost and the
cell's error. The points lost to faults are the points of the cases lost that way.
"""
from __future__ import annotations

import re

from ..points import points

#: the note the pipeline writes for each cell that raised an error when the code was loaded
CELL_ERROR = "this cell raised an error when run: "
#: diagnoses of cases that were lost to a fault rather than to a wrong answer
FAULT_DIAGNOSES = frozenset({"load_failed", "unreadable", "timeout", "worker_crash"})


def cell_errors(record: dict) -> list[str]:
    """The cells' load errors of a record, as ``"cell <label>: <Error>: <message>"``.

    >>> cell_errors({"notes": ["this cell raised an error when run: cell f: ImportError: no x", "other"]})
    ['cell f: ImportError: no x']
    """
    return [n[len(CELL_ERROR):] for n in record.get("notes", []) if n.startswith(CELL_ERROR)]


def lost_to_fault(case: dict, after_error: bool = True) -> bool:
    """True for a failed case lost to a fault rather than to a wrong answer: a fault diagnosis, a function
    missing because a cell raised an error or stopped, or (``after_error``: a cell failed when the code was
    loaded) a ``NameError``.

    >>> lost_to_fault({"passed": False, "diagnosis": "missing_function",
    ...                "message": "f is not defined: its answer cell raised an error before defining it"})
    True
    >>> lost_to_fault({"passed": False, "diagnosis": "missing_function",
    ...                "message": "f is not defined in your answer cells"})
    False
    """
    if case.get("passed"):
        return False
    message = case.get("message") or ""
    diagnosis = case.get("diagnosis")
    if diagnosis in FAULT_DIAGNOSES:
        return True
    if diagnosis == "missing_function":
        return bool(re.search(r"error|stopped", message))
    return after_error and diagnosis == "exception" and "NameError" in message


def record_faults(record: dict, specs) -> tuple[list[str], float]:
    """(faults that cost points, points lost to them) of one grading record (see the module's notes).

    ``specs``: the set's specs. The points lost are the points of the cases lost to a fault
    (:func:`lost_to_fault`). A cell's load error that the record holds only as a note becomes a fault of
    each function it cost points, with the points.
    """
    faults = list(record.get("errors", []))
    cells = cell_errors(record)
    after_error = bool(cells or faults)
    lost = 0.0
    for spec in specs:
        cases = [c for c in record.get("cases", {}).get(spec.grade_id) or [] if lost_to_fault(c, after_error)]
        cost = sum(float(c.get("max_points") or 0) for c in cases)
        lost += cost
        if cells and any(c.get("diagnosis") not in FAULT_DIAGNOSES for c in cases):
            own = [e for e in cells if e.startswith(f"cell {spec.function}:")]
            faults.append(f"{spec.function}: {points(cost)} of {points(spec.points)} points lost to a cell that "
                          f"raised an error when the code was loaded ({'; '.join(own or cells)})")
    return faults, round(lost, 6)
