"""The book's execution cache follows rnngrad: pages run again when the package changes, and only then.

The integration test builds a one-page book in a temporary folder, with a copy of rnngrad that the page's
kernel imports (``PYTHONPATH``), the repository's ``_config.yml`` and its ``book/_ext`` extensions, using the
README's build command. The unit tests check the hash that decides it (``book/_ext/execution_dependencies.py``).
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from book_site import JUPYTER_BOOK, REPO

EXTENSION = REPO / "book" / "_ext" / "execution_dependencies.py"
EXECUTED = "Executing notebook using local CWD"     # myst-nb's log line for every page it runs
PAGE = """\
---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

# One page that imports rnngrad

```{code-cell} ipython3
from pathlib import Path

import rnngrad
from rnngrad.softmax import softmax

assert Path(rnngrad.__file__).resolve().parent == Path.cwd().parent / "rnngrad"
print("softmax of two zeros:", softmax([0.0, 0.0]).tolist())
```
"""


def _extension():
    spec = importlib.util.spec_from_file_location("execution_dependencies", EXTENSION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_digest_follows_content_not_modification_times(tmp_path):
    ext = _extension()
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("def f():\n    return 1\n")
    (package / "sub" / "b.py").write_text("X = 2\n")
    (package / "notes.txt").write_text("not Python")
    before = ext.source_digest(tmp_path, ["pkg"])
    os.utime(package / "a.py", (1, 1))
    (package / "notes.txt").write_text("changed, but not Python")
    assert ext.source_digest(tmp_path, ["pkg"]) == before
    (package / "sub" / "b.py").write_text("X = 3\n")
    assert ext.source_digest(tmp_path, ["pkg"]) != before
    (package / "sub" / "b.py").write_text("X = 2\n")
    assert ext.source_digest(tmp_path, ["pkg"]) == before
    (package / "sub" / "c.py").write_text("")
    assert ext.source_digest(tmp_path, ["pkg"]) != before


def test_a_one_page_build_finds_the_sources_from_the_books_root(tmp_path):
    """``jupyter-book build book/page.md`` runs with the page's folder as confdir; the dependencies are
    still named from the folder of ``_config.yml`` above it."""
    ext = _extension()
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    pages = tmp_path / "book" / "part"
    pages.mkdir(parents=True)
    assert ext.book_root(pages) == tmp_path
    assert ext.book_root(tmp_path) == tmp_path
    assert ext.source_digest(ext.book_root(pages), ["pkg"]) == ext.source_digest(tmp_path, ["pkg"])


def test_a_missing_dependency_is_a_configuration_error(tmp_path):
    ext = _extension()
    with pytest.raises(Exception, match="execution_dependencies: expected a file or folder.*'nowhere'"):
        ext.source_digest(tmp_path, ["nowhere"])


def test_the_book_configuration_names_rnngrad_and_the_shared_page_settings():
    config = (REPO / "_config.yml").read_text()
    assert re.search(r"^\s+- execution_dependencies\s*$", config, re.M), "the extension is not loaded"
    listed = re.search(r"execution_dependencies:\s*\[([^\]]*)\]", config)
    assert listed, "execution_dependencies is not set"
    assert {"rnngrad", "book/book_setup.py"} <= {e.strip(" \"'") for e in listed.group(1).split(",")}


def _book(tmp_path: Path) -> Path:
    root = tmp_path / "book-copy"
    (root / "book").mkdir(parents=True)
    for shared in ("_ext", "_static", "references.bib", "diagrams"):
        (root / "book" / shared).symlink_to(REPO / "book" / shared)
    shutil.copy(REPO / "book" / "book_setup.py", root / "book" / "book_setup.py")
    shutil.copytree(REPO / "rnngrad", root / "rnngrad", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (root / "book" / "intro.md").write_text(PAGE)
    return root


def _build(root: Path) -> tuple[str, str]:
    """The README's build command in ``root``; returns the log and the built page."""
    env = {**os.environ, "PYTHONPATH": str(root)}   # the page's kernel imports the copy of rnngrad
    proc = subprocess.run([str(JUPYTER_BOOK), "build", ".", "-W", "-n", "--keep-going"],
                          cwd=root, env=env, capture_output=True, text=True)
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    assert proc.returncode == 0, log[-4000:]
    return log, (root / "_build" / "html" / "book" / "intro.html").read_text()


@pytest.mark.slow
def test_pages_run_again_when_rnngrad_changes_and_only_then(tmp_path):
    subprocess.run(["bash", str(REPO / "book" / "_setup_assets.sh")], check=True, cwd=REPO)
    root = _book(tmp_path)
    log, page = _build(root)
    assert log.count(EXECUTED) == 1, log[-4000:]
    assert "[0.5, 0.5]" in page

    # nothing changed (the package's files touched, same content): nothing is read, nothing runs
    for path in (root / "rnngrad").rglob("*.py"):
        os.utime(path)
    log, page = _build(root)
    assert EXECUTED not in log and "Using cached notebook" not in log, log[-4000:]
    assert "[0.5, 0.5]" in page

    # a function of the package changes: the page runs again, with the new code
    source = root / "rnngrad" / "softmax.py"
    text = source.read_text()
    old = "    return e / e.sum(axis=axis, keepdims=True)\n"
    assert text.count(old) == 1, "softmax's last line moved: update this test"
    source.write_text(text.replace(old, "    return 2 * e / e.sum(axis=axis, keepdims=True)\n"))
    log, page = _build(root)
    assert log.count(EXECUTED) == 1, log[-4000:]
    assert "[1.0, 1.0]" in page and "[0.5, 0.5]" not in page

    # and the rebuild after that runs nothing again
    log, _ = _build(root)
    assert EXECUTED not in log, log[-4000:]
