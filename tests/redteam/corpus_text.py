"""Red-team entries for issue area 'text' (see corpus.py for the Entry format).

Submissions whose strings try to crash or inject into what a person reads: the instructor's terminal
(through cell ids, file names and exception messages), the autograded notebook that formgrader and
``nbgrader generate_feedback`` render (through Markdown cells and written answers), the class report
and the grading log. Every entry must be graded like any other submission; tests/test_inert_text.py
also checks that all the outputs are written for each of them and hold nothing active.

Each payload carries a marker ``rtx-<n>`` so that a test can find it in an output.
"""
from __future__ import annotations

from .corpus import CORRECT, Entry, t

ANSI = "\x1b[2J\x1b[31m\x1b]0;owned\x07\x1b]8;;http://x/\x1b\\"
BIDI = "\u202e\u2066"


def _markdown(source: str, gid: str | None = None, cell_type: str = "markdown", attachments=None):
    """transform(cells) appending one cell (with an nbgrader grade_id when ``gid`` is given)."""
    def go(cells):
        meta = {"nbgrader": {"grade_id": gid, "solution": False, "grade": False, "locked": False}} if gid else {}
        cell = {"cell_type": cell_type, "metadata": meta, "source": source, "id": f"rtx{len(cells)}"}
        if attachments is not None:
            cell["attachments"] = attachments
        return cells + [cell]
    return go


def _written(source: str):
    """transform(cells) setting the written derivation's answer."""
    def go(cells):
        for c in cells:
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "derivation_1":
                c["source"] = source
        return cells
    return go


def _both(*fs):
    def go(cells):
        for f in fs:
            cells = f(cells)
        return cells
    return go


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

ENTRIES: list[Entry] = [
    Entry("text_ansi_cell_id", "a cell whose nbgrader id is ANSI and OSC escape sequences (clear screen, title)",
          transform=_markdown("rtx-1", gid=f"rtx-1{ANSI}"), notes=["a cell has the unknown id"], clean=True),
    Entry("text_bidi_cell_id", "a cell id with a right-to-left override that reorders the instructor's line",
          transform=_markdown("rtx-2", gid=f"rtx-2{BIDI}evil"), notes=["a cell has the unknown id"], clean=True),
    Entry("text_surrogate_exception", "softmax_vjp raises an exception whose message is lone surrogates",
          answers={"softmax_vjp": "def softmax_vjp(logits, v):\n    raise ValueError('rtx-3 \\udfff\\ud800 \\x00')\n"},
          expect={t("softmax_vjp"): "zero"}, diagnoses={t("softmax_vjp"): "exception"}),
    Entry("text_surrogate_print", "prints lone surrogates, NUL and escape sequences, then answers correctly",
          answers={"softmax": CORRECT["softmax"].replace(
              "    shifted", "    print('rtx-4 \\ud800 \\x00 \\x1b[2J \\u202e')\n    shifted")}, clean=True),
    Entry("text_script_written_answer", "a written answer with <script>, an onerror image and math with < and >",
          transform=_written("rtx-5 <script>alert('rtx-5')</script> If $i<j$ then $$a>b$$ and "
                             "<img src=x onerror=\"alert('rtx-5')\"> <b>bold</b>"),
          written="answered", clean=True),
    Entry("text_onerror_image", "an added Markdown cell: onerror image, a missing attachment, an SVG with onload",
          transform=_markdown("rtx-6 <img src=x onerror=alert('rtx-6')> ![a](attachment:missing.png) "
                              "<svg onload=alert('rtx-6')></svg> ![ok](attachment:dot.png)",
                              attachments={"dot.png": {"image/png": PNG},
                                           "evil.svg": {"image/svg+xml": "PHN2Zz48L3N2Zz4="},
                                           "page.html": {"text/html": "<script>alert('rtx-6')</script>"}}),
          clean=True),
    Entry("text_javascript_link", "javascript: links in Markdown, in HTML, hidden by entities, in math's \\href",
          transform=_markdown("rtx-7 [click](javascript:alert('rtx-7')) <a href=\"javascript:alert('rtx-7')\">x</a>"
                              " [y](&#106;avascript:alert('rtx-7')) $\\href{javascript:alert('rtx-7')}{z}$"),
          clean=True),
    Entry("text_nul_markdown", "a Markdown cell with NUL, control characters and escape sequences",
          transform=_markdown(f"rtx-8 \x00\x01\x07\x08\x7f\x85 {ANSI} {BIDI} end"), clean=True),
    Entry("text_megabyte_message", "a one-megabyte single-line exception message",
          answers={"softmax_vjp": "def softmax_vjp(logits, v):\n    raise ValueError('rtx-9' + 'x' * 1_000_000)\n"},
          expect={t("softmax_vjp"): "zero"}, diagnoses={t("softmax_vjp"): "exception"}),
    Entry("text_ansi_cell_error", "an added cell raises with escape sequences, a fake newline and surrogates",
          before=["raise RuntimeError('rtx-10 \\x1b]0;owned\\x07\\x1b[2J\\n      flag: none \\ud800 \\u202e')\n"],
          notes=["rtx-10"]),
    Entry("text_ansi_file_name", "ships a file whose name holds escape sequences, a newline and a bidi override",
          files={"rtx-11\x1b[2J\x1b]0;owned\x07\u202e\n      flag: none.txt": "x"}, flags=["extra_files", "rtx-11"]),
    Entry("text_raw_cell_html", "a raw cell of HTML (nbconvert pastes raw cells into the page)",
          transform=_markdown("<script>alert('rtx-12')</script><img src=x onerror=alert('rtx-12')>",
                              cell_type="raw"), clean=True),
]
