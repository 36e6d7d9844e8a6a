"""Text a person reads, made inert: every string that came from a submission passes through here
before it reaches a terminal, an HTML page, a Markdown document, a notebook or the grading log.

A submission chooses many strings the grader shows: cell ids, exception messages, printed output,
file and folder names, written answers. Any of them may hold a lone surrogate (which crashes every
UTF-8 writer), bytes that are not UTF-8, NUL and other control characters, ANSI/OSC terminal escape
sequences, bidirectional overrides that reorder what is displayed, or HTML and JavaScript.

* :func:`scrub` is the base of everything: text that encodes as UTF-8, in which every C0/C1 control
  character (newline and tab only where asked), DEL, bidi control and lone surrogate is shown as a
  visible escape (``\\x1b``, ``\\u202e``, ``\\udc80``; a byte that was not UTF-8 is shown as ``\\xff``),
  so a terminal sequence loses its ESC and stays readable as what it was. Bounded in length.
* :func:`terminal` one line for a terminal (no newline, no tab).
* :func:`html_text` text for an HTML page (escaped, quotes included).
* :func:`markdown_text` text inside Markdown, shown literally (no markup, no HTML, no math, one line).
* :func:`unicode_safe` / :func:`json_safe` for the grading log: only what JSON cannot carry as
  UTF-8 (lone surrogates) is changed, the rest is kept as is.

Student Markdown (written answers) is sanitised by :mod:`autograder.student_markdown`.
"""
from __future__ import annotations

import html
import re

__all__ = ["MAX_CHARS", "scrub", "terminal", "html_text", "markdown_text", "escape_markdown", "unicode_safe",
           "json_safe", "shorten", "defang_schemes", "BIDI_CONTROLS"]

#: longest text shown for one value (longer ones are cut and say how much was left out)
MAX_CHARS = 2000

#: characters that reorder displayed text (Trojan-source style); never passed through
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# C0 controls, DEL, C1 controls, bidi controls, line/paragraph separators, surrogates, BOM
_UNSAFE = "\x00-\x1f\x7f-\x9f" + BIDI_CONTROLS + "\u2028\u2029\ufeff\ud800-\udfff"
_UNSAFE_RE = {keep: re.compile(f"[{_UNSAFE}]" if not keep else
                               f"(?:(?![{re.escape(keep)}])[{_UNSAFE}])")
              for keep in ("", "\n", "\n\t")}


def _show(ch: str) -> str:
    """The visible escape of one unsafe character."""
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:          # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def shorten(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + f"... ({len(text) - limit} more characters)"


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="surrogateescape")
    try:
        return str(value)
    except Exception as exc:  # a str() that fails is itself text from a submission: say so, plainly
        return f"<unprintable {type(value).__name__}: {type(exc).__name__}>"


def scrub(value, *, keep: str = "\n\t", limit: int | None = MAX_CHARS) -> str:
    """Any value as inert text: unsafe characters (see the module notes) shown as visible escapes,
    except those in ``keep`` (``""``, ``"\\n"`` or ``"\\n\\t"``); cut to ``limit`` characters first
    (``None``: no limit). The result always encodes as UTF-8. Carriage returns become newlines when
    newlines are kept."""
    text = _as_text(value)
    if limit is not None and len(text) > limit:
        text = shorten(text, limit)
    if "\n" in keep and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_RE[keep].sub(lambda m: _show(m.group()), text)


def terminal(value, limit: int | None = MAX_CHARS) -> str:
    """One line for a terminal: no control character, escape sequence, bidi control or newline."""
    return scrub(value, keep="", limit=limit)


def html_text(value, limit: int | None = MAX_CHARS) -> str:
    """Text for an HTML page (element content or a quoted attribute value)."""
    return html.escape(scrub(value, keep="\n\t", limit=limit), quote=True)


#: characters that would be markup in Markdown (CommonMark and Jupyter's math), escaped with a backslash
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|$&~!{}()])")


def escape_markdown(text: str) -> str:
    """Plain text shown literally inside Markdown: no HTML, no links or images, no emphasis, no table
    cells, no math (``$``), no entities (``&``). Angle brackets become entities, not backslash escapes:
    a bare address turned into a link swallows the backslash before them."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def markdown_text(value, limit: int | None = MAX_CHARS) -> str:
    """One line of literal text inside Markdown (a list item, a table cell). Pages that typeset math
    (MathJax reads the rendered text) may still see ``$``; script schemes are defanged for them."""
    text = _as_text(value)
    for ch in "\r\n\t":
        text = text.replace(ch, " ")
    out = escape_markdown(defang_schemes(scrub(text.strip(), keep="", limit=limit)))
    # what would start a block at the beginning of a line: a list marker, a heading underline
    return _BLOCK_START.sub(r"\1\\\2", out)


_BLOCK_START = re.compile(r"^(\d*)([-+=.])")


_WJ = "\u2060"   # word joiner: invisible, and not a scheme character


def _letters(word: str) -> str:
    return r"[\s\\]*".join(word)


_SCHEME = re.compile(r"(?<![A-Za-z0-9+.-])(?:%s|%s|(?P<data>%s))[\s\\]*:" %
                     (_letters("javascript"), _letters("vbscript"), _letters("data")), re.IGNORECASE)
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.IGNORECASE)


def defang_schemes(text: str) -> str:
    """Every ``javascript:``, ``vbscript:`` and ``data:`` (except PNG, JPEG, GIF and WebP images) with an
    invisible word joiner before its colon, also when spelled with spaces or backslashes between the
    letters: a URL that starts with it has no scheme any more (a relative link that goes nowhere)."""
    def fix(m):
        if m.group("data") and m.group().lower() == "data:" and _DATA_IMAGE.match(text, m.start()):
            return m.group()        # an image
        return m.group()[:-1] + _WJ + ":"
    return _SCHEME.sub(fix, text)


def unicode_safe(value) -> str:
    """Text that encodes as UTF-8, otherwise unchanged: lone surrogates shown as visible escapes."""
    text = _as_text(value)
    if not _has_surrogate(text):
        return text
    return re.sub("[\ud800-\udfff]", lambda m: _show(m.group()), text)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_safe(obj, _depth: int = 0):
    """A copy of a JSON-like value (dicts, lists, strings, numbers) whose strings, keys included,
    all encode as UTF-8; other objects become their (safe) text."""
    if _depth > 100:
        return "<nested too deeply>"
    if isinstance(obj, str):
        return unicode_safe(obj)
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, dict):
        return {unicode_safe(k) if isinstance(k, str) else unicode_safe(_as_text(k)): json_safe(v, _depth + 1)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v, _depth + 1) for v in obj]
    return unicode_safe(_as_text(obj))
