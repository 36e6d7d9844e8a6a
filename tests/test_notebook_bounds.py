"""Bounds of the trusted side on the notebook itself: cell caps, junk of every type, the cell
inventory and the autograded notebook in one pass, static flags for system modules reached through
another module, the per-submission deadline, and written answers that reach the formgrader whole."""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import random
import threading

import pytest

from autograder import autograded, grade, notebook
from autograder.answer_code import CodeUnit
from autograder.grade import Deadline, grade_submission, load_course
from autograder.integrity import MAX_FLAGS_PER_KIND, static_flags
from autograder.notebook import NotebookError, ReleaseNotebook, cell_source, grade_id
from autograder.sandbox.flags import static_flags as analyse
from redteam import factory

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


def cell(kind, source, gid=None, **meta):
    c = {"cell_type": kind, "metadata": {}, "source": source,
         "id": gid or "c" + hashlib.sha1(source.encode()).hexdigest()[:8]}
    if kind == "code":
        c.update(outputs=[], execution_count=None)
    if gid is not None:
        c["metadata"]["nbgrader"] = {"grade_id": gid, "schema_version": 3, **meta}
    return c


def release_nb():
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("markdown", "# Title"),
        cell("code", "import numpy as np", "setup", locked=True, grade=False, solution=False),
        cell("markdown", "Part one"),
        cell("code", "def f(x):\n    raise NotImplementedError()", "f", solution=True, grade=False, locked=False),
        cell("code", 'check("f", f)', "test_f", grade=True, solution=False, locked=True, points=2.0),
        cell("markdown", "YOUR ANSWER HERE", "derivation_1", grade=True, solution=True, locked=False, points=3),
        cell("markdown", "Rubric", "rubric_1", grade=False, solution=False, locked=True),
        cell("code", "def g(x):\n    raise NotImplementedError()", "g", solution=True, grade=False, locked=False),
        cell("code", 'check("g", g)', "test_g", grade=True, solution=False, locked=True, points=1.0),
    ]}


@pytest.fixture
def release(tmp_path):
    path = tmp_path / "rel.ipynb"
    path.write_text(json.dumps(release_nb()))
    return ReleaseNotebook.load(str(path))


def write(tmp_path, nb) -> str:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return str(path)


class Report:
    def __init__(self):
        self.errors, self.notes = [], []


# -- reading ---------------------------------------------------------------------------------

def test_too_many_cells_is_a_plain_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "MAX_CELLS", 10)
    nb = release_nb()
    nb["cells"] += [cell("code", f"x = {i}") for i in range(2)]
    with pytest.raises(NotebookError, match="11 cells, more than the 10 allowed"):
        notebook.read_notebook(write(tmp_path, nb))


def test_a_cell_over_the_cap_loses_its_text_with_a_fault_and_the_rest_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "MAX_CELL_CHARS", 100)
    nb = release_nb()
    nb["cells"][3]["source"] = "def f(x):\n    return x\n" + "#" * 200
    report = Report()
    out = notebook.read_notebook(write(tmp_path, nb), report=report)
    assert out["cells"][3]["source"] == "" and out["cells"][7]["source"].startswith("def g")
    assert report.errors == ["cell #4 holds 223 characters, more than the 100 allowed; its text was left out"]


def test_sources_and_metadata_of_wrong_types_are_repaired_with_a_note(tmp_path):
    nb = release_nb()
    nb["cells"][3]["source"] = ["def f(x):\n", 7, None, "    return x\n", {"a": 1}]
    nb["cells"][0]["source"] = {"not": "text"}
    nb["cells"][2]["metadata"] = ["junk"]
    nb["cells"].append(["not a cell"])
    report = Report()
    out = notebook.read_notebook(write(tmp_path, nb), report=report)
    assert out["cells"][3]["source"] == "def f(x):\n    return x\n"
    assert out["cells"][0]["source"] == "" and out["cells"][2]["metadata"] == {}
    assert all(isinstance(c["source"], str) for c in out["cells"]) and len(out["cells"]) == 9
    assert report.notes == ["2 cell(s) hold text of the wrong type (cell #1, #4); only their text items were read"]


