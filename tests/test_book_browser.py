"""Open every page of the built book in headless Chromium, served from 127.0.0.1 only.

Checks: no JavaScript errors, math typeset by the site's own MathJax (no raw TeX left),
exercise solutions folded until opened, every image loaded, every internal link (and its anchor) resolves, and no request leaves
127.0.0.1. A full-page screenshot of each chapter goes to artifacts/screenshots/.
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
