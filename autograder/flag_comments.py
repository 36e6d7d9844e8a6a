"""Flags as nbgrader sees them: which answer cell each flag concerns, and the line its comment gets.

nbgrader keeps ``flagged`` on the submitted notebook only (formgrader lists it beside the submission); the
reasons go into the automatic comment of the answer cell a flag names, and flags about the whole submission
into the first graded answer cell's. formgrader shows that comment to the grader, and ``generate_feedback``
shows it to the student until a grader writes a comment of their own. So the comment carries only what is
safe for a student to read: each flag's code (a fixed word the grader chose), the line number for a flag read
from the source before anything ran, and a fixed sentence per code. Never the flag's own text: a behaviour
flag quotes what the code did while it held the hidden inputs (a path it opened could spell them), and a
case flag counts hidden-case results. The full texts stay in the grading log and the class report.
"""
from __future__ import annotations

__all__ = ["FLAG_HEADING", "RUNTIME_CODES", "flag_code", "flag_cell", "flag_lines", "comments_with_flags"]

import re

from .case_flags import FINITE_DIFFERENCES, LOOKUP

FLAG_HEADING = "Flagged for the instructor's review"
#: codes of flags made while (or after) the student's code ran: their texts are never copied into a comment
RUNTIME_CODES = frozenset({"behaviour", LOOKUP, FINITE_DIFFERENCES})
#: fixed sentences per code (a code without one is shown alone)
EXPLANATIONS = {
    "behaviour": "the sandbox saw the code act outside its task while it ran",
    LOOKUP: "it passes the published cases but fails fresh cases of the same kind",
    FINITE_DIFFERENCES: "its errors have the size that finite differences leave",
    "extra_files": "the submission holds files besides the notebook",
    "edited_locked_cell": "a read-only cell was edited (it was restored before grading)",
    "incomplete_analysis": "the static analysis ran out of time",
    "more_flags": "more flags of the same kinds",
}
#: most flags listed in one comment; the rest are counted
MAX_LISTED = 8
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_STATIC_LINE = re.compile(r"cell (?P<cell>[^\s,]+), line (?P<line>\d{1,6}):")


def flag_code(flag: str) -> str:
    """The flag's code (the word before its first colon), or ``"other"`` when it is not a plain code.

    Example:
        >>> flag_code("writes_files: cell softmax, line 3: writes a file")
        'writes_files'
    """
    head = flag.split(":", 1)[0].strip() if isinstance(flag, str) else ""
    return head if _CODE.fullmatch(head) else "other"


def flag_cell(flag: str, answer_cells: list[str]) -> str | None:
    """The answer cell a flag names (``"<code>: cell <id>, ..."`` or ``"<code>: <function> ..."``), else None.

    Example:
        >>> flag_cell("finite_differences: softmax_vjp is off by 1e-09", ["softmax", "softmax_vjp"])
        'softmax_vjp'
    """
    if not isinstance(flag, str) or ":" not in flag:
        return None
    rest = flag.split(":", 1)[1].lstrip()
    for name in sorted(answer_cells, key=len, reverse=True):
        for lead in (f"cell {name},", f"cell {name}:", f"{name} ", f"{name}:", f"{name},"):
            if rest.startswith(lead):
                return name
    return None


def flag_lines(flags: list[str]) -> str:
    """The comment text for ``flags`` (codes, source line numbers of static flags, fixed sentences).

    Example:
        >>> flag_lines(["writes_files: cell f, line 3: writes a file", "behaviour: opened /etc/passwd"])
        "Flagged for the instructor's review: `writes_files` (line 3); `behaviour` (the sandbox saw the code act outside its task while it ran)."
    """
    parts: dict[str, list[str]] = {}
    for flag in flags:
        code = flag_code(flag)
        lines = parts.setdefault(code, [])
        match = _STATIC_LINE.search(flag) if code not in RUNTIME_CODES and code != "other" else None
        if match and match.group("line") not in lines:
            lines.append(match.group("line"))
    shown = []
    for code, lines in list(parts.items())[:MAX_LISTED]:
        detail = [f"line{'s' if len(lines) > 1 else ''} {', '.join(lines[:5])}"] if lines else []
        if code in EXPLANATIONS:
            detail.append(EXPLANATIONS[code])
        shown.append(f"`{code}`" + (f" ({'; '.join(detail)})" if detail else ""))
    more = len(parts) - MAX_LISTED
    tail = f"; and {more} more kind(s)" if more > 0 else ""
    return f"{FLAG_HEADING}: " + "; ".join(shown) + tail + "."


def comments_with_flags(comments: dict[str, str], flags: list[str], answer_cells: list[str],
                        first_cell: str | None) -> dict[str, str]:
    """``comments`` (answer cell -> automatic comment) with a flag line added to each cell a flag concerns.

    Args:
        comments: the pipeline's comments (not changed).
        flags: the submission's flag texts.
        answer_cells: names of the answer cells that have a comment row in the gradebook.
        first_cell: the cell that gets the flags about the whole submission (None: the first of
            ``answer_cells``).

    Returns:
        a new dict; cells without flags keep their comment.

    Example:
        >>> comments_with_flags({"f": "f: all 3 cases passed."}, ["writes_files: cell f, line 2: x"], ["f"], "f")["f"]
        "f: all 3 cases passed.\\n\\nFlagged for the instructor's review: `writes_files` (line 2)."
    """
    out = dict(comments)
    if not flags or not answer_cells:
        return out
    default = first_cell if first_cell in answer_cells else answer_cells[0]
    per_cell: dict[str, list[str]] = {}
    for flag in flags:
        per_cell.setdefault(flag_cell(flag, answer_cells) or default, []).append(flag)
    for name, cell_flags in per_cell.items():
        text = flag_lines(cell_flags)
        out[name] = f"{out[name]}\n\n{text}" if out.get(name) else text
    return out
