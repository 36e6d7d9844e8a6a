"""The submission folder as the grader sees it: a private copy, its timestamp, and the files beside the notebook.

Everything after the snapshot reads the copy only, so nothing the student shipped can change while it
is graded, and nothing is ever run inside the course folder.

Every read of a folder the student controls is bounded and cannot block: a file is opened only when
``lstat`` says it is a regular file, then with ``O_NOFOLLOW | O_NONBLOCK`` relative to an open folder
descriptor, and the opened descriptor is checked again with ``fstat`` (so a pipe, a device, a socket
or a link swapped in between is refused, never read); folders are walked through descriptors opened
with ``O_NOFOLLOW``, so a link never leads outside. Sizes, counts and depth are capped.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field

#: Files nbgrader itself puts in a submission folder, or Jupyter leaves behind.
EXPECTED_NAMES = ("timestamp.txt", "submission_secret.txt")
IGNORED_DIRS = (".ipynb_checkpoints", "__pycache__")

#: Caps of the copy: regular files copied, bytes per file and in all, entries looked at, folder depth.
MAX_SNAPSHOT_FILES = 500
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024
MAX_SNAPSHOT_ENTRIES = 2000
MAX_DEPTH = 8
#: Skipped items named one by one in the notes; the rest are counted.
MAX_NOTES = 20
#: timestamp.txt is one short line.
MAX_TIMESTAMP_BYTES = 200

_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_DIRECTORY
_CHUNK = 1 << 20


class NotReadable(Exception):
    """A path that is not a regular file within the size allowed; the message says what it is.
    ``special`` is True when it is not a regular file at all (a link, pipe, device, socket)."""

    def __init__(self, message: str, special: bool = False):
        super().__init__(message)
        self.special = special


def shown(name: str, limit: int = 120) -> str:
    """A file name as plain printable text: undecodable bytes and control characters become
    U+FFFD, long names are cut. Never raises, whatever the name holds."""
    try:
        text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = name.encode("utf-8", "replace").decode("utf-8")
    text = "".join(c if c.isprintable() else "\ufffd" for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def kind_of(mode: int) -> str:
    """What a file that is not regular is, in a few words."""
    if stat.S_ISLNK(mode):
        return "a link; links are not followed"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def open_regular(name: str, dir_fd: int | None = None, max_bytes: int | None = None) -> tuple[int, int]:
    """Open ``name`` (relative to ``dir_fd`` when given) for reading if, and only if, it is a regular
    file of at most ``max_bytes`` (default MAX_FILE_BYTES). Returns (descriptor, size); the caller closes it.
    Raises NotReadable (what it is instead) or FileNotFoundError; never blocks.
    """
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode):
        raise NotReadable(kind_of(st.st_mode), special=True)
    if st.st_size > max_bytes:
        raise NotReadable(f"{st.st_size} bytes, more than the {max_bytes} allowed per file")
    try:
        fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    except OSError as exc:   # ELOOP: replaced by a link since the lstat
        raise NotReadable(f"it could not be opened ({exc.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
        os.close(fd)
        raise NotReadable("it changed while it was read")
    return fd, st.st_size


def _read_fd(fd: int, max_bytes: int):
    """Yield blocks of at most _CHUNK bytes, raising NotReadable past ``max_bytes`` (a file that grows)."""
    total = 0
    while True:
        block = os.read(fd, _CHUNK)
        if not block:
            return
        total += len(block)
        if total > max_bytes:
            raise NotReadable(f"more than the {max_bytes} bytes allowed per file")
        yield block


def read_bytes(path: str, max_bytes: int | None = None, dir_fd: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see open_regular for what is refused)."""
    fd, size = open_regular(path, dir_fd, max_bytes)
    try:
        return b"".join(_read_fd(fd, size))
    finally:
        os.close(fd)


