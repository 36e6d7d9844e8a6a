"""The whole book as one PDF (book/build_pdf.py, offline, printed by the system's Chromium), linked from the site.

The PDF is the one made after the book's shared build (tests/book_site.py); its text is read with pypdf.
"""
from __future__ import annotations

import html as html_lib
import re
import unicodedata

import pytest

from book_site import REPO, built_book

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PDF_NAME = "rnn-derivatives.pdf"


def _plain(text: str) -> str:
    """Text as compared: ligatures unfolded (NFKC), every run of whitespace one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _toc_pages() -> list[str]:
    return re.findall(r"(?:root|file):\s*(\S+)", (REPO / "_toc.yml").read_text())


def page_title(page_html: str) -> str:
    """The text of a built page's first ``<h1>`` (without its permalink sign)."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page_html, re.S)
    assert h1, "a page without a title"
    text = re.sub(r"<a class=\"headerlink\".*?</a>", "", h1.group(1), flags=re.S)
    return _plain(html_lib.unescape(re.sub(r"<[^>]+>", "", text)))


@pytest.fixture(scope="module")
def build():
    build = built_book()
    assert build.returncode == 0, build.log[-6000:]
    assert build.pdf_returncode == 0, build.pdf_log[-6000:]
    return build


@pytest.fixture(scope="module")
def pdf_text(build) -> str:
    from pypdf import PdfReader

    return _plain("\n".join(page.extract_text() for page in PdfReader(build.pdf).pages))


def test_every_chapter_title_is_in_the_pdf(build, pdf_text):
    titles = [page_title((build.html / f"{page}.html").read_text()) for page in _toc_pages()]
    assert len(titles) >= 20
    missing = [t for t in titles if t not in pdf_text]
    assert not missing, missing


def test_the_formulas_are_typeset_not_left_as_tex(pdf_text):
    assert len(pdf_text) > 100_000
    raw = re.findall(r"\\\(|\\\[|\\frac|\\partial|\$\$", pdf_text)
    assert not raw, raw[:5]


def test_the_site_links_the_pdf(build):
    assert (build.html / PDF_NAME).read_bytes() == build.pdf.read_bytes()
    intro = (build.html / "book" / "intro.html").read_text()
    assert f'href="../{PDF_NAME}"' in intro

