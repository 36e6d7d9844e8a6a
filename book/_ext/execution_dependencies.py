"""Run the book's pages again when the code they import changes.

myst-nb's execution cache (``execute_notebooks: cache``) keys each page on its own code cells, and Sphinx
reads a page again only when the page's source changes: after an edit to rnngrad alone, every page would
keep the outputs computed with the old package. This extension hashes the Python sources named in the
``execution_dependencies`` setting (paths relative to the book's root; a folder stands for every ``.py``
file under it) before Sphinx decides what to read:

- the hash is kept in Sphinx's environment, which is saved only after all pages were read; when it differs
  from the hash of the sources now, every page is read again;
- the same hash is written into the execution cache's folder; when it differs, the cache is emptied, so
  the pages read again are executed with the current code instead of being served old outputs.

With nothing changed (a touched file, a checkout of the same content), nothing is read and nothing runs.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sphinx.errors import ConfigError
from sphinx.util import logging

logger = logging.getLogger(__name__)

CACHE_STAMP = "execution_dependencies.sha256"   # in the execution cache's folder


def source_files(root: Path, entries: list[str]) -> list[Path]:
    """The Python files that ``entries`` name, in a fixed order.

    Args:
        root: the folder the entries are relative to (the book's root).
        entries: paths of files or folders; a folder stands for every ``.py`` file under it.

    Returns:
        the files, sorted by path; ``__pycache__`` folders are skipped.

    Example:
        >>> files = source_files(Path(__file__).parent, ["execution_dependencies.py"])
        >>> [f.name for f in files]
        ['execution_dependencies.py']
    """
    files: set[Path] = set()
    for entry in entries:
        path = root / entry
        if path.is_dir():
            files.update(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        elif path.is_file():
            files.add(path)
        else:
            raise ConfigError(f"execution_dependencies: expected a file or folder under {root}, "
                              f"got {entry!r}, which does not exist")
    return sorted(files)


def source_digest(root: Path, entries: list[str]) -> str:
    """SHA-256 of the names and contents of the files that ``entries`` name (see :func:`source_files`).

    Args:
        root: the folder the entries are relative to.
        entries: paths of files or folders.

    Returns:
        the hex digest (64 characters); it changes when a file's content, name or presence changes,
        not when only its modification time does.

    Example:
        >>> here = Path(__file__).parent
        >>> len(source_digest(here, ["execution_dependencies.py"]))
        64
    """
    digest = hashlib.sha256()
    for path in source_files(root, entries):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _empty_stale_cache(cache: Path, digest: str) -> None:
    stamp = cache / CACHE_STAMP
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    if cache.exists():
        logger.info("execution_dependencies: the sources changed; emptying the execution cache %s", cache)
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    stamp.write_text(digest + "\n")


def book_root(confdir: Path) -> Path:
    """The folder that holds the book's ``_config.yml``: ``confdir`` itself, or for a one-page build
    (``jupyter-book build book/page.md``, whose confdir is the page's folder) the nearest folder above it.

    Example:
        >>> book_root(Path(__file__).parents[2] / "book") == Path(__file__).parents[2]
        True
    """
    for folder in (confdir, *confdir.parents):
        if (folder / "_config.yml").is_file():
            return folder
    return confdir


def _outdated(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: every page when the sources differ from those the pages were read with."""
    digest = source_digest(book_root(Path(app.confdir).resolve()), list(app.config.execution_dependencies))
    mystnb_config = getattr(env, "mystnb_config", None)
    if mystnb_config is not None and mystnb_config.execution_cache_path:
        _empty_stale_cache(Path(mystnb_config.execution_cache_path), digest)
    if getattr(env, "execution_dependencies_digest", None) == digest:
        return []
    env.execution_dependencies_digest = digest
    if env.all_docs:   # not a first build: say why pages whose source did not change are read
        logger.info("execution_dependencies: the sources changed; reading every page again")
    return sorted(env.found_docs)


def setup(app):
    app.add_config_value("execution_dependencies", [], "env", [list, tuple])
    app.connect("env-get-outdated", _outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
