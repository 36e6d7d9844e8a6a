"""Honest Python earns its points: the answer cells as the sandbox runs them.

Three parts: the plain-Python rendition the static analysis reads (never run); the loader program (run
here on benign cells, with IPython's transformer installed the way the fork server installs it), which
decides from the namespace whether a graded function exists; and the real sandbox, with the released
files (``rnncheck.py``, the fixtures) bound read-only and IPython's transformer loaded by the fork server.
"""
from __future__ import annotations

import ast
import json
import os
import re

import numpy as np
import pytest

from autograder import run
from autograder.answer_code import CodeUnit, analysis_source, loader_source, unit
from autograder.grade import SubmissionResult
from autograder.sandbox import WorkerPool, public
from autograder.specs import specs_for
from redteam.corpus import CORRECT

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(REPO, "assignments", "source", "ps1_softmax")
# what the release folder holds beside the notebook: the course's one checker and the set's fixtures
PUBLIC = [os.path.join(REPO, "assignments", "rnncheck.py"), os.path.join(SOURCE, "fixtures_ps1_softmax.npz")]
SETUP = "import numpy as np\nfrom rnncheck import check, load_case, case_names"


# -- the rendition for the static analysis ----------------------------------------------------------

@pytest.mark.parametrize("text, python", [
    ("x = (1\n!= 2)\n", "x = (1\n!= 2)\n"),                         # plain Python stays as it is
    ("y = (3\n% 2)\n", "y = (3\n% 2)\n"),
    ("%%time\ndef f(x):\n    return x\n", "\ndef f(x):\n    return x\n"),   # the body of %%time runs
    ("%%bash\nls -l\necho $HOME\n", "\n\n\n"),                       # not Python: nothing left
    ("%timeit f(1)\n!ls\nf?\nnp.sum??\nfiles = !ls\n", "pass\npass\npass\npass\nfiles = None\n"),
    ("if True:\n    %time y = f(3)\n", "if True:\n    y = f(3)\n"),
    ("%matplotlib inline\nz = x % 2\n", "pass\nz = x % 2\n"),
    ("def f(:\n%time x\n", "def f(:\n%time x\n"),                    # still not Python: left as it is
])
def test_analysis_source_is_plain_python_with_the_lines_kept(text, python):
    assert analysis_source(text) == python
    assert analysis_source(text).count("\n") == text.count("\n")


def test_a_unit_keeps_the_cell_as_written_for_the_sandbox():
    plain = unit("cell f", "def f(x):\n    return x\n", True)
    assert plain == CodeUnit("cell f", "def f(x):\n    return x\n", True) and plain.text == plain.source
    magic = unit("cell g", "%%time\ndef g():\n    pass\n", True)
    assert magic.text == "%%time\ndef g():\n    pass\n" and magic.source == "\ndef g():\n    pass\n"


def test_the_cells_travel_as_one_json_string_and_never_as_code():
    tricky = "s = '''\\\"\"\"'''\n_grader_report = 1\nimport os; os._exit(1)  # \\n\")\n"
    src = loader_source([unit("cell #3", tricky, True)], ["f"])
    tree = ast.parse(src)
    first = tree.body[0]
    assert isinstance(first, ast.Assign) and first.targets[0].id == "_grader_data"
    assert json.loads(first.value.value)["cells"] == [["cell #3", tricky, True]]
    program = open(os.path.join(REPO, "autograder", "loader_program.py")).read()
    assert src.split("\n", 1)[1] == program    # the rest is the program file, unchanged


# -- the loader program, run here on benign cells -------------------------------------------------------

@pytest.fixture
def transformer(monkeypatch):
    """IPython's transformer under the name the fork server gives it."""
    from IPython.core import inputtransformer2

    monkeypatch.setitem(__import__("sys").modules, "_grader_inputtransformer2", inputtransformer2)
    return inputtransformer2


