"""What a downloadable student release of a problem set may hold, and a checker that lists what it must not.

An archive ``<set>.zip`` holds ``<set>/<set>.ipynb``, ``<set>/fixtures_<set>.npz`` and ``<set>/rnncheck.py``.
:func:`release_problems` reports everything that would give a student more than the release should:
another file, nbgrader's solution or hidden-test markers, a line of a worked solution or of a model answer
from the source notebook, a fixture case other than the published ones, the inputs of a hidden case, or a
checker that imports the reference code.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from autograder.specs import specs_for

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
#: seeds that stand in for the instructor's secret grading seed when looking for hidden cases' inputs
HIDDEN_SEEDS = (1, 314159)
#: shortest line of a worked solution or model answer that counts as giving it away
DISTINCTIVE = 24


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def secret_lines(source_notebook: Path) -> set[str]:
    """Distinctive lines of the worked solutions (inside the solution regions) and of the model answers.

    Args:
        source_notebook: ``source/<set>/<set>.ipynb`` of the course directory.

    Returns:
        stripped lines of at least ``DISTINCTIVE`` characters that appear nowhere else in the notebook.
    """
    secret, public = set(), set()
    for cell in json.loads(source_notebook.read_text(encoding="utf-8"))["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        inside = cell["cell_type"] == "markdown" and meta.get("solution", False)   # a model answer
        for line in _source(cell).splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif len(line.strip()) >= DISTINCTIVE:
                (secret if inside else public).add(line.strip())
    return secret - public


def _arrays(x) -> list[np.ndarray]:
    if isinstance(x, dict):
        return [a for v in x.values() for a in _arrays(v)]
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in _arrays(v)]
    return [x] if isinstance(x, np.ndarray) else []


def _fixture_problems(name: str, data: bytes) -> list[str]:
    problems = []
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        manifest = json.loads(str(npz["manifest"]))
        arrays = [npz[k] for k in npz.files if k != "manifest"]
    for spec in specs_for(name):
        cases = [c["name"] for c in manifest["functions"].get(spec.function, {}).get("cases", [])]
        if cases != spec.published_names:
            problems.append(f"fixtures of {spec.function}: cases {cases}, "
                            f"expected the published {spec.published_names}")
        for seed in HIDDEN_SEEDS:
            for case in spec.fresh_cases(seed):
                for a in _arrays(case.args) + _arrays(case.kwargs):
                    if a.dtype.kind == "f" and a.size > 1 and any(b.shape == a.shape and np.array_equal(a, b)
                                                                  for b in arrays):
                        problems.append(f"fixtures hold the inputs of the hidden case {spec.function}/{case.name}")
    return problems


def release_problems(archive: Path, course: Path) -> list[str]:
    """Everything in the student release ``archive`` that students must not receive.

    Args:
        archive: ``<set>.zip``, the download of one problem set.
        course: the course directory whose ``source/<set>/<set>.ipynb`` the release was made from.

    Returns:
        one sentence per problem; empty for a clean release.

    Example (after a build; tests/test_problem_set_downloads.py runs it on every archive)::

        release_problems(Path("_build/html/problem-sets/ps3_bptt.zip"), Path("assignments"))   # -> []
    """
    name = archive.stem
    expected = {f"{name}/{name}.ipynb", f"{name}/fixtures_{name}.npz", f"{name}/rnncheck.py"}
    with zipfile.ZipFile(archive) as zf:
        files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    problems = [f"unexpected file {f}" for f in sorted(set(files) - expected)]
    problems += [f"missing file {f}" for f in sorted(expected - set(files))]
    texts = {f: data.decode("utf-8", errors="replace") for f, data in files.items() if not f.endswith(".npz")}
    for f, text in sorted(texts.items()):
        problems += [f"{f} holds nbgrader's marker {m!r}" for m in MARKERS if m in text]
    notebook = texts.get(f"{name}/{name}.ipynb", "")
    released_lines = {line.strip() for cell in json.loads(notebook or '{"cells": []}')["cells"]
                      for line in _source(cell).splitlines()}
    leaked = sorted(secret_lines(course / "source" / name / f"{name}.ipynb") & released_lines)
    problems += [f"{name}.ipynb holds a line of a worked solution or model answer: {line!r}" for line in leaked]
    checker = texts.get(f"{name}/rnncheck.py", "")
    problems += [f"rnncheck.py imports {m}" for m in ("rnngrad", "autograder")
                 if f"import {m}" in checker or f"from {m}" in checker]
    if f"{name}/fixtures_{name}.npz" in files:
        problems += _fixture_problems(name, files[f"{name}/fixtures_{name}.npz"])
    return problems
