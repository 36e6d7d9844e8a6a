"""The autograded notebook: what ``nbgrader generate_feedback`` turns into the student's feedback.

nbgrader's feedback converter reads ``autograded/<student>/<assignment>/<assignment>.ipynb``
and the gradebook, and renders each cell with its score and comment. This module writes that
notebook: the submission rebuilt around the released cells (see
:func:`autograder.autograded.rebuild`), a summary cell at the top, and in every test cell an
output listing each case's verdict and the recognised mistake, followed by the points as the
cell's result (which is how nbgrader shows partial credit).

What a student may see: visible cases in full (they hold the published fixtures). For a hidden
case: its name, pass or fail, the points, the diagnosis id, and a sentence that cannot carry
anything the student's code chose: the fixed text of a recognised mistake, or a fixed sentence
per kind of failure. Messages that quote what the code returned or raised (an exception's text,
a returned shape, a dict's keys, the size of an error, an exit status) are shown for visible
cases only, because on a hidden case each of them is a channel that could copy hidden inputs out.
Nothing the code printed is ever shown.

Everything a submission wrote is made inert here (:mod:`autograder.inert`,
:mod:`autograder.student_markdown`): the student's Markdown cells are sanitised (HTML allowlist, math
and images kept), code and raw cells are shown as text, every string of the notebook encodes as UTF-8,
and a notebook that cannot be built degrades to the released notebook with the summary, so one
student's content never stops anyone's feedback.
"""
from __future__ import annotations

__all__ = ["autograded_notebook", "autograded_text", "write_autograded", "copy_submission_secret", "comment_for",
           "test_cell_text", "case_line", "hidden_message", "escape_markdown"]

import builtins
import html
import json
import locale
import os

from . import inert
from .atomic_files import replace_file
from .points import points
from .inert import escape_markdown
from .student_markdown import MAX_CHARS as MAX_CELL_CHARS
from .student_markdown import clean_attachments, clean_markdown

#: what a failed hidden case says, by diagnosis, when its message could quote the student's values
HIDDEN_MESSAGES = {
    "wrong_type": "the output has the wrong type or structure",
    "wrong_keys": "the output dict does not have the expected keys",
    "wrong_shape": "the output has the wrong shape",
    "wrong_dtype": "the output does not have a floating-point dtype",
    "non_finite": "the output contains NaN or infinite values",
    "wrong_value": "the values are wrong (outside the tolerance)",
    "worker_crash": "the worker stopped during this call",
    "timeout": "the call ran out of time",
    "modified_input": "the function changed one of its arguments in place (work on a copy)",
}
#: diagnoses whose messages are written by the grader alone (no value of the student's in them)
FIXED_MESSAGES = {"not_implemented", "missing_function", "load_failed", "unreadable", "unjudgeable"}


def case_line(case_result, hidden: bool, spec=None) -> str:
    """One line of feedback for a case (see the module's notes on hidden cases)."""
    kind = "hidden" if hidden else "visible"
    status = "passed" if case_result.passed else "FAILED"
    pts = f"{points(case_result.points)}/{points(case_result.max_points)}"
    if case_result.passed:
        return f"  [{status}] {kind} case '{case_result.case}' ({pts})"
    message = hidden_message(case_result, spec) if hidden else case_result.message
    diag = f" [{inert.terminal(case_result.diagnosis)}]" if case_result.diagnosis else ""
    return f"  [{status}] {kind} case '{inert.terminal(case_result.case)}' ({pts}): {inert.terminal(message)}{diag}"


def hidden_message(case_result, spec=None) -> str:
    """The sentence shown for a failed hidden case: fixed texts only."""
    diagnosis = case_result.diagnosis
    known = spec.messages if spec is not None else {}
    if diagnosis in known:
        return known[diagnosis]
    if diagnosis == "exception":
        return _exception_kind(case_result.message)
    if diagnosis in FIXED_MESSAGES:
        return case_result.message
    return HIDDEN_MESSAGES.get(diagnosis, "wrong answer")


def _exception_kind(message: str) -> str:
    """'the function raised ValueError: ...' -> 'the function raised ValueError' (builtin names only)."""
    tail = message.split("raised", 1)[-1].strip()
    name = tail.split(":", 1)[0].strip()
    if isinstance(getattr(builtins, name, None), type) and issubclass(getattr(builtins, name), BaseException):
        return f"the function raised {name}"
    return "the function raised an exception"


