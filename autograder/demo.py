"""The demo class: a course directory with realistic submissions, graded end to end with one command.

``python -m autograder demo [--dir DIR] [--sets ps1_softmax,...]`` runs the instructor's whole workflow on
a fresh copy of the course directory:

1. copy ``assignments/`` (sources only) and run nbgrader's ``generate_assignment`` for each set;
2. write the class's submissions as nbgrader's ``collect`` leaves them
   (``submitted/<student>/<set>/<set>.ipynb`` + ``timestamp.txt``), each made from the released notebook
   with the student's text put in the answer cells (the cells' metadata stays as released);
3. grade every set with the trusted pipeline (:func:`autograder.grade.grade_assignment`);
4. nbgrader's ``generate_feedback`` and nbgrader's CSV export of the gradebook;
5. the class report of each set (:mod:`autograder.report`).

The class of each set (:func:`class_for`):

* two correct submissions written independently: the worked solutions of the source notebook with
  debugging prints and warnings, and a second style (:data:`OWN_STYLE`; loops, einsum, helpers, float32,
  plus the correct alternatives among the course's known-mistake solutions, ``tests/mutants/<set>/*__ok_*``);
* one submission per known mistake of the set, made from the course's mutant solutions
  (``tests/mutants/<set>/<function>__<diagnosis>.py``): the mistaken function, the others left as released;
* ``blank`` (the release unchanged), ``broken_syntax`` (a cell that does not parse), ``broken_typo`` (a
  function that raises NameError), ``peeks_at_files`` (imports ``os`` to look around: a static flag);
* ``copies_own_style``: the second correct submission, renamed, reformatted, re-commented
  (the similarity check must flag it);
* ``pastes_course_code`` (in the sets where a graded function has an rnngrad counterpart of the same name
  that runs on numpy alone, see :func:`pasted_reference`): that function pasted from rnngrad with its input
  validation left out (the similarity check must flag it as a copy of the reference).

Nothing here runs student code: the submissions are written as notebooks and graded by the pipeline.
"""
from __future__ import annotations

import ast
import csv
import datetime
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .notebook import cell_source, grade_id, nbgrader_meta
from .specs import all_assignments as _all_assignments

__all__ = ["DemoStudent", "class_for", "make_course", "write_submissions", "run_demo", "DEFAULT_SETS",
           "REPO", "MUTANTS"]

REPO = Path(__file__).resolve().parents[1]
COURSE_SOURCE = REPO / "assignments"
MUTANTS = REPO / "tests" / "mutants"
#: every problem set of the course (the specs' list)
DEFAULT_SETS = tuple(_all_assignments())
# never copied from the repository's course folder: they belong to a course run, not to its sources
RUN_STATE = {"gradebook.db", "release", "submitted", "autograded", "feedback", "grading_log", "grades.csv",
             "reports", "__pycache__", ".ipynb_checkpoints"}
STUB = "raise NotImplementedError()"


@dataclass
class DemoStudent:
    """One demo submission: the text of some answer cells (others stay as released) and what to expect."""
    student: str
    description: str
    kind: str                # correct | mistake | blank | broken | flagged | copy | reference_copy
    answers: dict[str, str] = field(default_factory=dict)     # answer grade_id -> cell text
    added_cells: list[str] = field(default_factory=list)      # code cells the student added at the end
    function: str | None = None                 # mistake / broken: the function concerned
    diagnosis: str | None = None                # mistake: the expected diagnosis id
    mutant: str | None = None                   # mistake: the mutant file the code comes from
    copy_of: str | None = None                  # copy: whose submission was copied


# -- sources of code ------------------------------------------------------------------------

def worked_solutions(course: str, assignment: str) -> dict[str, str]:
    """function -> the source notebook's answer cell with its solution markers removed."""
    with open(os.path.join(course, "source", assignment, f"{assignment}.ipynb")) as fh:
        nb = json.load(fh)
    out = {}
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "code" and meta.get("solution") and not meta.get("grade"):
            out[meta["grade_id"]] = cell_source(cell)
    return out


