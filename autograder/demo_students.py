"""The demo class of one problem set: who the students are and the text each one typed into the answer cells.

The class of each set (:func:`class_for`):

* two correct submissions written independently: the worked solutions of the source notebook with
  debugging prints and warnings, and a second style (:data:`OWN_STYLE`, from ``demo_data/own_style/``; loops,
  einsum, helpers, float32, plus the correct alternatives among the course's known-mistake solutions,
  ``tests/mutants/<set>/*__ok_*``);
* one submission per known mistake of the set, made from the course's mutant solutions
  (``tests/mutants/<set>/<function>__<diagnosis>.py``): the mistaken function, the others left as released;
* ``blank`` (the release unchanged), ``broken_syntax`` (a cell that does not parse), ``broken_typo`` (a
  function that raises NameError), ``peeks_at_files`` (imports ``os`` to look around: a static flag);
* ``copies_own_style``: the second correct submission, renamed, reformatted, re-commented
  (the similarity check must flag it; :func:`autograder.demo_copies.disguise`);
* ``pastes_course_code`` (in the sets where a graded function has an rnngrad counterpart of the same name
  that runs on numpy alone, see :func:`autograder.demo_copies.pasted_reference`): that function pasted from
  rnngrad with its input validation left out (the similarity check must flag it as a copy of the reference).

:func:`make_late` and :func:`autograder.demo_review.HandGrading.answer` add, in the first set of a run, a
submission handed in after the due date and a written derivation that the grader marks by hand.
"""
from __future__ import annotations

__all__ = ["DemoStudent", "OWN_STYLE", "DATA", "class_for", "make_late", "own_style", "worked_solutions",
           "with_prints", "with_typo", "mutant_files", "mutant_answer", "MUTANTS", "REPO"]

import ast
import datetime
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .notebook import cell_source, nbgrader_meta

REPO = Path(__file__).resolve().parents[1]
MUTANTS = REPO / "tests" / "mutants"
#: the demo's data files (answer cells, the late policy, the hand-graded derivations)
DATA = Path(__file__).resolve().parent / "demo_data"
_CELL_MARK = re.compile(r"^# %% (\w+)[ \t]*$", re.M)


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
    late_seconds: float | None = None           # handed in this long after the set's due date
    timestamp: str | None = None                # timestamp.txt, as nbgrader's collect leaves it
    hand_graded: dict | None = None             # the grader's manual score and comment on a written answer


# -- sources of code ------------------------------------------------------------------------

def own_style(assignment: str) -> dict[str, str]:
    """function -> answer cell of the demo's second correct style (``demo_data/own_style/<set>.py``).

    The file holds one cell per ``# %% <function>`` line (the text before the first one is its docstring).

    Example:
        >>> sorted(own_style("ps5_sequence_slope"))
        ['rnn_jvp', 'weight_tangent']
    """
    path = DATA / "own_style" / f"{assignment}.py"
    if not path.is_file():
        return {}
    parts = _CELL_MARK.split(path.read_text(encoding="utf-8"))
    return {name: text.strip("\n") + "\n" for name, text in zip(parts[1::2], parts[2::2])}


#: set -> function -> the second correct style's answer cell, written independently of the worked
#: solutions in assignments/source, so that the demo class holds two honest correct submissions that the
#: similarity check must keep apart
OWN_STYLE = {p.stem: own_style(p.stem) for p in sorted((DATA / "own_style").glob("*.py"))}


def worked_solutions(course: str, assignment: str) -> dict[str, str]:
    """function -> the source notebook's answer cell (solution markers included)."""
    with open(os.path.join(course, "source", assignment, f"{assignment}.ipynb")) as fh:
        nb = json.load(fh)
    out = {}
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if cell["cell_type"] == "code" and meta.get("solution") and not meta.get("grade"):
            out[meta["grade_id"]] = cell_source(cell)
    return out


def strip_markers(text: str) -> str:
    """The answer without nbgrader's ``### BEGIN/END SOLUTION`` lines.

    Example:
        >>> strip_markers("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION\\n")
        'def f():\\n    return 1\\n'
    """
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
    """The worked answer whose last ``return`` names a variable that does not exist (NameError): the first name
    the returned expression reads (outside its string literals) gets a suffix.

    Example:
        >>> with_typo('def f(a):\\n    return {"x": a}\\n')
        'def f(a):\\n    return {"x": a_final}\\n'
    """
    lines = strip_markers(text).splitlines(keepends=True)
    for i in range(len(lines) - 1, -1, -1):
        m = re.match(r"\s*return\s", lines[i])
        if not m:
            continue
        code = re.sub(r"(\"[^\"]*\"|'[^']*')", lambda q: " " * len(q.group(0)), lines[i])   # strings blanked
        name = re.compile(r"(?<![\w.])[A-Za-z_]\w*").search(code, m.end())
        if name:
            lines[i] = lines[i][:name.end()] + "_final" + lines[i][name.end():]
            return "".join(lines)
    raise ValueError("text: expected an answer with a return statement to break, got none")


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


# -- the class -----------------------------------------------------------------------------

def class_for(course: str, assignment: str) -> list[DemoStudent]:
    """The demo students of one problem set (see the module docstring)."""
    from .demo_copies import disguise, pasted_reference
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
                    "broken", {first: strip_markers(worked[first]).replace("):", ")", 1)}, function=first),
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


def make_late(students: list[DemoStudent], student: str, late_by: datetime.timedelta) -> DemoStudent:
    """Mark ``student`` of the class as handed in ``late_by`` after the due date; returns that student.

    Example:
        >>> s = make_late([DemoStudent("ana", "correct", "correct")], "ana", datetime.timedelta(hours=2))
        >>> s.late_seconds, s.description
        (7200.0, 'correct; handed in 2 h 0 min after the due date')
    """
    if late_by <= datetime.timedelta(0):
        raise ValueError(f"late_by: expected a positive time after the due date, got {late_by}")
    found = next((s for s in students if s.student == student), None)
    if found is None:
        raise LookupError(f"student: expected one of {', '.join(s.student for s in students)}, got {student!r}")
    minutes = int(late_by.total_seconds() // 60)
    found.late_seconds = late_by.total_seconds()
    found.description += f"; handed in {minutes // 60} h {minutes % 60} min after the due date"
    return found