def _published_names(spec) -> set[str]:
    """Names of the cases whose inputs the student has (the release fixtures); every other case is
    treated as hidden, a fresh draw of a published maker included."""
    published = getattr(spec, "published_names", None)
    if published is None:
        published = [m.name for m in spec.makers if not m.hidden]
    return set(published)


def test_cell_text(spec, result) -> str:
    """The verdict shown under a test cell."""
    published = _published_names(spec)
    got, top = result.scores.get(spec.grade_id, 0.0), result.max_scores.get(spec.grade_id, spec.points)
    lines = [f"{spec.function}: {points(got)} / {points(top)} points (checked by the course autograder)"]
    for cr in result.cases.get(spec.grade_id, []):
        lines.append(case_line(cr, cr.case not in published, spec))
    return "\n".join(lines) + "\n"


def comment_for(spec, result) -> str:
    """Short comment stored in the gradebook for the answer cell (formgrader and feedback show it)."""
    cases = result.cases.get(spec.grade_id, [])
    failed = [c for c in cases if not c.passed]
    got = sum(c.points for c in cases if c.passed)
    if not cases:
        why = "; ".join(inert.markdown_text(e, limit=300) for e in result.errors[:5]) or "no result"
        return f"{spec.function}: not graded ({why})"
    if not failed:
        return f"{spec.function}: all {len(cases)} cases passed."
    diags = sorted({c.diagnosis for c in failed if c.diagnosis})
    return (f"{spec.function}: {len(failed)} of {len(cases)} cases failed ({points(got)}/{points(spec.points)} points)"
            + (f"; diagnosis: {', '.join(inert.markdown_text(d, limit=100) for d in diags)}" if diags else "")
            + ".")


def summary_markdown(course, result) -> str:
    lines = [f"## Autograder summary: {points(result.total)} / {points(result.max_total)} points",
             "",
             "The functions were checked by the course autograder, outside your notebook, on the visible "
             "cases you could run yourself and on hidden cases drawn when grading. Written answers are graded "
             "by hand."]
    if result.errors:
        lines += ["", "**Problems that cost points:**", ""] + [f"- {inert.markdown_text(e)}" for e in result.errors]
    if result.notes:
        lines += ["", "**Notes:**", ""] + [f"- {inert.markdown_text(n)}" for n in result.notes]
    return "\n".join(lines)


def autograded_notebook(course, result) -> dict:
    """The rebuilt notebook with the summary on top and the verdicts in the test cells."""
    from .notebook import grade_id

    nb = json.loads(json.dumps(result.notebook))
    specs = {s.grade_id: s for s in course.specs}
    for cell in nb["cells"]:
        gid = grade_id(cell)
        if gid in specs and cell.get("cell_type") == "code":
            spec = specs[gid]
            cell["outputs"] = [
                {"output_type": "stream", "name": "stdout", "text": test_cell_text(spec, result)},
                {"output_type": "execute_result", "execution_count": None, "metadata": {},
                 "data": {"text/plain": points(result.scores.get(gid, 0.0))}},
            ]
    make_inert(nb, course)
    summary = {"cell_type": "markdown", "id": "autograder-summary", "metadata": {},
               "source": summary_markdown(course, result)}
    nb["cells"].insert(0, summary)
    return inert.json_safe(nb)


def make_inert(nb: dict, course) -> dict:
    """Every cell of ``nb`` (in place) safe to render: Markdown sanitised with its image attachments kept,
    code shown as text, raw cells (which nbconvert would paste into the page as HTML) escaped, cells of
    other types made raw, nbgrader metadata only on the released cells. Markdown cells that are exactly
    as released (the instructor's text) are kept as they are."""
    released = set(course.release.cells)
    released_markdown = {_text(c.get("source", "")) for c in course.release.nb.get("cells", [])
                         if isinstance(c, dict) and c.get("cell_type") == "markdown"}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata")
        if not isinstance(meta, dict):
            cell["metadata"] = meta = {}
        nbg = meta.get("nbgrader")
        if nbg is not None and not (isinstance(nbg, dict) and nbg.get("grade_id") in released):
            meta.pop("nbgrader")
        source = _text(cell.get("source", ""))
        kind = cell.get("cell_type")
        if kind == "markdown" and source in released_markdown:
            cell["source"] = source
        elif kind == "markdown":
            attachments = clean_attachments(cell.get("attachments"))
            if attachments:
                cell["attachments"] = attachments
            else:
                cell.pop("attachments", None)
            cell["source"] = clean_markdown(source, attachments)
        elif kind == "code":
            cell["source"] = inert.scrub(source, keep="\n\t", limit=MAX_CELL_CHARS)
        else:
            cell["cell_type"] = "raw"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            cell.pop("attachments", None)
            meta.pop("raw_mimetype", None)
            meta.pop("format", None)
            cell["source"] = html.escape(inert.scrub(source, keep="\n\t", limit=MAX_CELL_CHARS))
    return nb