@dataclass
class Snapshot:
    """What the copy holds and what it left out."""
    notes: list[str] = field(default_factory=list)       # one sentence per skipped item (capped)
    left_out: list[str] = field(default_factory=list)    # "path (why)" of links and special files
    missing: dict[str, str] = field(default_factory=dict)   # wanted file -> why it was not copied
    files: int = 0
    bytes: int = 0
    skipped: int = 0
    entries: int = 0

    def skip(self, rel: str, why: str, extra: bool | str = False) -> None:
        """Count a skipped item with its reason; ``extra``: also list it for the extra-files flag
        (True: as a link or special file; a string: with that label)."""
        self.skipped += 1
        if extra:
            label = extra if isinstance(extra, str) else "link" if why.startswith("a link") else "special file"
            self.left_out.append(f"{shown(rel)} ({label})")
        if self.skipped <= MAX_NOTES:
            self.notes.append(f"'{shown(rel)}' was not copied for grading: {why}")
        elif self.skipped == MAX_NOTES + 1:
            self.notes.append("more items of the submission folder were not copied (not listed)")


def snapshot(src: str, dest: str, first: tuple[str, ...] = (), deadline=None) -> Snapshot:
    """Copy the regular files and folders of ``src`` into ``dest`` (created), within the caps.

    ``first``: names in ``src`` copied before anything else (the notebook), so that no other
    file can use up the caps before it. A wanted name that is absent or refused is in
    ``missing`` with the reason. Links, pipes, devices and sockets are never opened; they are
    listed in ``left_out`` for the extra-files check. Folders of Jupyter's caches are skipped.
    ``deadline`` (anything with ``expired``): the walk stops, with a note, once it has passed.
    Raises NotReadable when ``src`` itself is not a folder.
    """
    snap = Snapshot()
    try:
        top = os.open(src, _OPEN_DIR)
    except OSError as exc:
        raise NotReadable(f"the submission folder cannot be opened as a folder ({exc.strerror})") from None
    try:
        os.makedirs(dest)
        for name in first:
            why = _copy(top, name, os.path.join(dest, name), name, snap)
            if why is not None:
                snap.missing[name] = why
        _walk(top, "", dest, snap, 0, set(first), deadline)
    finally:
        os.close(top)
    return snap


def _copy(dir_fd: int, name: str, target: str, rel: str, snap: Snapshot) -> str | None:
    """Copy one file if it is allowed; returns None, or why it was skipped (noted in ``snap``)."""
    if snap.files >= MAX_SNAPSHOT_FILES:
        why = f"the folder holds more than the {MAX_SNAPSHOT_FILES} files allowed"
        snap.skip(rel, why)
        return why
    try:
        fd, size = open_regular(name, dir_fd, MAX_FILE_BYTES)
    except FileNotFoundError:
        return "it is not in the submission folder"
    except NotReadable as exc:
        snap.skip(rel, str(exc), extra=exc.special)
        return str(exc)
    try:
        if snap.bytes + size > MAX_SNAPSHOT_BYTES:
            why = f"the folder holds more than the {MAX_SNAPSHOT_BYTES} bytes allowed in all"
            snap.skip(rel, why)
            return why
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            for block in _read_fd(fd, size):
                os.write(out, block)
        except NotReadable as exc:
            os.unlink(target)
            snap.skip(rel, str(exc))
            return str(exc)
        finally:
            os.close(out)
    finally:
        os.close(fd)
    snap.files += 1
    snap.bytes += size
    return None


