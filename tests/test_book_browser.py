"""Open every page of the built book in headless Chromium, served from 127.0.0.1 only.

Checks: no JavaScript errors, math typeset by the site's own MathJax (no raw TeX left),
exercise solutions folded until opened, every image loaded, every internal link (and its anchor) resolves, and no request leaves
127.0.0.1. A full-page screenshot of each chapter goes to artifacts/screenshots/.

Layout, on every page at a desktop width (1280 px) and a phone width (390 px): at the desktop width no code
block, printed output or display equation is wider than its box (code does not scroll there: it is wrapped to
fit); at the phone width the page itself never scrolls sideways, and whatever is wider than the screen (a code
block, an equation, a table) scrolls inside its own box instead of being cut off. Phone screenshots of the
chapters go to artifacts/screenshots/phone/.
"""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from playwright.sync_api import sync_playwright

from book_site import REPO, built_book

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
MAX_SHOT_HEIGHT = 16_000
REDIRECT = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.I)
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\frac|\\partial|\\begin\{")

# Text of the page outside code, scripts and typeset math: raw TeX there means MathJax did not run.
VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'MJX-CONTAINER', 'NOSCRIPT']);
  const out = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) out.push(child.textContent);
      else if (child.nodeType === Node.ELEMENT_NODE && !skip.has(child.tagName.toUpperCase())) walk(child);
    }
  };
  walk(document.body);
  return out.join(' ');
}"""

MATH_STATE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const math = Array.from(document.querySelectorAll('span.math, div.math'));
  return {
    mathjax: !!(window.MathJax && MathJax.version),
    math: math.length,
    typeset: math.filter(el => el.querySelector('mjx-container')).length,
    containers: document.querySelectorAll('mjx-container').length,
  };
}"""

IMAGES_JS = """() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.getAttribute('src'))"""

# Solutions start folded: every child of a solution except its title takes no space and is not visible.
SHOWN_SOLUTIONS_JS = """() => Array.from(document.querySelectorAll('div.solution'))
  .filter(sol => Array.from(sol.children).some(c => !c.classList.contains('admonition-title')
    && getComputedStyle(c).visibility !== 'hidden' && c.getBoundingClientRect().height > 0))
  .map(sol => sol.id)"""

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""

DESKTOP, PHONE = 1280, 390

# Every box that holds code, printed output, a display equation or a table, with its widths. A box is "wide"
# when its content is wider than the box (scrollWidth > clientWidth); "scrolls" says whether the box lets the
# reader scroll to the hidden part (overflow-x auto or scroll) or cuts it off. A table counts as scrolling when
# it or an ancestor inside the article is a scrolling box no wider than the article.
LAYOUT_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const boxes = [];
  const outputs = new Set(document.querySelectorAll('div.cell_output pre, div.output pre'));
  outputs.forEach(el => boxes.push(['output', el]));
  document.querySelectorAll('div.highlight pre, pre.literal-block, pre.doctest-block')
    .forEach(el => { if (!outputs.has(el)) boxes.push(['code', el]); });
  document.querySelectorAll('mjx-container[jax="CHTML"][display="true"]').forEach(el => boxes.push(['equation', el]));
  const article = document.querySelector('article') || document.body;
  const wide = [];
  for (const [kind, el] of boxes) {
    if (el.scrollWidth > el.clientWidth + 1) {
      wide.push({kind, scroll: el.scrollWidth, client: el.clientWidth, scrolls: scrolls(el),
                 text: (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60)});
    }
  }
  for (const table of article.querySelectorAll('table')) {
    let box = table;
    while (box && box !== article && !scrolls(box)) { box = box.parentElement; }
    const full = table.scrollWidth;
    const room = (box && box !== article) ? box.clientWidth : article.clientWidth;
    if (full > room + 1 || (box === article && table.getBoundingClientRect().right > article.getBoundingClientRect().right + 1)) {
      wide.push({kind: 'table', scroll: full, client: room, scrolls: !!box && box !== article,
                 text: (table.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60)});
    }
  }
  return {wide, page: document.documentElement.scrollWidth, viewport: window.innerWidth};
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def site():
    build = built_book()
    assert build.returncode == 0, f"the book did not build:\n{build.log[-6000:]}"
    handler = functools.partial(_QuietHandler, directory=str(build.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield build.html, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser_context():
    assert Path(CHROMIUM).is_file(), "Debian's chromium is needed (setup.sh installs it)"
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _pages(html: Path) -> list[str]:
    skip = ("_static/", "_sources/", "_images/", "reports/")
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not p.relative_to(html).as_posix().startswith(skip))


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))


