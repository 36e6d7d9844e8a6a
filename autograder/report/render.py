"""The class report as HTML (one self-contained page) and as Markdown.

Every piece of text that comes from a submission (student ids, exception messages, flag reasons) goes
through :mod:`autograder.inert`: escaped, with control characters, escape sequences, bidi controls and
lone surrogates shown as visible escapes, and cut at a bounded length. The page never contains markup a
student wrote, and every string of it encodes as UTF-8.
"""
from __future__ import annotations

import base64
import datetime
import os

from .. import inert
from ..points import points

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       color: #1b1b1b; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
.muted { color: #666; } table { border-collapse: collapse; margin: .6em 0 1.2em; width: 100%; }
th, td { border: 1px solid #d5d5d5; padding: .3em .55em; text-align: left; vertical-align: top;
         font-size: .93em; }
th { background: #f1f3f6; } td.num { text-align: right; white-space: nowrap; }
.figs { display: flex; flex-wrap: wrap; gap: 12px; } .figs figure { margin: 0; }
.figs img { width: 420px; border: 1px solid #e3e3e3; }
code { background: #f4f4f4; padding: 0 .25em; border-radius: 3px; }
.flag { color: #8a1c1c; } ul.reasons { margin: 0; padding-left: 1.1em; }
"""


def _e(text) -> str:
    return inert.html_text(text)


def _img(path: str) -> str:
    with open(path, "rb") as fh:
        return "data:image/png;base64," + base64.b64encode(fh.read()).decode("ascii")


def _each(student, render, fallback) -> str:
    """``render()`` for one student; if it fails, ``fallback(student, why)``: one student's entry never
    stops the report."""
    try:
        return render()
    except Exception as exc:
        return fallback(student, f"this entry could not be shown ({type(exc).__name__})")


def _html_fallback(student, why: str) -> str:
    return f"<tr><td>{_e(student)}</td><td colspan='99' class='muted'>{_e(why)}</td></tr>"


def _md_fallback(student, why: str) -> str:
    return f"| {_md(student)} | {_md(why)} |"


def _rel(path: str, base: str) -> str:
    return os.path.relpath(path, base).replace(os.sep, "/")


_pts = points   # points as a person reads them: at most two decimals, no trailing zeros


def _pairs(group) -> list[tuple[str, str]]:
    """(function, how alike) per function of a similar-code group: the percentage for a pair, else each pair."""
    out = []
    for function in group.functions:
        ev = [e for e in group.evidence if e[0] == function]
        if len(group.students) == 2:
            out.append((function, f"{100 * ev[0][3]:.0f}%"))
        else:
            out.append((function, ", ".join(f"{a} – {b} {100 * score:.0f}%" for _, a, b, score in ev)))
    return out


SIMILAR_NOTE = ("Each group is shown once: students whose graded functions are near copies of each other after "
                "renaming and reformatting, and behaved alike when graded. A reason to look, not a penalty.")
FAULTS_NOTE = ("Faults are what cost points besides wrong answers: the grader's own limits (time, a stopped worker), "
               "code that could not be loaded, and cells that raised an error when the code was loaded (an import "
               "the sandbox does not have, a syntax error), which leave functions undefined.")


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "-"


def to_html(report, figures: dict[str, str], base: str = ".") -> str:
    """The report as one HTML page; the figures are embedded as data URIs (no external files needed)."""
    n = len(report.students)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Class report: {_e(report.assignment)}</title>", f"<style>{_CSS}</style></head><body>",
        f"<h1>Class report: {_e(report.assignment)}</h1>",
        f'<p class="muted">{n} graded submissions. Autograded points only (written answers are graded by '
        f"hand). Made {when}.</p>",
        "<h2>Overview</h2><table><tr><th>submissions</th><th>mean total</th><th>median total</th>"
        "<th>out of</th><th>flagged</th><th>with faults</th></tr>",
        f'<tr><td class="num">{n}</td><td class="num">{report.mean_total:.2f}</td>'
        f'<td class="num">{report.median_total:.2f}</td><td class="num">{_pts(report.max_total)}</td>'
        f'<td class="num">{len(report.flagged)}</td><td class="num">{len(report.faults)}</td></tr></table>',
        "<h2>Score distributions</h2>",
        "<table><tr><th>question</th><th>points</th><th>mean</th><th>full marks</th><th>zero</th>"
        "<th>left unanswered</th></tr>",
    ]
    for q in report.questions:
        parts.append(f"<tr><td><code>{_e(q.function)}</code></td><td class='num'>{_pts(q.points)}</td>"
                     f"<td class='num'>{q.mean:.2f}</td><td class='num'>{q.full} ({_pct(q.full, n)})</td>"
                     f"<td class='num'>{q.zero} ({_pct(q.zero, n)})</td>"
                     f"<td class='num'>{len(q.unanswered)}</td></tr>")
    parts.append("</table><div class='figs'>")
    for key in ["total"] + [q.grade_id for q in report.questions]:
        if key in figures:
            label = "autograded total" if key == "total" else key.removeprefix("test_")
            parts.append(f"<figure><img src='{_img(figures[key])}' alt='score distribution: {_e(label)}'>"
                         f"</figure>")
    parts.append("</div>")

    parts.append("<h2>Most common diagnoses</h2>")
    top = report.top_diagnoses(10)
    if top:
        parts.append("<table><tr><th>question</th><th>diagnosis</th><th>students</th><th>failed cases</th>"
                     "<th>what it means</th></tr>")
        for function, d in top:
            parts.append(f"<tr><td><code>{_e(function)}</code></td><td><code>{_e(d.id)}</code></td>"
                         f"<td class='num'>{d.students}</td><td class='num'>{d.cases}</td>"
                         f"<td>{_e(d.message)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No failed case carried a diagnosis.</p>")
    parts.append("<h3>By question</h3>")
    for q in report.questions:
        parts.append(f"<p><code>{_e(q.function)}</code> ({_pts(q.points)} points): ")
        if q.diagnoses:
            parts.append(", ".join(f"<code>{_e(d.id)}</code> &times; {d.students} "
                                   f"<span class='muted'>({_e(', '.join(d.who))})</span>" for d in q.diagnoses))
        else:
            parts.append("no mistakes seen")
        if q.unanswered:
            parts.append(f"; not answered by {len(q.unanswered)}")
        parts.append("</p>")

    parts.append("<h2>Flagged submissions</h2>")
    if not report.similarity_checked:
        parts.append("<p class='muted'>The similarity check was not run.</p>")
    if report.flagged:
        parts.append("<p>Flags are reasons to look at a submission; they do not change a grade.</p>"
                     "<table><tr><th>student</th><th>total</th><th>reasons</th></tr>")
        for f in report.flagged:
            parts.append(_each(f.student, lambda f=f: (
                f"<tr><td class='flag'>{_e(f.student)}</td>"
                f"<td class='num'>{_pts(report.totals.get(f.student, 0))}</td>"
                "<td><ul class='reasons'>" + "".join(f"<li>{_e(r)}</li>" for r in f.reasons) + "</ul></td></tr>"),
                _html_fallback))
        parts.append("</table>")
    else:
        parts.append("<p>No submission was flagged.</p>")

    parts.append("<h3>Similar code</h3>")
    if report.similar:
        parts.append(f"<p>{_e(SIMILAR_NOTE)}</p><table><tr><th>group</th><th>students</th>"
                     "<th>functions (how alike)</th></tr>")
        for g in report.similar:
            parts.append(_each(g.number, lambda g=g: (
                f"<tr><td class='num'>{g.number}</td><td>{_e(', '.join(g.students))}</td><td><ul class='reasons'>"
                + "".join(f"<li><code>{_e(f)}</code> {_e(how)}</li>" for f, how in _pairs(g)) + "</ul></td></tr>"),
                _html_fallback))
        parts.append("</table>")
    else:
        parts.append("<p>No similar code between students" + ("" if report.similarity_checked else
                                                               " (not checked)") + ".</p>")

    parts.append("<h2>Faults that cost points</h2>")
    if report.faults:
        parts.append(f"<p>{_e(FAULTS_NOTE)}</p>"
                     "<table><tr><th>student</th><th>points lost</th><th>fault</th></tr>")
        for s, errs in sorted(report.faults.items()):
            parts.append(_each(s, lambda s=s, errs=errs: (
                f"<tr><td>{_e(s)}</td><td class='num'>{_pts(report.fault_points.get(s, 0))}</td>"
                "<td><ul class='reasons'>" + "".join(f"<li>{_e(e)}</li>" for e in errs) + "</ul></td></tr>"),
                _html_fallback))
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")

    parts.append("<h2>All students</h2><table><tr><th>student</th>"
                 + "".join(f"<th>{_e(q.function)}</th>" for q in report.questions)
                 + "<th>total</th></tr>")
    flagged = {f.student for f in report.flagged}
    for s in report.students:
        cls = " class='flag'" if s in flagged else ""
        parts.append(_each(s, lambda s=s, cls=cls: (
            f"<tr><td{cls}>{_e(s)}</td>"
            + "".join(f"<td class='num'>{_pts(q.scores.get(s, 0))}</td>" for q in report.questions)
            + f"<td class='num'>{_pts(report.totals[s])}</td></tr>"), _html_fallback))
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"


def _md(text) -> str:
    """Plain text inside a Markdown table cell (no markup, no HTML, one line)."""
    return inert.markdown_text(text)


def to_markdown(report, figures: dict[str, str], base: str = ".") -> str:
    """The report in Markdown; figures are linked relative to ``base`` (the report's folder)."""
    n = len(report.students)
    lines = [f"# Class report: {_md(report.assignment)}", "",
             f"{n} graded submissions; mean total {report.mean_total:.2f}, median {report.median_total:.2f} "
             f"of {_pts(report.max_total)} autograded points; {len(report.flagged)} flagged, "
             f"{len(report.faults)} with faults.", "",
             "## Score distributions", "",
             "| question | points | mean | full marks | zero | left unanswered |",
             "|---|---:|---:|---:|---:|---:|"]
    for q in report.questions:
        lines.append(f"| {_md(q.function)} | {_pts(q.points)} | {q.mean:.2f} | {q.full} ({_pct(q.full, n)}) | "
                     f"{q.zero} ({_pct(q.zero, n)}) | {len(q.unanswered)} |")
    lines.append("")
    for key in ["total"] + [q.grade_id for q in report.questions]:
        if key in figures:
            label = "autograded total" if key == "total" else key.removeprefix("test_")
            lines.append(f"![score distribution: {label}]({_rel(figures[key], base)})")
    lines += ["", "## Most common diagnoses", ""]
    top = report.top_diagnoses(10)
    if top:
        lines += ["| question | diagnosis | students | failed cases | what it means |", "|---|---|---:|---:|---|"]
        lines += [f"| {_md(f)} | {_md(d.id)} | {d.students} | {d.cases} | {_md(d.message)} |" for f, d in top]
    else:
        lines.append("No failed case carried a diagnosis.")
    lines += ["", "### By question", ""]
    for q in report.questions:
        diags = ", ".join(f"{_md(d.id)} x {d.students} ({_md(', '.join(d.who))})" for d in q.diagnoses)
        lines.append(f"- {_md(q.function)}: {diags or 'no mistakes seen'}"
                     + (f"; not answered by {len(q.unanswered)}" if q.unanswered else ""))
    lines += ["", "## Flagged submissions", ""]
    if report.flagged:
        lines += ["Flags are reasons to look at a submission; they do not change a grade.", "",
                  "| student | total | reasons |", "|---|---:|---|"]
        for f in report.flagged:
            lines.append(_each(f.student, lambda f=f: (
                f"| {_md(f.student)} | {_pts(report.totals.get(f.student, 0))} | "
                + "<br>".join(_md(r) for r in f.reasons) + " |"), _md_fallback))
    else:
        lines.append("No submission was flagged.")
    lines += ["", "### Similar code", ""]
    if report.similar:
        lines += [SIMILAR_NOTE, "", "| group | students | functions (how alike) |", "|---:|---|---|"]
        for g in report.similar:
            lines.append(_each(g.number, lambda g=g: (
                f"| {g.number} | {_md(', '.join(g.students))} | "
                + "<br>".join(f"{_md(f)} {_md(how)}" for f, how in _pairs(g)) + " |"), _md_fallback))
    else:
        lines.append("No similar code between students" + ("" if report.similarity_checked else " (not checked)") + ".")
    lines += ["", "## Faults that cost points", ""]
    if report.faults:
        lines += [FAULTS_NOTE, "", "| student | points lost | fault |", "|---|---:|---|"]
        for s, errs in sorted(report.faults.items()):
            lines.append(_each(s, lambda s=s, errs=errs: (
                f"| {_md(s)} | {_pts(report.fault_points.get(s, 0))} | " + "<br>".join(_md(e) for e in errs) + " |"),
                _md_fallback))
    else:
        lines.append("None.")
    lines += ["", "## All students", "",
              "| student | " + " | ".join(_md(q.function) for q in report.questions) + " | total |",
              "|---|" + "---:|" * (len(report.questions) + 1)]
    for s in report.students:
        lines.append(_each(s, lambda s=s: (
            f"| {_md(s)} | " + " | ".join(_pts(q.scores.get(s, 0)) for q in report.questions)
            + f" | {_pts(report.totals[s])} |"), _md_fallback))
    return "\n".join(lines) + "\n"
