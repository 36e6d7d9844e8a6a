"""The code the sandbox loads: the answer cells as the notebook holds them, and the program that runs them.

Nothing here executes student code; it only prepares text for the sandboxed worker. IPython syntax
(``%magic``, ``%%cell_magic``, ``!shell``, ``obj?``) is transformed inside the sandbox by IPython's own
transformer (see ``loader_program.py``); here a cell only gets a plain-Python rendition for the static
analysis (flags, similarity), which is never run.
"""
from __future__ import annotations

import ast
import functools
import json
import os
import re
from dataclasses import dataclass

from .notebook import CellInventory, ReleaseNotebook, cell_source, grade_id

#: Magics whose code IPython runs in the notebook's namespace (as the loader program does, see there).
CELL_MAGICS_THAT_RUN = frozenset({"time", "capture", "prun"})
LINE_MAGICS_THAT_RUN = frozenset({"time"})
_ESCAPED = re.compile(r"(\s*)(?:(%%?|!!?|\?\??)\s*([\w.]*)(.*)|([\w.]+\s*\?\??\s*)|"
                      r"([\w.]+(?:\s*,\s*[\w.]+)*\s*=)\s*[!%].*)$")


def analysis_source(text: str) -> str:
    """Plain Python standing for a cell, for static analysis only (the sandbox runs IPython's own
    transformation of the cell, not this).

    A cell that parses as Python is itself. Otherwise, one pass over its lines: a cell magic that runs
    its body (``%%time``) leaves the body; any other cell magic leaves nothing; ``%time stmt`` leaves
    ``stmt``; other magics, ``!shell`` lines and ``obj?`` become ``pass``; ``x = !cmd`` becomes
    ``x = None``. Line numbers are kept. If that does not parse either, the cell is returned as it is
    (the analysis then reports it as unparsable; the sandbox reports what really fails).
    """
    if _parses(text):
        return text
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        name = re.match(r"%%\s*(\w*)", lines[first]).group(1)
        if name not in CELL_MAGICS_THAT_RUN:
            return "\n" * (len(lines) - 1)
        lines[first] = ""
    out = []
    for line in lines:
        m = _ESCAPED.match(line)
        if m is None:
            out.append(line)
        elif m.group(2) is not None and m.group(2) == "%" and m.group(3) in LINE_MAGICS_THAT_RUN:
            out.append(m.group(1) + m.group(4).strip())
        elif m.group(6) is not None:
            out.append(m.group(1) + m.group(6) + " None")
        else:
            out.append(m.group(1) + "pass")
    masked = "\n".join(out)
    return masked if _parses(masked) else text


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@dataclass(frozen=True)
class CodeUnit:
    """One cell's code: as the sandbox will run it, and as the static analysis reads it."""
    label: str          # shown in tracebacks and load messages, e.g. "cell softmax"
    source: str         # plain Python for the static analysis (see analysis_source); never run
    from_student: bool  # False for released set-up cells (their failures are not the student's)
    cell: str | None = None   # the cell as written, which the sandbox transforms and runs; None: as source

    @property
    def text(self) -> str:
        """The cell's text as the notebook holds it (what the sandbox runs, after IPython's transformer)."""
        return self.source if self.cell is None else self.cell


def unit(label: str, text: str, from_student: bool) -> CodeUnit:
    """A :class:`CodeUnit` for a cell's text."""
    python = analysis_source(text)
    return CodeUnit(label, python, from_student, None if python == text else text)


def code_units(nb: dict, release: ReleaseNotebook, inv: CellInventory, deadline=None) -> list[CodeUnit]:
    """The code to load, in notebook order: released set-up cells (release text), every
    answer cell and every code cell the student added. Test cells are left out: the
    official checks are made by the trusted grader, not by the notebook's check calls.
    Duplicated answer cells are all run in order, so the last definition wins, as in Jupyter.

    ``deadline`` (an object with ``expired``) stops the preparation early: the cells after it
    are left out (the pipeline does not run a submission past its deadline anyway).
    """
    units: list[CodeUnit] = []
    seen_locked: set[str] = set()
    for i, cell in enumerate(nb["cells"]):
        if deadline is not None and deadline.expired:
            break
        gid = grade_id(cell)
        known = gid in release.cells if gid else False
        if known and gid in release.tests:
            continue
        if known and gid in release.locked:
            if gid not in seen_locked and release.cells[gid]["cell_type"] == "code":
                seen_locked.add(gid)
                units.append(unit(f"cell {gid}", cell_source(release.cells[gid]), False))
            continue
        if known and release.cells[gid]["cell_type"] != "code":
            continue
        if not known and cell.get("cell_type") != "code":
            continue            # (a released code cell turned into markdown is run as code again)
        label = f"cell {gid}" if gid else f"cell #{i + 1}"
        units.append(unit(label, cell_source(cell), True))
    # released set-up cells the student deleted still run (they are part of the release)
    for gid in release.order:
        if gid in inv.missing and gid in release.locked and gid not in release.tests \
                and release.cells[gid]["cell_type"] == "code":
            units.insert(0, unit(f"cell {gid}", cell_source(release.cells[gid]), False))
    return units


@functools.lru_cache(maxsize=1)
def _loader_program() -> str:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "loader_program.py"),
              encoding="utf-8") as fh:
        return fh.read()


def loader_source(units: list[CodeUnit], functions: list[str] | tuple[str, ...] = ()) -> str:
    """The program the sandbox loads: ``loader_program.py`` after one line that carries the data.

    Args:
        units: the cells to run, in order (their ``text``, transformed by IPython inside the sandbox).
        functions: the graded functions whose presence ``_grader_report()`` reports.

    Returns:
        Python source. The cells travel inside one JSON string literal: no student text is ever
        pasted into code.
    """
    data = json.dumps({"cells": [[u.label, u.text, u.from_student] for u in units],
                       "functions": [str(f) for f in functions]})
    return f"_grader_data = {data!r}\n" + _loader_program()