def test_deeply_nested_json_and_a_pipe_are_plain_reasons(tmp_path):
    (tmp_path / "deep.ipynb").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(NotebookError, match="not valid JSON|not a notebook"):
        notebook.read_notebook(str(tmp_path / "deep.ipynb"))
    os.mkfifo(tmp_path / "pipe.ipynb")
    done = []
    t = threading.Thread(target=lambda: done.append(pytest.raises(NotebookError, notebook.read_notebook,
                                                                  str(tmp_path / "pipe.ipynb"))), daemon=True)
    t.start()
    t.join(20)
    assert done and "not a regular file (a named pipe)" in str(done[0].value)


def test_a_huge_grade_id_is_no_grade_id_and_notes_show_ids_short(tmp_path, release):
    nb = release_nb()
    nb["cells"].append(cell("code", "x = 1", "z" * 1_000_000))
    nb["cells"].append(cell("code", "y = 1", "\x1b[2Jwiped" + "w" * 100))
    nb = notebook.read_notebook(write(tmp_path, nb))
    assert grade_id(nb["cells"][-2]) is None
    inv = notebook.take_inventory(nb, release)
    note = next(n for n in inv.notes(release) if "unknown id" in n)
    assert "\x1b" not in note and len(note) < 250


# -- inventory and the autograded notebook, in one pass ----------------------------------------

def test_many_unknown_ids_give_a_bounded_list_of_notes(release):
    nb = release_nb()
    nb["cells"] += [cell("code", f"x = {i}", f"new_{i}") for i in range(5000)]
    inv = notebook.take_inventory(nb, release)
    assert len(inv.renamed) == 5000
    notes = [n for n in inv.notes(release) if "unknown id" in n or "unknown ids" in n]
    assert len(notes) == notebook.MAX_LISTED + 1 and notes[-1].startswith("4980 more cells")


def _old_put_back(cells, release, placed):
    """The former (quadratic) algorithm, kept here as the reference of where deleted cells go."""
    rel_cells = release.nb["cells"]
    for k, rel in enumerate(rel_cells):
        gid = grade_id(rel)
        if gid is None or gid in placed:
            continue
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
        cells.insert(at, {"gid": gid})
        placed = {g: (p + 1 if p >= at else p) for g, p in placed.items()}
        placed[gid] = at
    return cells


@pytest.mark.parametrize("trial", range(40))
def test_deleted_cells_go_back_where_the_former_algorithm_put_them(release, trial):
    rng = random.Random(trial)
    nb = release_nb()
    cells = [c for c in nb["cells"] if rng.random() > 0.4]
    cells += [cell("markdown", f"mine {i}") for i in range(rng.randrange(3))]
    rng.shuffle(cells)
    nb["cells"] = copy.deepcopy(cells)
    inv = notebook.take_inventory(nb, release)
    out = autograded.rebuild(nb, release, inv)
    kept = []
    placed = {}
    for c in nb["cells"]:
        gid = grade_id(c)
        if gid in release.cells and gid in placed:
            continue
        if gid in release.cells:
            placed[gid] = len(kept)
        kept.append({"gid": gid, "id": c.get("id")} if gid in release.cells else
                    {"gid": None, "id": c.get("id")})
    expected = [c["gid"] for c in _old_put_back(kept, release, placed)]
    assert [grade_id(c) for c in out["cells"]] == expected
    assert len({c["id"] for c in out["cells"]}) == len(out["cells"])


# -- written answers whole -------------------------------------------------------------------

