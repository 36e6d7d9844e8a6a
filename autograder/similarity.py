"""Similarity flags: graded functions that are near copies of the reference or of another submission.

Everything here reads code as text and parses it with :mod:`ast`; nothing is ever run. The flags are
reasons for the instructor to look, never a penalty, like the sandbox's static flags.

How two functions are compared:

1. **Unit.** The graded function ``f`` of a submission together with the top-level helper functions it
   calls (transitively, in the order they are first called), so moving code into a helper does not hide
   it. The reference unit is the rnngrad function that the spec's reference calls, with the helpers of
   its own module that it calls.
2. **Normalise.** Parse, drop docstrings, bare string statements and ``print(...)`` / ``warnings.warn(...)``
   statements, rename every identifier that is not a builtin (arguments, locals, function names, module
   aliases such as ``np``) to ``v0, v1, ...`` in order of first appearance, and ``ast.unparse`` the result.
   Comments, blank lines, spacing, quotes and parentheses style disappear in the round trip. Attribute
   names (``.sum``), keyword names (``axis=``) and literals are kept: they carry the computation.
3. **Tokens.** The unparsed text is split with :mod:`tokenize` (indentation kept as tokens).
4. **Scores.**

   * student against student: ``difflib.SequenceMatcher(..., autojunk=False).ratio()`` of the two token
     sequences (symmetric, 1.0 for identical); flagged at :data:`PAIR_THRESHOLD` or more;
   * student against reference: the share of the student's token :data:`K`-grams that also occur in the
     reference unit (containment), with every renamed identifier replaced by one placeholder
     (:func:`abstract_names`). The reference validates its inputs, so a copy that leaves the validation
     out is still fully contained; flagged at :data:`REFERENCE_THRESHOLD` or more.

   A pair needs both units to have at least :data:`MIN_TOKENS` tokens, the reference check at least
   :data:`REFERENCE_MIN_TOKENS`: short functions such as a three-line softmax are written the same way by
   everyone who writes them well, so sameness says nothing there.
5. **Behaviour** (when the grading records are given): a pair is flagged only when the two functions
   also behaved alike when graded (both right, or wrong with the same diagnoses).

The thresholds were set on the course's own material (tests/test_similarity.py keeps them honest): the
worked solutions against the independent correct solutions of the demo class stay below 0.85 ratio;
against the rnngrad references every solution of 100 tokens or more stays below 0.6 containment (0.58 at
most, for the gated cells' step backwards, where the one natural way to write the formula is also rnngrad's;
below 0.5 in sets 1 to 5); a
renamed, reformatted and re-commented copy scores 1.0, and 0.99 with one line of a 200-token function edited. Some of the
course's known-mistake solutions differ from each other by a line or two (those of ``char_lm_grad`` score
0.95 to 0.99 with each other): as code they are near copies, and only their different behaviour (different
diagnoses) keeps them apart.
"""
from __future__ import annotations

import ast
import builtins
import difflib
import importlib
import inspect
import io
import os
import re
import textwrap
import tokenize
from dataclasses import dataclass

__all__ = ["MIN_TOKENS", "REFERENCE_MIN_TOKENS", "PAIR_THRESHOLD", "REFERENCE_THRESHOLD", "K", "SimilarityFlag",
           "normalized_tokens",
           "function_units", "reference_units", "pair_ratio", "containment", "similarity_flags",
           "submission_sources", "flags_for_course", "behaviour", "abstract_names", "grouped_reasons"]

#: smallest unit (in normalised tokens) that can be flagged; a short function is not evidence of copying
MIN_TOKENS = 60
#: smallest unit compared with the reference: with every name replaced by one placeholder, short code is
#: alike more easily (the course's own worked solution of a one-step backward pass is 97% contained in
#: rnngrad's at 77 tokens; no independent solution of 100 tokens or more comes near 50%)
REFERENCE_MIN_TOKENS = 100
#: SequenceMatcher ratio from which two students' units are flagged
PAIR_THRESHOLD = 0.85
#: share of the student's K-grams found in the reference from which a unit is flagged
REFERENCE_THRESHOLD = 0.8
#: length of the token windows used for containment
K = 6

_BUILTINS = frozenset(dir(builtins))
_SILENT_CALLS = {"print", "warn", "warning", "info", "debug"}
_MAX_SOURCE = 200_000