def load(cells, functions=(), student=True):
    """Run the loader program here on benign cells; returns (namespace, report)."""
    units = [unit(f"cell {i}", text, student) if isinstance(text, str) else unit(*text) for i, text in
             enumerate(cells)]
    namespace = {"__name__": "submission"}
    exec(compile(loader_source(units, list(functions)), "<loader>", "exec"), namespace)  # benign, on purpose
    return namespace, json.loads(namespace["_grader_report"]())


HONEST_BINDINGS = {
    "def under if": "if True:\n    def f(x):\n        return 2 * x\n",
    "def in try": "try:\n    import scipy\nexcept ImportError:\n    def f(x):\n        return 2 * x\n",
    "def in else of try": "try:\n    pass\nexcept Exception:\n    raise\nelse:\n    def f(x):\n        return 2 * x\n",
    "def under with": "import contextlib\nwith contextlib.suppress(ZeroDivisionError):\n"
                      "    def f(x):\n        return 2 * x\n",
    "def under main guard": "if __name__ == '__main__':\n    def f(x):\n        return 2 * x\n",
    "tuple assignment": "def _a(x):\n    return 2 * x\ndef _b(x):\n    return x\nf, g = _a, _b\n",
    "annotated assignment": "from typing import Callable\nf: Callable = lambda x: 2 * x\n",
    "decorator": "import functools\ndef logged(fn):\n    @functools.wraps(fn)\n    def inner(*a):\n"
                 "        return fn(*a)\n    return inner\n@logged\ndef f(x):\n    return 2 * x\n",
    "lambda": "f = lambda x: 2 * x\n",
    "callable object": "class Doubler:\n    def __call__(self, x):\n        return 2 * x\nf = Doubler()\n",
    "class": "class f:\n    def __new__(cls, x):\n        return 2 * x\n",
    "globals in a helper": "def register(name, fn):\n    globals()[name] = fn\nregister('f', lambda x: 2 * x)\n",
    "for loop": "for _name in ['f']:\n    def f(x):\n        return 2 * x\n",
    "walrus": "(f := (lambda x: 2 * x))\n",
    "%%time around the def": "%%time\ndef f(x):\n    return 2 * x\n",
    "%%capture around the def": "%%capture out\nprint('hidden')\ndef f(x):\n    return 2 * x\n",
    "%time of an assignment": "%time f = lambda x: 2 * x\n",
    "magics and shell lines": "%matplotlib inline\n!pip list\nfiles = !ls\nnp?\n"
                              "def f(x):\n    return 2 * x\n%timeit f(1)\n",
    "continuation lines that start like magics": "def f(x):\n    y = (x\n!= None)\n    z = (x\n% 7)\n"
                                                 "    return 2 * x if y else z\n",
}


@pytest.mark.parametrize("how", HONEST_BINDINGS)
def test_a_function_counts_however_it_is_bound(transformer, how):
    namespace, report = load(["import numpy as np", HONEST_BINDINGS[how]], ["f"])
    assert report["functions"] == {"f": ["found", ""]}, report
    assert report["errors"] == [] and report["ipython"] is True
    assert namespace["f"](21) == 42


def test_why_a_function_is_missing(transformer):
    _, report = load(["raise ValueError('before the def')\ndef f(x):\n    return x\n", "g = 3\n"],
                     ["f", "g", "h"])
    assert report["functions"] == {"f": ["missing", ""], "g": ["not_callable", "int"], "h": ["missing", ""]}
    assert report["errors"] == [["cell 0", "ValueError: before the def"]]
    parsed = run._parse_report(json.dumps(report))
    assert run._missing("f", dict(parsed, errors=[("cell f", "ValueError: x")]))[0].startswith(
        "f is not defined: its answer cell raised")
    assert run._missing("f", parsed)[0].startswith("f is not defined after running your cells")
    assert run._missing("g", parsed) == ("g is a int, not a function", "missing_function")
    assert run._missing("h", dict(parsed, errors=[])) == ("h is not defined in your answer cells",
                                                          "missing_function")
    assert run._missing("f", {"errors": [], "functions": {"f": ("found", "")}}) is None


def test_the_release_cells_failures_are_not_reported(transformer):
    _, report = load([("cell setup", "from not_here import check", False), "def f(x):\n    return x\n"], ["f"])
    assert report["errors"] == [] and report["functions"]["f"] == ["found", ""]


