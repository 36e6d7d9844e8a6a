"""A submission as it travels to a grading machine: the bounded snapshot of its folder, packed as plain bytes.

The grader's process takes the snapshot (:func:`autograder.snapshot.snapshot`, with its caps and the
trusted side's deadline) and packs the copied files with what the snapshot noted (:func:`pack`); the
grading machine writes them into a private folder of its own (:func:`unpack`) and grades that copy
exactly as a local grader grades its own snapshot, so no shared file system is needed. A released file
that the submission holds unchanged (nbgrader's ``collect`` copies them along: a problem set's fixtures are
a megabyte) is checked here by its hash and named, not sent: grading reads only what differs from the
release, and the worker's sandbox has the released files already. What arrives is
made from a student's files: :func:`unpack` checks every path and size again and refuses the whole
shipment (:class:`ShipmentRefused`) when anything breaks the snapshot's own caps.
"""
from __future__ import annotations

import datetime
import os
import tempfile
from dataclasses import dataclass, field

from .deadline import Deadline
from .snapshot import (MAX_DEPTH, MAX_FILE_BYTES, MAX_NOTES, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_ENTRIES,
                       MAX_SNAPSHOT_FILES, NotReadable, Snapshot, file_sha256, read_bytes, snapshot)

__all__ = ["Shipment", "ShipmentRefused", "Taken", "pack", "unpack"]

#: longest relative path, and longest note / left-out entry / reason accepted in a shipment (characters)
MAX_PATH_CHARS = 4096
MAX_TEXT_CHARS = 2000


class ShipmentRefused(ValueError):
    """A shipment that breaks the snapshot's caps or holds a path outside its folder; nothing of it is graded."""


@dataclass
class Shipment:
    """One submission's snapshot as plain data (pickled to a dask worker).

    ``files``: relative path (``/``-separated) -> content of each copied regular file, except the released
    files held unchanged, whose paths are in ``unchanged`` (compared by hash with the release); ``notes``,
    ``left_out``, ``missing``: the :class:`autograder.snapshot.Snapshot`'s; ``unreadable``: why the
    submission folder could not be copied at all (then ``files`` is empty); ``seconds``: the trusted
    side's time spent taking it; ``graded_at``: when grading began (UTC, ISO 8601).
    """
    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    unreadable: str | None = None
    seconds: float = 0.0
    graded_at: str = ""

    @property
    def size(self) -> int:
        """Bytes of file content carried."""
        return sum(len(b) for b in self.files.values() if isinstance(b, bytes))


@dataclass
class Taken:
    """A snapshot already taken, for :func:`autograder.grade.grade_submission` (which then skips step 1):
    ``snapshot`` (None when ``unreadable`` says why there is none), the ``folder`` holding the copy, the
    trusted ``seconds`` already spent and ``graded_at``."""
    snapshot: Snapshot | None
    folder: str
    unreadable: str | None = None
    seconds: float = 0.0
    graded_at: str = ""


def pack(submission_dir: str, student: str, notebook: str, seconds: float,
         released: dict[str, str] | None = None) -> Shipment:
    """The snapshot of ``submission_dir`` (``notebook`` copied first) as a :class:`Shipment`.

    Args:
        submission_dir: the student's submission folder (read only through the snapshot's bounded reads).
        student: the student's id.
        notebook: the notebook's file name, e.g. ``"ps1_softmax.ipynb"``.
        seconds: the trusted side's time budget; the walk stops with a note past it.
        released: the release's files, relative path -> SHA-256 (``Course.release_manifest``); a copied file
            with the same path and hash is listed in ``unchanged`` instead of sent. The notebook is always sent.

    Example: ``pack("submitted/ana/ps1_softmax", "ana", "ps1_softmax.ipynb", 30.0).files["ps1_softmax.ipynb"]``.
    """
    deadline = Deadline(seconds)
    shipped = Shipment(student, graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
    with tempfile.TemporaryDirectory(prefix="shipping-") as tmp:
        copy = os.path.join(tmp, "submission")
        try:
            snap = snapshot(submission_dir, copy, first=(notebook,), deadline=deadline)
        except NotReadable as exc:
            shipped.unreadable = str(exc)
        else:
            shipped.notes, shipped.left_out, shipped.missing = snap.notes, snap.left_out, snap.missing
            for root, _dirs, files in os.walk(copy):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, copy).replace(os.sep, "/")
                    if rel != notebook and released and released.get(rel) == file_sha256(full):
                        shipped.unchanged.append(rel)
                        continue
                    shipped.files[rel] = read_bytes(full, MAX_FILE_BYTES)   # the copy holds regular files only
    shipped.seconds = deadline.spent()
    return shipped


