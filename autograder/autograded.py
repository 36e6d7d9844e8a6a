"""The notebook stored under autograded/: the submission in the shape of the release, and its written answers."""
from __future__ import annotations

import copy
import hashlib
import re

from .notebook import CellInventory, ReleaseNotebook, cell_source, grade_id

def answer_sources(nb: dict, release: ReleaseNotebook, inv: CellInventory) -> dict[str, str]:
    """grade_id -> the student's text for every answer and written-answer cell present
    (the last copy when duplicated); missing ones are absent."""
    out = {}
    for gid in release.answers + release.written:
        where = inv.positions.get(gid)
        if where:
            out[gid] = cell_source(nb["cells"][where[-1]])
    return out



def _clean_cell(cell: dict) -> dict:
    """A copy with no outputs and only the metadata nbgrader needs."""
    new = {"cell_type": cell.get("cell_type", "code"), "metadata": {}, "source": cell_source(cell)}
    if isinstance(cell.get("id"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell["id"]):
        new["id"] = cell["id"]
    if new["cell_type"] == "code":
        new["outputs"] = []
        new["execution_count"] = None
    return new


def rebuild(nb: dict | None, release: ReleaseNotebook, inv: CellInventory | None) -> dict:
    """The notebook to store under autograded/: the submission's cells in the student's
    order with every released graded or locked cell replaced by its released version
    (answer text kept), duplicates dropped, deleted released cells put back after the
    released cell that preceded them, all outputs cleared. With ``nb=None`` (unreadable
    submission) it is the released notebook itself.
    """
    out = copy.deepcopy(release.nb)
    if nb is None:
        for cell in out["cells"]:
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        return out
    cells: list[dict] = []
    placed: dict[str, int] = {}
    answers = answer_sources(nb, release, inv)
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        if gid in release.cells:
            if gid in placed:
                continue
            new = copy.deepcopy(release.cells[gid])
            if new.get("cell_type") == "code":
                new["outputs"], new["execution_count"] = [], None
            if gid in answers:
                new["source"] = answers[gid]
            placed[gid] = len(cells)
            cells.append(new)
        else:
            new = _clean_cell(cell)
            cells.append(new)
    # put back deleted released cells, each right after the nearest released cell before it that is
    # still there (found by grade_id, or by nbformat cell id for plain cells)
    rel_cells = release.nb["cells"]
    for k, rel in enumerate(rel_cells):
        gid = grade_id(rel)
        if gid is None or gid in placed:
            continue
        new = copy.deepcopy(rel)
        if new.get("cell_type") == "code":
            new["outputs"], new["execution_count"] = [], None
        at = 0
        for prev in reversed(rel_cells[:k]):
            pid = grade_id(prev)
            if pid is not None and pid in placed:
                at = placed[pid] + 1
                break
            if pid is None and isinstance(prev.get("id"), str):
                where = [i for i, c in enumerate(cells) if c.get("id") == prev["id"] and grade_id(c) is None]
                if where:
                    at = where[0] + 1
                    break
        cells.insert(at, new)
        placed = {g: (p + 1 if p >= at else p) for g, p in placed.items()}
        placed[gid] = at
    # cell ids must be unique for nbformat 4.5
    seen: set[str] = set()
    for n, cell in enumerate(cells):
        cid = cell.get("id")
        if not isinstance(cid, str) or cid in seen:
            cell["id"] = hashlib.sha1(f"{n}:{cid}".encode()).hexdigest()[:8]
        seen.add(cell["id"])
    out["cells"] = cells
    return out




def written_answers(release: ReleaseNotebook, nb: dict | None, inv) -> dict[str, str]:
    """State of each hand-graded answer: missing, no_response (left as released) or answered."""
    sources = answer_sources(nb, release, inv) if nb is not None else {}
    out = {}
    for gid in release.written:
        if gid not in sources:
            out[gid] = "missing"
        elif release.is_unchanged(gid, sources[gid]):
            out[gid] = "no_response"
        else:
            out[gid] = "answered"
    return out