def _strip_markers(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if "### BEGIN SOLUTION" not in line
                   and "### END SOLUTION" not in line)


def with_prints(function: str, text: str) -> str:
    """The worked answer with a debugging print and a warning where the solution starts."""
    out = ["import warnings\n\n"]
    for line in text.splitlines(keepends=True):
        if "### BEGIN SOLUTION" in line:
            pad = line[: len(line) - len(line.lstrip())]
            out.append(f'{pad}print("{function}: starting")\n')
            out.append(f'{pad}warnings.warn("{function} is my first version; it is not optimised")\n')
        elif "### END SOLUTION" not in line:
            out.append(line)
    return "".join(out)


def with_typo(text: str) -> str:
    """The worked answer whose last ``return`` names a variable that does not exist (NameError)."""
    lines = _strip_markers(text).splitlines(keepends=True)
    for i in range(len(lines) - 1, -1, -1):
        m = re.match(r"(\s*return\s+\(?)([A-Za-z_]\w*)", lines[i])
        if m:
            lines[i] = m.group(1) + m.group(2) + "_final" + lines[i][m.end():]
            return "".join(lines)
    raise ValueError("no return statement to break")


def mutant_files(assignment: str) -> list[Path]:
    """The course's known-mistake solutions of a set (tests/mutants/<set>/<function>__<diagnosis>.py)."""
    folder = MUTANTS / assignment
    if not folder.is_dir():
        raise FileNotFoundError(f"no mutant solutions in {folder}; the demo needs the repository's tests/ folder")
    return sorted(folder.glob("*__*.py"))


def mutant_answer(path: Path) -> tuple[str, str | None, str]:
    """(function, diagnosis or None for a correct style, cell text) of a mutant file.

    The cell text is the file without its module docstring and its FUNCTION / DIAGNOSIS / FAILS_ONLY_ON
    constants: what a student would have typed in the cell.
    """
    text = path.read_text()
    tree = ast.parse(text)
    consts: dict[str, object] = {}
    drop: set[int] = set()
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            drop.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, ast.Assign) and all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets):
            names = [n.id for t in node.targets for n in ([t] if isinstance(t, ast.Name) else t.elts)]
            if set(names) <= {"FUNCTION", "DIAGNOSIS", "FAILS_ONLY_ON"}:
                value = ast.literal_eval(node.value)
                values = value if isinstance(value, tuple) and len(names) > 1 else (value,)
                consts.update(zip(names, values))
                drop.update(range(node.lineno, node.end_lineno + 1))
    lines = [line for n, line in enumerate(text.splitlines(keepends=True), 1) if n not in drop]
    cell = re.sub(r"\n{3,}", "\n\n\n", "".join(lines)).strip("\n") + "\n"
    return consts["FUNCTION"], consts.get("DIAGNOSIS"), cell


# -- pasting the course package ---------------------------------------------------------------

def _uses_validation(node: ast.AST, names: set[str]) -> bool:
    """True for a statement that touches the package's input validation (its error classes, ``Dims``)."""
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _free_names(func: ast.FunctionDef) -> set[str]:
    """Names a function reads but neither binds nor receives (module-level names it relies on)."""
    bound = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(func) if isinstance(n, ast.arguments)
              for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
    return {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def pasted_reference(assignment: str) -> tuple[str, str] | None:
    """(function, cell text): the first graded function of the set whose rnngrad counterpart has the same name
    and, pasted with the helpers it calls and without its input validation and docstrings, runs on numpy
    alone, as a student who copies the course package's code would paste it. None when no function fits."""
    import builtins
    import inspect

    from . import similarity
    from .specs import specs_for

    for spec in specs_for(assignment):
        for target in similarity._rnngrad_targets(spec.reference):
            if target.__name__ != spec.function:
                continue
            tree = ast.parse(inspect.getsource(inspect.getmodule(target)))
            validation = {"dims"} | {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                                     and (n.module or "").endswith("_validate") for a in n.names}
            defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
            unit = [defs[target.__name__]] + similarity._called_helpers(defs[target.__name__], defs)
            for func in unit:
                body = [st for st in func.body if not _uses_validation(st, validation)]
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]
                func.body = body or [ast.Pass()]
            module = ast.Module(body=list(reversed(unit)), type_ignores=[])
            defined = {f.name for f in unit} | set(dir(builtins)) | {"np"}
            if any(_free_names(func) - defined for func in unit):
                continue   # it needs more of the package than one cell can hold
            text = ast.unparse(module)
            if len(similarity.function_units(text, [spec.function]).get(spec.function, ())) \
                    < similarity.REFERENCE_MIN_TOKENS:
                continue
            return spec.function, "# found this in the course package\n" + text + "\n"
    return None


