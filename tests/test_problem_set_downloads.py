"""The book's problem-set page: every set listed with its chapters and a download of its student release.

The archives are opened after the book's build (the one the book tests share): each holds nbgrader's
release of its set and nothing students must not see (:mod:`release_archives`); the checker itself is shown
to catch a solution, a hidden test, a stray file and a hidden case planted in an archive.
"""
from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from book_site import REPO, built_book
from release_archives import HIDDEN_SEEDS, release_problems, secret_lines

sys.path.insert(0, str(REPO / "book" / "_ext"))
from problem_set_catalogue import read_catalogue  # noqa: E402

from autograder.specs import all_assignments, specs_for  # noqa: E402

pytestmark = pytest.mark.slow

COURSE = REPO / "assignments"
SETS = read_catalogue(COURSE)


@pytest.fixture(scope="module")
def site() -> Path:
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    return build.html


def test_every_graded_set_has_a_source_notebook():
    assert [ps.name for ps in SETS] == sorted(all_assignments())
    assert len(SETS) >= 6


@pytest.mark.parametrize("ps", SETS, ids=[ps.name for ps in SETS])
def test_the_release_of_each_set_is_downloadable_and_clean(site, ps):
    archive = site / "problem-sets" / f"{ps.name}.zip"
    assert archive.is_file(), f"no download for {ps.name}"
    assert release_problems(archive, COURSE) == []
    with zipfile.ZipFile(archive) as zf:
        notebook = json.loads(zf.read(f"{ps.name}/{ps.name}.ipynb"))
    stubs = sum("raise NotImplementedError()" in "".join(c["source"]) for c in notebook["cells"])
    assert stubs == len(specs_for(ps.name)), "every graded function is left for the student"


def test_the_page_lists_each_set_with_points_chapters_and_download(site):
    page = (site / "book" / "problem_sets.html").read_text()
    for ps in SETS:
        entry = page.split(f'id="{ps.name.replace("_", "-")}"', 1)[1].split('<p id="', 1)[0]
        assert ps.title in entry.replace("&#8217;", "’")
        assert f"Points: {ps.points:g}" in entry
        for function in ps.functions:
            assert f'<span class="pre">{function}</span>' in entry
        for chapter in ps.chapters:
            assert f'href="{chapter}.html"' in entry, (ps.name, chapter)
        assert f'href="../problem-sets/{ps.name}.zip"' in entry


@pytest.mark.parametrize("ps", SETS, ids=[ps.name for ps in SETS])
def test_each_chapter_links_its_set(site, ps):
    for chapter in ps.chapters:
        html = (site / "book" / f"{chapter}.html").read_text()
        to_entry = f'href="problem_sets.html#{ps.name.replace("_", "-")}"' in html
        to_page = 'href="problem_sets.html"' in html and ps.name in html
        assert to_entry or to_page, (chapter, ps.name)


# -- the checker catches what a release must not hold --------------------------------------------------

def _rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of ``archive`` at ``target`` with ``change(files)`` applied to its {name: bytes}."""
    with zipfile.ZipFile(archive) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    change(files)
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return target


def _add_cell(files: dict, key: str, source: str) -> None:
    notebook = json.loads(files[key])
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "planted", "metadata": {},
                              "outputs": [], "source": source})
    files[key] = json.dumps(notebook).encode()


@pytest.fixture()
def good(site, tmp_path) -> tuple[str, Path]:
    name = "ps3_bptt"
    return name, _rewrite(site / "problem-sets" / f"{name}.zip", tmp_path / f"{name}.zip", lambda files: None)


def test_the_checker_passes_an_untouched_copy(good):
    assert release_problems(good[1], COURSE) == []


def test_the_checker_finds_the_source_notebook_in_place_of_the_release(good):
    name, archive = good
    source = (COURSE / "source" / name / f"{name}.ipynb").read_bytes()
    _rewrite(archive, archive, lambda files: files.__setitem__(f"{name}/{name}.ipynb", source))
    problems = release_problems(archive, COURSE)
    assert any("BEGIN SOLUTION" in p for p in problems)
    assert any("line of a worked solution" in p for p in problems)


def test_the_checker_finds_one_planted_solution_line_without_markers(good):
    name, archive = good
    line = sorted(secret_lines(COURSE / "source" / name / f"{name}.ipynb"))[0]
    _rewrite(archive, archive, lambda files: _add_cell(files, f"{name}/{name}.ipynb", line))
    assert release_problems(archive, COURSE) == [f"{name}.ipynb holds a line of a worked solution or model "
                                                 f"answer: {line!r}"]


def test_the_checker_finds_hidden_tests_and_stray_files(good):
    name, archive = good

    def plant(files):
        _add_cell(files, f"{name}/{name}.ipynb", "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS")
        files[f"{name}/gradebook.db"] = b"SQLite format 3\0"

    problems = release_problems(_rewrite(archive, archive, plant), COURSE)
    assert f"unexpected file {name}/gradebook.db" in problems
    assert any("BEGIN HIDDEN TESTS" in p for p in problems)


def test_the_checker_finds_a_hidden_case_in_the_fixtures(good):
    name, archive = good
    spec = specs_for(name)[0]
    hidden = next(a for a in spec.fresh_cases(HIDDEN_SEEDS[-1])[0].args
                  if isinstance(a, np.ndarray) and a.size > 1)

    def plant(files):
        key = f"{name}/fixtures_{name}.npz"
        with np.load(io.BytesIO(files[key]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        out = io.BytesIO()
        np.savez_compressed(out, **arrays, planted=hidden)
        files[key] = out.getvalue()

    problems = release_problems(_rewrite(archive, archive, plant), COURSE)
    assert any(re.match(rf"fixtures hold the inputs of the hidden case {spec.function}/", p) for p in problems)
