"""A student's Markdown (written answers, added Markdown cells) made safe to render, math and images kept.

The autograded notebook is rendered to HTML by nbconvert twice: by formgrader, for the instructor, and
by ``nbgrader generate_feedback``, for the student. nbconvert's Markdown renderer passes raw HTML through
and allows ``javascript:`` links, so a written answer could carry ``<script>``, ``<img onerror=...>`` or a
link that runs code in the instructor's browser. :func:`clean_markdown` returns Markdown in which:

* **HTML** goes through ``nh3`` (the Rust ``ammonia`` allowlist sanitiser): harmless tags and attributes
  stay (``<b>``, ``<sub>``, tables, ``<img src alt width height>``), everything else goes (``<script>`` and
  ``<style>`` with their content, ``on*`` attributes, ``style``, forms, frames, SVG). URLs may use http,
  https, mailto and ``attachment:``; ``data:`` only for PNG, JPEG, GIF and WebP images. A ``<`` that does
  not open a well-formed tag is written ``&lt;`` first, which Markdown shows as ``<`` (a bare ``a<b``
  would otherwise start a tag that swallows the rest of the cell).
* **Math** (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``, ``\\begin{env}...\\end{env}``) is kept
  out of the HTML sanitiser, which would turn ``a<b`` into a tag and ``&`` into ``&amp;``. Inside math
  ``<`` becomes ``\\lt``, ``>`` becomes ``\\gt`` and an ``&`` that could start an entity gets a space
  after it: the same formula for MathJax, and text that holds no tag and no entity whatever a Markdown
  parser decides is math.
* **Code** (fenced blocks and backtick spans) is shown verbatim, except that a ``<`` or ``&`` that could
  start a tag or an entity is followed by an invisible word joiner (U+2060): it looks the same.
* **Links**: a ``javascript:``, ``vbscript:`` or non-image ``data:`` scheme anywhere (in Markdown links,
  in math's ``\\href``, in text), also spelled with entities, spaces or backslashes, gets a word joiner
  before its colon, which makes it no scheme at all. An ``attachment:`` image whose attachment is not in
  the cell (nbconvert stops with an error on those) is made an ordinary broken link the same way.
* **Characters**: control characters, escape sequences, bidi controls and lone surrogates are shown as
  visible escapes (:func:`autograder.inert.scrub`), before and after the HTML sanitiser (which decodes
  entities such as ``&#27;``).

Where the parts are found is decided by a linear scan with bounded look-ahead; whether or not a Markdown
renderer agrees with it, every part is inert on its own, so a disagreement can cost formatting, never
safety. Text longer than :data:`MAX_CHARS` is cut (saying so); above :data:`MAX_STRUCTURED` characters
no math or code is recognised (everything is sanitised as HTML text).
"""
from __future__ import annotations

import re

import nh3

from .inert import defang_schemes, scrub

__all__ = ["MAX_CHARS", "MAX_STRUCTURED", "IMAGE_TYPES", "clean_markdown", "clean_attachments"]

#: longest Markdown source kept (a written answer; pasted images live in the cell's attachments)
MAX_CHARS = 2_000_000
#: longest source in which math and code are recognised; longer sources are sanitised as plain HTML text
MAX_STRUCTURED = 300_000
#: image types allowed in ``data:`` URLs and in a cell's attachments
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

_WJ = "\u2060"   # word joiner: invisible, not a tag-name, entity-name or scheme character
_URL_SCHEMES = {"http", "https", "mailto", "attachment", "data"}
_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items() if tag in _TAGS}
_ATTRIBUTES.setdefault("img", set()).update({"title"})
_ATTRIBUTES.setdefault("a", set()).update({"title"})
_DATA_IMAGE = re.compile(r"data:(?:%s)[;,]" % "|".join(re.escape(t) for t in IMAGE_TYPES), re.IGNORECASE)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """``data:`` URLs for images only, and only in ``<img src>``."""
    if value.strip().lower().startswith("data:"):
        return value if tag == "img" and attr == "src" and _DATA_IMAGE.match(value.strip()) else None
    return value


