"""The book's list of problem sets, with a download of each set's student release.

A page holds the directive ``{problem-sets}``; it becomes one entry per set of the course directory (named
by the setting ``problem_sets_course``, relative to the book's root): its title, what it practises (the
graded functions), its points, the chapters it follows (links), and a link to ``problem-sets/<set>.zip``.
Each entry carries the label ``<set>`` (``{ref}`problem set 3 <ps3_bptt>```), which the chapters link.

When an HTML build ends, the archives (:mod:`problem_set_releases`: nbgrader's release of each set, never the
source) are copied into the site's ``problem-sets/`` folder. They are made again only when the course's
sources or the grader's specs (``problem_sets_specs``) changed; otherwise they come from
``<output>/.problem_sets/``. The page is read again when a set is added, removed or edited.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from problem_set_catalogue import ProblemSet, catalogue_digest, read_catalogue
from problem_set_releases import ensure_archives

logger = logging.getLogger(__name__)

#: the site's folder of the archives
DOWNLOADS = "problem-sets"


class problem_set_download(nodes.Inline, nodes.Element):
    """A link to a set's archive; its address, relative to the page, is set once the page's URI is known."""


def _points(value: float) -> str:
    return f"{value:g}"


def _course(env) -> Path:
    return Path(env.app.confdir) / env.config.problem_sets_course


class ProblemSetsDirective(SphinxDirective):
    """``{problem-sets}``: an entry per set of the course directory (no arguments, no content)."""

    has_content = False

    def _entry(self, ps: ProblemSet) -> list[nodes.Node]:
        target = nodes.target("", "", ids=[nodes.make_id(ps.name)], names=[ps.name])
        self.state.document.note_explicit_target(target)
        heading = nodes.paragraph("", "", nodes.strong("", ps.title), nodes.Text(f" ({ps.name})"))
        functions: list[nodes.Node] = [nodes.Text("Practises: ")]
        for i, function in enumerate(ps.functions):
            functions += [nodes.Text(", ")] * bool(i) + [nodes.literal("", function)]
        points = (f"Points: {_points(ps.points)} ({_points(ps.autograded_points)} autograded, "
                  f"{_points(ps.manual_points)} for derivations graded by hand)")
        chapters = [nodes.Text("Chapter: " if len(ps.chapters) == 1 else "Chapters: ")]
        for i, chapter in enumerate(ps.chapters):
            chapters += [nodes.Text(", ")] * bool(i) + [
                         addnodes.pending_xref("", nodes.inline("", chapter), refdomain="std", reftype="doc",
                                               reftarget=chapter, refexplicit=False, refwarn=True,
                                               refdoc=self.env.docname)]
        download = [nodes.Text("Download: "), problem_set_download("", set_name=ps.name)]
        items = nodes.bullet_list()
        for content in (functions, [nodes.Text(points)], chapters, download):
            items += nodes.list_item("", nodes.paragraph("", "", *content))
        return [target, heading, items]

    def run(self) -> list[nodes.Node]:
        course = _course(self.env)
        sets = read_catalogue(course)
        if not sets:
            raise self.error(f"problem-sets: expected problem sets in {course}/source/<set>/<set>.ipynb, found none")
        self.env.problem_set_docs = getattr(self.env, "problem_set_docs", set()) | {self.env.docname}
        self.env.problem_sets_digest = catalogue_digest(course)
        return [node for ps in sets for node in self._entry(ps)]


def _outdated(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: the pages with the directive, when the course's sets changed since they were read."""
    docs = sorted(getattr(env, "problem_set_docs", set()) & env.found_docs)
    if not docs or not _course(env).is_dir():
        return []
    digest = catalogue_digest(_course(env))
    if getattr(env, "problem_sets_digest", None) == digest:
        return []
    env.problem_sets_digest = digest
    return docs


def _purge(app, env, docname) -> None:
    getattr(env, "problem_set_docs", set()).discard(docname)


def _merge(app, env, docnames, other) -> None:
    env.problem_set_docs = getattr(env, "problem_set_docs", set()) | getattr(other, "problem_set_docs", set())


def _link_archives(app, doctree, docname) -> None:
    """``doctree-resolved``: each download becomes a link relative to the page's own address."""
    page = app.builder.get_target_uri(docname).split("#", 1)[0]
    for node in list(doctree.findall(problem_set_download)):
        archive = f"{node['set_name']}.zip"
        node.replace_self(nodes.reference("", "", nodes.literal("", archive),
                                          refuri=relative_uri(page, f"{DOWNLOADS}/{archive}")))


def _copy_archives(app, exception) -> None:
    """``build-finished``: the archives of every set into the site's ``problem-sets/`` folder."""
    if exception is not None or app.builder.format != "html" or not getattr(app.env, "problem_set_docs", None):
        return
    course, root = _course(app.env), Path(app.confdir)
    try:
        archives = ensure_archives(course, root / app.config.problem_sets_specs,
                                   Path(app.outdir).parent / ".problem_sets")
    except (OSError, RuntimeError) as exc:
        raise ExtensionError(f"problem_sets: the student releases could not be made: {exc}") from exc
    site = Path(app.outdir) / DOWNLOADS
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    for archive in archives:
        shutil.copyfile(archive, site / archive.name)
    logger.info("problem_sets: %d student releases in %s", len(archives), site)


def setup(app):
    app.add_config_value("problem_sets_course", "assignments", "env", [str])
    app.add_config_value("problem_sets_specs", "autograder/specs", "env", [str])
    app.add_node(problem_set_download)
    app.add_directive("problem-sets", ProblemSetsDirective)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _link_archives)
    app.connect("build-finished", _copy_archives)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
