"""The sanitisers of text a person reads (autograder.inert, autograder.student_markdown): property tests on
arbitrary text, the math and images they must keep, and the places that must degrade per student."""
from __future__ import annotations

import html
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath, markdown2html_mistune

from autograder import inert
from autograder.student_markdown import clean_attachments, clean_markdown
from inert_checks import assert_plain, html_problems

#: pieces an attacker (or an unlucky student) puts in text; drawn together with arbitrary characters
NASTY = ["<script>alert(1)</script>", "<script", "</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
         "<a href=\"javascript:alert(1)\">x</a>", "javascript:", "JaVaScRiPt:", "java\tscript:", "&#106;avascript:",
         "&#x6A;avascript:", "&amp;#106;", "[x](&#x6A;avascript:)", "vbscript:",
         "data:text/html,<script>alert(1)</script>", "data:image/png;base64,AAAA",
         "[x](", "](javascript:alert(1))", ")", "![i](attachment:a.png)", "![j](attachment:nope.png)",
         "<a href=", "\"", "'", "`", "```\n", "~~~\n", "$", "$$", "\\(", "\\)", "\\[", "\\]", "\\\\(", "\\\\)",
         "\\begin{aligned}", "\\end{aligned}", "\\href{javascript:alert(1)}{x}", "&", "&lt;", "&gt;", "&amp;",
         "<", ">", "<!--", "-->", "<div>\n", "</div>", "<style>", "<iframe src=x>", "<b onclick=alert(1)>",
         "\x1b[31m", "\x1b]0;title\x07", "\x1b]8;;http://x\x1b\\", "\x9b2J", "\u202e", "\u2066", "\u200f",
         "\ud800", "\udfff", "\udcff", "\x00", "\x07", "\x7f", "\x85", "\r", "\n", "\n\n", "\t", " ", "> ", "# ",
         "|", "*", "_", "x", "a<b", "i<j"]

texts = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=24).map("".join)
anything = st.one_of(texts, st.binary(max_size=40), st.integers(), st.none(),
                     st.lists(texts, max_size=3), st.dictionaries(texts, texts, max_size=3))


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def render(markdown: str, attachments: dict | None = None) -> str:
    """HTML as nbconvert renders a Markdown cell (formgrader, generate_feedback), attachments resolved."""
    return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=attachments or {})).render(markdown)