# -- finding math and code -------------------------------------------------------------------------------

#: openers, in order of preference at one position; each with its closer and how far the closer may be
_OPENERS = re.compile(
    r"(?P<fence>^[ ]{0,3}(?P<fchars>`{3,}|~{3,})[^\n]*$)"
    r"|(?P<dd>(?<!\\)\$\$)"
    r"|(?P<bracket>(?<!\\)\\\\?\[)"
    r"|(?P<paren>(?<!\\)\\\\?\()"
    r"|(?P<env>\\begin\{(?P<envname>[A-Za-z]{1,20}\*?)\})"
    r"|(?P<dollar>(?<![\\$])\$)"
    r"|(?P<ticks>`{1,16})",
    re.MULTILINE)
_REACH = {"fence": None, "dd": 50_000, "bracket": 50_000, "paren": 5_000, "env": 50_000, "dollar": 5_000,
          "ticks": 5_000}


class _Finder:
    """``find(closer, start, reach)`` with memory per closer, so that the scan stays linear: a closer
    found once serves every later opener before it, and a range searched in vain is not searched again."""

    def __init__(self, text: str):
        self.text = text
        self.memo: dict[str, tuple[int, int]] = {}   # closer -> (searched up to, found at or -1)

    def find(self, closer: str, start: int, reach: int | None) -> int:
        end = len(self.text) if reach is None else min(len(self.text), start + reach + len(closer))
        upto, found = self.memo.get(closer, (start, -1))
        if found >= start:
            return found if found + len(closer) <= end else -1
        lo = max(start, upto) if found < 0 else start
        at = self.text.find(closer, lo, end) if lo < end else -1
        self.memo[closer] = (max(end, upto) if at < 0 else at, at)
        return at


def _segments(text: str) -> list[tuple[str, str]]:
    """(kind, text) pieces covering ``text``: kind is "prose", "math" or "code"."""
    out: list[tuple[str, str]] = []
    finder = _Finder(text)
    i = prose_from = 0
    while True:
        m = _OPENERS.search(text, i)
        if m is None:
            break
        kind = None
        for name in ("fence", "dd", "bracket", "paren", "env", "dollar", "ticks"):
            if m.group(name) is not None:
                kind = name
                break
        if kind == "fence":
            closer = "\n" + m.group("fchars")
            at = finder.find(closer, m.end(), None)
            stop = len(text) if at < 0 else text.find("\n", at + len(closer))
            stop = len(text) if stop < 0 else stop
        else:
            slashes = "\\" * (len(m.group()) - 1)
            closer = {"dd": "$$", "bracket": slashes + "]", "paren": slashes + ")", "dollar": "$",
                      "env": f"\\end{{{m.group('envname')}}}", "ticks": m.group("ticks")}[kind]
            at = finder.find(closer, m.end(), _REACH[kind])
            if kind == "ticks" and at >= 0 and text.startswith("`", at + len(closer)):
                at = -1          # a longer run of backticks does not close this span
            if kind == "dollar" and at == m.end():
                at = -1          # "$$" is not empty inline math
            stop = -1 if at < 0 else at + len(closer)
        if stop < 0:
            i = m.end()
            continue
        if m.start() > prose_from:
            out.append(("prose", text[prose_from:m.start()]))
        out.append(("code" if kind in ("fence", "ticks") else "math", text[m.start():stop]))
        i = prose_from = stop
    if prose_from < len(text):
        out.append(("prose", text[prose_from:]))
    return out


# -- each kind of piece ------------------------------------------------------------------------------------

_TAG = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*"
    r"\s*/?|/[A-Za-z][A-Za-z0-9-]*\s*)>")
_TAG_REACH = 4000


