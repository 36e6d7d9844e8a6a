"""Checks that text a person reads is inert: shared by the sanitiser tests and the end-to-end tests."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from autograder.inert import BIDI_CONTROLS

#: control characters allowed in text meant for a page or a file (never ESC, NUL, C1)
TEXT_CONTROLS = "\n\t"
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + BIDI_CONTROLS + "\ud800-\udfff]")
_DANGEROUS_TAGS = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "svg", "math", "form",
                   "base", "meta", "link", "template", "noscript", "textarea", "applet", "audio", "video"}
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data"}
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]", re.IGNORECASE)


def bad_chars(text: str, allowed: str = TEXT_CONTROLS) -> list[str]:
    """The control, bidi and surrogate characters of ``text`` that are not in ``allowed``."""
    return [c for c in _BAD_CHARS.findall(text) if c not in allowed]


def assert_plain(text: str, allowed: str = TEXT_CONTROLS) -> None:
    """``text`` encodes as UTF-8 and holds no control, escape, bidi or surrogate character."""
    text.encode("utf-8")
    assert not bad_chars(text, allowed), bad_chars(text, allowed)[:5]


def _url_is_safe(value: str) -> bool:
    v = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
    if v.startswith(("javascript:", "vbscript:")):
        return False
    return not v.startswith("data:") or bool(_IMAGE_DATA.match(v))


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.open_script = False
        self.script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        self.open_script = tag in ("script", "style")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style" and value and "url(" in value.lower():
                self.problems.append(f"<{tag} style=url(...)>")
            if name in _URL_ATTRS and value is not None and not _url_is_safe(value):
                self.problems.append(f"<{tag} {name}={value[:40]!r}>")

    def handle_endtag(self, tag):
        self.open_script = False

    def handle_data(self, data):
        if self.open_script:
            self.script_text.append(data)


def html_problems(page: str) -> list[str]:
    """What is active in a fragment of HTML a student could have shaped: dangerous tags, event handler
    attributes, script URLs (also behind entities and spaces)."""
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.problems


def script_texts(page: str) -> str:
    """The text of every <script> and <style> element of a page (where a payload must never land)."""
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return "\n".join(parser.script_text)


def assert_no_active_payload(page: str, markers: list[str]) -> None:
    """In a whole page (which may have its own scripts, e.g. MathJax): no payload marker inside a script
    or style element, inside an event-handler attribute or a script URL."""
    assert not any(m in script_texts(page) for m in markers), [m for m in markers if m in script_texts(page)]
    parser = _Tags()
    for tag in re.finditer(r"<[A-Za-z][^>]*>", page):
        if any(m in tag.group() for m in markers):
            parser.problems = []
            parser.feed(tag.group())
            assert not any(p for p in parser.problems), (parser.problems, tag.group()[:200])
