"""The book builds from a clean state with warnings as errors; every page's checks run during the build."""
import re
import subprocess

import pytest

from book_site import JUPYTER_BOOK, REPO, built_book

pytestmark = pytest.mark.slow


def _toc_pages() -> list[str]:
    toc = (REPO / "_toc.yml").read_text()
    return re.findall(r"(?:root|file):\s*(\S+)", toc)


def test_book_builds_without_warnings():
    build = built_book()
    tail = build.log[-6000:]
    assert build.returncode == 0, f"jupyter-book build failed:\n{tail}"
    assert "build succeeded" in build.log, tail
    # Sphinx reports "path: WARNING: ..." / "ERROR: ..." (a kernel's own log lines use "WARNING |")
    warnings = [line for line in build.log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)]
    assert not warnings, "\n".join(warnings)


def test_every_toc_page_is_built():
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    pages = _toc_pages()
    assert len(pages) >= 10
    for page in pages:
        assert (build.html / f"{page}.html").is_file(), page
    assert (build.html / "index.html").is_file()


def test_only_book_pages_are_read():
    """Markdown and notebooks outside book/ (README, assignments, ...) must not become pages."""
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    html = {p.relative_to(build.html).as_posix() for p in build.html.rglob("*.html")}
    stray = sorted(p for p in html if not p.startswith(("book/", "_static/"))
                   and p not in {"index.html", "genindex.html", "search.html", "py-modindex.html"})
    assert not stray, stray
    log = re.sub(r"\x1b\[[0-9;]*m", "", build.log)
    read = re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", log)
    assert read and all(doc.startswith("book/") for doc in read), read


def test_pages_are_executed_with_the_project_environment():
    """Every page executes its code with the kernel that can import rnngrad (the executed-page reports)."""
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    reports = list((build.html / "reports").glob("*.err.log")) if (build.html / "reports").is_dir() else []
    assert not reports, [r.name for r in reports]
    # a page of the book prints the location of the imported package: it must be this repository's
    notation = (build.html / "book" / "notation.html").read_text()
    assert "rnngrad imported from this repository: True" in notation


def test_no_asset_is_loaded_from_outside_the_site():
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    pattern = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I)
    offenders = [p.name for p in build.html.rglob("*.html") if pattern.search(p.read_text())]
    assert not offenders, offenders
    assert (build.html / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_a_failing_check_on_a_page_fails_the_build(tmp_path):
    """The book's configuration turns a failing assert in a page's code into a failed build."""
    (tmp_path / "book").mkdir()
    for shared in ("_ext", "_static", "references.bib", "book_setup.py", "diagrams"):
        (tmp_path / "book" / shared).symlink_to(REPO / "book" / shared)
    (tmp_path / "rnngrad").symlink_to(REPO / "rnngrad")   # the configuration's execution dependencies
    (tmp_path / "_config.yml").write_text((REPO / "_config.yml").read_text())
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (tmp_path / "book" / "intro.md").write_text(
        "---\nfile_format: mystnb\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n"
        "# A page with a wrong formula\n\n"
        "```{code-cell} ipython3\nimport numpy as np\n"
        "assert np.isclose(np.tanh(0.5) ** 2, 1 - np.tanh(0.5)), 'wrong derivative'\n```\n")
    proc = subprocess.run([str(JUPYTER_BOOK), "build", str(tmp_path), "-W", "-n", "--keep-going"],
                          cwd=tmp_path, capture_output=True, text=True)
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    assert proc.returncode != 0, log[-3000:]
    assert "AssertionError: wrong derivative" in log, log[-3000:]


def test_figures_are_drawn_by_the_build_not_committed():
    """Every image of the site comes out of a page's code; the sources hold no image files."""
    committed = [p.relative_to(REPO).as_posix() for p in (REPO / "book").rglob("*")
                 if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".svg"}
                 and "_static/mathjax" not in p.as_posix()]
    assert not committed, committed
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    drawn = list((build.html / "_images").glob("*.svg"))
    assert len(drawn) >= 3, "the chapters draw their figures when the book is built"
    # vector figures stay sharp on any screen density (book/book_setup.py selects SVG)
    bitmaps = [p.name for p in (build.html / "_images").glob("*.png")]
    assert not bitmaps, bitmaps


def test_pages_write_nothing_to_stderr():
    """A warning printed by a page's code (an overflow, a deprecation) shows up as a stderr output."""
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    noisy = [p.name for p in (build.html / "book").glob("*.html") if 'class="output stderr' in p.read_text()]
    assert not noisy, noisy


def test_the_api_reference_has_a_page_per_module_with_typeset_formulas():
    """book/api.html lists the module pages; each documents its functions, and those with formulas typeset them."""
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    pages = sorted((build.html / "book" / "api").glob("*.html"))
    assert len(pages) >= 10
    overview = (build.html / "book" / "api.html").read_text()
    unlinked = [p.name for p in pages if f'href="api/{p.name}"' not in overview]
    assert not unlinked, unlinked
    undocumented = [p.name for p in pages if '<dl class="py' not in p.read_text()]
    assert not undocumented, undocumented
    with_math = [p.name for p in pages if 'class="math notranslate nohighlight"' in p.read_text()
                 and "mathjax/tex-chtml.js" in p.read_text()]
    assert len(with_math) >= len(pages) - 2, with_math   # the package and torch pages state no formula


def test_the_bibliography_links_every_work():
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    page = (build.html / "book" / "bibliography.html").read_text()
    entries = re.findall(r'role="doc-biblioentry">(.*?)</div>', page, re.S)
    assert len(entries) >= 25
    linked = [e for e in entries if re.search(r'<a class="reference external" href="https://', e)]
    assert len(linked) >= 25, f"{len(linked)} of {len(entries)} entries link to the work"