# -- disguising a copy ---------------------------------------------------------------------

_WORDS = ["acc", "tmp", "val", "buf", "res", "mat", "cur", "aux", "part", "store", "item", "work"]


def disguise(cells: dict[str, str], keep: set[str]) -> dict[str, str]:
    """What a copier does: rename every local name and helper (not the graded functions ``keep`` nor the
    arguments, which callers may pass by name), reformat, change the docstrings and add comments."""
    mapping: dict[str, str] = {}

    def new_name(name: str) -> str:
        if name not in mapping:
            mapping[name] = f"{_WORDS[len(mapping) % len(_WORDS)]}{len(mapping)}"
        return mapping[name]

    trees = {gid: ast.parse(text) for gid, text in cells.items()}
    # arguments keep their names everywhere (a local of one function may be an argument of another)
    protected = set(keep) | {a.arg for t in trees.values() for n in ast.walk(t) if isinstance(n, ast.arguments)
                             for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
    helpers = {n.name for t in trees.values() for n in t.body if isinstance(n, ast.FunctionDef)} - protected
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store) and sub.id not in protected:
                        new_name(sub.id)
    for name in sorted(helpers):
        new_name(name)
    out = {}
    for gid, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in mapping:
                node.id = mapping[node.id]
            elif isinstance(node, ast.FunctionDef):
                if node.name in mapping:
                    node.name = mapping[node.name]
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body[0].value.value = "My own implementation."
        lines = []
        for line in ast.unparse(tree).splitlines():
            stripped = line.strip()
            if stripped.startswith(("return", "for ", "while ")):
                pad = line[: len(line) - len(stripped)]
                lines.append(f"{pad}# {'result' if stripped.startswith('return') else 'loop'} (see lecture notes)")
            lines.append(line)
        out[gid] = "\n".join(lines) + "\n"
    return out


# -- the class -----------------------------------------------------------------------------

