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
from dataclasses import dataclass, field

from .snapshot import MAX_FILE_BYTES, NotReadable, read_bytes, shown

#: Notebooks larger than this are not parsed (a class notebook is a few hundred kB).
MAX_NOTEBOOK_BYTES = MAX_FILE_BYTES
#: More cells than this: the notebook is not graded. A cell's text longer than this is left out.
MAX_CELLS = 10_000
MAX_CELL_CHARS = 1_000_000
#: A grade_id longer than this is no grade_id of the release (released ids are short words).
MAX_GRADE_ID_CHARS = 200
#: Problems of one kind listed one by one in the notes; the rest are counted.
MAX_LISTED = 20


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
    """The cell's nbgrader grade_id, or None (absent, not a string, empty or too long)."""
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid and len(gid) <= MAX_GRADE_ID_CHARS else None


def shown_id(gid: str) -> str:
    """A grade_id as short printable text, for notes and flags."""
    return shown(gid, 60)


def read_notebook(path: str, report=None) -> dict:
    """Parse a notebook file as JSON, without nbformat's upgrade machinery or any execution.

    The file is read only if it is a regular file (never a link, pipe or device) of at most
    MAX_NOTEBOOK_BYTES. Cells that are not code, markdown or raw are dropped; every kept cell's
    ``source`` becomes one string (see :func:`normalise_cells`).
    ``report``: an object with ``errors`` and ``notes`` lists (a SubmissionResult) that receives
    what was repaired; None to discard it.
    Raises NotebookError for a missing, oversized, non-UTF-8, non-JSON or structurally wrong file,
    or one with more than MAX_CELLS cells; the message is shown to the student.
    """
    try:
        raw = read_bytes(path, MAX_NOTEBOOK_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        raise NotebookError("the notebook file is missing from the submission") from None
    except NotReadable as exc:
        if exc.special:
            raise NotebookError(f"the notebook is not a regular file ({exc})") from None
        raise NotebookError(f"the notebook is {exc}") from None
    except OSError as exc:
        raise NotebookError(f"the notebook file cannot be read ({exc.strerror})") from None
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError("the notebook file is not UTF-8 text") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        msg = getattr(exc, "msg", "nesting too deep")
        raise NotebookError(f"the notebook file is not valid JSON ({msg}); "
                            "it may have been cut short or edited outside Jupyter") from None
    del raw
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("the file is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"the notebook has format version {shown(repr(nb.get('nbformat')), 40)}; expected 4")
    if len(nb["cells"]) > MAX_CELLS:
        raise NotebookError(f"the notebook has {len(nb['cells'])} cells, more than the {MAX_CELLS} allowed")
    nb["cells"] = normalise_cells(nb["cells"], report)
    return nb


def normalise_cells(cells: list, report=None) -> list[dict]:
    """The cells the grader uses, each with ``source`` as one string, in one pass.

    Dropped: anything that is not a dict with cell_type code, markdown or raw. A source stored
    with wrong types keeps its text items (a note); a source longer than MAX_CELL_CHARS is
    emptied (a fault: that cell's text is not graded); metadata that is not a dict becomes {}.
    """
    out, odd, long = [], [], []
    for n, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            if not all(isinstance(s, str) for s in src):
                odd.append(n + 1)
            src = "".join(s for s in src if isinstance(s, str))
        elif not isinstance(src, str):
            odd.append(n + 1)
            src = ""
        if len(src) > MAX_CELL_CHARS:
            long.append((n + 1, len(src)))
            src = ""
        cell["source"] = src
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        out.append(cell)
    if report is not None:
        if odd:
            report.notes.append(f"{len(odd)} cell(s) hold text of the wrong type (cell #"
                                + ", #".join(map(str, odd[:MAX_LISTED])) + "); only their text items were read")
        for n, size in long[:MAX_LISTED]:
            report.errors.append(f"cell #{n} holds {size} characters, more than the {MAX_CELL_CHARS} allowed; "
                                 "its text was left out")
        if len(long) > MAX_LISTED:
            report.errors.append(f"{len(long) - MAX_LISTED} more cells were too long; their text was left out")
    return out


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
        """Plain sentences for the feedback, one per problem found (unknown ids: MAX_LISTED at most)."""
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
            if gid in release.answers:
                what = "the last copy is the one graded"
            elif gid in release.written:
                what = "their texts are joined, in order"
            else:
                what = "the copies were removed"
            out.append(f"cell '{gid}' appears {len(self.positions[gid])} times; {what}")
        for gid in self.renamed[:MAX_LISTED]:
            out.append(f"a cell has the unknown id '{shown_id(gid)}' (a renamed cell?); "
                       "it is treated as an ordinary cell of your own")
        if len(self.renamed) > MAX_LISTED:
            out.append(f"{len(self.renamed) - MAX_LISTED} more cells have unknown ids (not listed)")
        for gid in self.edited_locked:
            out.append(f"read-only cell '{gid}' was edited; the released version was restored")
        for gid in self.retyped:
            out.append(f"cell '{gid}' changed type; the released type was restored")
        return out


def take_inventory(nb: dict, release: ReleaseNotebook) -> CellInventory:
    """Compare the submission's cells with the release, in one pass over the cells (plus one
    comparison per copy of a released cell)."""
    inv = CellInventory()
    renamed: set[str] = set()
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        if gid is None:
            continue
        if gid not in release.cells:
            if gid not in renamed:
                renamed.add(gid)
                inv.renamed.append(gid)
            continue
        inv.positions.setdefault(gid, []).append(i)
    locked = set(release.locked)
    for gid in release.order:
        where = inv.positions.get(gid, [])
        if not where:
            inv.missing.append(gid)
            continue
        if len(where) > 1:
            inv.duplicated.append(gid)
        rel = release.cells[gid]
        rel_source = cell_source(rel)
        for i in where:
            sub = nb["cells"][i]
            if sub.get("cell_type") != rel["cell_type"] and gid not in inv.retyped:
                inv.retyped.append(gid)
            if gid in locked and gid not in inv.edited_locked and cell_source(sub) != rel_source:
                inv.edited_locked.append(gid)
    return inv
