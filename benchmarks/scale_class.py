"""A large class for the scale benchmark: thousands of submissions of every problem set, written from templates.

The course is a copy of ``assignments/`` with every set released by nbgrader (``generate_assignment``). Each set
gets a few dozen notebook templates, one per kind of submission and variant (``templates``):

* ``right``: the worked solutions (markers removed), the same with debugging prints and warnings, and a second
  correct style (``autograder/demo_data/own_style/`` and the course's correct alternatives,
  ``tests/mutants/<set>/*__ok_*``);
* ``partly_right``: the worked solutions with one function replaced by one of the set's known mistakes
  (``tests/mutants/<set>/<function>__<diagnosis>.py``, or, for a function without any, a mechanical mutation of
  its solution by ``mutation_ops``), and the first half of the functions answered, the rest as released;
* ``wrong``: every function replaced by a known mistake (the first, or the last, of each function);
* ``empty``: the released notebook unchanged;
* ``broken``: the first answer cell does not parse; or a function raises NameError when called (a misspelt
  variable in the first answer that returns a variable);
  or it raises while the code loads (it reads a file the sandbox does not have); ``infinite_loop``
  submissions (a loop at the top of the first answer cell that never ends) are placed by count, not by share,
  because each one costs the sandbox's whole wall-clock limit for loading.

The shares of the kinds and the broken cells are data (``scale_class.json``). ``plan`` spreads ``n``
submissions over the sets in turn (student ``s00000`` submits every set, then ``s00001``, ...), gives each set
the shares exactly (largest remainders, shuffled by ``rng``) and cycles through each kind's templates;
``write_class`` writes ``submitted/<student>/<set>/`` as nbgrader's ``collect`` leaves it (the notebook, the
released files hard-linked where the file system allows, ``timestamp.txt``), a few thousand folders a second.

    >>> course = make_course(tmp, problem_sets())                       # doctest: +SKIP
    >>> planned = plan(problem_sets(), 600, load_mix(), loops=1)         # doctest: +SKIP
    >>> write_class(course, planned)                                     # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [p for p in (str(REPO), str(HERE)) if p not in sys.path]

from autograder import demo_course  # noqa: E402
from autograder.demo_students import (mutant_answer, mutant_files, own_style, strip_markers,  # noqa: E402
                                      with_prints, with_typo, worked_solutions)
from autograder.specs import all_assignments, specs_for  # noqa: E402

__all__ = ["KINDS", "MIX_FILE", "Submission", "Template", "load_mix", "problem_sets", "make_course", "answer_sets",
           "templates", "plan", "write_class", "kind_counts"]

#: the kinds of submission, in the order the tables show them
KINDS = ("right", "partly_right", "wrong", "empty", "broken")
#: the mix: shares of the kinds, the broken cells, the submission time
MIX_FILE = HERE / "scale_class.json"
LOOP = "broken:infinite_loop"


@dataclass(frozen=True)
class Template:
    """One notebook of a set: its kind, a name saying what is in it, and the notebook's JSON text."""
    kind: str
    name: str
    text: str


@dataclass(frozen=True)
class Submission:
    """One planned submission: who, which set, its kind and the name of its template."""
    student: str
    assignment: str
    kind: str
    template: str


def load_mix(path: Path = MIX_FILE) -> dict:
    """The mix data (``weights`` per kind, ``broken_cells``, ``timestamp``), checked."""
    mix = json.loads(Path(path).read_text())
    weights = mix.get("weights", {})
    if set(weights) != set(KINDS) or any(not isinstance(w, (int, float)) or w < 0 for w in weights.values()) \
            or sum(weights.values()) <= 0:
        raise ValueError(f"{path}: weights: expected a non-negative number for each of {', '.join(KINDS)}, "
                         f"got {weights}")
    if set(mix.get("broken_cells", {})) != {"load_error", "infinite_loop"}:
        raise ValueError(f"{path}: broken_cells: expected load_error and infinite_loop, got "
                         f"{sorted(mix.get('broken_cells', {}))}")
    return mix


def problem_sets() -> list[str]:
    """The course's problem sets that have a source notebook, in course order."""
    return [a for a in all_assignments() if (REPO / "assignments" / "source" / a / f"{a}.ipynb").is_file()]


