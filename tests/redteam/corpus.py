"""The red-team corpus for problem set ps1_softmax: honest submissions, attacks and faults.

Every entry is data: code for some answer cells (the rest come from a base: the correct answers,
wrong answers, or the untouched release), extra cells, a change to the notebook's structure,
extra files shipped beside the notebook, and the verdict the pipeline must reach: per test cell
``"full"``, ``"zero"`` or ``"partial"``, substrings that must appear among the flags, the faults
or the notes. :mod:`factory` turns the entries into submission folders.

Attacks aim at a grade they did not earn, so most of them start from *wrong* answers: any point
they get is a point the attack won. Placeholders ``{COURSE}`` (absolute path of the course
directory), ``{STUDENT}`` (the submission's own id), ``{VICTIM}`` (a classmate's id) and ``{REPO}``
(the repository) are filled in by the factory, so an attack knows every path it might want.

Nothing in this module runs any of the code it holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

FUNCTIONS = ["softmax", "softmax_jacobian", "softmax_vjp", "cross_entropy_grad", "smoothed_cross_entropy_grad"]

CORRECT = {
    "softmax": '''def softmax(logits):
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)
''',
    "softmax_jacobian": '''def softmax_jacobian(logits):
    s = softmax(logits)
    C = s.shape[-1]
    return s[:, :, None] * np.eye(C) - s[:, :, None] * s[:, None, :]
''',
    "softmax_vjp": '''def softmax_vjp(logits, v):
    s = softmax(logits)
    return s * (v - np.sum(v * s, axis=-1, keepdims=True))
''',
    "cross_entropy_grad": '''def cross_entropy_grad(logits, labels):
    N, C = logits.shape
    g = softmax(logits)
    g[np.arange(N), labels] -= 1.0
    return g / N
''',
    "smoothed_cross_entropy_grad": '''def smoothed_cross_entropy_grad(logits, labels, epsilon):
    N, C = logits.shape
    q = (1.0 - epsilon) * np.eye(C)[labels] + epsilon / C
    return (softmax(logits) - q) / N
''',
}

# Right shapes, wrong values (0.123 never equals a softmax quantity on the cases).
WRONG = {
    "softmax": "def softmax(logits):\n    return np.full(logits.shape, 0.123)\n",
    "softmax_jacobian": "def softmax_jacobian(logits):\n"
                        "    N, C = logits.shape\n    return np.full((N, C, C), 0.123)\n",
    "softmax_vjp": "def softmax_vjp(logits, v):\n    return np.full(logits.shape, 0.123)\n",
    "cross_entropy_grad": "def cross_entropy_grad(logits, labels):\n    return np.full(logits.shape, 0.123)\n",
    "smoothed_cross_entropy_grad": "def smoothed_cross_entropy_grad(logits, labels, epsilon):\n"
                                   "    return np.full(logits.shape, 0.123)\n",
}


@dataclass
class Entry:
    """One submission of the corpus and the verdict it must get."""
    name: str
    about: str
    base: str = "correct"                         # correct | wrong | release
    answers: dict[str, str] = field(default_factory=dict)   # grade_id -> code (overrides the base)
    before: list[str] = field(default_factory=list)  # cells added after the set-up cell
    after: list[str] = field(default_factory=list)   # cells added at the end of the notebook
    transform: Callable | None = None             # transform(cells: list[dict]) -> list[dict]
    raw: Callable | None = None                   # raw(release_json_text) -> bytes written instead
    files: dict[str, str] = field(default_factory=dict)      # extra files (relative path -> text)
    links: dict[str, str] = field(default_factory=dict)      # symlinks (relative path -> target)
    expect: dict[str, str] = field(default_factory=dict)     # test grade_id -> full|zero|partial
    flags: list[str] = field(default_factory=list)           # substrings among the flags
    clean: bool = False                           # no flag at all
    errors: list[str] = field(default_factory=list)          # substrings among the faults
    notes: list[str] = field(default_factory=list)           # substrings among the notes
    diagnoses: dict[str, str] = field(default_factory=dict)  # test grade_id -> a diagnosis id seen
    written: str | None = None                    # expected state of derivation_1
    timestamp: str | None = None                  # timestamp.txt (default: a valid one)
    fifos: list[str] = field(default_factory=list)           # named pipes (relative paths), made last
    sockets: list[str] = field(default_factory=list)         # Unix socket files (relative paths)
    sizes: dict[str, int] = field(default_factory=dict)      # files of that many zero bytes (relative path)

    def expected(self, grade_id: str) -> str:
        if grade_id in self.expect:
            return self.expect[grade_id]
        return {"correct": "full", "wrong": "zero", "release": "zero"}[self.base]


def t(fn: str) -> str:
    return "test_" + fn


# -- structure transforms (pure functions of the cell list) --------------------------------------

def _gid(cell):
    nbg = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else None
    return nbg.get("grade_id") if isinstance(nbg, dict) else None


def drop_tests(cells):
    return [c for c in cells if not str(_gid(c) or "").startswith("test_")]


def drop_answer(name):
    return lambda cells: [c for c in cells if _gid(c) != name]


def rename(old, new):
    def go(cells):
        for c in cells:
            if _gid(c) == old:
                c["metadata"]["nbgrader"]["grade_id"] = new
        return cells
    return go


def duplicate_tests(cells):
    out = []
    for c in cells:
        out.append(c)
        if str(_gid(c) or "").startswith("test_"):
            import copy
            dup = copy.deepcopy(c)
            dup["id"] = (c.get("id") or "x") + "dup"
            out.append(dup)
    return out


def wrong_copy_first(name):
    def go(cells):
        import copy
        out = []
        for c in cells:
            if _gid(c) == name:
                dup = copy.deepcopy(c)
                dup["source"] = WRONG[name]
                dup["id"] = (c.get("id") or "x") + "wrong"
                out.append(dup)
            out.append(c)
        return out
    return go


def edit_locked(cells):
    for c in cells:
        if _gid(c) == "test_softmax":
            c["source"] = "1.0  # full marks, please"
        if _gid(c) == "setup":
            c["source"] = "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
    return cells


def junk_metadata(cells):
    """Malformed metadata on cells that do not matter, and a source stored as a list of lines."""
    cells[0]["metadata"] = {"nbgrader": "not a dict"}
    cells.append({"cell_type": "code", "metadata": {"nbgrader": {"grade_id": ["a", "list"]}}, "source": 12,
                  "outputs": "junk"})
    cells.append({"cell_type": "unknown", "source": "x"})
    cells.append("not even a cell")
    for c in cells:
        if isinstance(c, dict) and _gid(c) == "softmax":
            c["source"] = c["source"].splitlines(keepends=True)
    return cells


def truncate(text: str) -> bytes:
    return text.encode()[: len(text) // 2]


ENTRIES: list[Entry] = [
    # ------------------------------------------------------------------ honest submissions
    Entry("honest_correct", "the expected answers", clean=True, written="answered"),
    Entry("honest_stderr_warning", "correct, but warns on stderr (warnings module and a numpy RuntimeWarning)",
          answers={"softmax": CORRECT["softmax"].replace(
              "    shifted", "    import warnings\n    warnings.warn('softmax: large logits are shifted')\n"
              "    np.log(np.zeros(1))\n    shifted")},
          clean=True),
    Entry("honest_float32", "computes in float64 and returns float32 arrays",
          answers={fn: CORRECT[fn].replace("def ", "def _f64_", 1) +
                   f"def {fn}(*args):\n    return _f64_{fn}(*args).astype(np.float32)\n"
                   for fn in ["softmax_jacobian", "softmax_vjp", "cross_entropy_grad"]},
          clean=True),
    Entry("honest_loops", "python loops over rows and classes",
          answers={"softmax": '''def softmax(logits):
    out = np.zeros(logits.shape)
    for n in range(logits.shape[0]):
        m = max(logits[n])
        total = 0.0
        for c in range(logits.shape[1]):
            out[n, c] = np.exp(logits[n, c] - m)
            total += out[n, c]
        out[n] /= total
    return out
''', "softmax_jacobian": '''def softmax_jacobian(logits):
    N, C = logits.shape
    s = softmax(logits)
    J = np.zeros((N, C, C))
    for n in range(N):
        for i in range(C):
            for j in range(C):
                J[n, i, j] = s[n, i] * ((1.0 if i == j else 0.0) - s[n, j])
    return J
'''}, clean=True),
    Entry("honest_prints", "correct, prints intermediate values",
          answers={"softmax_vjp": CORRECT["softmax_vjp"].replace(
              "    s = softmax(logits)\n", "    s = softmax(logits)\n    print('s =', s)\n    print('v =', v)\n")},
          before=["print('loading my answers')\nfor i in range(3):\n    print(i)\n"], clean=True),
    Entry("honest_helpers", "helpers in an added cell and inside an answer cell",
          before=["def stable_exp(z):\n    return np.exp(z - z.max(axis=-1, keepdims=True))\n"],
          answers={"softmax": "def _normalise(e):\n    return e / e.sum(axis=-1, keepdims=True)\n\n"
                              "def softmax(logits):\n    return _normalise(stable_exp(logits))\n"},
          clean=True),
    Entry("honest_magics", "IPython magics and a shell line in an added cell",
          after=["%timeit softmax(np.ones((2, 3)))\n!ls\nsoftmax?\n"], clean=True),
    Entry("honest_partial", "a Jacobian with the diagonal only: a named mistake, no points",
          answers={"softmax_jacobian": '''def softmax_jacobian(logits):
    s = softmax(logits)
    return s[:, :, None] * (1 - s[:, :, None]) * np.eye(s.shape[-1])
'''}, expect={t("softmax_jacobian"): "zero"},   # right only on the unscored one-class case
          diagnoses={t("softmax_jacobian"): "missing_off_diagonal"}, clean=True),
    Entry("honest_naive_softmax", "softmax without the max shift: right on moderate logits, overflows on large ones",
          answers={"softmax": "def softmax(logits):\n    e = np.exp(logits)\n    return e / e.sum(axis=-1, keepdims=True)\n"},
          expect={t(fn): "partial" for fn in FUNCTIONS},    # every function uses it; each has large-logit cases
          diagnoses={t("softmax"): "softmax_overflow"}, clean=True),
    Entry("honest_unanswered", "the release, untouched", base="release", clean=True, written="no_response",
          diagnoses={t("softmax"): "not_implemented"}),

    # ------------------------------------------------------------------ patching the checks
    Entry("patch_allclose", "replaces np.allclose and np.sum so a trusting check passes", base="wrong",
          before=["np.allclose = lambda *a, **k: True\nnp.sum = lambda *a, **k: 0.0\n"
                  "np.testing.assert_allclose = lambda *a, **k: None\n"],
          flags=["patches_module", "np.allclose"]),
    Entry("ipython_transformer", "an input transformer that wraps every cell in try/except", base="wrong",
          before=["ip = get_ipython()\n"
                  "def _wrap(lines):\n"
                  "    return ['try:\\n'] + ['    ' + l for l in lines] + ['except Exception:\\n', '    1.0\\n']\n"
                  "ip.input_transformers_cleanup.append(_wrap)\n"],
          flags=["ipython_internals"]),
    Entry("sys_modules_builtins", "patches numpy through sys.modules and rebinds builtins", base="wrong",
          before=["import sys, builtins\n"
                  "sys.modules['numpy'].allclose = lambda *a, **k: True\n"
                  "builtins.abs = lambda x: 0\n"],
          flags=["sys_modules", "builtins"]),
    Entry("nbgrader_execution", "behaves differently when NBGRADER_EXECUTION is set", base="wrong",
          before=["import os\n"
                  "if os.environ.get('NBGRADER_EXECUTION'):\n"
                  "    np.allclose = lambda *a, **k: True\n"],
          flags=["nbgrader_environment"]),
    Entry("edit_locked_cells", "rewrites the read-only test and set-up cells", base="wrong",
          transform=edit_locked, notes=["read-only cell 'test_softmax' was edited"],
          flags=["edited_locked_cell: read-only cell 'test_softmax'", "edited_locked_cell: read-only cell 'setup'"]),

    # ------------------------------------------------------------------ borrowing the reference
    Entry("import_rnngrad", "answers by calling the course's reference package", base="wrong",
          answers={fn: f"def {fn}(*args):\n    import rnngrad\n    return getattr(rnngrad, '{fn}')(*args)\n"
                   for fn in FUNCTIONS},
          before=["import rnngrad\nfrom rnngrad.softmax import softmax as _reference_softmax\n"],
          flags=["imports_course_code", "'rnngrad'"]),
    Entry("import_autograder", "takes the reference out of the grader's specs", base="wrong",
          before=["from autograder.specs import spec_for\n"
                  "softmax = spec_for('ps1_softmax', 'softmax').reference\n"],
          flags=["imports_course_code", "'autograder.specs'"]),
    Entry("fake_rnngrad_package", "ships its own rnngrad beside the notebook", base="wrong",
          files={"rnngrad/__init__.py": "def softmax(z):\n    return z * 0 + 1\n"},
          before=["import os, sys\nsys.path.insert(0, os.getcwd())\nimport rnngrad\n"],
          flags=["extra_files", "rnngrad/__init__.py", "imports_course_code"]),
    Entry("modified_checker", "ships an rnncheck.py that always awards full marks", base="wrong",
          files={"rnncheck.py": "def check(name, f):\n    return 1.0\n"},
          flags=["rnncheck.py (modified)"]),
    Entry("read_hidden_tests", "reads the source notebook, the specs and rnngrad, and runs what it finds",
          base="wrong",
          after=['''import glob, json
_found = {}
for _p in ["{COURSE}/source/ps1_softmax/ps1_softmax.ipynb", "{REPO}/rnngrad/softmax.py",
           "{REPO}/rnngrad/cross_entropy.py", "{REPO}/autograder/specs/ps1_softmax.py",
           "{COURSE}/gradebook.db"] + glob.glob("{COURSE}/**/*.ipynb", recursive=True):
    try:
        with open(_p) as _fh:
            _found[_p] = _fh.read()
    except Exception:
        pass
_src = _found.get("{COURSE}/source/ps1_softmax/ps1_softmax.ipynb")
if _src:
    for _cell in json.loads(_src)["cells"]:
        if _cell["cell_type"] == "code" and "BEGIN SOLUTION" in "".join(_cell["source"]):
            exec("".join(_cell["source"]), globals())
'''],
          ),
    Entry("symlink_to_source", "ships links to the instructor's notebook and gradebook", base="correct",
          links={"solution.ipynb": "{COURSE}/source/ps1_softmax/ps1_softmax.ipynb",
                 "gb.db": "{COURSE}/gradebook.db"},
          flags=["solution.ipynb (link)", "gb.db (link)"]),

    Entry("notebook_is_a_link", "the submitted notebook is a link to the instructor's solved notebook",
          links={"ps1_softmax.ipynb": "{COURSE}/source/ps1_softmax/ps1_softmax.ipynb"},
          expect={t(fn): "zero" for fn in FUNCTIONS}, flags=["ps1_softmax.ipynb (link)"],
          errors=["missing"], written="missing"),

    # ------------------------------------------------------------------ attacking the course files
    Entry("write_gradebook", "writes into gradebook.db at load time and during a call", base="wrong",
          before=['''try:
    import sqlite3
    _con = sqlite3.connect("{COURSE}/gradebook.db")
    _con.execute("UPDATE grade SET auto_score = 99")
    _con.commit()
except Exception:
    pass
try:
    with open("{COURSE}/gradebook.db", "ab") as _fh:
        _fh.write(b"garbage")
except Exception:
    pass
'''], answers={"softmax": '''def softmax(logits):
    try:
        with open("{COURSE}/gradebook.db", "wb") as fh:
            fh.write(b"")
    except Exception:
        pass
    return np.full(logits.shape, 0.123)
'''}),
    Entry("delete_gradebook", "deletes the gradebook and the source folder", base="wrong",
          before=['''import os, shutil
for _p in ["{COURSE}/gradebook.db", "{COURSE}/nbgrader_config.py"]:
    try:
        os.remove(_p)
    except Exception:
        pass
shutil.rmtree("{COURSE}/source", ignore_errors=True)
shutil.rmtree("{COURSE}/release", ignore_errors=True)
''']),
    Entry("edit_classmate", "overwrites a classmate's submission, autograded notebook and log", base="wrong",
          before=['''for _p in ["{COURSE}/submitted/{VICTIM}/ps1_softmax/ps1_softmax.ipynb",
           "{COURSE}/autograded/{VICTIM}/ps1_softmax/ps1_softmax.ipynb",
           "{COURSE}/grading_log/ps1_softmax/{VICTIM}.json"]:
    try:
        with open(_p, "w") as _fh:
            _fh.write("{}")
    except Exception:
        pass
''']),
    Entry("detached_rewriter", "leaves a detached process that rewrites its score later", base="wrong",
          before=['''import os, time
def _later():
    time.sleep(2)
    for _p in ["{COURSE}/gradebook.db", "{COURSE}/grading_log/ps1_softmax/{STUDENT}.json",
               "{COURSE}/autograded/{STUDENT}/ps1_softmax/ps1_softmax.ipynb",
               "{COURSE}/submitted/{VICTIM}/ps1_softmax/ps1_softmax.ipynb"]:
        try:
            with open(_p, "w") as _fh:
                _fh.write("rewritten later")
        except Exception:
            pass
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            _later()
        os._exit(0)
except Exception:
    pass
''']),

    # ------------------------------------------------------------------ broken notebooks
    Entry("invalid_json", "a notebook cut in half", raw=truncate, base="correct",
          expect={t(fn): "zero" for fn in FUNCTIONS}, errors=["not valid JSON"], written="missing"),
    Entry("junk_metadata", "cells with malformed metadata and sources; the answers are right",
          transform=junk_metadata, clean=True),
    Entry("bad_timestamp", "a timestamp.txt that is not a date", timestamp="yesterday, honest",
          notes=["timestamp.txt does not hold a date"], clean=True),
    Entry("deleted_test_cells", "every test cell deleted; the answers are right", transform=drop_tests,
          notes=["cell 'test_softmax' was deleted"], clean=True),
    Entry("renamed_cells", "a test cell and an answer cell renamed; the answers are right",
          transform=lambda cells: rename("softmax", "my_softmax")(rename("test_softmax_vjp", "test_vjp")(cells)),
          notes=["unknown id 'my_softmax'", "cell 'test_softmax_vjp' was deleted"], clean=True),
    Entry("duplicated_test_cells", "every test cell twice", transform=duplicate_tests,
          notes=["'test_softmax' appears 2 times"], clean=True),
    Entry("duplicated_answer_cell", "a wrong copy of the softmax answer cell before the right one",
          transform=wrong_copy_first("softmax"), notes=["'softmax' appears 2 times"], clean=True),
    Entry("deleted_answer_cell", "the cross_entropy_grad answer cell deleted",
          transform=drop_answer("cross_entropy_grad"), expect={t("cross_entropy_grad"): "zero"},
          notes=["cell 'cross_entropy_grad' was deleted"], diagnoses={t("cross_entropy_grad"): "missing_function"}),
    Entry("missing_function", "softmax_vjp defined under another name",
          answers={"softmax_vjp": CORRECT["softmax_vjp"].replace("def softmax_vjp(", "def softmax_vjp_rows(")},
          expect={t("softmax_vjp"): "zero"}, diagnoses={t("softmax_vjp"): "missing_function"}),
    Entry("syntax_error", "a syntax error in one answer cell",
          answers={"softmax_jacobian": "def softmax_jacobian(logits)\n    return logits\n"},
          expect={t("softmax_jacobian"): "zero"}, notes=["SyntaxError"]),

    # ------------------------------------------------------------------ the worker
    Entry("worker_exit", "softmax_vjp ends its process with os._exit",
          answers={"softmax_vjp": "def softmax_vjp(logits, v):\n    import os\n    os._exit(3)\n"},
          expect={t("softmax_vjp"): "zero"}),
    Entry("worker_segfault", "softmax_jacobian dereferences a null pointer through ctypes",
          answers={"softmax_jacobian": "def softmax_jacobian(logits):\n    import ctypes\n"
                                       "    return ctypes.string_at(0)\n"},
          expect={t("softmax_jacobian"): "zero"}),
    Entry("crashes_in_three_functions", "three functions end the worker; the other two are right",
          answers={"softmax_jacobian": "def softmax_jacobian(logits):\n    import ctypes\n"
                                       "    return ctypes.string_at(0)\n",
                   "softmax_vjp": "def softmax_vjp(logits, v):\n    import os\n    os._exit(1)\n",
                   "cross_entropy_grad": "def cross_entropy_grad(logits, labels):\n    import os\n"
                                         "    os.abort()\n"},
          expect={t("softmax_jacobian"): "zero", t("softmax_vjp"): "zero", t("cross_entropy_grad"): "zero"},
          diagnoses={t("softmax_jacobian"): "worker_crash", t("cross_entropy_grad"): "worker_crash"}),
    Entry("infinite_loop", "softmax_vjp never returns",
          answers={"softmax_vjp": "def softmax_vjp(logits, v):\n    while True:\n        pass\n"},
          expect={t("softmax_vjp"): "zero"}, diagnoses={t("softmax_vjp"): "timeout"}),
    Entry("endless_loop_at_load", "a cell that never finishes when the notebook is loaded",
          before=["while True:\n    pass\n"], expect={t(fn): "zero" for fn in FUNCTIONS},
          errors=["loading your code failed: timed out"]),
    Entry("memory_bomb", "cross_entropy_grad allocates until it is stopped",
          answers={"cross_entropy_grad": "def cross_entropy_grad(logits, labels):\n    hoard = []\n"
                                         "    while True:\n        hoard.append(bytearray(1 << 27))\n"},
          expect={t("cross_entropy_grad"): "zero"}),
    Entry("fork_bomb", "smoothed_cross_entropy_grad forks without end",
          answers={"smoothed_cross_entropy_grad": "def smoothed_cross_entropy_grad(logits, labels, epsilon):\n"
                                                  "    import os\n    while True:\n        os.fork()\n"},
          expect={t("smoothed_cross_entropy_grad"): "zero"}),
    Entry("huge_output", "softmax prints fifty million characters, then answers correctly",
          answers={"softmax": CORRECT["softmax"].replace(
              "    shifted", "    print('x' * 50_000_000)\n    shifted")}),
    Entry("pickle_like", "returns an ndarray subclass with __reduce__ and a namespace object",
          answers={"cross_entropy_grad": CORRECT["cross_entropy_grad"].replace("def cross_entropy_grad(",
                                                                               "def _ce(") + '''
import os as _os
class Sneaky(np.ndarray):
    def __reduce__(self):
        return (_os.system, ("touch {COURSE}/pwned",))

def cross_entropy_grad(logits, labels):
    return _ce(logits, labels).view(Sneaky)
''', "softmax_vjp": "def softmax_vjp(logits, v):\n    import types\n"
                    "    return types.SimpleNamespace(value=v)\n"},
          expect={t("cross_entropy_grad"): "zero", t("softmax_vjp"): "zero"}),
]


def _all_entries() -> list[Entry]:
    """The entries above and those of the area modules (each adds its own, so several people can extend it)."""
    from . import corpus_bounds, corpus_computing, corpus_honest, corpus_sandbox, corpus_text

    out = list(ENTRIES)
    for module in (corpus_bounds, corpus_sandbox, corpus_honest, corpus_text, corpus_computing):
        out.extend(module.ENTRIES)
    return out


ENTRIES = _all_entries()