def unpack(shipped, dest: str) -> Taken:
    """Write a :class:`Shipment` into ``dest`` (created; nothing when it is ``unreadable``) and return it as a
    :class:`Taken`. The released files named in ``unchanged`` are not written (grading reads only files that
    differ from the release, see :func:`autograder.snapshot.extra_files`). Every path must be relative, without ``..``, ``.`` or empty parts, at most MAX_DEPTH + 1
    parts deep; counts and sizes within the snapshot's caps. Raises :class:`ShipmentRefused` saying what is wrong
    (``dest`` may then hold part of it: the caller removes it)."""
    _check(shipped)
    taken = Taken(None, dest, shipped.unreadable, float(shipped.seconds), shipped.graded_at)
    if shipped.unreadable is not None:
        return taken
    os.makedirs(dest)
    for rel, content in shipped.files.items():
        parent = os.path.join(dest, *rel.split("/")[:-1])
        try:
            os.makedirs(parent, exist_ok=True)
            fd = os.open(os.path.join(dest, *rel.split("/")),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:      # a file and a folder of the same name
            raise ShipmentRefused(f"the file {rel[:200]!r} cannot be written ({exc.strerror})") from None
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    taken.snapshot = Snapshot(notes=list(shipped.notes), left_out=list(shipped.left_out),
                              missing=dict(shipped.missing), files=len(shipped.files), bytes=shipped.size)
    return taken


def _check(shipped) -> None:
    """Raise ShipmentRefused unless ``shipped`` is a Shipment within the snapshot's caps."""
    if not isinstance(shipped, Shipment):
        raise ShipmentRefused(f"a {type(shipped).__name__}, not a Shipment")
    if not isinstance(shipped.seconds, (int, float)) or not 0 <= shipped.seconds < 1e6 \
            or not isinstance(shipped.graded_at, str) or len(shipped.graded_at) > 64:
        raise ShipmentRefused("its seconds or graded_at are not a time")
    if shipped.unreadable is not None and (not _text(shipped.unreadable) or shipped.files):
        raise ShipmentRefused("an unreadable submission with files, or a reason that is not short text")
    texts = (list(shipped.notes) if isinstance(shipped.notes, list) else [None]) + \
            (list(shipped.left_out) if isinstance(shipped.left_out, list) else [None])
    if len(shipped.notes) > MAX_NOTES + 1 or len(shipped.left_out) > MAX_SNAPSHOT_ENTRIES + 1 \
            or not all(_text(t) for t in texts):
        raise ShipmentRefused("its notes or left-out files are not a bounded list of short texts")
    if not isinstance(shipped.missing, dict) or len(shipped.missing) > 1 \
            or not all(_text(k) and _text(v) for k, v in shipped.missing.items()):
        raise ShipmentRefused("its missing files are not a bounded mapping of short texts")
    if not isinstance(shipped.files, dict) or len(shipped.files) > MAX_SNAPSHOT_FILES:
        raise ShipmentRefused(f"more than the {MAX_SNAPSHOT_FILES} files allowed, or not a mapping")
    if not isinstance(shipped.unchanged, list) \
            or len(shipped.files) + len(shipped.unchanged) > MAX_SNAPSHOT_FILES:
        raise ShipmentRefused(f"more than the {MAX_SNAPSHOT_FILES} files allowed, or not a list of unchanged files")
    for rel in shipped.unchanged:
        problem = _path_problem(rel)
        if problem is not None or rel in shipped.files:
            raise ShipmentRefused(f"the unchanged path {str(rel)[:200]!r} {problem or 'is also sent'}")
    if shipped.unreadable is not None and shipped.unchanged:
        raise ShipmentRefused("an unreadable submission with unchanged files")
    total = 0
    for rel, content in shipped.files.items():
        problem = _path_problem(rel)
        if problem is not None:
            raise ShipmentRefused(f"the path {str(rel)[:200]!r} {problem}")
        if not isinstance(content, bytes) or len(content) > MAX_FILE_BYTES:
            raise ShipmentRefused(f"the file {rel[:200]!r} is not bytes of at most {MAX_FILE_BYTES}")
        total += len(content)
    if total > MAX_SNAPSHOT_BYTES:
        raise ShipmentRefused(f"{total} bytes in all, more than the {MAX_SNAPSHOT_BYTES} allowed")


def _text(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT_CHARS


def _path_problem(rel) -> str | None:
    """Why ``rel`` cannot be a path inside the copy, or None."""
    if not isinstance(rel, str) or not rel or len(rel) > MAX_PATH_CHARS:
        return "is not a short, non-empty text"
    if "\0" in rel or rel.startswith("/") or os.sep != "/" and os.sep in rel:
        return "is absolute or holds a NUL"
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "has an empty, '.' or '..' part"
    if len(parts) > MAX_DEPTH + 1:
        return f"is deeper than the {MAX_DEPTH} folders allowed"
    return None