def class_for(course: str, assignment: str) -> list[DemoStudent]:
    """The demo students of one problem set (see the module docstring)."""
    from .specs import specs_for

    functions = [s.function for s in specs_for(assignment)]
    worked = worked_solutions(course, assignment)
    own = dict(OWN_STYLE.get(assignment, {}))
    mistakes = []
    for path in mutant_files(assignment):
        function, diagnosis, cell = mutant_answer(path)
        if function not in functions:
            continue
        if diagnosis is None:
            own.setdefault(function, cell)   # a correct alternative of the course, where none is written here
        else:
            mistakes.append(DemoStudent(
                f"{diagnosis}__{function}", f"the known mistake '{diagnosis}' in {function}", "mistake",
                {function: cell}, function=function, diagnosis=diagnosis, mutant=path.name))
    missing = [f for f in functions if f not in own]
    if missing:
        raise LookupError(f"{assignment}: no second correct style for {', '.join(missing)}")
    first = functions[0]
    pasted = pasted_reference(assignment)
    students = [
        DemoStudent("correct_worked", "correct: the worked solutions, with debugging prints and warnings",
                    "correct", {f: with_prints(f, worked[f]) for f in functions}),
        DemoStudent("correct_own_style", "correct in another style: loops, einsum, helpers, float32",
                    "correct", {f: own[f] for f in functions}),
        *mistakes,
        DemoStudent("blank", "the released notebook, unchanged", "blank"),
        DemoStudent("broken_syntax", f"{first}: a cell that does not parse; the rest left as released",
                    "broken", {first: _strip_markers(worked[first]).replace("):", ")", 1)}, function=first),
        DemoStudent("broken_typo", f"{first}: raises NameError (a misspelt variable)", "broken",
                    {first: with_typo(worked[first])}, function=first),
        DemoStudent("peeks_at_files", "imports os and lists the folders around it (a static flag)", "flagged",
                    added_cells=["import os\nprint(os.listdir('..'))"]),
        DemoStudent("copies_own_style", "correct_own_style copied, renamed, reformatted, re-commented", "copy",
                    disguise({f: own[f] for f in functions}, set(functions)), copy_of="correct_own_style"),
    ]
    if pasted is not None:
        students.append(DemoStudent("pastes_course_code", f"{pasted[0]}: pasted from the course package rnngrad "
                                    "(validation left out); the rest left as released", "reference_copy",
                                    {pasted[0]: pasted[1]}, function=pasted[0], copy_of="reference"))
    return students


# -- building the course -------------------------------------------------------------------

def _nbgrader_api(course: str):
    """nbgrader's own API on the course directory (the same code as the nbgrader commands)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader runs `alembic` when it creates a gradebook: it must be found next to this interpreter
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    root = os.path.abspath(course)
    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    cd = CourseDirectory(config=config)
    cd.root = root
    return NbGraderAPI(cd, config=config)


def make_course(directory: str, sets, source: Path = COURSE_SOURCE) -> str:
    """Copy the course sources into ``directory/course`` and release each set with nbgrader."""
    course = os.path.join(directory, "course")
    if os.path.exists(course):
        raise FileExistsError(f"{course} exists; choose an empty --dir")
    shutil.copytree(source, course, ignore=lambda d, names: [n for n in names if n in RUN_STATE])
    api = _nbgrader_api(course)
    for assignment in sets:
        res = api.generate_assignment(assignment, force=True)
        if not res.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{res.get('error')}\n"
                               f"{res.get('log', '')}")
    return course


def build_notebook(release: dict, student: DemoStudent) -> dict:
    """The release with the student's answer cells filled in (metadata as released) and added cells."""
    nb = json.loads(json.dumps(release))
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid in student.answers:
            cell["source"] = student.answers[gid]
        elif cell["cell_type"] == "markdown" and gid and gid.startswith("derivation_") \
                and student.kind in ("correct", "copy"):
            cell["source"] = "My derivation is written out on paper and summarised here: see the chapter's notation."
    for k, text in enumerate(student.added_cells):
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": f"added-{k}", "metadata": {},
                            "outputs": [], "source": text})
    return nb


def write_submissions(course: str, assignment: str, students: list[DemoStudent],
                      start: datetime.datetime | None = None) -> list[str]:
    """submitted/<student>/<set>/ as nbgrader's collect leaves it; returns the folders."""
    release_dir = os.path.join(course, "release", assignment)
    with open(os.path.join(release_dir, f"{assignment}.ipynb")) as fh:
        release = json.load(fh)
    start = start or datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)
    folders = []
    for k, student in enumerate(students):
        folder = os.path.join(course, "submitted", student.student, assignment)
        shutil.copytree(release_dir, folder)
        with open(os.path.join(folder, f"{assignment}.ipynb"), "w") as fh:
            json.dump(build_notebook(release, student), fh, indent=1)
        stamp = (start + datetime.timedelta(minutes=7 * k)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        with open(os.path.join(folder, "timestamp.txt"), "w") as fh:
            fh.write(stamp + "\n")
        folders.append(folder)
    return folders


def save_roster(directory: str, roster: dict[str, list[DemoStudent]]) -> str:
    """demo_class.json: who is who (what each demo student did), for reading the results."""
    path = os.path.join(directory, "demo_class.json")
    data = {a: [{k: v for k, v in vars(s).items() if k not in ("answers", "added_cells")} for s in students]
            for a, students in roster.items()}
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1)
    return path