def test_a_written_answer_split_over_two_copies_reaches_the_notebook_whole(release):
    nb = release_nb()
    first = copy.deepcopy(nb["cells"][5])
    first["source"] = "Part 1: ![a](attachment:image.png)"
    first["attachments"] = {"image.png": {"image/png": PNG}}
    second = copy.deepcopy(nb["cells"][5])
    second["source"] = "Part 2: ![b](attachment:image.png)"
    other = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x01" * 16).decode()
    second["attachments"] = {"image.png": {"image/png": other}, "junk": "x",
                             "s.svg": {"image/svg+xml": "PHN2Zz4="}, "bad.png": {"image/png": "@@not base64@@"}}
    nb["cells"][5] = first
    nb["cells"].insert(6, second)
    nb["cells"].insert(6, copy.deepcopy(release_nb()["cells"][5]))    # a third copy, left as released
    inv = notebook.take_inventory(nb, release)
    notes: list[str] = []
    out = autograded.rebuild(nb, release, inv, notes=notes)
    answer = next(c for c in out["cells"] if grade_id(c) == "derivation_1")
    assert answer["source"] == "Part 1: ![a](attachment:image.png)\n\nPart 2: ![b](attachment:image-2.png)"
    assert answer["attachments"] == {"image.png": {"image/png": PNG}, "image-2.png": {"image/png": other}}
    assert notes == ["written answer 'derivation_1': 3 attachment(s) were not images of the allowed types "
                     "and sizes (PNG, JPEG, GIF, WebP; 2 MB each); they were left out"]
    assert autograded.written_answers(release, nb, inv)["derivation_1"] == "answered"
    assert "their texts are joined, in order" in "\n".join(inv.notes(release))


def test_attachments_of_the_wrong_structure_or_size_are_dropped(monkeypatch):
    monkeypatch.setattr(autograded, "MAX_ATTACHMENT_BYTES", 100)
    notes: list[str] = []
    assert autograded.clean_attachments(["x"], "cell #3", notes) == {}
    assert autograded.clean_attachments({"a.png": {"image/png": ["iVBO", "Rw=="]}}, "c", notes) == \
        {"a.png": {"image/png": "iVBORw=="}}
    assert autograded.clean_attachments({"big.png": {"image/png": "A" * 104}, "../x.png": {"image/png": "AA=="},
                                         "n.png": {"image/png": 5}}, "c", notes) == {}
    assert len(notes) == 2 and notes[1].startswith("c: 3 attachment(s)")


def test_an_added_markdown_cell_keeps_its_images():
    nb = release_nb()
    nb["cells"].insert(6, {"cell_type": "markdown", "metadata": {}, "id": "mine", "source": "![x](attachment:p.png)",
                           "attachments": {"p.png": {"image/png": PNG}}})
    release_ = ReleaseNotebook(release_nb(), *_index(release_nb()))
    out = autograded.rebuild(nb, release_, notebook.take_inventory(nb, release_))
    assert next(c for c in out["cells"] if c.get("id") == "mine")["attachments"] == {"p.png": {"image/png": PNG}}


def _index(nb):
    """The fields of a ReleaseNotebook for ``nb``, without a file."""
    cells = {grade_id(c): c for c in nb["cells"] if grade_id(c)}
    meta = {g: c["metadata"]["nbgrader"] for g, c in cells.items()}
    order = list(cells)
    answers = [g for g in order if meta[g].get("solution") and not meta[g].get("grade")]
    tests = [g for g in order if meta[g].get("grade") and not meta[g].get("solution")]
    written = [g for g in order if meta[g].get("grade") and meta[g].get("solution")]
    locked = [g for g in order if meta[g].get("locked")]
    return cells, order, answers, tests, written, locked


# -- static flags ----------------------------------------------------------------------------

@pytest.mark.parametrize("source, part", [
    ("np.os.system('ls')", "'os'"),
    ("np.ctypeslib.ctypes.CDLL(None)", "'ctypes'"),
    ("np.lib.format.os.remove('x')", "'os'"),
    ("getattr(np, 'os')", "'os'"),
    ("getattr(getattr(np, 'lib'), 'format').os", "'os'"),
    ("np.__getattribute__('sys')", "'sys'"),
    ("vars(np)['os']", "'os'"),
    ("np.__dict__.get('subprocess')", "'subprocess'"),
    ("__import__('ctypes')", "'ctypes'"),
    ("import importlib\nimportlib.import_module('socket')", "'socket'"),
    ("from numpy.lib.format import os", "'numpy.lib.format.os'"),
    ("from numpy import ctypeslib", "ctypeslib"),
])
def test_system_modules_reached_through_another_module_are_flagged(source, part):
    flags = [f.message for f in analyse(source, modules={"np": "numpy"}) if f.code == "system_module"]
    assert any(part in m for m in flags), flags


