"""Build the whole book as one PDF, offline, and put it beside the site.

    .venv/bin/python book/build_pdf.py                    # _build/pdf/rnn-derivatives.pdf (+ _build/html/)
    .venv/bin/python book/build_pdf.py --path-output DIR  # the same under DIR/_build

This is what ``jupyter-book build --builder pdfhtml`` does (the book as one HTML page, printed by Chromium
through Playwright), with two differences: the browser is the system's ``chromium`` (Playwright's own
download is not needed, nor any network), and the one-page HTML goes to ``_build/singlehtml`` instead of
over the site in ``_build/html``. The build shares the site's execution cache and environment, so after the
site is built no page runs again. When the site exists, the PDF is copied into it, where its pages link it.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "rnn-derivatives.pdf"
#: Jupyter Book's index.html only redirects to the root document
REDIRECT = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.I)
#: the browser: Debian's chromium (setup.sh installs it)
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: milliseconds the browser may take to load the page and typeset its formulas
LOAD_TIMEOUT_MS = 120_000
# the page's MathJax (the site's own copy) has typeset every formula
TYPESET_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
}"""
PAGE_MARGINS = {"left": "0.5in", "right": "0.5in", "top": "0.5in", "bottom": "0.5in"}
# code cells and their outputs are not split across pages (as in Jupyter Book's pdfhtml)
PRINT_CSS = """
div.cell_input, div.cell_output { break-inside: avoid; }
"""


def find_chromium() -> str:
    """The path of the system's Chromium.

    Returns:
        the first of ``chromium``, ``chromium-browser`` found on ``PATH``.

    Raises:
        FileNotFoundError: when neither is installed (``setup.sh`` installs Debian's ``chromium``).

    Example:
        >>> find_chromium()  # doctest: +SKIP
        '/usr/bin/chromium'
    """
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(f"expected a Chromium browser on PATH ({' or '.join(CHROMIUM_NAMES)}), found none; "
                            "bash setup.sh installs Debian's chromium")


def build_single_page(root: Path, path_output: Path) -> Path:
    """Build the book as one HTML page with Jupyter Book (warnings are errors, as for the site).

    Args:
        root: the book's root (``_config.yml``, ``_toc.yml``).
        path_output: the folder whose ``_build/`` receives ``singlehtml/``.

    Returns:
        the page, ``path_output/_build/singlehtml/book.html``: a copy of the book's root document (where
        ``index.html`` redirects) at the top of the build, where its links to ``_static/`` and ``_images/``
        lead (the one-page builder writes them as seen from the top, whatever the root document's folder).

    Raises:
        subprocess.CalledProcessError: when the build fails.
    """
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", str(root), "--builder", "singlehtml", "-W", "-n", "--keep-going",
                    "--path-output", str(path_output)], check=True)
    index = path_output / "_build" / "singlehtml" / "index.html"
    redirect = REDIRECT.search(index.read_text(encoding="utf-8"))
    page = index.with_name("book.html")
    shutil.copyfile(index.parent / redirect.group(1) if redirect else index, page)
    return page


def print_to_pdf(html: Path, pdf: Path, chromium: str) -> Path:
    """Print the page ``html`` to ``pdf`` in headless Chromium, after MathJax typeset its formulas.

    Args:
        html: an HTML file of the built book.
        pdf: the PDF file to write (its folder is made).
        chromium: the browser's executable.

    Returns:
        ``pdf``.
    """
    from playwright.sync_api import sync_playwright

    pdf.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(LOAD_TIMEOUT_MS)
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=LOAD_TIMEOUT_MS)
            page.evaluate(TYPESET_JS)
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            page.pdf(path=str(pdf), margin=PAGE_MARGINS, print_background=True)
        finally:
            browser.close()
    return pdf


def build_pdf(root: Path, path_output: Path) -> Path:
    """The book as ``path_output/_build/pdf/rnn-derivatives.pdf``, also copied into ``_build/html/`` if it exists.

    Args:
        root: the book's root.
        path_output: the folder whose ``_build/`` holds the builds.

    Returns:
        the PDF in ``_build/pdf/``.
    """
    chromium = find_chromium()
    html = build_single_page(root, path_output)
    start = time.perf_counter()
    pdf = print_to_pdf(html, path_output / "_build" / "pdf" / PDF_NAME, chromium)
    print(f"printed {pdf} in {time.perf_counter() - start:.1f} s")
    site = path_output / "_build" / "html"
    if (site / "index.html").is_file():
        shutil.copyfile(pdf, site / PDF_NAME)
        print(f"copied into the site: {site / PDF_NAME}")
    return pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--path-output", type=Path, default=ROOT,
                        help="folder whose _build/ receives the builds (default: the repository's root)")
    args = parser.parse_args(argv)
    try:
        build_pdf(ROOT, args.path_output.resolve())
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"the one-page build of the book failed (exit status {exc.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
