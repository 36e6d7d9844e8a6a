"""Fail the build early when the site's own copy of MathJax is missing.

The book serves MathJax from its static files (``mathjax_path`` relative to ``html_static_path``), never from a
CDN. Without the files the pages would still build but show raw TeX, so a missing copy is reported as a
warning (an error under ``-W``) that says how to fetch it.
"""
from __future__ import annotations

from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def _check(app):
    if app.builder.format != "html":
        return
    path = app.config.mathjax_path
    if "://" in path or path.startswith("//"):
        logger.warning("mathjax_path %r points outside the site; the book must be readable offline", path)
        return
    roots = [Path(app.confdir, p) for p in app.config.html_static_path]
    if not any((root / path).is_file() for root in roots):
        logger.warning("MathJax not found at %s in the static folders; run `bash book/_setup_assets.sh` first",
                       path)


def setup(app):
    app.connect("builder-inited", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
