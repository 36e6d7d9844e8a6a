"""The student's check() and the official grade agree on code that breaks a loading rule, and on inputs changed
in place.

For every rule the grader applies when it loads a notebook (:mod:`autograder.loading_rules`), a submission of
ps1_softmax breaks it; the same notebook is then (a) run in a real Jupyter kernel beside the released files,
as a student runs it, and (b) graded by the official pipeline in the sandbox. Per graded function, the
visible cases that fail must be the same, and the rule's sentence must appear in both.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import loading_rules
from autograder.grade import grade_submission, load_course
from autograder.sandbox import WorkerPool
from autograder.specs import specs_for
from redteam import factory
from redteam.corpus import CORRECT, Entry

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import COURSE, answer_code, exec_namespace, import_rnncheck, notebook_cells  # noqa: E402

ASSIGNMENT = factory.ASSIGNMENT
FUNCTIONS = list(CORRECT)
MPL = loading_rules.unavailable_import("matplotlib")
TORCH = loading_rules.unavailable_import("torch")
HELPERS = loading_rules.unavailable_import("helpers")
DISPLAY = loading_rules.jupyter_only("display")
SPECS = {s.function: s for s in specs_for(ASSIGNMENT)}
DEPENDENTS = ["softmax_jacobian", "softmax_vjp", "cross_entropy_grad", "smoothed_cross_entropy_grad"]

INPLACE = '''def cross_entropy_grad(logits, labels):
    N, C = logits.shape
    logits -= np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits)
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(N), labels] -= 1.0
    return g / N
'''
USES_HELPER = CORRECT["softmax"].replace("return e / ", "return helper(e) / ")

#: name -> (the entry, the functions whose visible cases all fail, the rule's sentence or None)
RULES = {
    # 1. only the standard library, numpy and rnncheck can be imported
    "import_before_the_function": (
        Entry("import_before_the_function", "a correct softmax after an import of matplotlib",
              answers={"softmax": "import matplotlib.pyplot as plt\n" + CORRECT["softmax"]}),
        ["softmax"] + DEPENDENTS, MPL),
    "import_after_the_function": (
        Entry("import_after_the_function", "the import comes after the definition: the function exists",
              answers={"softmax": CORRECT["softmax"] + "import matplotlib.pyplot as plt\n"}),
        [], MPL),
    "import_inside_the_function": (
        Entry("import_inside_the_function", "an import of torch made when softmax runs",
              answers={"softmax": CORRECT["softmax"].replace("    shifted", "    import torch\n    shifted")}),
        ["softmax"] + DEPENDENTS, TORCH),
    "name_from_a_refused_import": (
        Entry("name_from_a_refused_import", "softmax uses a module a cell of its own imported",
              before=["import torch"],
              answers={"softmax": CORRECT["softmax"].replace("    shifted", "    torch.manual_seed(0)\n    shifted")}),
        ["softmax"] + DEPENDENTS, TORCH),
    "import_of_a_file_of_ones_own": (
        Entry("import_of_a_file_of_ones_own", "a helper module shipped beside the notebook",
              files={"helpers.py": "def helper(x):\n    return x\n"}, before=["from helpers import helper"],
              answers={"softmax": USES_HELPER}),
        ["softmax"] + DEPENDENTS, HELPERS),
    "import_that_is_handled": (
        Entry("import_that_is_handled", "a failed import caught by the cell: nothing is missing",
              answers={"softmax": "try:\n    import scipy\nexcept ImportError:\n    scipy = None\n"
                                  + CORRECT["softmax"]}),
        [], None),
    # 3. no Jupyter: its names do not exist, and magics other than %time do nothing
    "jupyter_name_before_the_function": (
        Entry("jupyter_name_before_the_function", "display() at the top of the answer cell",
              answers={"softmax": "display('softmax below')\n" + CORRECT["softmax"]}),
        ["softmax"] + DEPENDENTS, DISPLAY),
    "run_magic": (
        Entry("run_magic", "a helper brought in by %run, which does nothing when grading",
              files={"helpers.py": "def helper(x):\n    return x\n"}, before=["%run helpers.py"],
              answers={"softmax": USES_HELPER}),
        ["softmax"] + DEPENDENTS, loading_rules.run_file("helpers.py")),
    "time_magic_runs": (
        Entry("time_magic_runs", "%%time runs its cell in the namespace, in Jupyter and when grading",
              answers={"softmax": "%%time\n" + CORRECT["softmax"]}),
        [], None),
    # 5. inputs stay as they are
    "changes_an_input_in_place": (
        Entry("changes_an_input_in_place", "a correct gradient that shifts the caller's logits in place",
              answers={"cross_entropy_grad": INPLACE}),
        ["cross_entropy_grad"], loading_rules.changed_argument("cross_entropy_grad", "logits")),
    "correct": (Entry("correct", "the correct answers"), [], None),
}


def _check_outputs(folder: str) -> dict[str, tuple[float, str, str]]:
    """Run the submitted notebook in a Jupyter kernel in its folder, as a student would: function -> (points,
    the summary line, everything the check cell printed)."""
    path = os.path.join(folder, f"{ASSIGNMENT}.ipynb")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": folder}}).execute()
    out = {}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if not gid.startswith("test_"):
            continue
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        printed += "".join(o.get("evalue", "") for o in cell.outputs if o.output_type == "error")
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        points = float(results[0]["data"]["text/plain"]) if results else 0.0
        summary = results[0]["data"].get("text/html", "") if results else ""
        out[gid.removeprefix("test_")] = (points, summary, printed)
    return out


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """name -> (the official result, check()'s outputs) for every entry of RULES."""
    course = factory.make_course(str(tmp_path_factory.mktemp("rules")))
    loaded = load_course(course, ASSIGNMENT)
    out = {}
    with WorkerPool(1, public_files=loaded.public_files) as pool:
        for name, (entry, _, _) in RULES.items():
            folder = factory.make_submission(course, name, entry)
            official = grade_submission(loaded, name, seed=7, make_sandbox=pool.sandbox)
            local = tmp_path_factory.mktemp(name)
            shutil.copytree(folder, local, dirs_exist_ok=True)
            out[name] = (official, _check_outputs(str(local)))
    return out


def _official_failures(result, function: str) -> set[str]:
    spec = SPECS[function]
    return {c.case for c in result.cases[spec.grade_id] if c.case in spec.published_names and not c.passed}


def _local_failures(printed: str, function: str) -> set[str]:
    spec = SPECS[function]
    return {m.group(1) for m in re.finditer(r"^  (\w+): ", printed, flags=re.M) if m.group(1) in spec.published_names}


@pytest.mark.slow
@pytest.mark.parametrize("rule", list(RULES))
def test_check_and_the_official_grade_give_the_same_verdict(verdicts, rule):
    _, failing, sentence = RULES[rule]
    official, local = verdicts[rule]
    for function in FUNCTIONS:
        points, summary, printed = local[function]
        assert _local_failures(printed, function) == _official_failures(official, function), (function, printed)
        if function in failing:
            assert points == 0.0 and _official_failures(official, function), (function, printed)
            assert re.search(rf"{function}: 0 of \d+ visible cases pass", summary), summary
        else:
            assert points == SPECS[function].points and not _official_failures(official, function), (function, printed)
            assert re.search(rf"{function}: (\d+) of \1 visible cases pass", summary), summary
    shown_official = "\n".join(official.errors + [c.message for cases in official.cases.values() for c in cases])
    shown_local = "\n".join(printed for _, _, printed in local.values())
    if sentence is None:
        assert not official.errors and "warning" not in shown_local
        assert "modified_input" not in shown_official + shown_local
    else:
        assert sentence in shown_official and sentence in shown_local


@pytest.mark.slow
def test_a_load_error_is_a_fault_named_by_its_rule(verdicts):
    official, _ = verdicts["import_before_the_function"]
    assert official.errors == [f"cell softmax stopped when grading: {MPL}"]
    assert not any("defines no function" in c.message for cases in official.cases.values() for c in cases)
    dependent = official.cases["test_softmax_vjp"]
    visible = [c for c in dependent if c.case == "batch_of_rows"][0]
    assert "name 'softmax' is not defined: cell softmax stopped before defining it" in visible.message
    assert all(c.diagnosis == "load_failed" for c in dependent)


@pytest.mark.slow
def test_check_cells_show_one_readable_line(verdicts):
    _, local = verdicts["correct"]
    for function, (points, summary, printed) in local.items():
        assert printed == "" and re.fullmatch(rf"<pre>{function}: (\d) of \1 visible cases pass \(.*\)</pre>",
                                             summary), (printed, summary)


# -- in-place changes, without a kernel ------------------------------------------------------------------

def _release_checker(tmp_path):
    folder = tmp_path / ASSIGNMENT
    folder.mkdir()
    shutil.copy(COURSE / "rnncheck.py", folder)
    shutil.copy(COURSE / "source" / ASSIGNMENT / f"fixtures_{ASSIGNMENT}.npz", folder)
    return import_rnncheck(folder)


def test_changed_inputs_are_found_in_arrays_dicts_and_nested_containers():
    import numpy as np
    from autograder.sandbox import worker

    a, d = np.arange(4.0), {"W": np.eye(2), "inner": {"b": np.zeros(2)}}
    cases = [
        (([a], {}), lambda args, kw: args[0].__setitem__(0, 9.0), [[0]]),
        (([a, d], {}), lambda args, kw: args[1]["inner"]["b"].__iadd__(1.0), [[1, "inner", "b"]]),
        (([a], {"d": d}), lambda args, kw: kw["d"].pop("W"), [["d"]]),
        (([[a, a]], {}), lambda args, kw: args[0][1].fill(0.0), [[0]]),
        (([a, d], {}), lambda args, kw: None, []),
        (([np.array([np.nan])], {}), lambda args, kw: None, []),   # NaN stays NaN: not a change
    ]
    import copy
    for (args, kwargs), change, expected in cases:
        before = copy.deepcopy((args, kwargs))
        after = copy.deepcopy((args, kwargs))
        change(*after)
        assert loading_rules.changed_inputs(before, after) == expected
        assert [p for i, (x, y) in enumerate(zip(before[0], after[0])) for p in worker._changed_leaves(x, y, [i])[:1]] \
            + [p for k in before[1] for p in worker._changed_leaves(before[1][k], after[1].get(k), [k])[:1]] == expected


def test_worked_solutions_never_change_their_inputs(tmp_path):
    # every source notebook's worked solution, through check(): no case reports a changed input
    import io
    from contextlib import redirect_stdout

    from autograder.specs import all_assignments

    for assignment in all_assignments():
        ns = exec_namespace(answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb"))
        rnncheck = import_rnncheck(COURSE / "source" / assignment)
        for spec in specs_for(assignment):
            out = io.StringIO()
            with redirect_stdout(out):
                assert rnncheck.check(spec.function, ns[spec.function]) == spec.points
            assert "modified_input" not in out.getvalue() and "in place" not in out.getvalue()


def test_check_names_the_changed_argument(tmp_path, capsys):
    rnncheck = _release_checker(tmp_path)
    ns = {"__name__": "__main__"}
    exec("import numpy as np\n" + CORRECT["softmax"] + INPLACE, ns)
    assert rnncheck.check("cross_entropy_grad", ns["cross_entropy_grad"]) == 0.0
    printed = capsys.readouterr().out
    assert printed.count(loading_rules.changed_argument("cross_entropy_grad", "logits") + " [modified_input]") == 2


def test_the_notebooks_state_the_rules(tmp_path):
    from autograder.specs import all_assignments

    for assignment in all_assignments():
        cells = notebook_cells(COURSE / "source" / assignment / f"{assignment}.ipynb")
        intro = "".join(cells[0]["source"])
        assert loading_rules.allowed_imports_text() in intro
        assert re.search(r"\]\(https?://\S+/\w+\.html\)", intro)
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("solution"):
                assert loading_rules.UNCHANGED_ARGUMENTS in "".join(cell["source"])
