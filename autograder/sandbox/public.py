"""Read-only files that enter the sandbox besides numpy: the problem set's released files and IPython's
input transformer. Trusted side only: it chooses and checks the files; :func:`bind_args` turns them into
bubblewrap arguments.

* **Released files** (``rnncheck.py``, ``fixtures_<set>.npz``): taken from the course's release folder,
  never from a submission, bound read-only in :data:`PUBLIC_DIR` (``rnncheck.py`` is the course's one
  checker, which ``nbgrader generate_assignment`` copies into every release folder). The worker puts that folder at the end of
  ``sys.path`` (so the set-up cell's ``from rnncheck import check`` works; the working directory is not on
  the path, and nothing the submission writes can land in that folder) and links every file into the
  submission's working directory (so ``np.load("fixtures_<set>.npz")`` works as in Jupyter).
* **IPython's input transformer**: the two files ``IPython/core/inputtransformer2.py`` and
  ``IPython/utils/tokenutil.py`` (standard library only), bound read-only in :data:`IPYTHON_DIR`; the fork
  server loads them once, without the rest of IPython.

The layout is fixed relative to the site folder (``/sandbox/site``): the worker finds both folders beside it.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import stat
import sys
from typing import Iterable

PUBLIC_DIR = "/sandbox/release"
IPYTHON_DIR = "/sandbox/ipython"
#: At most this many released files, of at most this many bytes together, enter the sandbox.
MAX_PUBLIC_FILES = 16
MAX_PUBLIC_BYTES = 64 << 20
#: IPython's transformer and the one module of IPython it imports (relative to the IPython package).
IPYTHON_FILES = (("core/inputtransformer2.py", "inputtransformer2.py"), ("utils/tokenutil.py", "tokenutil.py"))


def release_files(release_dir: str) -> list[str]:
    """The files of a course's release folder that a notebook reads: every regular file at its top level
    except notebooks and hidden files (links, folders and special files are left out).

    Args:
        release_dir: the assignment's release folder (``release/<assignment>``), the instructor's.

    Returns:
        Absolute paths, sorted by name.
    """
    out = []
    for name in sorted(os.listdir(release_dir)):
        path = os.path.join(release_dir, name)
        if name.startswith(".") or name.endswith(".ipynb"):
            continue
        if stat.S_ISREG(os.lstat(path).st_mode):
            out.append(os.path.abspath(path))
    return out


def check_public_files(paths: Iterable[str], allowed_imports: Iterable[str]) -> list[tuple[str, str]]:
    """Check the released files that will be bound read-only into the sandbox.

    Each must be a regular file (not a link) with a plain name (letters, digits, ``._-``; not hidden),
    names must be distinct, at most MAX_PUBLIC_FILES files of MAX_PUBLIC_BYTES together, and a Python file
    may import only the standard library, ``allowed_imports`` and the other released modules.

    Args:
        paths: host paths of the files.
        allowed_imports: the packages the sandbox makes importable (numpy).

    Returns:
        ``(host path, name inside PUBLIC_DIR)`` pairs.

    Raises:
        ValueError: naming the file and what is wrong with it.
    """
    paths = [os.path.abspath(p) for p in paths]
    if len(paths) > MAX_PUBLIC_FILES:
        raise ValueError(f"public_files: at most {MAX_PUBLIC_FILES} files can enter the sandbox, got {len(paths)}")
    names = [os.path.basename(p) for p in paths]
    total = 0
    for path, name in zip(paths, names):
        if not name or name.startswith(".") or not all(c.isascii() and (c.isalnum() or c in "._-") for c in name):
            raise ValueError(f"public_files: {path!r} has a name that cannot be used inside the sandbox")
        if names.count(name) > 1:
            raise ValueError(f"public_files: two files are named {name!r}")
        try:
            st = os.lstat(path)
        except OSError as exc:
            raise ValueError(f"public_files: {path!r} cannot be read ({exc.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"public_files: {path!r} is not a regular file")
        total += st.st_size
    if total > MAX_PUBLIC_BYTES:
        raise ValueError(f"public_files: {total} bytes together, more than the {MAX_PUBLIC_BYTES} allowed")
    modules = {n[:-3] for n in names if n.endswith(".py")}
    allowed = set(sys.stdlib_module_names) | {"__future__"} | set(allowed_imports) | modules
    for path in paths:
        if path.endswith(".py"):
            bad = sorted(set(_imports(path)) - allowed)
            if bad:
                raise ValueError(f"public_files: {path!r} imports {bad}, which the sandbox does not offer")
    return list(zip(paths, names))


def _imports(path: str) -> list[str]:
    """Top-level names of every module a Python file imports (anywhere in it)."""
    with open(path, "rb") as fh:
        tree = ast.parse(fh.read(), filename=path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.append(".")          # relative imports: there is no package to be relative to
            elif node.module:
                out.append(node.module.split(".")[0])
    return out


def ipython_files() -> list[tuple[str, str]]:
    """``(host path, name inside IPYTHON_DIR)`` of IPython's input transformer, or ``[]`` where IPython is
    not installed or its transformer imports more than the standard library and ``IPython.utils.tokenutil``
    (a future IPython: then cells are run as they are, and IPython syntax in them is a syntax error)."""
    spec = importlib.util.find_spec("IPython")          # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return []
    root = os.path.realpath(list(spec.submodule_search_locations)[0])
    pairs = [(os.path.join(root, rel), name) for rel, name in IPYTHON_FILES]
    allowed = set(sys.stdlib_module_names) | {"__future__", "IPython"}
    for path, _ in pairs:
        if not os.path.isfile(path) or os.path.islink(path):
            return []
        try:
            if set(_imports(path)) - allowed:
                return []
        except (OSError, SyntaxError, ValueError):
            return []
    return pairs


def bind_args(public_files: Iterable[str], allowed_imports: Iterable[str]) -> list[str]:
    """bubblewrap arguments that bind the released files into PUBLIC_DIR and IPython's transformer into
    IPYTHON_DIR, read-only (both folders exist, possibly empty)."""
    args = []
    for folder, pairs in ((PUBLIC_DIR, check_public_files(public_files, allowed_imports)),
                          (IPYTHON_DIR, ipython_files())):
        args += ["--perms", "0755", "--dir", folder]
        for src, name in pairs:
            args += ["--ro-bind", src, f"{folder}/{name}"]
    return args


def link_unsandboxed(root: str, public_files: Iterable[str], allowed_imports: Iterable[str]) -> None:
    """Development mode without bubblewrap: make ``root/release`` and ``root/ipython`` (beside the worker's
    site folder ``root/site``) hold links to the same files."""
    for folder, pairs in (("release", check_public_files(public_files, allowed_imports)),
                          ("ipython", ipython_files())):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        for src, name in pairs:
            os.symlink(src, os.path.join(root, folder, name))
