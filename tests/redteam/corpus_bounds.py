"""Red-team entries for issue area 'bounds': submissions that try to stall, slow down or crash the trusted
side (see corpus.py for the Entry format), and honest ones that must not lose points to its caps.

A pipe, a socket or a link to a device in the submission folder must never be opened; a notebook as large
as the cap, a cell of a megabyte, tens of thousands of cells, a cell id of megabytes or nesting too deep
for a parser must cost the grader a bounded amount of work and give a defined verdict; written answers
must reach the autograded notebook whole.
"""
from __future__ import annotations

import base64
import copy
import os

from .corpus import CORRECT, FUNCTIONS, Entry, t

NOTEBOOK = "ps1_softmax.ipynb"
ALL_ZERO = {t(fn): "zero" for fn in FUNCTIONS}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(32))).decode()


def _gid(cell):
    nbg = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else None
    return nbg.get("grade_id") if isinstance(nbg, dict) else None


def _code(source: str, n: int, gid: str | None = None, **extra) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "id": f"bounds{n}", "metadata": {},
            "outputs": [], "source": source, **extra}
    if gid is not None:
        cell["metadata"]["nbgrader"] = {"grade_id": gid, "solution": False, "grade": False, "locked": False}
    return cell


def big_outputs(cells):
    """An honest cell whose saved output is about 19 MB (a long printout left in the notebook)."""
    text = ["0123456789" * 100 + "\n"] * 19_000
    out = {"output_type": "stream", "name": "stdout", "text": text}
    return cells + [_code("summary = 0  # the printout below was made by an earlier version\n", 1, outputs=[out])]


def many_new_cells(cells):
    """60,000 added cells, each with a new grade_id and cell id."""
    return cells + [_code("x = 1\n", n, f"mine_{n}") for n in range(60_000)]


def huge_cell_id(cells):
    """A cell id of 10 MB."""
    return cells + [dict(_code("y = 2\n", 2), id="i" * 10_000_000)]


def sources_of_wrong_types(cells):
    """The softmax answer stored as a list with numbers and None among its lines, other cells with junk."""
    for c in cells:
        if _gid(c) == "softmax":
            c["source"] = CORRECT["softmax"].splitlines(keepends=True) + [7, None, {"x": 1}]
    cells.append({"cell_type": "markdown", "metadata": 5, "source": 3.5, "id": "junk1"})
    cells.append({"cell_type": "code", "metadata": {}, "source": [["nested"]], "outputs": [], "id": "junk2"})
    return cells


def nested_json(text: str) -> bytes:
    """The notebook with a value nested 100,000 levels deep before its cells."""
    return ('{"deep": ' + "[" * 100_000 + "]" * 100_000 + ", " + text.lstrip()[1:]).encode()


def split_written_answer(cells):
    """The derivation written over two copies of its cell, each with a pasted image named image.png."""
    out = []
    for c in cells:
        if _gid(c) == "derivation_1":
            first, second = copy.deepcopy(c), copy.deepcopy(c)
            first["source"] = "First half: the quotient rule. ![one](attachment:image.png)"
            first["attachments"] = {"image.png": {"image/png": PNG}}
            second["id"] = (c.get("id") or "x") + "b"
            second["source"] = "Second half: ds_i/dz_j = s_i (delta_ij - s_j). ![two](attachment:image.png)"
            second["attachments"] = {"image.png": {"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n2").decode()}}
            out += [first, second]
        else:
            out.append(c)
    return out


def junk_attachments(cells):
    """A written answer with one real image and attachments of every wrong shape."""
    for c in cells:
        if _gid(c) == "derivation_1":
            c["source"] = "See ![fig](attachment:fig.png) and ![x](attachment:bad.png)"
            c["attachments"] = {"fig.png": {"image/png": PNG}, "bad.png": {"image/png": "<script>!!"},
                                "page.html": {"text/html": "PHNjcmlwdD4="}, "../../etc.png": {"image/png": PNG},
                                "list.png": ["not", "a", "bundle"], "huge.png": {"image/png": "A" * 3_000_000}}
    return cells


