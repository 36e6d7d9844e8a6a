"""Reading a submitted notebook as data and comparing it, cell by cell, with the release.

Nothing here executes anything: a notebook is a JSON document, read with a size cap,
checked for the few fields the grader uses, and compared cell by cell with the released
notebook (the one the student received, made by ``nbgrader generate_assignment``).

Vocabulary (nbgrader's cell metadata, ``cell["metadata"]["nbgrader"]``):

* answer cell: ``solution: true, grade: false`` code cell; the student's code lives here.
* test cell: ``grade: true, locked: true`` code cell; it holds the points of one graded
  function (grade_id ``test_<function>``). Its text is always taken from the release.
* written answer: ``solution: true, grade: true`` markdown cell, graded by hand.
* other locked cells (set-up code, instructions): always taken from the release.

The result of the comparison is a :class:`CellInventory`: where each released cell is
in the submission, which are missing or duplicated, which cells carry a grade_id the
release does not know (renamed), and which locked cells were edited.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

#: Notebooks larger than this are not parsed (a class notebook is a few hundred kB).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class NotebookError(Exception):
    """The submitted file cannot be used as a notebook; the message says why in plain words."""


def nbgrader_meta(cell: dict) -> dict:
    """The nbgrader metadata of a cell, or {} for a plain cell (tolerates junk)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def cell_source(cell: dict) -> str:
    """The text of a cell; nbformat stores it as a string or a list of lines."""
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def grade_id(cell: dict) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def read_notebook(path: str) -> dict:
    """Parse a notebook file as JSON, without nbformat's upgrade machinery or any execution.

    Raises NotebookError for a missing, oversized, non-UTF-8, non-JSON or structurally
    wrong file; the message is shown to the student.
    """
    try:
        size = os.lstat(path).st_size
    except OSError:
        raise NotebookError("the notebook file is missing from the submission") from None
    if not os.path.isfile(path) or os.path.islink(path):
        raise NotebookError("the notebook is not a regular file")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the notebook is {size} bytes, more than the {MAX_NOTEBOOK_BYTES} allowed")
    with open(path, "rb") as fh:
        raw = fh.read(MAX_NOTEBOOK_BYTES + 1)
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError("the notebook file is not UTF-8 text") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = getattr(exc, "msg", "nesting too deep")
        raise NotebookError(f"the notebook file is not valid JSON ({msg}); "
                            "it may have been cut short or edited outside Jupyter") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("the file is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"the notebook has format version {nb.get('nbformat')!r}; expected 4")
    nb["cells"] = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") in
                   ("code", "markdown", "raw")]
    return nb


@dataclass
class ReleaseNotebook:
    """The released notebook, indexed by grade_id."""
    nb: dict
    cells: dict[str, dict]            # grade_id -> released cell
    order: list[str]                  # grade_ids in release order
    answers: list[str]                # answer code cells (solution, not graded)
    tests: list[str]                  # locked graded code cells
    written: list[str]                # hand-graded solution cells
    locked: list[str]                 # every locked cell (tests and set-up)

    @classmethod
    def load(cls, path: str) -> "ReleaseNotebook":
        nb = read_notebook(path)
        cells, order, answers, tests, written, locked = {}, [], [], [], [], []
        for cell in nb["cells"]:
            gid = grade_id(cell)
            if gid is None:
                continue
            meta = nbgrader_meta(cell)
            cells[gid] = cell
            order.append(gid)
            if meta.get("locked"):
                locked.append(gid)
            if meta.get("solution") and meta.get("grade"):
                written.append(gid)
            elif meta.get("solution") and cell["cell_type"] == "code":
                answers.append(gid)
            elif meta.get("grade") and cell["cell_type"] == "code":
                tests.append(gid)
        return cls(nb, cells, order, answers, tests, written, locked)

    def points(self, gid: str) -> float:
        return float(nbgrader_meta(self.cells[gid]).get("points", 0.0))

    def is_unchanged(self, gid: str, source: str) -> bool:
        """True when a solution cell still holds the text it was released with."""
        return source.strip() == cell_source(self.cells[gid]).strip()


@dataclass
class CellInventory:
    """Where every released graded cell is in the submission, and what is out of place."""
    positions: dict[str, list[int]] = field(default_factory=dict)   # grade_id -> submission indexes
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)       # grade_ids the release does not have
    edited_locked: list[str] = field(default_factory=list)
    retyped: list[str] = field(default_factory=list)       # a released cell whose type changed

    def notes(self, release: ReleaseNotebook) -> list[str]:
        """Plain sentences for the feedback, one per problem found."""
        out = []
        for gid in self.missing:
            if gid in release.answers:
                what = "its function is looked for in your other cells"
            elif gid in release.written:
                what = "the written answer counts as not given"
            else:
                what = "restored from the release"
            out.append(f"cell '{gid}' was deleted from the notebook; {what}")
        for gid in self.duplicated:
            out.append(f"cell '{gid}' appears {len(self.positions[gid])} times; "
                       "the last copy is the one graded" if gid in release.answers else
                       f"cell '{gid}' appears {len(self.positions[gid])} times; the copies were removed")
        for gid in self.renamed:
            out.append(f"a cell has the unknown id '{gid}' (a renamed cell?); "
                       "it is treated as an ordinary cell of your own")
        for gid in self.edited_locked:
            out.append(f"read-only cell '{gid}' was edited; the released version was restored")
        for gid in self.retyped:
            out.append(f"cell '{gid}' changed type; the released type was restored")
        return out


def take_inventory(nb: dict, release: ReleaseNotebook) -> CellInventory:
    inv = CellInventory()
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        if gid is None:
            continue
        if gid not in release.cells:
            if gid not in inv.renamed:
                inv.renamed.append(gid)
            continue
        inv.positions.setdefault(gid, []).append(i)
    for gid in release.order:
        where = inv.positions.get(gid, [])
        if not where:
            inv.missing.append(gid)
            continue
        if len(where) > 1:
            inv.duplicated.append(gid)
        rel = release.cells[gid]
        for i in where:
            sub = nb["cells"][i]
            if sub.get("cell_type") != rel["cell_type"] and gid not in inv.retyped:
                inv.retyped.append(gid)
            if gid in release.locked and cell_source(sub) != cell_source(rel) \
                    and gid not in inv.edited_locked:
                inv.edited_locked.append(gid)
    return inv