def test_magics_do_what_they_do_in_jupyter(transformer):
    namespace, report = load([
        "%%time\ndef timed():\n    return 1\n",
        "%%timeit\ndef in_timeit():\n    return 1\n",       # IPython runs this body inside a function
        "%%bash\nrm -rf /\n",
        "%time bound_by_time = 5\n",
        "files = !ls\n!echo hi\n%load_ext autoreload\n%autoreload 2\ntimed?\n",
        "%%capture captured\n%time inner = 7\n",
        "name = __name__\nshell = get_ipython()\n",
    ], ["timed", "in_timeit"])
    assert report["functions"] == {"timed": ["found", ""], "in_timeit": ["missing", ""]}
    assert report["errors"] == []
    assert namespace["bound_by_time"] == 5 and namespace["inner"] == 7
    assert namespace["files"] == [] and namespace["name"] == "__main__"
    assert "captured" not in namespace          # (the captured output object is not made)


#: cells whose code IPython's line transforms change though Python would compile them as they are (a prompt
#: that parses as an annotated assignment, an indented first comment), cells with IPython escapes, plain cells
AS_JUPYTER_RUNS_THEM = [
    "x = 5\n", "\n\n\ny = 2\nz = y * 3", "In [1]: x = 5\n", ">>> x = 5\n... \n", "  # note\nif True:\n  x = 1\n",
    "    x = 1\n    y = x + 1\n", "%time x = 4\n", "x = 3\nx?\n", "files = !ls\nx = len(files)\n",
    "%%time\nx = 6\n", "x = (1\n% 7)\n", "def f(:\n", "x = '%time'  # ?\n",
]


@pytest.mark.parametrize("text", AS_JUPYTER_RUNS_THEM)
def test_each_cell_runs_as_ipythons_transform_cell_makes_it(transformer, text):
    """The loader skips IPython's token transforms for a cell that is plain Python after the line transforms:
    what runs is what transform_cell would give."""
    namespace, _ = load([])

    def outcome(compiled):
        ns = {"get_ipython": namespace["get_ipython"]}
        try:
            exec(compiled(), ns)
        except Exception as exc:  # noqa: BLE001 - compared, not hidden
            return type(exc).__name__
        return {k: v for k, v in ns.items() if k in ("x", "y", "z", "files")}

    theirs = outcome(lambda: compile(transformer.TransformerManager().transform_cell(text), "<c>", "exec"))
    assert outcome(lambda: namespace["_grader_compile"](text, "c")) == theirs


def test_plain_cells_are_not_tokenized(transformer, monkeypatch):
    """Tokenizing a cell is most of the transformer's time: only a cell with IPython escapes pays it."""
    calls = []
    real = transformer.TransformerManager.do_token_transforms
    monkeypatch.setattr(transformer.TransformerManager, "do_token_transforms",
                        lambda self, lines: calls.append(1) or real(self, lines))
    namespace, report = load(["import numpy as np\n", "def f(x):\n    return 2 * x\n"], ["f"])
    assert report["functions"]["f"] == ["found", ""] and calls == []
    namespace, report = load(["%time y = 1\ndef f(x):\n    return 2 * x\n"], ["f"])
    assert report["functions"]["f"] == ["found", ""] and calls and namespace["y"] == 1


def test_without_the_transformer_cells_run_as_they_are(monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "_grader_inputtransformer2", raising=False)
    _, report = load(["def f(x):\n    return x\n", "%time g = 1\n"], ["f", "g"])
    assert report["ipython"] is False and report["functions"]["f"] == ["found", ""]
    assert report["errors"][0][0] == "cell 1" and report["errors"][0][1].startswith("SyntaxError")


@pytest.mark.parametrize("text", [
    None, 42, "not json", "[]", json.dumps({"errors": [], "functions": []}),
    json.dumps({"errors": [["a"]], "functions": {}}),
    json.dumps({"errors": [], "functions": {"f": ["maybe", ""]}}),
    json.dumps({"errors": [], "functions": {"f": "found"}}),
    "[" * 100_000,
    json.dumps({"errors": [], "functions": {}, "pad": "x" * run.MAX_REPORT_CHARS}),
])
def test_a_malformed_report_is_ignored(text):
    assert run._parse_report(text) is None


