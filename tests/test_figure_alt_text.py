"""Every figure of the book carries alt text and a caption in its cell's metadata.

A code cell makes a figure when it calls matplotlib's figure functions, a diagram of ``book/diagrams`` or
``imshow``, or shows a figure object. Its ``mystnb: image: alt:`` says in words what the figure shows and what
it tells (read aloud, so no TeX), and ``mystnb: figure:`` gives it a caption and a name to refer to.
"""
import pathlib
import re

import pytest
from myst_nb.core.read import read_myst_markdown_notebook

REPO = pathlib.Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
PAGES = sorted(p for p in BOOK.rglob("*.md") if "_build" not in p.parts)
MIN_ALT_WORDS = 25
# calls that draw a figure (or show one): a cell that contains one of them puts an image on the page
MAKES_FIGURE = re.compile(
    r"\bplt\.(subplots|subplot|figure|plot|imshow|show|matshow|hist|scatter)\("
    r"|\.imshow\(|\.matshow\("
    r"|\bdiagrams\.[a-z_]+\("
    r"|\bdisplay\(\s*fig\b"
    r"|^fig\s*$", re.M)


def figure_cells(text: str) -> list[tuple[int, dict, str]]:
    """(index, metadata, source) of every code cell of a MyST notebook ``text`` that makes a figure."""
    notebook = read_myst_markdown_notebook(text)
    return [(i, cell.metadata, cell.source) for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and MAKES_FIGURE.search(cell.source)]


def missing_alt_text(text: str) -> list[str]:
    """One line for each figure cell of ``text`` whose alt text or caption is missing or too thin."""
    problems = []
    for index, meta, source in figure_cells(text):
        mystnb = meta.get("mystnb", {})
        alt = str(mystnb.get("image", {}).get("alt", ""))
        figure = mystnb.get("figure", {})
        where = f"cell {index} ({source.strip().splitlines()[0][:50]!r})"
        if len(alt.split()) < MIN_ALT_WORDS:
            problems.append(f"{where}: alt text of {len(alt.split())} words, expected >= {MIN_ALT_WORDS}")
        if "$" in alt or "\\" in alt:
            problems.append(f"{where}: alt text is read aloud, expected words, not TeX")
        if not str(figure.get("caption", "")).strip() or not str(figure.get("name", "")).startswith("fig-"):
            problems.append(f"{where}: expected a figure caption and a name starting with 'fig-'")
    return problems


def pages_with_figures() -> list[pathlib.Path]:
    return [p for p in PAGES if "code-cell" in p.read_text() and figure_cells(p.read_text())]


@pytest.mark.parametrize("page", pages_with_figures(), ids=lambda p: str(p.relative_to(BOOK)))
def test_every_figure_has_alt_text_and_a_caption(page):
    assert missing_alt_text(page.read_text()) == []


def test_the_book_has_figures_to_check():
    """The detector sees the plotted chapters (a broken pattern would pass every page vacuously)."""
    counted = {p.name: len(figure_cells(p.read_text())) for p in pages_with_figures()}
    assert sum(counted.values()) >= 20, counted
    assert counted.get("bptt.md", 0) >= 5 and counted.get("sequence_slope.md", 0) >= 3, counted


def test_a_figure_without_alt_text_is_reported():
    """The same page with the alt text of one figure removed fails the check, naming that cell."""
    page = (BOOK / "bptt.md").read_text()
    assert missing_alt_text(page) == []
    alt_block = re.search(r"\n  image:\n    alt: >-\n(?:      .*\n)+", page)
    assert alt_block, "bptt.md should give its first figure alt text as a folded block"
    stripped = page[:alt_block.start()] + "\n" + page[alt_block.end():]
    problems = missing_alt_text(stripped)
    assert len(problems) == 1 and "alt text of 0 words" in problems[0], problems


@pytest.mark.parametrize("source", [
    "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()",
    "diagrams.lstm_cell()\nplt.show()",
    "ax.imshow(M)",
    "fig = make()\nfig",
])
def test_a_figure_cell_is_recognised(source):
    page = f"```{{code-cell}} ipython3\n{source}\n```\n"
    assert len(figure_cells(page)) == 1
    assert missing_alt_text(page) and "alt text of 0 words" in missing_alt_text(page)[0]


def test_a_cell_without_a_figure_is_not_checked():
    page = "```{code-cell} ipython3\nprint(np.ones(3))\nfigure_count = 2\n```\n"
    assert figure_cells(page) == []
