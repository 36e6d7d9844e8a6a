"""What is graded: one :class:`Spec` per graded function, one module per problem set.

Each problem-set module (``ps1_softmax``, ``ps2_layout_cell``, ``ps3_bptt``, ``ps4_hidden_jacobians``,
``ps5_sequence_slope``, ``ps6_gated_cells``) defines ``SPECS``, a list of :class:`Spec` in notebook order. The
shared machinery lives in :mod:`autograder.specs._core` and the comparison in :mod:`autograder.compare`.

    >>> [s.function for s in specs_for("ps1_softmax")][:2]
    ['softmax', 'softmax_jacobian']
"""
from __future__ import annotations

import importlib

from ._core import FRESH_SUFFIX, PUBLIC_SEED, Case, CaseMaker, CaseResult, KnownMistake, Spec

__all__ = ["PUBLIC_SEED", "FRESH_SUFFIX", "Case", "CaseResult", "CaseMaker", "KnownMistake", "Spec", "specs_for",
           "all_assignments", "spec_for"]

ASSIGNMENTS = ("ps1_softmax", "ps2_layout_cell", "ps3_bptt", "ps4_hidden_jacobians", "ps5_sequence_slope",
               "ps6_gated_cells")


def all_assignments() -> list[str]:
    """The problem-set ids, in course order."""
    return list(ASSIGNMENTS)


def specs_for(assignment: str) -> list[Spec]:
    """The specs of one problem set, in notebook order."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; expected one of {', '.join(ASSIGNMENTS)}")
    return list(importlib.import_module(f"{__name__}.{assignment}").SPECS)


def spec_for(assignment: str, function: str) -> Spec:
    """The spec of one graded function."""
    for spec in specs_for(assignment):
        if spec.function == function:
            return spec
    raise KeyError(f"{assignment} has no graded function {function!r}")
