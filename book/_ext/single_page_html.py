"""Let the one-page HTML builder (``singlehtml``, which the book's PDF is printed from) render every node.

Sphinx gives a builder the node handlers registered under its own name, and falls back to those of its
format (``html``) only when none are registered under its name. sphinx-exercise registers handlers for
``singlehtml``, so the handlers that other extensions registered for ``html`` alone (myst-nb's folded code
cells, for one) would be missing there and the build would stop at the first such node. This extension gives
``singlehtml`` the ``html`` handlers it lacks.
"""
from __future__ import annotations


def inherit_html_handlers(app) -> None:
    """``builder-inited``: for the ``singlehtml`` builder, add the ``html`` node handlers it has none for."""
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    handlers["singlehtml"] = {**handlers.get("html", {}), **handlers.get("singlehtml", {})}


def setup(app):
    app.connect("builder-inited", inherit_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
