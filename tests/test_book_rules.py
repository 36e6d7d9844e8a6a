"""Rules the book's pages follow, checked on their source.

The book shows package code with ``literalinclude`` / ``:pyobject:`` so that it cannot drift from
rnngrad, except for the functions students implement in a graded problem set: printing those would
hand out the answer.
"""
import pathlib
import re

import pytest

from autograder.similarity import _rnngrad_targets
from autograder.specs import all_assignments, specs_for

BOOK = pathlib.Path(__file__).resolve().parent.parent / "book"
INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::[^\n]*\n)*)")


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
