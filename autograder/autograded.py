"""The notebook stored under autograded/: the submission in the shape of the release, and its written answers.

Everything here is linear in the number of cells: the submission is walked once, released cells that
were deleted are put back through a table of anchors (never by scanning the cells again per insertion).
Written answers reach the formgrader whole: every copy of a written-answer cell that holds an answer is
kept (their texts joined in order) with the images pasted into them (the cells' ``attachments``, checked
for structure and size).
"""
from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re

from .notebook import CellInventory, ReleaseNotebook, cell_source, grade_id

#: Attachments kept: image types, per image and per cell, and how many per cell.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024          # base64 characters of one image
MAX_CELL_ATTACHMENT_BYTES = 8 * 1024 * 1024     # base64 characters of all images of one written answer
MAX_ATTACHMENTS = 20
_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")
_JOIN = "\n\n"


def _copies(nb: dict, release: ReleaseNotebook, inv: CellInventory, gid: str) -> list[dict]:
    """The submission's copies of a written-answer cell that hold an answer (all copies when none does)."""
    cells = [nb["cells"][i] for i in inv.positions.get(gid, [])]
    answered = [c for c in cells if not release.is_unchanged(gid, cell_source(c))]
    return answered or cells[-1:]


def answer_sources(nb: dict, release: ReleaseNotebook, inv: CellInventory) -> dict[str, str]:
    """grade_id -> the student's text for every answer and written-answer cell present; missing
    ones are absent. An answer cell given twice: the last copy. A written answer given twice: the
    texts of the copies that hold an answer, joined in order."""
    out = {}
    for gid in release.answers:
        where = inv.positions.get(gid)
        if where:
            out[gid] = cell_source(nb["cells"][where[-1]])
    for gid in release.written:
        copies = _copies(nb, release, inv, gid)
        if copies:
            out[gid] = _JOIN.join(cell_source(c) for c in copies)
    return out


def clean_attachments(value, where: str, notes: list[str] | None) -> dict:
    """The images of a Markdown cell's ``attachments``: ``{name: {mime: base64 text}}`` with names of
    letters, digits, ``.``, ``_``, ``-``; mime types of IMAGE_TYPES; valid base64 of at most
    MAX_ATTACHMENT_BYTES; at most MAX_ATTACHMENTS. What is dropped gets one note per cell."""
    if value is None:
        return {}
    out, dropped = {}, 0
    if not isinstance(value, dict):
        dropped = 1
        value = {}
    for name, bundle in value.items():
        kept = {}
        if isinstance(name, str) and _NAME.fullmatch(name) and isinstance(bundle, dict) \
                and len(out) < MAX_ATTACHMENTS:
            for mime, data in bundle.items():
                if isinstance(data, list) and len(data) <= MAX_ATTACHMENT_BYTES \
                        and all(isinstance(x, str) for x in data):
                    data = "".join(data)
                if mime in IMAGE_TYPES and isinstance(data, str) and _is_image_data(data):
                    kept[mime] = "".join(data.split())
        if kept:
            out[name] = kept
        else:
            dropped += 1
    if dropped and notes is not None:
        notes.append(f"{where}: {dropped} attachment(s) were not images of the allowed types and sizes "
                     f"(PNG, JPEG, GIF, WebP; {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB each); they were left out")
    return out


def _is_image_data(data: str) -> bool:
    if len(data) > MAX_ATTACHMENT_BYTES:
        return False
    try:
        base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _joined_attachments(copies: list[dict], gid: str, notes: list[str] | None) -> tuple[str, dict]:
    """(text, attachments) of a written answer made of several copies: the texts joined in order,
    the images merged; an image name used by two copies for different images is renamed in the
    later copy (and in its text), so every copy shows its own images."""
    texts, merged, size = [], {}, 0
    for copy_ in copies:
        text = cell_source(copy_)
        images = clean_attachments(copy_.get("attachments"), f"written answer '{gid}'", notes)
        for name, bundle in images.items():
            bytes_ = sum(len(v) for v in bundle.values())
            if size + bytes_ > MAX_CELL_ATTACHMENT_BYTES or len(merged) >= MAX_ATTACHMENTS:
                if notes is not None:
                    notes.append(f"written answer '{gid}': image '{name}' was left out (more than "
                                 f"{MAX_CELL_ATTACHMENT_BYTES // (1024 * 1024)} MB of images in one answer)")
                continue
            new = name
            k = 2
            while new in merged and merged[new] != bundle:
                stem, dot, ext = name.rpartition(".")
                new = f"{stem}-{k}.{ext}" if dot else f"{name}-{k}"
                k += 1
            if new != name:
                text = text.replace(f"attachment:{name}", f"attachment:{new}")
            merged[new] = bundle
            size += bytes_
        texts.append(text)
    return _JOIN.join(texts), merged


