"""Numbers as a person reads them: rounded to two decimals, without trailing zeros.

Everything shown to a person (the command line, the class report, feedback) goes through :func:`points`;
what is stored or exported (the gradebook, the grading log, ``grades.csv``) keeps full precision.
"""
from __future__ import annotations

import math


def points(value) -> str:
    """``value`` rounded to two decimals, trailing zeros dropped; ``-`` when it is not a finite number.

    >>> [points(x) for x in (15, 2.0 / 3, 0.5, 1e-9, -0.001, float("nan"))]
    ['15', '0.67', '0.5', '0', '0', '-']
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    if not math.isfinite(v):
        return "-"
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