def test_ordinary_attribute_use_is_not_flagged():
    src = "def f(x):\n    d = {'os': 1}\n    return np.linalg.norm(x) + d['os'] + getattr(x, 'shape')[0]\n"
    assert analyse(src, modules={"np": "numpy"}) == []


def test_flags_per_kind_are_capped_and_counted():
    units = [CodeUnit("cell setup", "import numpy as np\n", False),
             CodeUnit("cell #3", "import os\n" * 50 + "np.os.getcwd()\n", True)]
    flags = static_flags(units)
    system = [f for f in flags if f.startswith("system_module:")]
    assert len(system) == MAX_FLAGS_PER_KIND
    assert flags[-1] == "more_flags: 46 more flag(s) of the same kinds are not listed"


def test_static_flags_stop_at_the_deadline():
    units = [CodeUnit("cell setup", "import numpy as np\n", False)] + \
            [CodeUnit(f"cell #{i}", "import os\n", True) for i in range(5)]
    expired = Deadline(0.0, clock=iter(range(100)).__next__)
    assert static_flags(units, deadline=expired) == [
        "incomplete_analysis: the time allowed ran out; 5 cell(s) were not analysed"]


def test_a_paused_deadline_does_not_count_the_pause():
    ticks = iter([0.0, 1.0, 11.0, 11.5])
    d = Deadline(2.0, clock=lambda: next(ticks))
    with d.paused():        # 1.0 -> 11.0 does not count
        pass
    assert not d.expired    # 11.5 - 0 - 10 = 1.5 s spent


# -- one submission past the deadline, without a sandbox ---------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = factory.make_course(str(tmp_path_factory.mktemp("bounds")))
    return load_course(root, factory.ASSIGNMENT)


def _no_sandbox(source):
    raise AssertionError("the sandbox must not be started")


def test_past_the_deadline_a_submission_gets_a_reason_and_its_feedback(course, monkeypatch):
    from redteam.corpus import Entry

    factory.make_submission(course.root, "slow", Entry("slow", "correct"))
    monkeypatch.setattr(grade, "TRUSTED_SECONDS", -1.0)
    r = grade_submission(course, "slow", seed=1, make_sandbox=_no_sandbox)
    assert any(e.startswith("grading stopped after reading the notebook") for e in r.errors)
    assert r.total == 0.0 and all(c.diagnosis == "timeout" for cs in r.cases.values() for c in cs)
    assert r.written["derivation_1"] == "answered" and r.notebook["cells"]


def test_a_notebook_that_is_a_pipe_is_graded_as_missing_without_blocking(course):
    from redteam.corpus import Entry

    folder = factory.make_submission(course.root, "piped", Entry("piped", "correct"))
    nb = os.path.join(folder, f"{factory.ASSIGNMENT}.ipynb")
    os.remove(nb)
    os.mkfifo(nb)
    os.remove(os.path.join(folder, "timestamp.txt"))
    os.mkfifo(os.path.join(folder, "timestamp.txt"))
    out = []
    t = threading.Thread(target=lambda: out.append(grade_submission(course, "piped", seed=1,
                                                                    make_sandbox=_no_sandbox)), daemon=True)
    t.start()
    t.join(60)
    assert out, "grading stalled on a pipe"
    r = out[0]
    assert any("not copied from the submission folder (a named pipe); it counts as missing" in e for e in r.errors)
    assert r.timestamp is None and r.notebook_sha256 is None and r.total == 0.0
    assert any("ps1_softmax.ipynb (special file)" in f for f in r.flags)
    assert [cell_source(c) for c in r.notebook["cells"]][:1] == [cell_source(course.release.nb["cells"][0])]
