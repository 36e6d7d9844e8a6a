"""The instructor's class report of one problem set: score distributions, common mistakes, flagged submissions.

``python -m autograder report <set> [--course DIR] [--out DIR]`` reads what the trusted pipeline left
(the grading log, :func:`autograder.gradebook.load_records`) and the submitted notebooks (as text, for the
similarity check, :mod:`autograder.similarity`), and writes

* ``report.html``: one self-contained page (styles inline, figures embedded);
* ``report.md``: the same content in Markdown, linking the figures;
* ``figures/*.png``: one score distribution per autograded question and one of the totals.

Modules: :mod:`.data` (the numbers, from records), :mod:`.figures` (matplotlib, Agg backend),
:mod:`.render` (HTML and Markdown). Nothing here runs student code.
"""
from __future__ import annotations

from .data import ClassReport, Diagnosis, Flagged, QuestionSummary, build_report
from .render import to_html, to_markdown

__all__ = ["ClassReport", "Diagnosis", "Flagged", "QuestionSummary", "build_report", "to_html", "to_markdown",
           "write_report"]


def write_report(course_root: str, assignment: str, out_dir: str, *, similarity: bool = True) -> dict:
    """Build and write the report of ``assignment``; returns the paths and the flagged students.

    Returns ``{"html": path, "markdown": path, "figures": [paths], "flagged": {student: [reasons]}}``.
    """
    import os

    from .figures import write_figures

    report = build_report(course_root, assignment, similarity=similarity)
    os.makedirs(out_dir, exist_ok=True)
    figures = write_figures(report, os.path.join(out_dir, "figures"))
    html_path = os.path.join(out_dir, "report.html")
    md_path = os.path.join(out_dir, "report.md")
    with open(html_path, "w", encoding="utf-8") as fh:
        fh.write(to_html(report, figures, base=out_dir))
    with open(md_path, "w", encoding="utf-8") as fh:
        fh.write(to_markdown(report, figures, base=out_dir))
    return {"html": html_path, "markdown": md_path, "figures": list(figures.values()),
            "flagged": {f.student: list(f.reasons) for f in report.flagged}}
