"""The code the sandbox loads: the answer cells as plain Python, and the program that runs them.

Nothing here executes student code; it only prepares text for the sandboxed worker.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from .notebook import CellInventory, ReleaseNotebook, cell_source, grade_id

_MAGIC = re.compile(r"^(\s*)([%!?]|[A-Za-z_][\w.]*\?\s*$)")


def strip_magics(source: str) -> str:
    """Replace IPython-only lines (``%magic``, ``!shell``, ``obj?``) by ``pass`` so that the
    cell parses as plain Python; a cell magic (``%%time``) line is dropped the same way."""
    lines = []
    for line in source.splitlines():
        m = _MAGIC.match(line)
        lines.append(f"{m.group(1)}pass  # IPython-only line skipped by the grader" if m else line)
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


@dataclass(frozen=True)
class CodeUnit:
    """One cell's code as the sandbox will run it."""
    label: str          # shown in tracebacks and load messages, e.g. "cell softmax"
    source: str
    from_student: bool  # False for released set-up cells (their failures are not the student's)


def code_units(nb: dict, release: ReleaseNotebook, inv: CellInventory) -> list[CodeUnit]:
    """The code to load, in notebook order: released set-up cells (release text), every
    answer cell and every code cell the student added. Test cells are left out: the
    official checks are made by the trusted grader, not by the notebook's check calls.
    Duplicated answer cells are all run in order, so the last definition wins, as in Jupyter.
    """
    units: list[CodeUnit] = []
    seen_locked: set[str] = set()
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        known = gid in release.cells if gid else False
        if known and gid in release.tests:
            continue
        if known and gid in release.locked:
            if gid not in seen_locked and release.cells[gid]["cell_type"] == "code":
                seen_locked.add(gid)
                units.append(CodeUnit(f"cell {gid}", strip_magics(cell_source(release.cells[gid])), False))
            continue
        if known and release.cells[gid]["cell_type"] != "code":
            continue
        if not known and cell.get("cell_type") != "code":
            continue            # (a released code cell turned into markdown is run as code again)
        label = f"cell {gid}" if gid else f"cell #{i + 1}"
        units.append(CodeUnit(label, strip_magics(cell_source(cell)), True))
    # released set-up cells the student deleted still run (they are part of the release)
    for gid in release.order:
        if gid in inv.missing and gid in release.locked and gid not in release.tests \
                and release.cells[gid]["cell_type"] == "code":
            units.insert(0, CodeUnit(f"cell {gid}", strip_magics(cell_source(release.cells[gid])), False))
    return units


def defined_names(units: list[CodeUnit]) -> set[str]:
    """Names bound at the top level of the student's cells (parsed, never run)."""
    names: set[str] = set()
    for unit in units:
        try:
            tree = ast.parse(unit.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def loader_source(units: list[CodeUnit]) -> str:
    """The program the sandbox loads: each cell compiled and run on its own, in order, so a cell
    that fails (a typo, a removed ``from rnncheck import check``) does not stop the others.
    The cells travel as a JSON string literal: no student text is ever pasted into code."""
    cells = json.dumps([[u.label, u.source, u.from_student] for u in units])
    return (
        "import json as _grader_json\n"
        f"_grader_cells = _grader_json.loads({cells!r})\n"
        "_grader_load_errors = []\n"
        "for _grader_label, _grader_src, _grader_own in _grader_cells:\n"
        "    try:\n"
        "        exec(compile(_grader_src, '<' + _grader_label + '>', 'exec'), globals())\n"
        "    except BaseException as _grader_exc:  # one failing cell must not hide the others\n"
        "        if _grader_own:\n"
        "            _grader_load_errors.append(_grader_label + ': ' + type(_grader_exc).__name__\n"
        "                                       + ': ' + str(_grader_exc)[:200])\n"
        "def _grader_report():\n"
        "    return _grader_json.dumps(_grader_load_errors[:20])\n"
    )