@dataclass(frozen=True)
class SimilarityFlag:
    """One near copy: ``student``'s ``function`` resembles ``other`` (a student id or ``"reference"``)."""
    student: str
    function: str
    other: str
    score: float
    kind: str            # "student" or "reference"
    detail: str = ""     # for the reference: which rnngrad function

    def reason(self) -> str:
        """One sentence for the instructor; the other student's id is shown as inert text."""
        from .inert import terminal

        if self.kind == "reference":
            return (f"similarity: {self.function} is a near copy of the course reference {self.detail} "
                    f"({100 * self.score:.0f}% of its code found there, after renaming and reformatting)")
        return (f"similarity: {self.function} is a near copy of {terminal(self.other, 80)}'s {self.function} "
                f"({100 * self.score:.0f}% alike after renaming and reformatting)")


def grouped_reasons(flags: list[SimilarityFlag]) -> dict[str, list[str]]:
    """student -> one sentence per source they resemble (another student or the reference), naming every
    function concerned with its score, most alike first."""
    groups: dict[tuple[str, str, str], list[SimilarityFlag]] = {}
    for f in flags:
        groups.setdefault((f.student, f.kind, f.other if f.kind == "student" else f.detail), []).append(f)
    out: dict[str, list[str]] = {}
    for (student, kind, other), fs in sorted(groups.items()):
        if len(fs) == 1:
            out.setdefault(student, []).append(fs[0].reason())
            continue
        fs = sorted(fs, key=lambda f: (-f.score, f.function))
        listed = ", ".join(f"{f.function} ({100 * f.score:.0f}%)" for f in fs)
        from .inert import terminal

        what = f"{terminal(other, 80)}'s code" if kind == "student" else "the course reference"
        out.setdefault(student, []).append(f"similarity: {len(fs)} functions are near copies of {what}, after "
                                           f"renaming and reformatting: {listed}")
    return out


# -- normalisation ---------------------------------------------------------------------------

def _is_silent(stmt: ast.stmt) -> bool:
    """Docstrings, bare strings and print / warnings.warn / logging calls as statements."""
    if not isinstance(stmt, ast.Expr):
        return False
    v = stmt.value
    if isinstance(v, ast.Constant) and isinstance(v.value, str):
        return True
    if isinstance(v, ast.Call):
        f = v.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
        return name in _SILENT_CALLS
    return False


class _Strip(ast.NodeTransformer):
    def generic_visit(self, node):
        super().generic_visit(node)
        for fieldname in ("body", "orelse", "finalbody"):
            body = getattr(node, fieldname, None)
            if isinstance(body, list) and body and all(isinstance(s, ast.stmt) for s in body):
                kept = [s for s in body if not _is_silent(s)]
                setattr(node, fieldname, kept or [ast.Pass()])
        return node