def _text(source) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    if isinstance(source, list):
        return "".join(x if isinstance(x, str) else str(x) for x in source)
    return source if isinstance(source, str) else str(source)


def fallback_notebook(course, result, exc: BaseException) -> dict:
    """The released notebook with the summary on top: what feedback shows when the submission's own
    notebook could not be built (``exc`` says why, in the summary)."""
    nb = json.loads(json.dumps(course.release.nb))
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    text = summary_markdown(course, result) + (
        "\n\n**Your notebook could not be shown here** "
        f"({inert.markdown_text(type(exc).__name__)}); the points above stand.")
    nb["cells"].insert(0, {"cell_type": "markdown", "id": "autograder-summary", "metadata": {}, "source": text})
    return inert.json_safe(nb)


def autograded_text(course, result) -> str:
    """The autograded notebook as the JSON text written to disk (ASCII only); never raises for what a
    submission holds: past a failure, the notebook of :func:`fallback_notebook`."""
    try:
        return json.dumps(autograded_notebook(course, result), indent=1)
    except Exception as exc:   # one student's content must not stop their feedback, nor the batch
        return json.dumps(fallback_notebook(course, result, exc), indent=1)


def write_autograded(course, result) -> str:
    """Write autograded/<student>/<assignment>/<assignment>.ipynb (+ timestamp.txt); returns the path.

    Each file is replaced whole (:func:`autograder.atomic_files.replace_file`); ``timestamp.txt`` and the
    submission secret are left alone when they already hold the same bytes (a regrade)."""
    folder = os.path.join(course.autograded_dir, result.student, course.assignment)
    name = f"{course.notebook_name}.ipynb"
    text = result.autograded_text or autograded_text(course, result)
    replace_file(folder, name, text.encode("utf-8"), mode=0o644)
    stamp = os.path.join(folder, "timestamp.txt")
    if result.timestamp:
        replace_file(folder, "timestamp.txt", (result.timestamp + "\n").encode(_LOCALE_ENCODING), mode=0o644,
                     skip_same=True)
    elif os.path.exists(stamp):
        os.unlink(stamp)
    copy_submission_secret(course, result.student, folder)
    return os.path.join(folder, name)


#: the encoding ``open(path, "w")`` uses for timestamp.txt, as nbgrader writes it
_LOCALE_ENCODING = locale.getpreferredencoding(False)


#: nbgrader's submission_secret.txt: 128 hexadecimal digits written by ``nbgrader submit``; anything else is not copied
MAX_SECRET_BYTES = 1024
SECRET_FILE = "submission_secret.txt"


def copy_submission_secret(course, student: str, folder: str) -> bool:
    """Copy nbgrader's ``submission_secret.txt`` from the student's submission into the autograded folder ``folder``
    (``nbgrader generate_feedback`` carries it to feedback/, where ``release_feedback`` needs it to name the page).

    The file comes from the submission, so it is read as :func:`autograder.snapshot.read_bytes` reads: a regular
    file only (no link, pipe or device), at most MAX_SECRET_BYTES; it is copied byte for byte when it is
    hexadecimal text, and otherwise left out (with an older copy removed). Returns whether it was copied.
    """
    from .snapshot import NotReadable, read_bytes

    dest = os.path.join(folder, SECRET_FILE)
    try:
        raw = read_bytes(os.path.join(course.submission_dir(student), SECRET_FILE), MAX_SECRET_BYTES)
        text = raw.decode("ascii")
        ok = bool(text.strip()) and all(c in "0123456789abcdefABCDEF" for c in text.strip())
    except (OSError, NotReadable, UnicodeDecodeError):
        ok = False
    if not ok:
        if os.path.lexists(dest):
            os.unlink(dest)
        return False
    replace_file(folder, SECRET_FILE, raw, mode=0o644, skip_same=True)
    return True


