"""Helpers shared by the spec, assignment and diagnosis tests: run trusted test code in-process.

Only course-owned code (the worked solutions of the source notebooks, the mutant solutions in this folder) is
executed here; grading real submissions goes through the sandbox.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
MUTANTS = Path(__file__).resolve().parent
GRADING_SEED = 314159  # stands in for the instructor's secret seed


def call(func, case):
    """Call ``func`` on a case like the sandbox would, returning a CallResult-like object."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in case.args]
    kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()}
    try:
        value = func(*args, **kwargs)
    except Exception as exc:  # what the sandbox reports: type and message
        return SimpleNamespace(ok=False, value=None, error=f"{type(exc).__name__}: {exc}", stdout="", stderr="",
                               timed_out=False)
    return SimpleNamespace(ok=True, value=value, error=None, stdout="", stderr="", timed_out=False)


def grade_function(spec, func, seed=GRADING_SEED):
    """All CaseResults of ``func`` on the visible and hidden cases of ``spec``."""
    return [spec.evaluate(case, call(func, case)) for case in spec.cases(seed)]


def notebook_cells(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text())["cells"]


def answer_code(path: Path) -> str:
    """The source of every code answer cell of a notebook (nbgrader ``solution: true``), joined."""
    parts = []
    for cell in notebook_cells(path):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            parts.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
    return "\n\n".join(parts)


def exec_namespace(code: str) -> dict:
    namespace = {"__name__": "submission"}
    exec(compile("import numpy as np\n" + code, "<answer cells>", "exec"), namespace)
    return namespace


def load_mutant(path: Path) -> dict:
    """Execute a mutant solution file; it defines FUNCTION, DIAGNOSIS and the wrong function."""
    return exec_namespace(Path(path).read_text())


def import_rnncheck(folder: Path):
    """Import the checker of one problem-set folder as a fresh module reading that folder's fixtures: the
    folder's own rnncheck.py (a release), else the course's one rnncheck.py (a source folder)."""
    import importlib.util
    path = folder / "rnncheck.py" if (folder / "rnncheck.py").exists() else COURSE / "rnncheck.py"
    spec = importlib.util.spec_from_file_location(f"rnncheck_{folder.name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    module.use_fixtures(folder / f"fixtures_{folder.name}.npz")
    return module
