"""Build the source notebooks of the course from assignments/content/<set>.py and the specs.

    python assignments/build_notebooks.py            # write assignments/source/<set>/<set>.ipynb (all sets)
    python assignments/build_notebooks.py --check    # exit 1 if a committed notebook differs from a fresh build

A content module defines ``TITLE``, ``INTRO``, ``CHAPTERS`` (the book pages the set follows, as their names
in ``_toc.yml``: ``["bptt"]``) and ``ITEMS``, a list of

* ``Text(markdown)``: a read-only explanation;
* ``Function(name, question, code)``: a graded function. ``code`` is the starter code with the worked
  solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader replaces it by
  ``raise NotImplementedError()`` in the release); the build adds to its docstring that it leaves its
  arguments unchanged. It becomes an answer cell (grade_id ``name``) followed by a locked test cell (grade_id
  ``test_<name>``) whose only line is ``check("name", name)``, worth the points of the spec;
* ``Derivation(k, question, answer, rubric, points)``: a manually graded markdown answer (grade_id
  ``derivation_<k>``) whose source holds a model answer, followed by a locked rubric cell. The rubric is
  released to the students: it says what earns points, never where the model answer is.

The introduction links the book's chapters (:func:`book_url`) and states the grader's loading rules
(:mod:`autograder.loading_rules`: the imports it allows, Jupyter's names it lacks).

Nothing here runs student code. The fixtures and ``rnncheck.py`` next to each notebook are written by
``python -m autograder.fixtures``.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

HERE = Path(__file__).resolve().parent
#: Where the built book is published: the released notebooks link their chapters to ``BOOK_URL + "<page>.html"``
#: (the one place to change it; ``html.baseurl`` in ``_config.yml``, when set, takes its place).
BOOK_URL = "https://rnn-derivatives.github.io/book/"
sys.path.insert(0, str(HERE.parent))
# the content modules import the item classes from "build_notebooks", also when this file runs as a script
sys.modules.setdefault("build_notebooks", sys.modules[__name__])

from autograder import loading_rules  # noqa: E402
from autograder.specs import all_assignments, specs_for  # noqa: E402


@dataclass
class Text:
    markdown: str


@dataclass
class Function:
    name: str
    question: str
    code: str


@dataclass
class Derivation:
    k: int
    question: str
    answer: str
    rubric: str
    points: float


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(kind: str, source: str, cell_id: str, meta: dict | None = None):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source.strip("\n"), metadata=meta or {})
    cell.id = cell_id
    return cell


def load_content(assignment: str):
    """Import assignments/content/<assignment>.py (it is not a package on purpose: it is course material)."""
    path = HERE / "content" / f"{assignment}.py"
    spec = importlib.util.spec_from_file_location(f"content_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def book_url() -> str:
    """The published book's address, ending in "/": ``html.baseurl`` of ``_config.yml``, else :data:`BOOK_URL`."""
    config = yaml.safe_load((HERE.parent / "_config.yml").read_text()) or {}
    base = str((config.get("html") or {}).get("baseurl") or "").strip() or BOOK_URL
    return base if base.endswith("/") else base + "/"


def chapter_links(chapters: list[str]) -> str:
    """Markdown links to the book's pages ``chapters`` (names as in ``_toc.yml``), titled as the pages are.

    Raises:
        ValueError: naming a chapter that is not a page of the book's table of contents.
    """
    toc = (HERE.parent / "_toc.yml").read_text()
    links = []
    for name in chapters:
        if f"file: book/{name}\n" not in toc + "\n":
            raise ValueError(f"CHAPTERS: {name!r} is not a page of _toc.yml")
        heading = next((line[2:].strip() for line in (HERE.parent / "book" / f"{name}.md").read_text().splitlines()
                        if line.startswith("# ")), name)
        links.append(f"[{heading}]({book_url()}{name}.html)")
    return ", ".join(links)