def _clean_cell(cell: dict, notes: list[str] | None, n: int) -> dict:
    """A copy with no outputs and only the metadata nbgrader needs (a Markdown cell keeps its images)."""
    new = {"cell_type": cell.get("cell_type", "code"), "metadata": {}, "source": cell_source(cell)}
    cid = cell.get("id")
    if isinstance(cid, str) and len(cid) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid):
        new["id"] = cid
    if new["cell_type"] == "code":
        new["outputs"] = []
        new["execution_count"] = None
    elif new["cell_type"] == "markdown" and "attachments" in cell:
        images = clean_attachments(cell["attachments"], f"cell #{n + 1}", notes)
        if images:
            new["attachments"] = images
    return new


def _released(cell: dict) -> dict:
    new = copy.deepcopy(cell)
    if new.get("cell_type") == "code":
        new["outputs"], new["execution_count"] = [], None
    return new


def rebuild(nb: dict | None, release: ReleaseNotebook, inv: CellInventory | None,
            notes: list[str] | None = None) -> dict:
    """The notebook to store under autograded/: the submission's cells in the student's
    order with every released graded or locked cell replaced by its released version
    (answer text kept; a written answer with its images, its copies joined), duplicates
    dropped, deleted released cells put back after the released cell that preceded them,
    all outputs cleared. With ``nb=None`` (unreadable submission) it is the released notebook
    itself. ``notes`` receives what was left out (attachments that are not images).
    """
    out = copy.deepcopy(release.nb)
    if nb is None:
        for cell in out["cells"]:
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        return out
    answers = answer_sources(nb, release, inv)
    written = set(release.written)
    cells: list[dict] = []
    placed: dict[str, int] = {}          # released grade_id -> index in cells
    plain_ids: dict[str, int] = {}       # nbformat id of a plain cell -> its first index in cells
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        if gid in release.cells:
            if gid in placed:
                continue
            new = _released(release.cells[gid])
            if gid in written:
                copies = _copies(nb, release, inv, gid)
                new["source"], images = _joined_attachments(copies, gid, notes)
                new.pop("attachments", None)
                if images:
                    new["attachments"] = images
            elif gid in answers:
                new["source"] = answers[gid]
            placed[gid] = len(cells)
            cells.append(new)
        else:
            new = _clean_cell(cell, notes, i)
            if "id" in new:
                plain_ids.setdefault(new["id"], len(cells))
            cells.append(new)
    out["cells"] = _put_back(cells, release, placed, plain_ids)
    # cell ids must be unique for nbformat 4.5
    seen: set[str] = set()
    for n, cell in enumerate(out["cells"]):
        cid = cell.get("id")
        if not isinstance(cid, str) or cid in seen or len(cid) > 64:
            cell["id"] = hashlib.sha1(f"{n}:{str(cid)[:64]}".encode()).hexdigest()[:8]
        seen.add(cell["id"])
    return out


def _put_back(cells: list[dict], release: ReleaseNotebook, placed: dict[str, int],
              plain_ids: dict[str, int]) -> list[dict]:
    """``cells`` with every released graded/locked cell that is not there put back, each right after
    the nearest released cell before it that is still there (found by grade_id, or by nbformat id for
    plain cells), or after the one put back before it; at the top when none is.

    Each cell put back hangs below its anchor (a cell of ``cells`` or one put back); a later one with
    the same anchor goes right after the anchor, before the earlier ones. One pass over the release
    and one over ``cells``.
    """
    below: dict[object, list] = {}     # anchor -> cells put back right after it, first first
    anchor_of: dict[str, object] = {}  # grade_id -> its anchor key (an index of cells, or ("back", gid))
    rel_cells = release.nb["cells"]
    last_gid: str | None = None        # nearest released graded cell seen so far
    last_plain: int | None = None      # index in rel_cells of the nearest plain cell with an id
    last_gid_at = -1
    for k, rel in enumerate(rel_cells):
        gid = grade_id(rel)
        if gid is None:
            if isinstance(rel.get("id"), str) and rel["id"] in plain_ids:
                last_plain = k
            continue
        if gid not in placed:
            # the nearest anchor before k: a placed/put-back graded cell or a plain cell still there
            if last_plain is not None and last_plain > last_gid_at:
                key: object = plain_ids[rel_cells[last_plain]["id"]]
            elif last_gid is not None:
                key = placed[last_gid] if last_gid in placed else ("back", last_gid)
            else:
                key = "top"
            below.setdefault(key, []).insert(0, ("back", gid))
            anchor_of[gid] = key
        last_gid, last_gid_at = gid, k
    if not below:
        return cells
    out: list[dict] = []

    def emit(key) -> None:
        stack = list(reversed(below.get(key, [])))
        while stack:
            node = stack.pop()
            out.append(_released(release.cells[node[1]]))
            stack.extend(reversed(below.get(node, [])))

    emit("top")
    for i, cell in enumerate(cells):
        out.append(cell)
        emit(i)
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
