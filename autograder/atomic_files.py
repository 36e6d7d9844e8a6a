"""Files replaced whole: a reader sees the old file or the new one, never half of one.

The grading side writes every file it keeps (autograded notebooks, their ``timestamp.txt`` and
``submission_secret.txt``, the grading log) with :func:`replace_file`: the bytes go to a temporary file in
the same folder, which is then renamed over the old one. It costs as few system calls as it can, because the
writer stores hundreds of submissions a second: the folder is created only when the write finds it
missing, and with ``skip_same`` a file that already holds the same bytes (and mode) is left alone.
"""
from __future__ import annotations

__all__ = ["replace_file", "same_file", "write_all"]

import os
import stat
import tempfile

TEMP_PREFIX = ".tmp-"


def same_file(path: str, data: bytes, mode: int | None) -> bool:
    """True when ``path`` is a regular file (not a link) holding exactly ``data``, with permission bits
    ``mode`` (any when None).

    Example: ``same_file("autograded/ana/ps1/timestamp.txt", b"2026-01-05 10:00:00\\n", 0o644)``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        if mode is not None and stat.S_IMODE(st.st_mode) != mode:
            return False
        got = os.read(fd, len(data) + 1)
        return got == data
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the open file descriptor ``fd`` (``os.write`` may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def replace_file(folder: str, name: str, data: bytes, mode: int | None = None, skip_same: bool = False) -> bool:
    """Replace ``folder/name`` with ``data`` atomically (a temporary file renamed over it).

    Args:
        folder: the file's folder, created (with its parents) if missing.
        name: the file's name in ``folder``.
        data: the whole content.
        mode: permission bits to give the file (None: those of ``tempfile.mkstemp``, 0o600).
        skip_same: leave the file alone when it already holds ``data`` with ``mode``.

    Returns:
        True when the file was written, False when ``skip_same`` found it unchanged.

    Example: ``replace_file("autograded/ana/ps1", "timestamp.txt", b"2026-01-05 10:00:00\\n", 0o644)``.
    """
    path = os.path.join(folder, name)
    if skip_same and same_file(path, data, mode):
        return False
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
    try:
        try:
            write_all(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True