def _no_escape_sequences(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text


@settings(max_examples=300)
@given(value=anything)
def test_terminal_is_one_inert_line(value):
    out = inert.terminal(value)
    assert_plain(out, allowed="")
    _no_escape_sequences(out)
    assert "\n" not in out and "\r" not in out and len(out) <= inert.MAX_CHARS + 40


@settings(max_examples=300)
@given(value=anything)
def test_scrub_keeps_only_newline_and_tab(value):
    out = inert.scrub(value)
    assert_plain(out)
    _no_escape_sequences(out)


@settings(max_examples=300)
@given(text=texts)
def test_html_text_holds_no_markup(text):
    out = inert.html_text(text)
    assert_plain(out)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert html_problems(f"<p title=\"{out}\">{out}</p>") == []


@settings(max_examples=300)
@given(text=texts)
def test_markdown_text_renders_as_literal_text(text):
    out = inert.markdown_text(text)
    assert_plain(out, allowed="")
    page = markdown2html_mistune(f"- {out}\n")
    assert html_problems(page) == []
    # nothing but the list and its text (bare http(s) addresses become links): no image, no emphasis, no HTML
    assert set(re.findall(r"</?([a-z0-9]+)", page)) <= {"ul", "li", "a"}, page
    assert all(h.startswith(("http://", "https://")) for h in re.findall(r'href="([^"]*)"', page)), page
    assert not re.search(r"(?i)(?<![a-z0-9+.-])((java|vb)script|data(?!:image/(png|jpeg|gif|webp)))[\s\\]*:",
                         html.unescape(page))


@settings(max_examples=300)
@given(text=texts)
def test_unicode_safe_changes_only_surrogates(text):
    out = inert.unicode_safe(text)
    out.encode("utf-8")
    if not re.search("[\ud800-\udfff]", text):
        assert out == text
    json.loads(json.dumps(inert.json_safe({text: [text, 1, None]}), ensure_ascii=False).encode("utf-8"))


@settings(max_examples=400)
@given(text=texts)
def test_student_markdown_is_inert_once_rendered(text):
    out = clean_markdown(text, attachments={"a.png"})
    assert_plain(out)
    _no_escape_sequences(out)
    page = render(out, {"a.png": {"image/png": PNG}})   # what formgrader and generate_feedback do; never raises
    assert html_problems(page) == [], (text, out, page)


@settings(max_examples=300)
@given(text=texts)
def test_student_markdown_is_idempotent_enough_to_be_stable(text):
    once = clean_markdown(text)
    assert html_problems(markdown2html_mistune(clean_markdown(once))) == []


MATH = st.lists(st.sampled_from(["a", "b", "i", "j", "<", ">", "\\le", "x_i", "^2", "+", " ", "\\frac{1}{2}",
                                 "{", "}", "=", "&", "\\\\", "s_k"]), min_size=1, max_size=12).map("".join)


@settings(max_examples=300)
@given(body=MATH, delim=st.sampled_from([("$", "$"), ("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]")]))
def test_math_keeps_its_meaning(body, delim):
    """Inside math, < and > become \\lt and \\gt and an & gets a space: the same formula for MathJax."""
    body = body.strip() or "a"
    if delim[0] == "$" and body.startswith("$"):
        body = "a" + body
    src = f"Then {delim[0]}{body}{delim[1]} holds."
    out = clean_markdown(src)
    inner = out[len("Then ") + len(delim[0]):len(out) - len(" holds.") - len(delim[1])]
    as_tex = inner.replace("\\lt ", "<").replace("\\gt ", ">")
    assert re.sub(r"\s", "", as_tex) == re.sub(r"\s", "", body)
    assert "<" not in inner and ">" not in inner


def test_math_renders_through_nbconvert_unchanged_in_meaning():
    out = clean_markdown("If $i<j$ and $$a>b$$ and \\\\(p<q\\\\) with $\\begin{aligned} a &= b \\end{aligned}$")
    page = markdown2html_mistune(out)
    assert "$i\\lt j$" in page and "$$a\\gt b$$" in page and "\\lt q" in page
    assert "a &amp;= b" in page            # MathJax reads "a &= b" from the page: the alignment survives


def test_images_kept_scripts_dropped():
    png = PNG
    atts = clean_attachments({"dot.png": {"image/png": png}, "x.svg": {"image/svg+xml": "PHN2Zz4="},
                              "p.html": {"text/html": "<script>"}, "../up.png": {"image/png": png},
                              "lines.png": {"image/png": [png[:10], png[10:]]}})
    assert set(atts) == {"dot.png", "lines.png"} and atts["lines.png"]["image/png"] == png
    src = (f"![a](attachment:dot.png) ![b](attachment:gone.png) ![c](data:image/png;base64,{png}) "
           "![d](data:text/html;base64,PHNjcmlwdD4=) <img src=\"https://example.org/x.png\" onerror=alert(1)> "
           "<script>alert(1)</script>after")
    out = clean_markdown(src, atts)
    assert "![a](attachment:dot.png)" in out and f"![c](data:image/png;base64,{png})" in out
    assert "attachment:gone.png" not in out and "data:text/html" not in out
    assert '<img src="https://example.org/x.png">' in out and "alert" not in out and "after" in out
    page = render(out, atts)
    assert html_problems(page) == [] and f'src="data:image/png;base64,{png}"' in page


def test_code_is_shown_verbatim_looking():
    src = "Use `x<y and a&b` here:\n\n```python\nif a<b:\n    print('<b>')\n```\n"
    out = clean_markdown(src)
    assert out.replace("\u2060", "") == src
    assert html_problems(markdown2html_mistune(out)) == []


def test_stray_less_than_does_not_swallow_the_text():
    out = clean_markdown("for all i<j the sum a<b and c > d holds; see <b>this</b>")
    assert "holds" in out and "<b>this</b>" in out
    assert "i&lt;j" in out


def test_terminal_shows_escapes_visibly():
    assert inert.terminal("id\x1b[31mred\u202e\ud800\n") == "id\\x1b[31mred\\u202e\\ud800\\x0a"
    assert inert.terminal(b"caf\xff") == "caf\\xff"
    assert inert.terminal("x" * 5000).endswith("(3000 more characters)")


def test_escape_markdown_stops_math_links_and_entities():
    out = inert.markdown_text("$x$ [a](javascript:1) &#106; <b> `c`")
    page = markdown2html_mistune(out)
    assert "<a" not in page and "<b>" not in page and "$x$" in html.unescape(page)
    assert "\\$" in out and "\\&" in out


def test_bare_address_cannot_swallow_the_escape_before_a_tag():
    # a bare http address becomes a link that takes every backslash up to "<": a backslash escape of "<"
    # would be eaten and the tag after it would be live HTML
    for text in ["\x1b]8;;http://x\x1b\\<iframe src=x>", "http://x\\<img src=x onerror=alert(1)>",
                 "see https://a.b/\\\\<script>alert(1)</script>"]:
        page = markdown2html_mistune(f"- {inert.markdown_text(text)}\n")
        assert html_problems(page) == [], page
        assert set(re.findall(r"</?([a-z0-9]+)", page)) <= {"ul", "li", "a"}, page