def _with_contract(code: str) -> str:
    """The starter code with the sentence about unchanged arguments after its docstring's first line."""
    start = code.find('"""')
    end = code.find("\n", start)
    if start < 0 or end < 0 or code.find('"""', start + 3) < end:
        raise ValueError("a graded function needs a docstring of several lines")
    return code[:end] + "\n    " + loading_rules.UNCHANGED_ARGUMENTS + code[end:]


def build(assignment: str):
    """The source notebook of one problem set (an nbformat NotebookNode)."""
    content = load_content(assignment)
    points = {s.function: s.points for s in specs_for(assignment)}
    graded = [item.name for item in content.ITEMS if isinstance(item, Function)]
    if graded != list(points):
        raise ValueError(f"{assignment}: notebook functions {graded} differ from the specs {list(points)}")
    derivations = [item for item in content.ITEMS if isinstance(item, Derivation)]
    total = sum(points.values()) + sum(d.points for d in derivations)
    cells = [
        _cell("markdown", f"# {content.TITLE}\n\n**Book:** {chapter_links(content.CHAPTERS)}.\n\n"
              f"{content.INTRO.strip()}\n\n{loading_rules.allowed_imports_text()}\n\n"
              "**Checks.** Each `check(...)` cell runs your function on the visible cases and shows one line, "
              "e.g. `softmax: 3 of 3 visible cases pass`, after a line for each case that fails. Every "
              f"function must leave its arguments unchanged. "
              f"**Points:** {sum(points.values()):g} autograded + {sum(d.points for d in derivations):g} "
              f"graded by hand = {total:g}.", "intro"),
        _cell("code", "import numpy as np\nfrom rnncheck import check, load_case, case_names", "setup",
              _meta("setup", grade=False, solution=False, locked=True)),
    ]
    n_text = 0
    for item in content.ITEMS:
        if isinstance(item, Text):
            n_text += 1
            cells.append(_cell("markdown", item.markdown, f"text_{n_text}"))
        elif isinstance(item, Function):
            cells.append(_cell("markdown", item.question, f"question_{item.name}"))
            if "### BEGIN SOLUTION" not in item.code or "### END SOLUTION" not in item.code:
                raise ValueError(f"{assignment}.{item.name}: the code has no solution region")
            if "rnngrad" in item.code:
                raise ValueError(f"{assignment}.{item.name}: answer code must not use rnngrad")
            cells.append(_cell("code", _with_contract(item.code), item.name,
                               _meta(item.name, grade=False, solution=True, locked=False)))
            cells.append(_cell("code", f'check("{item.name}", {item.name})', f"test_{item.name}",
                               _meta(f"test_{item.name}", grade=True, solution=False, locked=True,
                                     points=points[item.name])))
        elif isinstance(item, Derivation):
            gid = f"derivation_{item.k}"
            cells.append(_cell("markdown", item.question, f"question_{gid}"))
            cells.append(_cell("markdown", item.answer, gid,
                               _meta(gid, grade=True, solution=True, locked=False, points=item.points)))
            cells.append(_cell("markdown", f"**Rubric ({item.points:g} points, graded by hand).**\n\n"
                               + item.rubric.strip(), f"rubric_{item.k}",
                               _meta(f"rubric_{item.k}", grade=False, solution=False, locked=True)))
        else:
            raise TypeError(f"unknown item {item!r}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    nbformat.validate(nb)
    return nb


def notebook_path(assignment: str) -> Path:
    return HERE / "source" / assignment / f"{assignment}.ipynb"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the source notebooks from assignments/content.")
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--check", action="store_true", help="only verify the committed notebooks")
    args = parser.parse_args(argv)
    stale = []
    for assignment in args.assignments or all_assignments():
        text = nbformat.writes(build(assignment)) + "\n"
        path = notebook_path(assignment)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(assignment)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(HERE.parent)}")
    if stale:
        print("notebooks out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