def _check_link(html: Path, base: str, href: str) -> str | None:
    """None when ``href`` (absolute, as the browser resolved it) points to an existing file and anchor."""
    if not href.startswith(base + "/"):
        return None  # external links are not followed (and no page may load anything external)
    parts = urlsplit(href)
    rel = unquote(parts.path).lstrip("/")
    target = html / rel
    if rel == "" or target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"{href}: no such file"
    if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target):
        return f"{href}: no element with id {parts.fragment!r}"
    return None


def test_every_page_renders_offline(site, browser_context):
    html, base = site
    pages = _pages(html)
    assert any(p.startswith("book/") for p in pages)
    external: list[str] = []

    def only_local(route):
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            external.append(url)
            route.abort()

    browser_context.route("**/*", only_local)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    pages_with_math = 0
    for rel in pages:
        page = browser_context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(f"page error: {exc}"))
        page.on("console", lambda msg, errors=errors: errors.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" else None)
        page.on("requestfailed", lambda req, errors=errors: errors.append(f"request failed: {req.url}"))
        redirect = REDIRECT.search((html / rel).read_text(errors="replace"))
        if redirect:  # e.g. index.html: it must land on an existing page, which is checked on its own
            target = urljoin(f"{base}/{rel}", redirect.group(1))
            page.goto(f"{base}/{rel}")
            page.wait_for_url(target, timeout=10_000)
            bad = _check_link(html, base, target)
            if bad or errors:
                problems[rel] = [*errors, *([f"redirect {bad}"] if bad else [])]
            page.close()
            continue
        page.goto(f"{base}/{rel}", wait_until="load")
        math = page.evaluate(MATH_STATE_JS)
        if math["math"]:
            pages_with_math += 1
            if not math["mathjax"]:
                errors.append("the page has math but MathJax did not load")
            if math["typeset"] != math["math"]:
                errors.append(f"{math['math'] - math['typeset']} of {math['math']} math elements not typeset")
        raw = RAW_TEX.findall(page.evaluate(VISIBLE_TEXT_JS))
        if raw:
            errors.append(f"raw TeX in the visible text: {sorted(set(raw))}")
        broken_images = page.evaluate(IMAGES_JS)
        if broken_images:
            errors.append(f"images that did not load: {broken_images}")
        shown = page.evaluate(SHOWN_SOLUTIONS_JS)
        if shown:
            errors.append(f"solutions visible before they are opened: {shown}")
        for href in sorted(set(page.evaluate(LINKS_JS))):
            bad = _check_link(html, base, href)
            if bad:
                errors.append(f"broken link {bad}")
        if rel.startswith("book/"):
            # the whole page, up to Chromium's largest texture (the API appendix is longer)
            height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT)
            page.screenshot(path=str(SCREENSHOTS / (Path(rel).stem + ".png")), full_page=True,
                            clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height})
        page.close()
        if errors:
            problems[rel] = errors
    assert not external, f"requests left 127.0.0.1: {sorted(set(external))}"
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(e) for p, e in problems.items())
    assert pages_with_math >= 4, "the chapters with formulas should have typeset math"


def _layout_problems(page, width: int) -> list[str]:
    """What does not fit on the page at ``width`` pixels (the rules in the module docstring)."""
    layout = page.evaluate(LAYOUT_JS)
    problems = []
    if layout["page"] > layout["viewport"]:
        problems.append(f"the page scrolls sideways: {layout['page']} px wide in a {layout['viewport']} px window")
    for box in layout["wide"]:
        what = f"{box['kind']} {box['scroll']} px wide in a {box['client']} px box: {box['text']!r}"
        if width >= DESKTOP and box["kind"] in ("code", "output", "equation"):
            problems.append(f"wider than its box: {what}")
        elif not box["scrolls"]:
            problems.append(f"cut off: {what}")
    return problems


def _chapters(html: Path) -> list[str]:
    return [rel for rel in _pages(html) if rel.startswith("book/")]


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_page_fits_the_screen(site, browser_context, width):
    html, base = site
    chapters = _chapters(html)
    assert len(chapters) >= 10
    shots = SCREENSHOTS / "phone"
    if width == PHONE:
        shots.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    for rel in chapters:
        page = browser_context.new_page()
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/{rel}", wait_until="load")
        found = _layout_problems(page, width)
        if found:
            problems[rel] = found
        if width == PHONE:
            height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT)
            page.screenshot(path=str(shots / (Path(rel).stem + ".png")), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": height})
        page.close()
    count = sum(len(v) for v in problems.values())
    assert not problems, f"{count} layout problems at {width} px:\n" + "\n".join(
        f"{p}:\n  " + "\n  ".join(e) for p, e in problems.items())