def test_a_report_is_cut_to_size_and_plain_words():
    report = run._parse_report(json.dumps({
        "errors": [["cell x" * 50, "E" * 1000]] * 30,
        "functions": {"f": ["not_callable", "\x1b[31mred\u202e" + "T" * 100]}, "ipython": 1}))
    assert len(report["errors"]) == 20 and len(report["errors"][0][0]) == 100 and len(report["errors"][0][1]) == 240
    assert report["functions"]["f"] == ("not_callable", "31mred" + "T" * 51) and report["ipython"] is False


# -- the files that enter the sandbox -------------------------------------------------------------------

def test_release_files_are_the_files_beside_the_notebook(tmp_path):
    for name in ("set.ipynb", "rnncheck.py", "fixtures_set.npz", ".hidden"):
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link.py").symlink_to(tmp_path / "rnncheck.py")
    assert public.release_files(str(tmp_path)) == [str(tmp_path / "fixtures_set.npz"), str(tmp_path / "rnncheck.py")]


def test_the_released_checker_imports_only_what_the_sandbox_offers():
    assert [name for _, name in public.check_public_files(PUBLIC, ["numpy"])] == [
        "rnncheck.py", "fixtures_ps1_softmax.npz"]


@pytest.mark.parametrize("name, text, reason", [
    ("helper.py", "import scipy\n", "imports \\['scipy'\\]"),
    ("helper.py", "def f():\n    from rnngrad import softmax\n", "imports \\['rnngrad'\\]"),
    ("helper.py", "from . import x\n", "imports \\['.'\\]"),
    ("bad name.py", "x = 1\n", "name that cannot be used"),
    (".hidden.py", "x = 1\n", "name that cannot be used"),
])
def test_public_files_that_are_refused(tmp_path, name, text, reason):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=reason):
        public.check_public_files([str(tmp_path / name)], ["numpy"])


def test_links_folders_duplicates_and_too_many_files_are_refused(tmp_path):
    (tmp_path / "a.py").write_text("import numpy\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.py").write_text("")
    for paths, reason in (([tmp_path / "link.py"], "not a regular file"), ([tmp_path / "sub"], "not a regular file"),
                          ([tmp_path / "a.py", tmp_path / "sub" / "a.py"], "two files are named"),
                          ([tmp_path / "missing.py"], "cannot be read"),
                          ([tmp_path / "a.py"] * (public.MAX_PUBLIC_FILES + 1), "at most")):
        with pytest.raises(ValueError, match=reason):
            public.check_public_files([str(p) for p in paths], ["numpy"])
    assert public.check_public_files([str(tmp_path / "a.py")], ["numpy"]) == [(str(tmp_path / "a.py"), "a.py")]


def test_ipython_transformer_files_are_found_and_import_only_the_standard_library():
    pairs = public.ipython_files()
    assert [name for _, name in pairs] == ["inputtransformer2.py", "tokenutil.py"]
    assert all(os.path.isfile(src) for src, _ in pairs)


def test_bind_arguments_are_read_only(tmp_path):
    args = public.bind_args(PUBLIC, ["numpy"])
    binds = [args[i:i + 3] for i, a in enumerate(args) if a.endswith("bind")]
    assert all(b[0] == "--ro-bind" for b in binds) and len(binds) == 4
    assert {b[2] for b in binds} == {"/sandbox/release/rnncheck.py", "/sandbox/release/fixtures_ps1_softmax.npz",
                                     "/sandbox/ipython/inputtransformer2.py", "/sandbox/ipython/tokenutil.py"}


# -- the real sandbox -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pool():
    with WorkerPool(1, public_files=PUBLIC) as p:
        yield p


