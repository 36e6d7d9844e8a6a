"""The submission folder as the grader sees it: a private copy, its timestamp, and the files beside the notebook.

Everything after the snapshot reads the copy only, so nothing the student shipped can change while it
is graded, and nothing is ever run inside the course folder.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat

#: Files nbgrader itself puts in a submission folder, or Jupyter leaves behind.
EXPECTED_NAMES = ("timestamp.txt",)
IGNORED_DIRS = (".ipynb_checkpoints", "__pycache__")

#: A submission folder larger than this (or with more files) is not copied in full.
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024
MAX_SNAPSHOT_FILES = 500


def snapshot(src: str, dest: str) -> tuple[list[str], list[str]]:
    """Copy regular files and folders of ``src`` into ``dest`` without following links.

    Links, devices and pipes are not copied; they are returned (as relative paths with
    " (link)" or " (special file)") for the extra-files check. The copy stops at
    MAX_SNAPSHOT_BYTES / MAX_SNAPSHOT_FILES. Returns (notes, left out).
    """
    notes, left_out, total, count = [], [], 0, 0
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                left_out.append(os.path.normpath(os.path.join(rel, d)) + " (link)")
                dirs.remove(d)
        for name in files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                kind = " (link)" if stat.S_ISLNK(st.st_mode) else " (special file)"
                left_out.append(os.path.normpath(os.path.join(rel, name)) + kind)
                continue
            count += 1
            total += st.st_size
            if count > MAX_SNAPSHOT_FILES or total > MAX_SNAPSHOT_BYTES:
                notes.append("the submission folder is too large; only part of it was read")
                return notes, left_out
            shutil.copyfile(full, os.path.join(dest, rel, name), follow_symlinks=False)
    return notes, left_out


def read_timestamp(folder: str) -> str | None:
    """nbgrader's timestamp.txt (one line), or None."""
    try:
        with open(os.path.join(folder, "timestamp.txt")) as fh:
            text = fh.read(200).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def valid_timestamp(text: str | None, result) -> str | None:
    """The timestamp if nbgrader can parse it (it ends up in the gradebook), else None with a note."""
    if text is None:
        return None
    from nbgrader.utils import parse_utc

    try:
        parse_utc(text)
    except Exception:  # the file travels with the submission: any content is possible
        result.notes.append("timestamp.txt does not hold a date; the submission time is left unset")
        return None
    return text


def file_sha256(path: str) -> str | None:
    """The sha256 of a file's bytes, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def release_manifest(release_dir: str) -> dict[str, str]:
    """relative path -> sha256 of every released file."""
    out = {}
    for root, dirs, files in os.walk(release_dir):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for name in files:
            full = os.path.join(root, name)
            out[os.path.relpath(full, release_dir)] = file_sha256(full)
    return out


def extra_files(submission_dir: str, manifest: dict[str, str], notebooks: list[str]) -> list[str]:
    """Files in a submission other than the release's notebooks, the release's other files
    unchanged, nbgrader's ``timestamp.txt`` and Jupyter's caches. Links and special files
    count as extra. Returned as sorted relative paths, with " (modified)" for a released
    file whose content differs.
    """
    out = []
    for root, dirs, files in os.walk(submission_dir):
        kept = []
        for d in dirs:
            full = os.path.join(root, d)
            if os.path.islink(full):
                out.append(os.path.relpath(full, submission_dir) + " (link)")
            elif d not in IGNORED_DIRS:
                kept.append(d)
        dirs[:] = kept
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, submission_dir)
            if rel in notebooks or rel in EXPECTED_NAMES:
                continue
            if os.path.islink(full) or not os.path.isfile(full):
                out.append(rel + " (link)" if os.path.islink(full) else rel + " (special file)")
            elif rel in manifest:
                if file_sha256(full) != manifest[rel]:
                    out.append(rel + " (modified)")
            else:
                out.append(rel)
    return sorted(out)