# -- the workflow --------------------------------------------------------------------------

@dataclass
class DemoResult:
    directory: str
    course: str
    roster: dict[str, list[DemoStudent]]
    results: dict[str, list]                     # set -> SubmissionResults
    feedback: dict[str, list[str]]               # set -> feedback HTML files
    csv: str
    reports: dict[str, dict[str, str]]           # set -> {"html", "markdown", "figures"}
    seconds: dict[str, float]


def _say(out, text: str) -> None:
    if out is not None:
        print(text, file=out, flush=True)


def run_demo(directory: str, sets=DEFAULT_SETS, *, workers: int = 2, out=sys.stdout, progress=True,
             seed: int | None = None) -> DemoResult:
    """The whole workflow in ``directory`` (created if needed; must not hold a course yet)."""
    from . import report as class_report
    from .cli_grade import ProgressLine
    from .grade import grade_assignment

    sets = list(sets)
    os.makedirs(directory, exist_ok=True)
    directory = os.path.abspath(directory)
    seconds: dict[str, float] = {}
    t0 = time.monotonic()

    if os.path.exists(os.path.join(directory, "course")):
        raise FileExistsError(f"{os.path.join(directory, 'course')} exists; choose an empty --dir")
    _say(out, f"1/5 course directory and release (nbgrader generate_assignment): {', '.join(sets)}")
    course = make_course(directory, sets)
    seconds["release"] = time.monotonic() - t0

    t = time.monotonic()
    roster = {}
    for assignment in sets:
        roster[assignment] = class_for(course, assignment)
        write_submissions(course, assignment, roster[assignment])
    save_roster(directory, roster)
    _say(out, f"2/5 submissions: {sum(len(v) for v in roster.values())} notebooks in {course}/submitted")
    seconds["submissions"] = time.monotonic() - t

    t = time.monotonic()
    results = {}
    for assignment in sets:
        _say(out, f"3/5 grading {assignment} in the sandbox ({len(roster[assignment])} submissions)")
        results[assignment] = grade_assignment(course, assignment, workers=workers, seed=seed,
                                               progress=ProgressLine(out) if progress and out else None)
    seconds["grading"] = time.monotonic() - t

    t = time.monotonic()
    _say(out, "4/5 feedback (nbgrader generate_feedback) and grades (nbgrader CSV export)")
    api = _nbgrader_api(course)
    feedback = {}
    for assignment in sets:
        res = api.generate_feedback(assignment)
        if not res.get("success"):
            raise RuntimeError(f"nbgrader generate_feedback {assignment} failed:\n{res.get('error')}")
        feedback[assignment] = sorted(
            os.path.join(course, "feedback", s.student, assignment, f"{assignment}.html")
            for s in roster[assignment])
    csv_path = export_csv(course)
    seconds["feedback_export"] = time.monotonic() - t

    t = time.monotonic()
    _say(out, "5/5 class reports")
    reports = {}
    for assignment in sets:
        reports[assignment] = class_report.write_report(course, assignment,
                                                        os.path.join(course, "reports", assignment))
    seconds["report"] = time.monotonic() - t
    seconds["total"] = time.monotonic() - t0
    return DemoResult(directory, course, roster, results, feedback, csv_path, reports, seconds)