PROBE = '''
import os, sys
def probe():
    import rnncheck
    out = {"rnncheck": rnncheck.__file__, "cwd_files": sorted(os.listdir(".")), "path": sys.path,
           "fixture_rows": int(np.load("fixtures_ps1_softmax.npz")["manifest"].size)}
    for what, action in (("write", lambda: open("rnncheck.py", "a").write("x")),
                         ("ipython", lambda: __import__("IPython")),
                         ("own module", lambda: (open("mine.py", "w").write("X = 1"), __import__("mine")))):
        try:
            action()
            out[what] = "allowed"
        except Exception as exc:
            out[what] = type(exc).__name__
    return json.dumps(out)
import json
'''


def test_released_files_are_read_only_and_importable_but_the_working_directory_is_not(pool):
    assert pool.zygote_info["ipython_transformer"] is True
    first = unit("cell #1", "import sys\npreloaded = sorted({'rnncheck', '_grader_inputtransformer2'} & set(sys.modules))\n"
                 "ipython_loaded = 'IPython' in sys.modules\n", True)
    cells = [first, unit("cell setup", SETUP, False), unit("cell #3", PROBE, True)]
    with pool.sandbox(loader_source(cells)) as sb:
        assert sb.load_error is None
        got = json.loads(sb.call("probe").value)
    with pool.sandbox(loader_source(cells[:1] + [unit("cell #2", "def f():\n    return preloaded, ipython_loaded\n",
                                                      True)])) as sb:
        assert sb.call("f").value == (["_grader_inputtransformer2", "rnncheck"], False)  # loaded once, by the fork server
    assert got["rnncheck"] == "/sandbox/release/rnncheck.py"
    assert got["cwd_files"] == ["fixtures_ps1_softmax.npz", "rnncheck.py"]
    assert got["path"][-1] == "/sandbox/release" and "" not in got["path"] and "/tmp" not in got["path"]
    assert got["fixture_rows"] == 1
    assert got["write"] in ("OSError", "PermissionError")      # read-only, through the link too
    assert got["ipython"] == "ModuleNotFoundError"               # the transformer, not IPython
    assert got["own module"] == "ModuleNotFoundError"            # the working directory is not on the path


def test_the_notebooks_helpers_work_at_load_time(pool):
    cell = ("args, kwargs = load_case('softmax', case_names('softmax')[0])\n"
            "raw = np.load('fixtures_ps1_softmax.npz')\n" + CORRECT["softmax"] +
            "points = check('softmax', softmax)\nprint(points.line)\n")
    with pool.sandbox(loader_source([unit("cell setup", SETUP, False), unit("cell softmax", cell, True)],
                                    ["softmax"])) as sb:
        report = json.loads(sb.call("_grader_report").value)
        assert report == {"errors": [], "functions": {"softmax": ["found", ""]}, "ipython": True}
        assert re.fullmatch(r"softmax: (\d+) of \1 visible cases pass \(2 of 2 points; hidden cases are graded "
                            r"later\)\n", sb.load_stdout), sb.load_stdout
        assert sb.call("points").error.startswith("TypeError")  # a float, not a function: called by name only
        value = sb.call("softmax", [np.zeros((1, 4))]).value
    assert np.allclose(value, 0.25)


class _Course:
    def __init__(self):
        self.specs = specs_for("ps1_softmax")


