"""The course directory: source notebooks, nbgrader metadata, the release nbgrader generates, and rnncheck.

nbgrader's own commands run on a temporary copy of the course directory (``generate_assignment`` for every
set, ``validate`` on the source notebooks), as an instructor would run them.
"""
from __future__ import annotations

import inspect
import io
import json
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import (COURSE, GRADING_SEED, ROOT, answer_code, call, exec_namespace, import_rnncheck,  # noqa: E402
                      notebook_cells)

from redteam import factory  # noqa: E402

from autograder import fixtures
from autograder.specs import PUBLIC_SEED, all_assignments, specs_for

SETS = all_assignments()
NB_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution", "task"}


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _nbgrader(args, cwd):
    return factory.nbgrader(str(cwd), *args, check=False)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course directory in which nbgrader generated the release of every set."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(COURSE / "source", root / "source")
    shutil.copy(COURSE / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copy(COURSE / "rnncheck.py", root / "rnncheck.py")
    for assignment in SETS:
        done = _nbgrader(["generate_assignment", assignment, "--force"], root)
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def _solution_lines(assignment) -> list[str]:
    """Distinctive lines of the worked solutions (inside the solution regions)."""
    lines, inside = [], False
    for line in answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb").splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside and len(line.strip()) >= 24:
            lines.append(line.strip())
    return lines


def _reference_lines() -> list[str]:
    """Code lines (not docstrings or comments) of the rnngrad modules the specs use as references."""
    import rnngrad.char_lm, rnngrad.cross_entropy, rnngrad.extras, rnngrad.forward_mode  # noqa: E401
    import rnngrad.hidden_jacobians, rnngrad.layout, rnngrad.rnn, rnngrad.softmax  # noqa: E401
    import rnngrad.truncation, rnngrad.two_state_cell  # noqa: E401
    import rnngrad.gated_jacobians, rnngrad.gru, rnngrad.lstm  # noqa: E401
    modules = [rnngrad.char_lm, rnngrad.cross_entropy, rnngrad.extras, rnngrad.forward_mode,
               rnngrad.hidden_jacobians, rnngrad.layout, rnngrad.rnn, rnngrad.softmax, rnngrad.truncation,
               rnngrad.two_state_cell, rnngrad.gated_jacobians, rnngrad.gru, rnngrad.lstm]
    out = []
    for module in modules:
        for line in inspect.getsource(module).splitlines():
            s = line.strip()
            if len(s) >= 30 and not s.startswith(("#", '"', "'", ">>>", "...")) and ("=" in s or "return" in s):
                out.append(s)
    return out


def _flat(x) -> list[np.ndarray]:
    if isinstance(x, dict):
        return [a for v in x.values() for a in _flat(v)]
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in _flat(v)]
    return [x] if isinstance(x, np.ndarray) else []


# ------------------------------------------------------------------------------------------- source side
def test_notebooks_and_fixtures_are_up_to_date_with_content_and_specs():
    build = subprocess.run([sys.executable, str(COURSE / "build_notebooks.py"), "--check"], capture_output=True,
                           text=True, cwd=ROOT)
    assert build.returncode == 0, build.stderr
    assert fixtures.main(["--check"]) == 0


@pytest.mark.parametrize("assignment", SETS)
def test_source_notebook_has_valid_nbgrader_cells_for_every_spec(assignment):
    cells = notebook_cells(COURSE / "source" / assignment / f"{assignment}.ipynb")
    metas = [c["metadata"]["nbgrader"] for c in cells if "nbgrader" in c.get("metadata", {})]
    ids = [m["grade_id"] for m in metas]
    assert len(ids) == len(set(ids))
    for meta in metas:
        assert NB_KEYS <= set(meta) and meta["schema_version"] == 3
        assert ("points" in meta) == meta["grade"]
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: (i, c) for i, c in enumerate(cells)
             if "nbgrader" in c.get("metadata", {})}
    for spec in specs_for(assignment):
        i, answer = by_id[spec.function]
        meta = answer["metadata"]["nbgrader"]
        assert answer["cell_type"] == "code" and meta["solution"] and not meta["grade"] and answer["id"] == spec.function
        assert "### BEGIN SOLUTION" in _source(answer) and f"def {spec.function}(" in _source(answer)
        j, test = by_id[spec.grade_id]
        tmeta = test["metadata"]["nbgrader"]
        assert j == i + 1 and tmeta["grade"] and tmeta["locked"] and not tmeta["solution"]
        assert tmeta["points"] == spec.points
        assert _source(test) == f'check("{spec.function}", {spec.function})'
        # the question above the answer states the spec's points
        assert f"({spec.points:g} points)" in _source(cells[i - 1])
    derivations = [m for m in metas if m["grade_id"].startswith("derivation_")]
    assert derivations, "every set has a derivation graded by hand"
    for meta in derivations:
        i, cell = by_id[meta["grade_id"]]
        assert cell["cell_type"] == "markdown" and meta["solution"] and meta["grade"] and meta["points"] > 0
        rubric = cells[i + 1]
        assert rubric["metadata"]["nbgrader"]["locked"] and "Rubric" in _source(rubric)
        assert f"({meta['points']:g} points" in _source(rubric)
    total = sum(m["points"] for m in metas if m["grade"])
    assert total == 20


