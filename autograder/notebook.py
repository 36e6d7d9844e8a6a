"""Reading a submitted notebook as data and putting it back into the shape of the release.

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

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field

#: Notebooks larger than this are not parsed (a class notebook is a few hundred kB).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024

#: Files nbgrader itself puts in a submission folder, or Jupyter leaves behind.
EXPECTED_NAMES = ("timestamp.txt",)
IGNORED_DIRS = (".ipynb_checkpoints", "__pycache__")


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


# -- the code the grader loads ---------------------------------------------------------

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


def answer_sources(nb: dict, release: ReleaseNotebook, inv: CellInventory) -> dict[str, str]:
    """grade_id -> the student's text for every answer and written-answer cell present
    (the last copy when duplicated); missing ones are absent."""
    out = {}
    for gid in release.answers + release.written:
        where = inv.positions.get(gid)
        if where:
            out[gid] = cell_source(nb["cells"][where[-1]])
    return out


# -- the notebook written to autograded/ --------------------------------------------------

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


# -- files beside the notebook ------------------------------------------------------------

def file_sha256(path: str) -> str | None:
    """The sha256 of a file's bytes, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def release_manifest(release_dir: str) -> dict[str, str]:
    """relative path -> sha256 of every released file."""
    out = {}
    for root, dirs, files in os.walk(release_dir):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for name in files:
            full = os.path.join(root, name)
            out[os.path.relpath(full, release_dir)] = file_sha256(full)
    return out


def extra_files(submission_dir: str, manifest: dict[str, str], notebooks: list[str]) -> list[str]:
    """Files in a submission other than the release's notebooks, the release's other files
    unchanged, nbgrader's ``timestamp.txt`` and Jupyter's caches. Links and special files
    count as extra. Returned as sorted relative paths, with " (modified)" for a released
    file whose content differs.
    """
    out = []
    for root, dirs, files in os.walk(submission_dir):
        kept = []
        for d in dirs:
            full = os.path.join(root, d)
            if os.path.islink(full):
                out.append(os.path.relpath(full, submission_dir) + " (link)")
            elif d not in IGNORED_DIRS:
                kept.append(d)
        dirs[:] = kept
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, submission_dir)
            if rel in notebooks or rel in EXPECTED_NAMES:
                continue
            if os.path.islink(full) or not os.path.isfile(full):
                out.append(rel + " (link)" if os.path.islink(full) else rel + " (special file)")
            elif rel in manifest:
                if file_sha256(full) != manifest[rel]:
                    out.append(rel + " (modified)")
            else:
                out.append(rel)
    return sorted(out)