def test_run_cases_gives_every_point_to_functions_bound_in_any_honest_way(pool):
    """The pipeline's run step (report, missing functions, calls) on one submission of odd bindings."""
    cells = {
        "softmax": "%%time\nif True:\n" + "".join("    " + line + "\n" for line in CORRECT["softmax"].splitlines()),
        "softmax_jacobian": "try:\n" + "".join("    " + line + "\n" for line in
                                               CORRECT["softmax_jacobian"].splitlines()) + "except Exception:\n    raise\n",
        "softmax_vjp": CORRECT["softmax_vjp"].replace("def softmax_vjp(", "def _vjp(") + "softmax_vjp, _unused = _vjp, 1\n",
        "cross_entropy_grad": "class _CE:\n    def __call__(self, logits, labels):\n" + "".join(
            "        " + line + "\n" for line in CORRECT["cross_entropy_grad"].splitlines()) +
            "        return cross_entropy_grad(logits, labels)\n"
            "import typing\ncross_entropy_grad: typing.Callable = _CE()\n",
        "smoothed_cross_entropy_grad": "smoothed_cross_entropy_grad = lambda logits, labels, epsilon: "
                                       "(softmax(logits) - ((1 - epsilon) * np.eye(logits.shape[1])[labels] "
                                       "+ epsilon / logits.shape[1])) / logits.shape[0]\n",
    }
    units = [unit("cell setup", SETUP, False)] + [unit(f"cell {k}", v, True) for k, v in cells.items()]
    result = SubmissionResult(student="s", assignment="ps1_softmax")
    course = _Course()
    run.run_cases(course, units, 7, pool.sandbox, result)
    for spec in course.specs:
        assert all(c.passed for c in result.cases[spec.grade_id]), result.cases[spec.grade_id]
    assert result.errors == [] and result.notes == []


def test_run_cases_says_why_a_function_is_missing(pool):
    units = [unit("cell setup", SETUP, False),
             unit("cell softmax", "raise RuntimeError('oops')\n" + CORRECT["softmax"], True),
             unit("cell softmax_vjp", "softmax_vjp = 3\n", True)]
    result = SubmissionResult(student="s", assignment="ps1_softmax")
    course = _Course()
    run.run_cases(course, units, 7, pool.sandbox, result)
    by_id = {s.function: result.cases[s.grade_id] for s in course.specs}
    assert by_id["softmax"][0].message.startswith("softmax is not defined: its answer cell raised")
    assert by_id["softmax_vjp"][0].message == "softmax_vjp is a int, not a function"
    assert by_id["cross_entropy_grad"][0].message.startswith("cross_entropy_grad is not defined after")
    assert {c.diagnosis for cases in by_id.values() for c in cases} == {"missing_function"}
    assert result.notes == ["this cell raised an error when run: cell softmax: RuntimeError: oops"]


def test_development_mode_without_bubblewrap_sees_the_same_files(monkeypatch):
    from autograder.sandbox import Sandbox
    from autograder.sandbox import sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)   # no bubblewrap: runs bare
    cells = [unit("cell setup", SETUP, False),
             unit("cell #2", "%%time\nimport os\nfiles = sorted(os.listdir('.'))\ndef f():\n    return files\n", True)]
    with Sandbox(loader_source(cells, ["f"]), allow_unsandboxed=True, public_files=PUBLIC) as sb:
        assert not sb.sandboxed and sb.load_error is None
        assert json.loads(sb.call("_grader_report").value)["ipython"] is True
        assert sb.call("f").value == ["fixtures_ps1_softmax.npz", "rnncheck.py"]


def test_reported_input_changes_are_read_only_for_inputs_the_case_has():
    # the worker's report comes from the submission's process: a path that is not an input of the case is ignored
    from autograder.specs import Case

    case = Case("c", (np.zeros(2), {"W": np.eye(2)}), {"eps": np.ones(1)}, False, 1.0)
    names = ["x", "params", "eps"]
    assert run._changed_labels([[0], [1, "W"], ["eps"]], case, names) == ["x", "params['W']", "eps"]
    for forged in ("x", [[5]], [[1, "secret"]], [[True]], [["nope"]], [[0, "k"]], [list(range(20))], [{"a": 1}]):
        assert run._changed_labels(forged, case, names) == []


def test_cells_that_bring_code_from_a_file_are_faults():
    from autograder import loading_rules

    assert loading_rules.magic_faults("%run -i helpers.py\nx = 1\n  %load ../../etc/x.py") == [
        loading_rules.run_file("helpers.py"), loading_rules.run_file("x.py")]
    assert loading_rules.magic_faults("%time x = 1\n%matplotlib inline\n") == []
    assert run._top_level_names("import a.b as c, d\nfor i in x:\n    def f(): pass\nif y:\n    z = w = 1\n"
                                "def g():\n    hidden = 1\n") == {"c", "d", "i", "f", "z", "w", "g"}
