"""Every message a student can see is a hint: it names the idea and the book section, never the answer.

All messages are rendered: every known mistake of every spec, each spec's non-finite sentence, the sentences
compare itself makes (a constant factor, rows or columns scaled), composite verdicts, the generic
``wrong_value`` verdict and the structural ones. A message fails when it states a reference formula:

* code: ``@``, ``np.``, ``.T``, ``**``, an augmented assignment, or an ``=`` between two terms;
* arithmetic between math symbols (a number, a single letter, or a letter with a subscript such as ``W_h``):
  ``1 - h^2``, ``s * v``, ``dh / N``;
* math notation of the derivations: ``^T``, ``diag(``, ``σ'(``, ``sum_``, ``onehot``;
* any expression of the function's worked solution: every operator expression in the notebook's solution
  region, written without spaces.

The book reference ``(book: <page>, section "<title>")`` is checked apart: the page is in ``_toc.yml`` and has
a section of that title.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import COURSE, answer_code  # noqa: E402

from autograder import compare
from autograder.specs import all_assignments, specs_for

ROOT = Path(__file__).resolve().parents[1]
BOOK_REF = re.compile(r'\(book: (\w+), section "(.*?)"\)')
MATH = r"(?:\d+(?:\.\d+)?|[A-Za-zσ](?:_\{?\w+\}?)?'?)"
FORMULA = [
    re.compile(r"@"), re.compile(r"\bnp\."), re.compile(r"\.T\b"), re.compile(r"\*\*"),
    re.compile(r"[-+*/]="), re.compile(r"\w\s*=\s*[\w(-]"),
    re.compile(rf"(?<![\w.]){MATH}\s*[-+*/]\s*{MATH}(?![\w.])"),
    re.compile(r"\^T\b|\^\\top|diag\(|σ'\(|\bsum_|onehot"),
]


def _strip_refs(message: str) -> str:
    return BOOK_REF.sub("", message)


def formula_in(message: str) -> str | None:
    """The first piece of ``message`` (outside book references) that states a formula, or None."""
    text = _strip_refs(message)
    for pattern in FORMULA:
        found = pattern.search(text)
        if found:
            return found.group(0)
    return None


def solution_expressions(assignment: str) -> dict[str, set[str]]:
    """function -> every operator expression of its worked solution, without spaces."""
    tree = ast.parse(answer_code(COURSE / "source" / assignment / f"{assignment}.ipynb"))
    out = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef):
            out[fn.name] = {ast.unparse(n).replace(" ", "") for n in ast.walk(fn)
                            if isinstance(n, ast.BinOp) and len(ast.unparse(n)) >= 5}
    return out


def _every_message():
    """(where, message) for every message of every spec, and compare's own."""
    for assignment in all_assignments():
        for spec in specs_for(assignment):
            for m in spec.mistakes:
                yield f"{spec.assignment}.{spec.function}:{m.id}", spec.function, m.message
            if spec.nonfinite:
                yield f"{spec.assignment}.{spec.function}:{spec.nonfinite[0]}", spec.function, spec.nonfinite[1]
            ids = sorted({m.id for m in spec.mistakes})[:2]
            for composite in ("|".join(ids), f"{ids[0]}@W_h,b+{ids[-1]}@1.h0"):
                yield f"{spec.function}:{composite}", spec.function, spec.messages[composite]
    for key, text in compare.GENERIC_MESSAGES.items():
        yield f"compare:{key}", None, text
    want = {"W_h": np.ones((3, 3)), "b": np.ones(3), "xs": np.ones((4, 2, 3))}
    got = {"W_h": 2.0 * np.ones((3, 3)), "b": np.arange(3.0), "xs": np.ones((4, 2, 3))}
    got["xs"][1] += 1.0
    yield "compare:wrong_value", None, compare.compare(got, want).message
    yield "compare:wrong_shape", None, compare.compare(np.ones(2), np.ones(3)).message
    yield "compare:wrong_keys", None, compare.compare({"a": np.ones(2)}, want).message


MESSAGES = list(_every_message())


def test_the_criterion_catches_formulas_and_passes_prose():
    for formula in ["use da @ W_h.T", "dh * (1 - h**2)", "J = W diag(σ'(x))", "dL/dz = softmax(z) - onehot(y)",
                    "1 - h^2", "grads += step", "s * v", "W_h^T", "h_t - h_{t-1}", "np.outer(s, s)"]:
        assert formula_in(formula), formula
    for prose in ["This is N times too large: the loss is a mean over the batch.", "Work out a 2 x 2 case.",
                  "one-hot targets", "(book: bptt, section \"Truncated BPTT: what it drops\")"]:
        assert formula_in(prose) is None, prose


@pytest.mark.parametrize("where,function,message", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_message_states_no_formula(where, function, message):
    assert formula_in(message) is None, (where, formula_in(message), message)


def test_no_message_contains_an_expression_of_the_worked_solution():
    expressions = {}
    for assignment in all_assignments():
        expressions.update(solution_expressions(assignment))
    assert sum(len(v) for v in expressions.values()) > 100
    everything = set().union(*expressions.values())
    for where, function, message in MESSAGES:
        flat = _strip_refs(message).replace(" ", "")
        found = [e for e in (expressions.get(function, set()) if function else everything) if e in flat]
        assert not found, (where, found)


def _sections(page: str) -> set[str]:
    text = (ROOT / "book" / f"{page}.md").read_text()
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("## ")}


def test_every_mistake_message_points_to_an_existing_book_section():
    toc = (ROOT / "_toc.yml").read_text()
    missing_ref = []
    for where, _, message in MESSAGES:
        if where.startswith("compare:"):
            continue
        refs = BOOK_REF.findall(message)
        hand_checked = where.split(":")[1] in ("wrong_sign", "zero", "negated_input", "clipped")
        if not refs and not hand_checked and "|" not in where and "@" not in where:
            missing_ref.append(where)
        for page, title in refs:
            assert f"book/{page}" in toc, (where, page)
            assert title in _sections(page), (where, page, title)
    assert len(missing_ref) <= len(MESSAGES) // 10, missing_ref
