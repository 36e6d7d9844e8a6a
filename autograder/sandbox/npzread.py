"""Strict reader of the npz archives that cross the sandbox boundary (both directions).

The archive is checked as a whole before any member is read: the end record, the central directory and every
local header are parsed with ``struct`` (``zipfile`` is not used: it would build an object per directory entry
before any count could be checked), and the archive is refused unless

* it has at most ``MAX_MEMBERS`` members, no comment, no zip64 end record, no encryption;
* every member is stored (not compressed), its directory sizes agree (compressed == uncompressed), its name is
  unique, ASCII and ends in ``.npy``;
* the members' local headers and data lie inside the part before the central directory, in ascending order,
  without overlapping each other (so the uncompressed total is at most the archive's own size), and the
  central directory fills the rest exactly;
* the total does not exceed ``max_bytes`` when given.

Only then is each member's ``.npy`` header parsed (numeric dtypes only, shape x item size equal to the bytes
present) and its data copied once into a new array (``np.frombuffer`` on a view of the payload, then
``copy``). Reading therefore allocates at most the archive's size once more, plus a few hundred bytes per
member, and its work is linear in the archive's size. ``deadline`` (a ``time.monotonic()`` value) is checked
between members. This module imports only the standard library and numpy: it is bound into the sandbox.
"""

from __future__ import annotations

import io
import struct
import time

import numpy as np

#: Most members an archive may hold (a reply carries one member per returned array).
MAX_MEMBERS = 4096
#: Numeric dtype kinds that may cross the boundary: bool, signed, unsigned, float, complex.
ARRAY_KINDS = "biufc"
#: The .npy header of a member is looked for in its first bytes only (numpy's own limit is 10,000).
MAX_NPY_HEADER = 16384

_EOCD = struct.Struct("<4s4H2LH")            # end of central directory record (22 bytes)
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")   # central directory entry (46 bytes + name + extra + comment)
_LOCAL = struct.Struct("<4s2B4HL2L2H")       # local file header (30 bytes + name + extra)
_SIG_EOCD, _SIG_CENTRAL, _SIG_LOCAL = b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04"


class NpzError(ValueError):
    """An archive that does not follow the rules above (the message says which)."""


def _members(view: memoryview, max_bytes: int | None) -> list[tuple[str, int, int]]:
    """Check the archive's structure; returns ``(name, data start, data end)`` per member, in file order."""
    size = len(view)
    if size < _EOCD.size:
        raise NpzError("payload is not a valid npz archive (too short)")
    sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment = _EOCD.unpack_from(view, size - _EOCD.size)
    if sig != _SIG_EOCD or comment != 0:
        raise NpzError("payload is not a valid npz archive (no end record at its end)")
    if disk or cd_disk or n_disk != n_total or 0xFFFF in (n_total,) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise NpzError("payload archive uses several disks or zip64 records (refused)")
    if n_total > MAX_MEMBERS:
        raise NpzError(f"payload holds {n_total} arrays, more than {MAX_MEMBERS}")
    if cd_offset + cd_size != size - _EOCD.size or cd_size < n_total * _CENTRAL.size:
        raise NpzError("payload archive's central directory does not fill the space before its end record")
    entries = []
    names = set()
    pos = cd_offset
    for _ in range(n_total):
        if pos + _CENTRAL.size > cd_offset + cd_size:
            raise NpzError("payload archive's central directory is truncated")
        (sig, _, _, _, _, flags, method, _, _, _, csize, usize, nlen, elen, clen, _, _, _,
         offset) = _CENTRAL.unpack_from(view, pos)
        if sig != _SIG_CENTRAL:
            raise NpzError("payload archive's central directory is malformed")
        raw_name = bytes(view[pos + _CENTRAL.size: pos + _CENTRAL.size + nlen])
        pos += _CENTRAL.size + nlen + elen + clen
        if method != 0:
            raise NpzError("payload member is compressed (only stored members are accepted)")
        if flags & 0x1:
            raise NpzError("payload member is encrypted")
        if csize != usize or 0xFFFFFFFF in (csize, offset):
            raise NpzError("payload member's sizes are inconsistent (stored members only, no zip64)")
        try:
            name = raw_name.decode("ascii")
        except UnicodeDecodeError:
            raise NpzError("payload member has a name that is not ASCII") from None
        if not name.endswith(".npy") or len(name) > 64:
            raise NpzError("payload member is inconsistent with the payload size or name")
        if name in names:
            raise NpzError(f"payload member {name[:64]!r} appears twice")
        names.add(name)
        entries.append((offset, usize, name))
    if pos != cd_offset + cd_size:
        raise NpzError("payload archive's central directory has bytes that belong to no member")
    entries.sort()
    out = []
    end_of_previous = 0
    total = 0
    for offset, usize, name in entries:
        if offset < end_of_previous:
            raise NpzError("payload members overlap (refused before reading)")
        if offset + _LOCAL.size > cd_offset:
            raise NpzError("payload member lies outside the archive's data")
        sig, _, _, _, method, _, _, _, _, _, nlen, elen = _LOCAL.unpack_from(view, offset)
        if sig != _SIG_LOCAL or method != 0:
            raise NpzError("payload member's local header is malformed")
        start = offset + _LOCAL.size + nlen + elen
        end = start + usize
        if end > cd_offset:
            raise NpzError("payload member lies outside the archive's data")
        end_of_previous = end
        total += usize
        out.append((name, start, end))
    if max_bytes is not None and total > max_bytes:
        raise NpzError(f"payload members total {total} bytes, more than the limit of {max_bytes}")
    return out


def _array(view: memoryview) -> np.ndarray:
    """One member's bytes (a .npy file) as a new array, after checking its header."""
    head = io.BytesIO(bytes(view[:MAX_NPY_HEADER]))
    try:
        version = np.lib.format.read_magic(head)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
        else:
            raise ValueError(version)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the archive's fault
        raise NpzError(f"array header is malformed ({type(exc).__name__})") from None
    if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.names is not None or dtype.subdtype:
        raise NpzError(f"an array of dtype {dtype} cannot be received (numeric dtypes only)")
    count = 1
    for dim in shape:
        if not isinstance(dim, int) or dim < 0:
            raise NpzError("array header has an invalid shape")
        count *= dim
    data = view[head.tell():]
    if count * dtype.itemsize != len(data):
        raise NpzError("array data length does not match its header")
    flat = np.frombuffer(data, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


def read_npz(payload: bytes, *, max_bytes: int | None = None, deadline: float | None = None) -> dict:
    """The arrays of an npz archive by member name (without ``.npy``); raises :class:`NpzError`.

    Args:
        payload: the archive's bytes.
        max_bytes: largest total of the members' sizes accepted (None: the archive's size bounds it).
        deadline: a ``time.monotonic()`` value; past it, reading stops with an :class:`NpzError`.
    """
    if not payload:
        return {}
    view = memoryview(payload)
    members = _members(view, max_bytes)
    out = {}
    for name, start, end in members:
        if deadline is not None and time.monotonic() > deadline:
            raise NpzError("decoding the reply took longer than the time left to the submission")
        out[name[: -len(".npy")]] = _array(view[start:end])
    return out
