"""Step 4 of the pipeline: integrity flags. A flag never changes a score; it tells the instructor where to look."""
from __future__ import annotations

from .answer_code import CodeUnit
from .notebook import shown_id

#: Flags of one kind shown per cell, and flags shown per submission; the rest are counted in one line.
MAX_FLAGS_PER_KIND = 5
MAX_FLAGS = 60


def static_flags(units: list[CodeUnit], deadline=None) -> list[str]:
    """Integrity flags from the sandbox package's static analysis of the student's cells,
    as ``"<code>: <cell>, line <n>: <reason>"``.

    Each student cell is analysed on its own, knowing the modules that the released set-up
    cells import (so that ``np`` is known to be numpy when a cell assigns ``np.allclose``); every
    cell is parsed once, so the work is linear in the notebook's size. At most
    MAX_FLAGS_PER_KIND flags of one kind per cell and MAX_FLAGS in all are listed, then one
    ``more_flags`` line counts the rest. ``deadline`` (anything with ``expired``): once it has
    passed, the remaining cells are not analysed and an ``incomplete_analysis`` flag says so.
    """
    from .sandbox.flags import module_aliases, static_flags as analyse

    modules: dict[str, str] = {}
    for unit in units:
        if not unit.from_student:
            modules.update(module_aliases(unit.source))
    flags: list[str] = []
    seen: set[str] = set()
    hidden = 0
    for n, unit in enumerate(units):
        if not unit.from_student:
            continue
        if deadline is not None and deadline.expired:
            left = sum(u.from_student for u in units[n:])
            flags.append(f"incomplete_analysis: the time allowed ran out; {left} cell(s) were not analysed")
            break
        per_kind: dict[str, int] = {}
        for flag in analyse(unit.source, modules=modules):
            text = f"{flag.code}: {shown_id(unit.label)}, {flag.message}"
            if text in seen:
                continue
            seen.add(text)
            per_kind[flag.code] = per_kind.get(flag.code, 0) + 1
            if per_kind[flag.code] > MAX_FLAGS_PER_KIND or len(flags) >= MAX_FLAGS:
                hidden += 1
                continue
            flags.append(text)
    if hidden:
        flags.append(f"more_flags: {hidden} more flag(s) of the same kinds are not listed")
    return flags


def structure_flags(inv) -> list[str]:
    """Edited read-only cells are restored, and also reported: nobody edits them by accident."""
    return [f"edited_locked_cell: read-only cell '{gid}' was changed in the submission"
            for gid in inv.edited_locked]