@pytest.mark.parametrize("assignment", SETS)
def test_answer_cells_are_plain_numpy(assignment):
    code = answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb")
    assert "rnngrad" not in code and "autograder" not in code and "torch" not in code


@pytest.mark.parametrize("assignment", SETS)
def test_rnncheck_gives_full_visible_points_to_the_worked_solution(assignment):
    ns = exec_namespace(answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb"))
    rnncheck = import_rnncheck(COURSE / "source" / assignment)
    for spec in specs_for(assignment):
        out = io.StringIO()
        with redirect_stdout(out):
            points = rnncheck.check(spec.function, ns[spec.function])
        assert points == spec.points and out.getvalue() == ""          # nothing to warn about, no case fails
        assert re.fullmatch(rf"{spec.function}: (\d+) of \1 visible cases pass \({spec.points:g} of "
                            rf"{spec.points:g} points; hidden cases are graded later\)", points.line)
        assert points._repr_html_() == f"<pre>{points.line}</pre>" and repr(points) == repr(spec.points)


def test_the_checker_exists_once_and_the_release_copies_it(course):
    # one rnncheck.py in the course folder, none in the source folders; every release holds that very file
    assert not list((COURSE / "source").glob("*/rnncheck.py"))
    assert fixtures.checker_is_current()
    for assignment in SETS:
        assert (course / "release" / assignment / "rnncheck.py").read_bytes() == (COURSE / "rnncheck.py").read_bytes()
    # the modules it is made of share one namespace there: no top-level name may be defined twice
    import ast
    import collections
    tree = ast.parse((COURSE / "rnncheck.py").read_text())
    defined = collections.Counter(
        [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        + [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)])
    assert [name for name, k in defined.items() if k > 1 and name != "__all__"] == []


def test_nbgrader_validate_passes_the_source_notebooks(tmp_path):
    shutil.copytree(COURSE / "source", tmp_path / "source")
    shutil.copy(COURSE / "nbgrader_config.py", tmp_path)
    shutil.copy(COURSE / "rnncheck.py", tmp_path)      # the kernels nbgrader starts find it at the end of their path
    done = _nbgrader(["validate", *[f"source/{a}/{a}.ipynb" for a in SETS]], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("Success! Your notebook passes all the tests.") == len(SETS), done.stdout


# ------------------------------------------------------------------------------------------- release side
@pytest.mark.parametrize("assignment", SETS)
def test_release_ships_only_the_notebook_the_checker_and_the_fixtures(course, assignment):
    files = sorted(p.name for p in (course / "release" / assignment).iterdir())
    assert files == sorted([f"{assignment}.ipynb", "rnncheck.py", f"fixtures_{assignment}.npz"])


@pytest.mark.parametrize("assignment", SETS)
def test_release_contains_no_solution_and_no_reference_code(course, assignment):
    release = course / "release" / assignment
    texts = {p.name: p.read_text() for p in release.iterdir() if p.suffix in (".py", ".ipynb")}
    nb = texts[f"{assignment}.ipynb"]
    assert "BEGIN SOLUTION" not in nb and "model answer" not in nb.lower() and "source notebook" not in nb.lower()
    solution = _solution_lines(assignment)
    assert len(solution) >= 5 and len(_reference_lines()) > 100
    for name, text in texts.items():
        leaked = [line for line in solution if line in text]
        assert not leaked, (name, leaked[:3])
        leaked = [line for line in _reference_lines() if line in text]
        assert not leaked, (name, leaked[:3])
        assert "import rnngrad" not in text and "from rnngrad" not in text
    assert "autograder" not in texts["rnncheck.py"].split('"""', 2)[2]  # only numpy and the standard library
    imports = set(re.findall(r"^(?:import|from) (\w+)", texts["rnncheck.py"], flags=re.M))
    assert imports <= {"__future__", "numpy", "math", "dataclasses", "glob", "json", "os", "sys", "traceback",
                       "ast", "builtins", "html", "importlib", "linecache", "re", "types"}


@pytest.mark.parametrize("assignment", SETS)
def test_released_rubrics_quote_no_formula_of_the_model_answer_that_the_question_does_not_show(course, assignment):
    # the rubric cells are locked, so they reach the students: they may say what earns points, not the result
    source = notebook_cells(COURSE / "source" / assignment / f"{assignment}.ipynb")
    by_id = {c["id"]: c for c in source}
    released = notebook_cells(course / "release" / assignment / f"{assignment}.ipynb")
    rubrics = [c for c in released if c["id"].startswith("rubric_")]
    assert rubrics and len(rubrics) == sum(c["id"].startswith("derivation_") for c in source)
    for rubric in rubrics:
        k = rubric["id"].removeprefix("rubric_")
        question, answer = _source(by_id[f"question_derivation_{k}"]), _source(by_id[f"derivation_{k}"])
        quoted = set(re.findall(r"`([^`]+)`", _source(rubric)))
        leaked = {q for q in quoted if q in answer and q not in question and not q.startswith("derivation_")}
        assert not leaked, (rubric["id"], leaked)


@pytest.mark.parametrize("assignment", SETS)
def test_release_fixtures_hold_only_visible_cases(course, assignment):
    with np.load(course / "release" / assignment / f"fixtures_{assignment}.npz", allow_pickle=False) as data:
        manifest = json.loads(str(data["manifest"]))
        arrays = [data[k] for k in data.files if k != "manifest"]
    for spec in specs_for(assignment):
        names = [c["name"] for c in manifest["functions"][spec.function]["cases"]]
        assert names == [c.name for c in spec.cases(PUBLIC_SEED, hidden=False)]
        for case in spec.cases(GRADING_SEED):
            if not case.hidden:
                continue
            for a in _flat(case.args):
                if a.dtype.kind == "f" and a.size > 1:
                    assert not any(b.shape == a.shape and np.array_equal(a, b) for b in arrays), case.name


@pytest.mark.parametrize("assignment", SETS)
def test_release_stubs_score_zero_everywhere_without_crashing(course, assignment):
    release = course / "release" / assignment
    code = answer_code(release / f"{assignment}.ipynb")
    assert code.count("raise NotImplementedError()") == len(specs_for(assignment))
    ns = exec_namespace(code)
    rnncheck = import_rnncheck(release)
    for spec in specs_for(assignment):
        results = [spec.evaluate(case, call(ns[spec.function], case)) for case in spec.cases(GRADING_SEED)]
        assert all(r.points == 0 and r.diagnosis == "not_implemented" for r in results)
        out = io.StringIO()
        with redirect_stdout(out):
            assert rnncheck.check(spec.function, ns[spec.function]) == 0.0
        assert "not implemented yet" in out.getvalue() and "warning" not in out.getvalue()


@pytest.mark.parametrize("assignment", SETS)
def test_release_checker_gives_full_visible_points_to_the_worked_solution(course, assignment):
    ns = exec_namespace(answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb"))
    rnncheck = import_rnncheck(course / "release" / assignment)
    with redirect_stdout(io.StringIO()):
        scores = [rnncheck.check(s.function, ns[s.function]) for s in specs_for(assignment)]
    assert scores == [s.points for s in specs_for(assignment)]


def test_nbgrader_autograde_gives_visible_credit_and_shows_why_it_is_not_the_official_grade(course, tmp_path):
    # nbgrader's own autograde runs the notebook's check cells in the student's kernel: the worked
    # solution gets the visible points and the release none, but a notebook that rebinds check() gets
    # every point (the in-kernel weakness the course's pipeline exists for; see autograder/SECURITY.md)
    from nbgrader.api import Gradebook

    assignment = "ps1_softmax"
    root = tmp_path / "course"
    shutil.copytree(course, root)
    release = root / "release" / assignment
    nb = json.loads((release / f"{assignment}.ipynb").read_text())
    solved = {c["id"]: c for c in notebook_cells(COURSE / "source" / assignment / f"{assignment}.ipynb")}
    specs = specs_for(assignment)

    def submit(student, cells):
        folder = root / "submitted" / student / assignment
        shutil.copytree(release, folder)
        (folder / f"{assignment}.ipynb").write_text(json.dumps({**nb, "cells": cells}))
        (folder / "timestamp.txt").write_text("2026-01-05 10:00:00.000000 UTC\n")

    submit("honest", [{**c, "source": solved[c["id"]]["source"]} if c["id"] in {s.function for s in specs}
                      else c for c in nb["cells"]])
    submit("blank", nb["cells"])
    rebind = {"cell_type": "code", "id": "mine", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "def check(name, function):\n    pass"}
    setup = next(i for i, c in enumerate(nb["cells"]) if c["id"] == "setup")
    submit("rebinds_check", nb["cells"][:setup + 1] + [rebind] + nb["cells"][setup + 1:])
    done = _nbgrader(["autograde", assignment, "--create"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "rnn-derivatives") as gb:
        scores = {s: gb.find_submission(assignment, s).code_score for s in ("honest", "blank", "rebinds_check")}
    full = sum(s.points for s in specs)
    assert scores == {"honest": full, "blank": 0.0, "rebinds_check": full}