def _escape_stray_lt(text: str) -> str:
    """Every ``<`` that does not open a well-formed tag (or comment) written ``&lt;``."""
    parts, i = [], 0
    while True:
        at = text.find("<", i)
        if at < 0:
            parts.append(text[i:])
            return "".join(parts)
        parts.append(text[i:at])
        close = text.find(">", at, at + _TAG_REACH)
        if text.startswith("<!--", at):
            end = text.find("-->", at + 4, at + _TAG_REACH)
            if end >= 0:
                parts.append(text[at:end + 3])
                i = end + 3
                continue
        if close >= 0 and _TAG.fullmatch(text, at, close + 1):
            parts.append(text[at:close + 1])
            i = close + 1
            continue
        parts.append("&lt;")
        i = at + 1


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
_AMP_ENTITY = re.compile(r"&amp;(?=[A-Za-z#])")
_CLEANER = nh3.Cleaner(tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_URL_SCHEMES,
                       attribute_filter=_attribute_filter, strip_comments=True)


def _clean_prose(text: str) -> str:
    if "<" not in text and "&" not in text:
        return text         # no tag and no entity: nothing for the sanitiser to do
    out = _CLEANER.clean(_escape_stray_lt(text))
    # ">" never opens anything; written back so that Markdown block quotes stay block quotes
    out = out.replace("&gt;", ">")
    # Markdown renderers decode entities in link targets more than once ("&amp;#106;" -> "&#106;" -> "j"):
    # an escaped "&" that could start an entity gets a word joiner after it (outside the tags)
    return _TAG_OR_TEXT.sub(lambda m: m.group(1) or _AMP_ENTITY.sub("&amp;" + _WJ, m.group(2)), out)


_MATH_ENTITY = re.compile(r"&(?=[A-Za-z#])")


def _clean_math(text: str) -> str:
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _MATH_ENTITY.sub("& ", text)
    return text.replace("<", "\\lt ").replace(">", "\\gt ")


_CODE_OPENER = re.compile(r"([<&])(?=[A-Za-z/!?#])")


def _clean_code(text: str) -> str:
    return _CODE_OPENER.sub(lambda m: m.group(1) + _WJ, text)


_ATTACHMENT = re.compile(r"attachment:([^\s)\"'<>]*)")
_ATTACHMENT_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")


def _check_attachments(text: str, names: frozenset[str]) -> str:
    def fix(m):
        name = m.group(1)
        if _ATTACHMENT_NAME.fullmatch(name) and name in names:
            return m.group()
        return "attachment" + _WJ + ":" + name
    return _ATTACHMENT.sub(fix, text)


def clean_markdown(source, attachments=()) -> str:
    """``source`` (a Markdown cell's text) made safe to render (see the module notes); ``attachments``:
    the names of the cell's attachments that are kept (:func:`clean_attachments`)."""
    text = scrub(source, keep="\n\t", limit=MAX_CHARS)
    pieces = _segments(text) if len(text) <= MAX_STRUCTURED else [("prose", text)]
    clean = {"prose": _clean_prose, "math": _clean_math, "code": _clean_code}
    out = "".join(clean[kind](piece) for kind, piece in pieces)
    out = _check_attachments(defang_schemes(out), frozenset(attachments))
    return scrub(out, keep="\n\t", limit=None)


_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


def clean_attachments(attachments) -> dict:
    """The attachments of a Markdown cell that are images: ``{name: {mime: base64 text}}`` with names of
    letters, digits, ``.``, ``_`` and ``-``, image types of :data:`IMAGE_TYPES` and base64 data only."""
    out = {}
    if not isinstance(attachments, dict):
        return out
    for name, bundle in attachments.items():
        if not (isinstance(name, str) and _ATTACHMENT_NAME.fullmatch(name) and isinstance(bundle, dict)):
            continue
        kept = {}
        for mime, data in bundle.items():
            if isinstance(data, list) and all(isinstance(x, str) for x in data):
                data = "".join(data)
            if mime in IMAGE_TYPES and isinstance(data, str) and _BASE64.fullmatch(data):
                kept[mime] = data
        if kept:
            out[name] = kept
    return out
