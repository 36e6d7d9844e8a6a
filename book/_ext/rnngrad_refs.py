"""Resolve references to rnngrad's flat names (``rnngrad.softmax_jacobian``) to where they are documented.

The API appendix documents each function once, in its module (``rnngrad.softmax.softmax_jacobian``);
docstrings and pages may refer to the flat name that ``rnngrad/__init__.py`` re-exports, or to a bare name
defined in a sibling module (``default_device`` in ``rnngrad.torch_ref.rnn``). This handler
looks such a name up among the documented objects and links it, so that ``-n`` stays quiet without
documenting anything twice. A name that matches no documented object, or more than one, is left alone
and Sphinx reports it as usual.

``numpy.ndarray`` in a type is shown as plain text: the build is offline, so there is no inventory
(intersphinx) to link numpy's documentation from.
"""
from __future__ import annotations

from sphinx.util.nodes import make_refnode


def _resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if target == "numpy.ndarray" and node.get("reftype") in ("class", "obj"):
        return contnode
    if target.startswith("rnngrad.") and target.count(".") == 1:
        name = target.split(".", 1)[1]       # a flat name: rnngrad.softmax_jacobian
    elif "." not in target:
        name = target                        # a bare name used inside another module's docstring
    else:
        return None
    objects = env.get_domain("py").objects
    matches = [full for full in objects if full.startswith("rnngrad.") and full.rsplit(".", 1)[1] == name
               and objects[full].objtype in ("function", "class", "exception", "data")]
    if len(matches) != 1:
        return None
    entry = objects[matches[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0])


def setup(app):
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