def make_course(root: str, sets: list[str]) -> str:
    """A copy of the course under ``root/course`` with ``sets`` released (nbgrader's API, in this process)."""
    return demo_course.make_course(root, sets)


def _mistakes(assignment: str, worked: dict[str, str]) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    """function -> [(diagnosis, cell)] of the set's known mistakes, and function -> a correct alternative cell.

    A function without a known-mistake file gets mechanical mutations of its worked solution (at most three).
    """
    from mutation_ops import mutants

    wrong: dict[str, list[tuple[str, str]]] = {f: [] for f in worked}
    alternative: dict[str, str] = {}
    folder = REPO / "tests" / "mutants" / assignment
    for path in (mutant_files(assignment) if folder.is_dir() else []):
        function, diagnosis, cell = mutant_answer(path)
        if function not in worked:
            continue
        if diagnosis is None:
            alternative.setdefault(function, cell)
        else:
            wrong[function].append((diagnosis, cell))
    for function, cells in wrong.items():
        if not cells:
            found = [m for m in mutants(strip_markers(worked[function])) if m.source.strip()]
            cells.extend((f"mutation_{m.operator}", m.source) for m in found[:3])
    return wrong, alternative


def answer_sets(course: str, assignment: str, mix: dict) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, name, {answer grade_id: cell text}) of every template of a set; answers not given stay as released."""
    functions = [s.function for s in specs_for(assignment)]
    source = worked_solutions(course, assignment)
    worked = {f: strip_markers(source[f]) for f in functions}
    wrong, alternative = _mistakes(assignment, source)
    own = {**alternative, **own_style(assignment)}
    first, cells = functions[0], mix["broken_cells"]
    out = [("right", "worked", dict(worked)),
           ("right", "worked_with_prints", {f: with_prints(f, source[f]) for f in functions}),
           ("right", "own_style", {f: own.get(f, worked[f]) for f in functions})]
    for function in functions:
        for diagnosis, cell in wrong[function]:
            out.append(("partly_right", f"{diagnosis}__{function}", {**worked, function: cell}))
    half = functions[: max(1, len(functions) // 2)]
    out.append(("partly_right", "first_half_answered", {f: worked[f] for f in half}))
    for which, pick in (("first", 0), ("last", -1)):
        answers = {f: wrong[f][pick][1] for f in functions if wrong[f]}
        if answers:
            out.append(("wrong", f"{which}_known_mistakes", answers))
    out.append(("empty", "as_released", {}))
    out.append(("broken", "syntax_error", {**worked, first: _unparsable(worked[first])}))
    typo = _misspelt(functions, source)
    out.append(("broken", "name_error", {**worked, typo: with_typo(source[typo])}))
    out.append(("broken", "load_error", {**worked, first: cells["load_error"] + worked[first]}))
    out.append(("broken", "infinite_loop", {**worked, first: cells["infinite_loop"] + worked[first]}))
    return out


def _unparsable(cell: str) -> str:
    """The cell with the colon of its first ``def`` line removed (or, failing that, an unclosed bracket added)."""
    broken = re.sub(r"^(def [^\n]*):([ \t]*(#[^\n]*)?)$", r"\1\2", cell, count=1, flags=re.M)
    try:
        compile(broken, "<cell>", "exec")
    except SyntaxError:
        return broken
    return cell + "\nresult = (\n"


def _misspelt(functions: list[str], source: dict[str, str]) -> str:
    """The first function whose worked answer ends in ``return <name>``, which ``with_typo`` can misspell."""
    for function in functions:
        try:
            with_typo(source[function])
            return function
        except ValueError:
            continue
    raise LookupError(f"functions: expected one whose answer returns a variable, got none of {functions}")


def templates(course: str, assignment: str, mix: dict) -> dict[str, Template]:
    """``"kind:name"`` -> Template of every notebook of a set, made from its released notebook."""
    with open(os.path.join(course, "release", assignment, f"{assignment}.ipynb")) as fh:
        release = json.load(fh)
    out = {}
    for kind, name, answers in answer_sets(course, assignment, mix):
        student = demo_course.DemoStudent(name, name, "correct" if kind == "right" else kind, answers)
        out[f"{kind}:{name}"] = Template(kind, name, json.dumps(demo_course.build_notebook(release, student),
                                                                indent=1))
    return out


def _exact_counts(weights: dict[str, float], n: int) -> dict[str, int]:
    """``n`` split in proportion to ``weights`` (largest remainders; ties in KINDS order)."""
    total = sum(weights.values())
    raw = {k: n * weights[k] / total for k in KINDS}
    counts = {k: int(raw[k]) for k in KINDS}
    for k in sorted(KINDS, key=lambda k: (counts[k] - raw[k], KINDS.index(k)))[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def plan(sets: list[str], n: int, mix: dict, loops: int = 0, rng: int = 0,
         names: dict[str, list[str]] | None = None) -> list[Submission]:
    """``n`` submissions spread over ``sets`` in turn, each set with the mix's shares and ``loops`` infinite loops
    in all (given to the sets in turn, in place of other broken submissions where there are some).

    ``names``: set -> its template keys (``templates``); by default the kinds are planned with one template each.

    Example:
        >>> mix = {"weights": dict(right=40, partly_right=30, wrong=10, empty=10, broken=10)}
        >>> Counter(s.kind for s in plan(["ps1_softmax"], 20, mix))["right"]
        8
    """
    if not sets:
        raise ValueError("sets: expected at least one problem set, got none")
    if n < 0 or loops < 0 or loops > n:
        raise ValueError(f"n, loops: expected 0 <= loops <= n, got n={n}, loops={loops}")
    draw = random.Random(rng)
    per_set = {a: [k for k in range(n) if k % len(sets) == i] for i, a in enumerate(sets)}
    kinds: dict[int, str] = {}
    for a, ks in per_set.items():
        bag = [kind for kind, c in _exact_counts(mix["weights"], len(ks)).items() for _ in range(c)]
        draw.shuffle(bag)
        kinds.update(zip(ks, bag))
    looping: set[int] = set()
    for j in range(loops):
        ks = [k for k in per_set[sets[j % len(sets)]] if k not in looping]
        if not ks:          # fewer submissions of this set than loops given to it
            ks = [k for k in range(n) if k not in looping]
        looping.add(next((k for k in ks if kinds[k] == "broken"), ks[0]))
    names = names or {}
    turn: Counter = Counter()
    out = []
    for k in range(n):
        a = sets[k % len(sets)]
        if k in looping:
            kind, key = "broken", LOOP
        else:
            kind = kinds[k]
            keys = [t for t in names.get(a, [f"{kind}:{kind}"]) if t.startswith(kind + ":") and t != LOOP]
            key = keys[turn[a, kind] % len(keys)]
            turn[a, kind] += 1
        out.append(Submission(f"s{k // len(sets):05d}", a, kind, key))
    return out


def _place(src: str, dst: str) -> None:
    """A released file in a submission folder: a hard link when the file system allows, else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def write_class(course: str, planned: list[Submission], made: dict[str, dict[str, Template]],
                timestamp: str) -> None:
    """``submitted/<student>/<set>/`` of every planned submission: its template's notebook, the other released
    files and ``timestamp.txt``. ``made``: set -> ``templates(course, set, mix)``."""
    released = {a: sorted(f for f in os.listdir(os.path.join(course, "release", a)) if f != f"{a}.ipynb")
                for a in made}
    for sub in planned:
        folder = os.path.join(course, "submitted", sub.student, sub.assignment)
        os.makedirs(folder)
        with open(os.path.join(folder, f"{sub.assignment}.ipynb"), "w") as fh:
            fh.write(made[sub.assignment][sub.template].text)
        for name in released[sub.assignment]:
            _place(os.path.join(course, "release", sub.assignment, name), os.path.join(folder, name))
        with open(os.path.join(folder, "timestamp.txt"), "w") as fh:
            fh.write(timestamp + "\n")


def kind_counts(planned: list[Submission]) -> dict[str, dict[str, int]]:
    """set -> kind -> how many (``infinite_loop`` counted apart from the other broken ones)."""
    out: dict[str, Counter] = {}
    for s in planned:
        out.setdefault(s.assignment, Counter())["infinite_loop" if s.template == LOOP else s.kind] += 1
    return {a: dict(c) for a, c in out.items()}