def _walk(dir_fd: int, rel: str, dest: str, snap: Snapshot, depth: int, done: set[str], deadline) -> None:
    """Copy what one open folder holds, then its sub-folders (depth first)."""
    subdirs = []
    with os.scandir(dir_fd) as it:
        for entry in it:
            if deadline is not None and deadline.expired:
                snap.skip(rel or ".", "the time allowed for grading ran out while copying")
                return
            snap.entries += 1
            if snap.entries > MAX_SNAPSHOT_ENTRIES:
                snap.skip(rel or ".", f"the folder holds more than the {MAX_SNAPSHOT_ENTRIES} entries allowed")
                return
            path = f"{rel}/{entry.name}" if rel else entry.name
            if not rel and entry.name in done:
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                if entry.name not in IGNORED_DIRS:
                    subdirs.append(entry.name)
            elif stat.S_ISREG(mode):
                _copy(dir_fd, entry.name, os.path.join(dest, entry.name), path, snap)
            else:
                snap.skip(path, kind_of(mode), extra=True)
    for name in subdirs:
        path = f"{rel}/{name}" if rel else name
        if depth + 1 > MAX_DEPTH:
            snap.skip(path, f"folders are copied {MAX_DEPTH} levels deep at most", extra="too deep")
            continue
        try:
            fd = os.open(name, _OPEN_DIR, dir_fd=dir_fd)
        except OSError as exc:
            snap.skip(path, f"it could not be opened ({exc.strerror})")
            continue
        try:
            os.mkdir(os.path.join(dest, name))
            _walk(fd, path, os.path.join(dest, name), snap, depth + 1, done, deadline)
        finally:
            os.close(fd)


def read_timestamp(folder: str, dir_fd: int | None = None) -> str | None:
    """nbgrader's timestamp.txt (one line), or None when absent, not a small regular file, or not text."""
    try:
        raw = read_bytes(os.path.join(folder, "timestamp.txt") if dir_fd is None else "timestamp.txt",
                         MAX_TIMESTAMP_BYTES, dir_fd)
        text = raw.decode("utf-8").strip()
    except (OSError, NotReadable, UnicodeDecodeError):
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


def file_sha256(path: str, max_bytes: int | None = None, dir_fd: int | None = None) -> str | None:
    """The sha256 of a regular file of at most ``max_bytes``, or None (absent, too large, not regular)."""
    h = hashlib.sha256()
    try:
        fd, size = open_regular(path, dir_fd, max_bytes)
    except (OSError, NotReadable):
        return None
    try:
        for block in _read_fd(fd, size):
            h.update(block)
    except (OSError, NotReadable):
        return None
    finally:
        os.close(fd)
    return h.hexdigest()


def live_fingerprint(folder: str, notebook_name: str) -> tuple[str | None, str | None]:
    """(timestamp, notebook sha256) of a submission folder not yet copied, for the "already graded?"
    decision: the same bounded, non-blocking reads as the snapshot, the folder opened without
    following a link. (None, None) when the folder cannot be opened as a folder."""
    try:
        fd = os.open(folder, _OPEN_DIR)
    except OSError:
        return None, None
    try:
        return read_timestamp(folder, fd), file_sha256(notebook_name, dir_fd=fd)
    finally:
        os.close(fd)


def release_manifest(release_dir: str) -> dict[str, str]:
    """relative path -> sha256 of every released file (the instructor's folder)."""
    out = {}
    for root, dirs, files in os.walk(release_dir):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for name in files:
            full = os.path.join(root, name)
            out[os.path.relpath(full, release_dir)] = file_sha256(full, max_bytes=1 << 40)
    return out


def extra_files(copy_dir: str, manifest: dict[str, str], notebooks: list[str]) -> list[str]:
    """Files in a submission copy other than the release's notebooks, the release's other files
    unchanged, nbgrader's ``timestamp.txt`` and Jupyter's caches. Links and special files
    count as extra. Returned as sorted relative paths (printable), with " (modified)" for a
    released file whose content differs.
    """
    out = []
    for root, dirs, files in os.walk(copy_dir):
        kept = []
        for d in dirs:
            full = os.path.join(root, d)
            if os.path.islink(full):
                out.append(shown(os.path.relpath(full, copy_dir)) + " (link)")
            elif d not in IGNORED_DIRS:
                kept.append(d)
        dirs[:] = kept
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, copy_dir)
            if rel in notebooks or rel in EXPECTED_NAMES:
                continue
            mode = os.lstat(full).st_mode
            if not stat.S_ISREG(mode):
                out.append(shown(rel) + (" (link)" if stat.S_ISLNK(mode) else " (special file)"))
            elif rel in manifest:
                if file_sha256(full) != manifest[rel]:
                    out.append(shown(rel) + " (modified)")
            else:
                out.append(shown(rel))
    return sorted(out)
