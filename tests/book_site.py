"""Build the book once per test run and share the result between the book tests.

The build is clean (a fresh output folder, so every page is executed again and a wrong
formula in rnngrad fails it) and uses the same command as the README:
``jupyter-book build . -W -n --keep-going``, with ``--path-output`` pointing at a
temporary folder so that the developer's ``_build`` is left alone.
"""
from __future__ import annotations

import atexit
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@dataclasses.dataclass(frozen=True)
class BookBuild:
    returncode: int
    log: str
    html: Path
    seconds: float
    #: the book as one PDF (book/build_pdf.py, run after the site is built), and that command's result
    pdf: Path | None = None
    pdf_returncode: int | None = None
    pdf_log: str = ""
    pdf_seconds: float = 0.0


_build: BookBuild | None = None


def build_book(out_dir: Path) -> BookBuild:
    """Run the MathJax set-up (quick when done), a clean build of the book into ``out_dir``, then its PDF."""
    subprocess.run(["bash", str(REPO / "book" / "_setup_assets.sh")], check=True, cwd=REPO)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(JUPYTER_BOOK), "build", ".", "-W", "-n", "--keep-going", "--path-output", str(out_dir)],
        cwd=REPO, capture_output=True, text=True,
    )
    build = BookBuild(proc.returncode, proc.stdout + proc.stderr, out_dir / "_build" / "html",
                      time.perf_counter() - start)
    if build.returncode != 0:
        return build
    start = time.perf_counter()   # the PDF, which the site links (it reuses the build's execution cache)
    pdf = subprocess.run([sys.executable, str(REPO / "book" / "build_pdf.py"), "--path-output", str(out_dir)],
                         cwd=REPO, capture_output=True, text=True)
    return dataclasses.replace(build, pdf=out_dir / "_build" / "pdf" / "rnn-derivatives.pdf",
                               pdf_returncode=pdf.returncode, pdf_log=pdf.stdout + pdf.stderr,
                               pdf_seconds=time.perf_counter() - start)


def built_book() -> BookBuild:
    """The book built once for this test run (later calls return the same build)."""
    global _build
    if _build is None:
        out_dir = Path(tempfile.mkdtemp(prefix="rnngrad-book-"))
        atexit.register(shutil.rmtree, out_dir, ignore_errors=True)
        _build = build_book(out_dir)
    return _build