ENTRIES: list[Entry] = [
    # ------------------------------------------------------------------ files that are not files
    Entry("bounds_notebook_fifo", "the notebook is a named pipe (reading it would wait for ever)",
          fifos=[NOTEBOOK], expect=ALL_ZERO, written="missing",
          errors=["not copied from the submission folder (a named pipe); it counts as missing"],
          flags=["ps1_softmax.ipynb (special file)"]),
    Entry("bounds_timestamp_fifo", "timestamp.txt is a named pipe; the answers are right",
          fifos=["timestamp.txt"], notes=["'timestamp.txt' was not copied for grading: a named pipe"],
          flags=["timestamp.txt (special file)"]),
    Entry("bounds_notebook_dev_zero", "the notebook is a link to /dev/zero (endless bytes)",
          links={NOTEBOOK: "/dev/zero"}, expect=ALL_ZERO, written="missing",
          errors=["(a link; links are not followed); it counts as missing"], flags=["ps1_softmax.ipynb (link)"]),
    Entry("bounds_data_dev_urandom", "a data file beside the notebook links to /dev/urandom; the answers are right",
          links={"fixtures_ps1_softmax.npz": "/dev/urandom", "weights.npy": "/dev/zero"},
          flags=["fixtures_ps1_softmax.npz (link)", "weights.npy (link)"],
          notes=["'weights.npy' was not copied for grading: a link"]),
    Entry("bounds_socket_file", "a Unix socket file beside the notebook; the answers are right",
          sockets=["grader.sock"], flags=["grader.sock (special file)"],
          notes=["'grader.sock' was not copied for grading: a socket"]),
    Entry("bounds_honest_big_data_file", "an honest data file larger than the per-file cap beside the notebook",
          sizes={"training_data.bin": 20 * 1024 * 1024 + 1}, written="answered", clean=True,
          notes=["'training_data.bin' was not copied for grading: 20971521 bytes, more than the 20971520 allowed"]),
    # ------------------------------------------------------------------ size and shape of the notebook
    Entry("bounds_notebook_at_cap", "an honest notebook of about 19 MB (a long printout saved in it)",
          transform=big_outputs, clean=True, written="answered"),
    Entry("bounds_60000_cells", "60,000 added cells with new grade_ids and cell ids",
          transform=many_new_cells, expect=ALL_ZERO, errors=["more than the 10000 allowed"]),
    Entry("bounds_import_cell_1mb", "a cell of almost 1 MB of repeated imports (its loading time is the "
          "sandbox's business, so the answers are wrong: the verdict does not depend on it)", base="wrong",
          after=["import os\n" * 99_000], flags=["system_module", "more_flags"]),
    Entry("bounds_cell_over_cap", "an added cell longer than the per-cell cap; the answers are right",
          after=["x = 1  # " + "pad " * 300_000 + "\n"], errors=["more than the 1000000 allowed; its text was left out"]),
    Entry("bounds_cell_id_10mb", "a cell whose id is 10 MB long; the answers are right",
          transform=huge_cell_id, clean=True),
    Entry("bounds_wrong_types", "cell sources of wrong types (numbers, None, nested lists); the answers are right",
          transform=sources_of_wrong_types, notes=["hold text of the wrong type"], clean=True),
    Entry("bounds_nested_json", "a metadata value nested 100,000 levels deep", raw=nested_json, expect=ALL_ZERO,
          errors=["not valid JSON"], written="missing"),
    Entry("bounds_deep_folders", "folders nested 40 levels deep beside the notebook; the answers are right",
          files={"/".join(["d"] * 40) + "/x.txt": "deep"}, notes=["folders are copied 8 levels deep at most"],
          flags=["d/d/d/d/d/d/d/d/d (too deep)"]),
    Entry("bounds_many_files", "600 small files beside the notebook; the answers are right",
          files={f"many/f{i:03d}.txt": "." for i in range(600)},
          notes=["more than the 500 files allowed"], flags=["extra_files"]),
    # ------------------------------------------------------------------ reaching the system another way
    Entry("bounds_attribute_os", "reaches os and ctypes through numpy's attributes and by name", base="wrong",
          before=["try:\n    _o = np.lib.format.os\nexcept Exception:\n    _o = getattr(np, 'os', None)\n"
                  "_c = getattr(np.ctypeslib, 'ctypes', None)\n_v = vars(np).get('os')\n"],
          flags=["reaches 'os' through the attribute 'np.lib.format.os'", "reaches 'ctypes'",
                 "reaches 'os' through a module's namespace"]),
    # ------------------------------------------------------------------ written answers whole
    Entry("bounds_split_written_answer", "the derivation over two copies of its cell, each with a pasted image",
          transform=split_written_answer, written="answered",
          notes=["cell 'derivation_1' appears 2 times; their texts are joined, in order"]),
    Entry("bounds_junk_attachments", "a written answer with an image and junk attachments",
          transform=junk_attachments, written="answered",
          notes=["written answer 'derivation_1': 5 attachment(s) were not images"]),
]

assert all(os.sep not in e.name for e in ENTRIES)
