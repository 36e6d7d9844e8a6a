"""Step 4 of the pipeline: integrity flags. A flag never changes a score; it tells the instructor where to look."""
from __future__ import annotations

import ast
import re

from .answer_code import CodeUnit

def static_flags(units: list[CodeUnit]) -> list[str]:
    """Integrity flags from the sandbox package's static analysis of the student's cells,
    as ``"<code>: <cell>, line <n>: <reason>"``.

    Each student cell is analysed after the import lines of the released set-up cells (so that
    ``np`` is known to be numpy when a cell assigns ``np.allclose``); flags on those lines are
    dropped and the line numbers are the cell's own.
    """
    from .sandbox import static_flags as analyse

    imports = _release_imports(units)
    offset = imports.count("\n")
    flags = []
    for unit in units:
        if not unit.from_student:
            continue
        for flag in analyse(imports + unit.source):
            m = re.match(r"line (\d+):", flag.message)
            if m and int(m.group(1)) <= offset:
                continue
            message = (f"line {int(m.group(1)) - offset}:" + flag.message[m.end():]) if m else flag.message
            text = f"{flag.code}: {unit.label}, {message}"
            if text not in flags:
                flags.append(text)
    return flags


def _release_imports(units: list[CodeUnit]) -> str:
    """The top-level import statements of the released (not student) cells, one per line."""
    lines = []
    for unit in units:
        if unit.from_student:
            continue
        try:
            tree = ast.parse(unit.source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                lines.append(ast.unparse(node))
    return "".join(line + "\n" for line in lines)


def structure_flags(inv) -> list[str]:
    """Edited read-only cells are restored, and also reported: nobody edits them by accident."""
    return [f"edited_locked_cell: read-only cell '{gid}' was changed in the submission"
            for gid in inv.edited_locked]
