"""Rules the book's pages follow, checked on their source.

The book shows package code with ``literalinclude`` / ``:pyobject:`` so that it cannot drift from
rnngrad, except for the functions students implement in a graded problem set: printing those would
hand out the answer.

Code shown in the book fits the text column (the browser test measures the built pages; these rules
name the line to wrap): lines of code cells and of included rnngrad objects have at most
``CODE_COLUMNS`` characters, doctest lines of the modules in the API appendix at most
``DOCTEST_COLUMNS`` after their indentation (the API pages indent docstrings), and every page with code
starts with the shared settings of ``book/book_setup.py`` (printed arrays wrapped to the column,
figures as SVG).
"""
import ast
import importlib
import pathlib
import pkgutil
import re

import pytest

from autograder.similarity import _rnngrad_targets
from autograder.specs import all_assignments, specs_for

BOOK = pathlib.Path(__file__).resolve().parent.parent / "book"
INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::[^\n]*\n)*)")
CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
CODE_COLUMNS = 76       # the code box of the text column at 1280 px, 14 px monospace
FOLDED_COLUMNS = 74     # a cell whose input is folded (hide-input) sits in a slightly narrower box
DOCTEST_COLUMNS = 72    # the API appendix's code boxes are indented by one docstring level


def shown_objects():
    """(page, module path, object name) of every literalinclude with :pyobject: in the book."""
    out = []
    for page in sorted(BOOK.glob("*.md")):
        for m in INCLUDE.finditer(page.read_text()):
            opts = dict(re.findall(r":(\w+):\s*(\S+)", m.group(2)))
            if "pyobject" in opts:
                out.append((page.name, m.group(1), opts["pyobject"]))
    return out


def graded_references():
    """``module.function`` of every rnngrad function that a graded function is compared with."""
    names = {}
    for assignment in all_assignments():
        for spec in specs_for(assignment):
            for obj in _rnngrad_targets(spec.reference):
                names[f"{obj.__module__}.{obj.__name__}"] = f"{assignment}: {spec.function}"
    return names


def test_the_book_includes_package_code():
    assert len(shown_objects()) >= 10


def test_graded_functions_are_derived_but_their_code_is_not_printed():
    graded = graded_references()
    assert graded, "no graded references found: the rule would check nothing"
    leaks = []
    for page, path, name in shown_objects():
        module = "rnngrad." + pathlib.PurePosixPath(path).stem
        if path.startswith("../rnngrad/torch_ref/"):
            module = "rnngrad.torch_ref." + pathlib.PurePosixPath(path).stem
        if f"{module}.{name}" in graded:
            leaks.append(f"{page} prints {module}.{name}, graded in {graded[f'{module}.{name}']}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("page, path, name", shown_objects())
def test_every_included_object_exists(page, path, name):
    source = (BOOK / path).resolve().read_text()
    assert re.search(rf"^(def|class) {re.escape(name)}\b", source, re.M), f"{page}: {path} has no {name}"


def _cell_source(cell: str) -> list[str]:
    """The code lines of a code cell, without its YAML or ``:key:`` options."""
    cell = re.sub(r"\A---\n.*?\n---\n", "", cell, flags=re.S)
    return [line for line in cell.split("\n") if not line.startswith(":")]


def test_code_cells_fit_the_text_column():
    long_lines = []
    for page in sorted(BOOK.glob("*.md")):
        for cell in CODE_CELL.findall(page.read_text()):
            options = cell.split("\n---\n", 1)[0] if cell.startswith("---") else cell.split("\n", 1)[0]
            columns = FOLDED_COLUMNS if "hide-input" in options else CODE_COLUMNS
            long_lines += [f"{page.name}: {line.strip()[:60]} ({len(line)} > {columns})"
                           for line in _cell_source(cell) if len(line) > columns]
    assert not long_lines, "\n".join(long_lines)


def test_included_code_fits_the_text_column():
    long_lines = []
    for page, path, name in shown_objects():
        source = (BOOK / path).resolve().read_text()
        lines = source.splitlines()
        node = next(n for n in ast.walk(ast.parse(source))
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
        start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        long_lines += [f"{page}: {path}:{i + 1} ({len(lines[i]) - node.col_offset})"
                       for i in range(start - 1, node.end_lineno)
                       if len(lines[i]) - node.col_offset > CODE_COLUMNS]
    assert not long_lines, "\n".join(long_lines)


def api_pages() -> list[pathlib.Path]:
    """The pages of the API reference: the overview ``book/api.md`` and one page per module or group."""
    return [BOOK / "api.md", *sorted((BOOK / "api").glob("*.md"))]


def documented_modules() -> list[str]:
    """Every module named by an ``automodule`` directive of the API reference, in page order."""
    return [name for page in api_pages()
            for name in re.findall(r"^\.\. automodule:: (\S+)", page.read_text(), re.M)]


def test_every_public_module_of_rnngrad_has_its_api_page():
    package = importlib.import_module("rnngrad")
    public = {"rnngrad"} | {m.name for m in pkgutil.walk_packages(package.__path__, "rnngrad.")
                            if not any(part.startswith("_") for part in m.name.split("."))}
    documented = documented_modules()
    assert sorted(public - set(documented)) == [], "modules missing from the API reference"
    assert len(documented) == len(set(documented)), "a module is documented twice"


def test_the_api_pages_form_one_part_of_the_table_of_contents_after_the_errata():
    toc = (BOOK.parent / "_toc.yml").read_text()
    files = re.findall(r"file:\s*(\S+)", toc)
    pages = [f"book/{p.relative_to(BOOK).with_suffix('').as_posix()}" for p in api_pages()]
    assert len(pages) >= 10
    missing = [p for p in pages if p not in files]
    assert not missing, f"API pages not in _toc.yml (they would not be built): {missing}"
    part = toc.split("caption: API reference", 1)
    assert len(part) == 2, "no part with the caption 'API reference'"
    in_part = re.findall(r"file:\s*(\S+)", part[1].split("caption:", 1)[0])
    assert in_part[:1] == ["book/api"] and sorted(in_part) == sorted(pages), in_part
    reference = [files.index(page) for page in ("book/glossary", "book/bibliography", "book/api")]
    assert files.index("book/errata") < min(reference), "the errata come before the reference appendices"


def test_doctests_of_the_api_appendix_fit_its_code_boxes():
    modules = documented_modules()
    assert len(modules) >= 10
    files = set()
    for name in modules:
        module = importlib.import_module(name)
        files.add(pathlib.Path(module.__file__))
        # a package's automodule documents what it re-exports, whose docstrings live in other files
        for member in getattr(module, "__all__", []):
            defined_in = getattr(getattr(module, member), "__module__", None)
            if defined_in and defined_in.startswith("rnngrad"):
                files.add(pathlib.Path(importlib.import_module(defined_in).__file__))
    long_lines = []
    for path in sorted(files):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.strip()
            if code.startswith((">>>", "...")) and len(code) > DOCTEST_COLUMNS:
                long_lines.append(f"{path.name}:{i} ({len(code)}) {code[:60]}")
    assert not long_lines, "\n".join(long_lines)


def test_every_page_with_code_applies_the_shared_settings():
    missing = []
    for page in sorted(BOOK.glob("*.md")):
        cells = CODE_CELL.findall(page.read_text())
        if cells and "book_setup.apply()" not in cells[0]:
            missing.append(page.name)
    assert not missing, missing