class _Rename(ast.NodeTransformer):
    """Identifiers -> v0, v1, ... in order of first appearance (shared by every function of a unit)."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def _new(self, name: str) -> str:
        if name in _BUILTINS and name not in self.names:
            return name
        if name not in self.names:
            self.names[name] = f"v{len(self.names)}"
        return self.names[name]

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.name = self._new(node.name)
        node.returns = None
        node.decorator_list = []
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_alias(self, node):
        node.asname = self._new(node.asname or node.name.split(".")[0])
        return node


def _tokens(text: str) -> list[str]:
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING):
            out.append(tok.string)
        elif tok.type == tokenize.INDENT:
            out.append("<indent>")
        elif tok.type == tokenize.DEDENT:
            out.append("<dedent>")
        elif tok.type == tokenize.NEWLINE:
            out.append("<nl>")
    return out


def normalized_tokens(functions: list[ast.FunctionDef]) -> list[str]:
    """The tokens of the given function definitions, normalised together (one shared renaming)."""
    import copy

    module = ast.Module(body=[_Strip().visit(copy.deepcopy(f)) for f in functions], type_ignores=[])
    module = _Rename().visit(module)
    ast.fix_missing_locations(module)
    return _tokens(ast.unparse(module))


def _top_level_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """name -> the last top-level definition (as in a notebook, the last one run wins)."""
    out: dict[str, ast.FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = node
    return out


def _called_helpers(func: ast.FunctionDef, defs: dict[str, ast.FunctionDef], depth: int = 4) -> list[ast.FunctionDef]:
    """The top-level functions ``func`` refers to (by name), transitively, first reference first."""
    seen = [func.name]
    order: list[ast.FunctionDef] = []
    frontier = [func]
    for _ in range(depth):
        nxt = []
        for f in frontier:
            for node in ast.walk(f):
                if isinstance(node, ast.Name) and node.id in defs and node.id not in seen:
                    seen.append(node.id)
                    order.append(defs[node.id])
                    nxt.append(defs[node.id])
        frontier = nxt
    return order


def _parse(source: str) -> ast.Module | None:
    if len(source) > _MAX_SOURCE:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def function_units(source: str, functions: list[str]) -> dict[str, list[str]]:
    """function name -> normalised tokens of its unit, for each of ``functions`` defined in ``source``.

    ``source`` is the student's code (cells joined). Code that does not parse as a whole is parsed
    cell by cell when the cells are separated by the ``# %%`` markers of :func:`submission_sources`.
    """
    defs: dict[str, ast.FunctionDef] = {}
    tree = _parse(source)
    chunks = [tree] if tree is not None else [_parse(c) for c in source.split(_CELL_MARK)]
    for chunk in chunks:
        if chunk is not None:
            defs.update(_top_level_functions(chunk))
    out = {}
    for name in functions:
        if name in defs:
            try:
                out[name] = normalized_tokens([defs[name]] + _called_helpers(defs[name], defs))
            except (RecursionError, MemoryError, ValueError):
                continue
    return out


# -- the references ----------------------------------------------------------------------------

def _rnngrad_targets(reference) -> list:
    """The rnngrad functions a spec's reference calls (found in its source: ``from rnngrad.x import f``)."""
    try:
        src = textwrap.dedent(inspect.getsource(reference))
    except (OSError, TypeError):
        return []
    tree = _parse(src)
    if tree is None:
        return []
    targets = []
    module_globals = getattr(reference, "__globals__", {})
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rnngrad":
            mod = importlib.import_module(node.module)
            for alias in node.names:
                obj = getattr(mod, alias.name, None)
                if inspect.isfunction(obj) and obj not in targets:
                    targets.append(obj)
        elif isinstance(node, ast.Name) and node.id != reference.__name__:
            obj = module_globals.get(node.id)
            if inspect.isfunction(obj) and obj.__module__.split(".")[0] == "rnngrad" and obj not in targets:
                targets.append(obj)
    return targets


def _unit_of_function(obj) -> list[str] | None:
    """Normalised tokens of an rnngrad function with the helpers of its module that it calls."""
    try:
        module_src = inspect.getsource(inspect.getmodule(obj))
    except (OSError, TypeError):
        return None
    tree = _parse(module_src)
    if tree is None:
        return None
    defs = _top_level_functions(tree)
    if obj.__name__ not in defs:
        return None
    return normalized_tokens([defs[obj.__name__]] + _called_helpers(defs[obj.__name__], defs))


_REFERENCE_CACHE: dict[tuple[str, str], list[tuple[str, list[str]]]] = {}


def reference_units(spec) -> list[tuple[str, list[str]]]:
    """(``module.function``, tokens) of every rnngrad function the spec's reference calls."""
    key = (spec.assignment, spec.function)
    if key not in _REFERENCE_CACHE:
        units = []
        for obj in _rnngrad_targets(spec.reference):
            toks = _unit_of_function(obj)
            if toks:
                units.append((f"{obj.__module__}.{obj.__name__}", toks))
        _REFERENCE_CACHE[key] = units
    return _REFERENCE_CACHE[key]


# -- scores --------------------------------------------------------------------------------------

def pair_ratio(a: list[str], b: list[str]) -> float:
    """Similarity of two token sequences in [0, 1] (1 = identical)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _kgrams(tokens: list[str], k: int = K) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + k]) for i in range(max(len(tokens) - k + 1, 0))}


def abstract_names(tokens: list[str]) -> list[str]:
    """Every renamed identifier replaced by one placeholder: for containment, where a copy that leaves out
    the reference's first lines (its input validation) would otherwise number its names differently."""
    return ["v" if re.fullmatch(r"v\d+", t) else t for t in tokens]


def containment(part: list[str], whole: list[str], k: int = K) -> float:
    """Share of ``part``'s k-grams that occur in ``whole`` (0 when ``part`` is shorter than k)."""
    grams = _kgrams(part, k)
    if not grams:
        return 0.0
    return len(grams & _kgrams(whole, k)) / len(grams)