def export_csv(course: str) -> str:
    """grades.csv of the whole gradebook, written by nbgrader's CSV export plugin (as ``nbgrader export``)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    api = _nbgrader_api(course)
    path = os.path.join(course, "grades.csv")
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        CsvExportPlugin(to=path).export(gb)
    return path


def grade_table(result: DemoResult) -> str:
    """A short table: per set and student, the autograded total, whether the report flags the submission
    (static or similarity flags) and what the demo student did."""
    lines = []
    for assignment, results in result.results.items():
        who = {s.student: s for s in result.roster[assignment]}
        flagged = result.reports.get(assignment, {}).get("flagged", {})
        top = max((r.max_total for r in results), default=0)
        width = max(len(r.student) for r in results) if results else 10
        lines.append(f"{assignment} (autograded points out of {top:g})")
        for r in results:
            lines.append(f"  {r.student:<{width}} {r.total:6.2f}  {'flagged' if r.student in flagged else '       '}"
                         f"  {who[r.student].description if r.student in who else ''}")
    return "\n".join(lines)


def read_csv(path: str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# -- the second correct style --------------------------------------------------------------
# One answer per graded function of every set, written independently of the worked solutions in
# assignments/source (other loops, einsum, helpers, float32 in places), so that the demo class holds two
# honest correct submissions that the similarity check must keep apart. Helpers defined in one cell are
# used by later cells, as students do. Where a function has none here, the course's correct alternative
# among the mutant solutions (tests/mutants/<set>/<function>__ok_*.py) is used.

OWN_STYLE = {
    # ------------------------------------------------------------------ ps1_softmax
    "ps1_softmax": {
        "softmax_jacobian": '''\
def _stable_softmax(z):
    # shifting by the largest logit keeps exp() finite
    shifted = z - np.max(z, axis=-1, keepdims=True)
    expz = np.exp(shifted)
    return expz / np.sum(expz, axis=-1, keepdims=True)


def softmax_jacobian(logits):
    """J[n] = diag(s_n) - s_n s_n^T, all rows at once."""
    probs = _stable_softmax(logits)
    identity = np.eye(logits.shape[1])
    outer = np.einsum("ni,nj->nij", probs, probs)
    diagonal = np.einsum("ni,ij->nij", probs, identity)
    return diagonal - outer
''',
        "softmax_vjp": '''\
def softmax_vjp(logits, v):
    """s * (v - <v, s>), computed in single precision."""
    p = _stable_softmax(logits.astype(np.float32))
    v32 = v.astype(np.float32)
    weighted_mean = np.einsum("nc,nc->n", v32, p)[:, None]
    return p * (v32 - weighted_mean)
''',
        "smoothed_cross_entropy_grad": '''\
def smoothed_cross_entropy_grad(logits, labels, epsilon):
    """One row at a time: softmax * sum(q) - q, averaged over the batch."""
    N, C = logits.shape
    grad = np.empty((N, C))
    for n in range(N):
        row = _stable_softmax(logits[n])
        target = np.full(C, epsilon / C)
        target[labels[n]] += 1.0 - epsilon
        grad[n] = (row * target.sum() - target) / N
    return grad
''',
    },
    # ------------------------------------------------------------------ ps2_layout_cell
    "ps2_layout_cell": {
        "map_jacobian": '''\
def _act_slope(x, activation):
    if activation == "sigmoid":
        sig = 1 / (1 + np.exp(-x))
        return sig - sig ** 2
    t = np.tanh(x)
    return 1 - t * t


def map_jacobian(W, x, activation):
    M, H = W.shape
    J = np.zeros((M, H))
    slope = _act_slope(x, activation)
    for i in range(M):
        for j in range(H):
            J[i, j] = W[i, j] * slope[j]
    return J
''',
        "rnn_step_jacobian": '''\
def rnn_step_jacobian(h, W_h):
    # J[n, i, j] = (1 - h[n, i]^2) * W_h[j, i]
    return np.einsum("ni,ji->nij", 1.0 - np.square(h), W_h)
''',
        "batched_matmul_jacobian": '''\
def batched_matmul_jacobian(h, W):
    # dU[i, j] / dh[p, q] = delta(i, p) W[q, j]
    return np.einsum("ip,qj->ijpq", np.eye(h.shape[0]), W)
''',
        "sigmoid_step_backward": '''\
def sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h):
    g = dh * h * (1 - h)  # through the sigmoid
    out = {}
    out["b"] = np.sum(g, axis=0)
    out["W_x"] = np.dot(x.T, g)
    out["W_h"] = np.dot(h_prev.T, g)
    out["x"] = np.dot(g, W_x.T)
    out["h_prev"] = np.dot(g, W_h.T)
    return out
''',
    },
    # ------------------------------------------------------------------ ps3_bptt
    "ps3_bptt": {
        "rnn_backward": '''\
def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    """Sweep backwards for the pre-activation gradients, then contract over time and batch."""
    T = hs.shape[0]
    prev = np.concatenate([h0[None], hs[:-1]], axis=0)   # h_{t-1} for every t
    das = np.zeros_like(hs)
    carry = np.zeros_like(h0)
    t = T - 1
    while t >= 0:
        das[t] = (dhs[t] + carry) * (1.0 - hs[t] * hs[t])
        carry = das[t] @ W_h.T
        t -= 1
    return {"xs": np.einsum("tnh,dh->tnd", das, W_x),
            "h0": carry,
            "W_x": np.einsum("tnd,tnh->dh", xs, das),
            "W_h": np.einsum("tnk,tnh->kh", prev, das),
            "b": das.sum(axis=(0, 1))}
''',
        "char_lm_grad": '''\
def _forward_char(W_x, W_h, b, inputs, h0):
    """One-hot inputs (T, N, V) and the states h_0..h_T stacked (T + 1, N, H)."""
    onehots = np.eye(W_x.shape[0])[inputs]
    states = [h0]
    for x_t in onehots:
        states.append(np.tanh(x_t @ W_x + states[-1] @ W_h + b))
    return onehots, np.stack(states)


def char_lm_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0):
    T, N = inputs.shape
    onehots, states = _forward_char(W_x, W_h, b, inputs, h0)
    logits = states[1:] @ W_y + b_y
    logits = logits - logits.max(axis=2, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    wanted = np.eye(W_y.shape[1])[targets]
    loss = -(wanted * logp).sum() / N
    dlogits = (np.exp(logp) - wanted) / N
    direct = dlogits @ W_y.T
    das = np.zeros_like(direct)
    carry = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        das[t] = (direct[t] + carry) * (1 - states[t + 1] ** 2)
        carry = das[t] @ W_h.T
    grads = {"W_x": np.einsum("tnv,tnh->vh", onehots, das),
             "W_h": np.einsum("tnk,tnh->kh", states[:-1], das),
             "b": das.sum(axis=(0, 1)),
             "W_y": np.einsum("tnh,tnv->hv", states[1:], dlogits),
             "b_y": dlogits.sum(axis=(0, 1)),
             "h0": carry}
    return float(loss), grads
''',
        "truncated_grad": '''\
def truncated_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0, k):
    """Each loss term sends its gradient back through at most k states."""
    T, N = inputs.shape
    onehots, states = _forward_char(W_x, W_h, b, inputs, h0)
    grads = {name: np.zeros_like(p) for name, p in
             (("W_x", W_x), ("W_h", W_h), ("b", b), ("W_y", W_y), ("b_y", b_y), ("h0", h0))}
    for t in range(T):
        z = states[t + 1] @ W_y + b_y
        q = np.exp(z - z.max(axis=1, keepdims=True))
        q = q / q.sum(axis=1, keepdims=True)
        dz = (q - np.eye(W_y.shape[1])[targets[t]]) / N
        grads["W_y"] += states[t + 1].T @ dz
        grads["b_y"] += dz.sum(axis=0)
        g = dz @ W_y.T
        steps, s = 0, t
        while steps < k and s >= 0:
            da = g * (1 - states[s + 1] ** 2)
            grads["W_x"] += onehots[s].T @ da
            grads["W_h"] += states[s].T @ da
            grads["b"] += da.sum(axis=0)
            g = da @ W_h.T
            s -= 1
            steps += 1
        if s < 0 and steps < k:
            grads["h0"] += g
    return grads
''',
        "squared_error_grad": '''\
def squared_error_grad(xs, h0, W_x, W_h, b, W_y, b_y, targets):
    T, N, _ = xs.shape
    states = [h0]
    for t in range(T):
        states.append(np.tanh(xs[t] @ W_x + states[t] @ W_h + b))
    all_h = np.array(states)
    err = all_h[1:] @ W_y + b_y - targets
    loss = float((err ** 2).sum() / (2 * N))
    derr = err / N
    grads = {"W_y": sum(all_h[t + 1].T @ derr[t] for t in range(T)), "b_y": derr.sum(axis=(0, 1))}
    grads.update(rnn_backward(derr @ W_y.T, xs, h0, all_h[1:], W_x, W_h))
    del grads["xs"]
    return loss, grads
''',
        "clip_global_norm": '''\
def clip_global_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(value) for value in grads.values()])
    norm = float(np.linalg.norm(flat))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {name: value * scale for name, value in grads.items()}, norm
''',
    },
    # ------------------------------------------------------------------ ps4_hidden_jacobians
    "ps4_hidden_jacobians": {
        "jacobian_products": '''\
def jacobian_products(step_jacobians):
    # walk from the last step backwards, multiplying on the right
    out = [step_jacobians[-1]]
    for J_k in step_jacobians[-2::-1]:
        out.append(np.matmul(out[-1], J_k))
    return np.stack(out[::-1])
''',
        "two_state_state_jacobian": '''\
def _slope(u, activation):
    if activation == "relu":
        return np.where(u > 0, 1.0, 0.0)
    if activation == "sigmoid":
        sg = 1.0 / (1.0 + np.exp(-u))
        return sg * (1.0 - sg)
    return np.ones_like(u)


def two_state_state_jacobian(h_prev, W_h, activation):
    N, H = h_prev.shape
    eye = np.eye(H)
    blocks = []
    for n in range(N):
        A = W_h.T @ np.diag(_slope(h_prev[n], activation))
        top = np.hstack([A, np.zeros((H, H))])
        bottom = np.hstack([A - eye, eye])
        blocks.append(np.vstack([top, bottom]))
    return np.array(blocks)
''',
        "leaky_step_jacobians": '''\
def leaky_step_jacobians(hs, h0, W_h, alpha):
    previous = np.concatenate([h0[None], hs[:-1]])
    tanh_part = (hs - (1 - alpha) * previous) / alpha
    slope = 1 - tanh_part ** 2
    H = W_h.shape[0]
    # (1 - alpha) I + alpha diag(slope) W_h^T, broadcast over time and batch
    return (1 - alpha) * np.eye(H) + alpha * slope[..., :, None] * W_h.T
''',
    },
    # ------------------------------------------------------------------ ps5_sequence_slope
    "ps5_sequence_slope": {
        "rnn_jvp": '''\
def rnn_jvp(xs, h0, W_x, W_h, b, dxs):
    states, tangents = [h0], [np.zeros_like(h0)]
    for x_t, dx_t in zip(xs, dxs):
        pre = x_t @ W_x + states[-1] @ W_h + b
        dpre = dx_t @ W_x + tangents[-1] @ W_h
        h_t = np.tanh(pre)
        states.append(h_t)
        tangents.append(dpre * (1 - h_t ** 2))
    return np.stack(tangents[1:])
''',
        "weight_tangent": '''\
def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    def step(h, x):
        return np.tanh(x @ W_x + h @ W_h + b)

    h, tangent = h0, np.zeros_like(h0)
    result = []
    for x in xs:
        h_new = step(h, x)
        tangent = (1 - np.square(h_new)) * (np.matmul(h, dW_h) + np.matmul(tangent, W_h))
        result.append(tangent)
        h = h_new
    return np.asarray(result)
''',
    },
}