def behaviour(record: dict, grade_id: str) -> tuple:
    """What a function did when graded, from a grading-log record: (all cases passed, diagnoses seen)."""
    cases = (record or {}).get("cases", {}).get(grade_id) or []
    return (bool(cases) and all(c.get("passed") for c in cases),
            tuple(sorted({c.get("diagnosis") or "" for c in cases if not c.get("passed")})))


def similarity_flags(sources: dict[str, str], specs, *, records: dict[str, dict] | None = None,
                     pair_threshold: float = PAIR_THRESHOLD, reference_threshold: float = REFERENCE_THRESHOLD,
                     min_tokens: int = MIN_TOKENS,
                     reference_min_tokens: int = REFERENCE_MIN_TOKENS) -> list[SimilarityFlag]:
    """Flags for every student (``sources``: student -> their code) and every graded function in ``specs``.

    A pair of students is reported once per function, on both students (each flag names the other).
    With ``records`` (student -> grading-log record, see :func:`autograder.gradebook.load_records`) a pair
    is flagged only when the two functions also behaved alike when graded (both right, or wrong with the
    same diagnoses): one solution edited into two different mistakes is two attempts, not a copy, while
    a copy of a right or of a wrong solution behaves like its source.
    """
    functions = [s.function for s in specs]
    units = {student: function_units(src, functions) for student, src in sources.items()}
    flags: list[SimilarityFlag] = []
    for spec in specs:
        refs = reference_units(spec)
        for student in sorted(units):
            toks = units[student].get(spec.function)
            if not toks or len(toks) < max(min_tokens, reference_min_tokens):
                continue
            abstract = abstract_names(toks)
            best = max(((containment(abstract, abstract_names(r)), name) for name, r in refs), default=(0.0, ""))
            if best[0] >= reference_threshold:
                flags.append(SimilarityFlag(student, spec.function, "reference", round(best[0], 3), "reference",
                                            best[1]))
        students = sorted(s for s in units if len(units[s].get(spec.function, ())) >= min_tokens)
        for i, a in enumerate(students):
            for b in students[i + 1:]:
                ta, tb = units[a][spec.function], units[b][spec.function]
                if min(len(ta), len(tb)) / max(len(ta), len(tb)) < pair_threshold:
                    continue  # ratio <= 2 min / (len a + len b) < threshold: cannot reach it
                if records is not None and \
                        behaviour(records.get(a), spec.grade_id) != behaviour(records.get(b), spec.grade_id):
                    continue
                matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
                if matcher.quick_ratio() < pair_threshold:
                    continue  # an upper bound of the ratio (shared tokens, order ignored), ten times cheaper
                r = matcher.ratio()
                if r >= pair_threshold:
                    flags.append(SimilarityFlag(a, spec.function, b, round(r, 3), "student"))
                    flags.append(SimilarityFlag(b, spec.function, a, round(r, 3), "student"))
    return flags


# -- reading submissions -------------------------------------------------------------------------

_CELL_MARK = "\n# %% next cell\n"


def submission_sources(course_root: str, assignment: str, students: list[str] | None = None) -> dict[str, str]:
    """student -> the code of their answer cells and added code cells, read from the submitted notebooks.

    Uses the pipeline's notebook reader (JSON only, size-capped) and its inventory against the released
    notebook, so released set-up cells and test cells are left out. Unreadable notebooks are skipped.
    """
    from .grade import list_students, load_course
    from .answer_code import code_units
    from .notebook import read_notebook, take_inventory

    course = load_course(course_root, assignment)
    out = {}
    for student in (students if students is not None else list_students(course)):
        path = os.path.join(course.submission_dir(student), f"{assignment}.ipynb")
        if os.path.islink(path):
            continue
        try:
            nb = read_notebook(path)
            inv = take_inventory(nb, course.release)
            units = [u.source for u in code_units(nb, course.release, inv) if u.from_student]
        except Exception:   # unreadable or unexpected: one submission never stops the class report
            continue
        out[student] = _CELL_MARK.join(units)
    return out


def flags_for_course(course_root: str, assignment: str, records: dict[str, dict] | None = None
                     ) -> list[SimilarityFlag]:
    """Similarity flags of every submission of ``assignment`` in an nbgrader course directory
    (``records``: the grading log, to compare behaviour as well; None to compare code only)."""
    from .specs import specs_for

    return similarity_flags(submission_sources(course_root, assignment), specs_for(assignment), records=records)
