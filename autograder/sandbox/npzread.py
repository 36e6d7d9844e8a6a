"""The npz archives that cross the sandbox boundary (both directions): a strict reader and a plain writer.

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
between members. A member header in the exact form numpy and :func:`write_npz` write
(``{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }``) is read by a fixed pattern; any other
header goes through numpy's own header parser, with the same checks after it.

:func:`write_npz` writes the same archive ``np.savez`` writes (stored members, C order), without the
``zipfile`` machinery: a call's arguments and reply are written in tens of microseconds, not hundreds.
This module imports only the standard library and numpy: it is bound into the sandbox.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zlib

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
_NPY_MAGIC = b"\x93NUMPY"
#: the .npy 1.0 header exactly as numpy writes it (a numeric descr, C or Fortran order, a shape of small
#: non-negative ints), padded with spaces and ended by a newline
_PLAIN_HEADER = re.compile(rb"\{'descr': '([<>|=][biufc][0-9]{1,2})', 'fortran_order': (False|True), "
                           rb"'shape': \((|(?:0|[1-9][0-9]{0,17}),|(?:0|[1-9][0-9]{0,17})(?:, (?:0|[1-9][0-9]{0,17}))+)\), \} *\n")
_DTYPES: dict[bytes, np.dtype] = {}


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


def _plain_header(view: memoryview) -> tuple[tuple[int, ...], bool, np.dtype, int] | None:
    """(shape, fortran, dtype, data offset) of a version 1.0 header in numpy's exact form, else None."""
    if len(view) < 10 or bytes(view[:8]) != _NPY_MAGIC + b"\x01\x00":
        return None
    end = 10 + (view[8] | view[9] << 8)
    found = _PLAIN_HEADER.fullmatch(bytes(view[10:end])) if end <= min(len(view), MAX_NPY_HEADER) else None
    if found is None:
        return None
    descr, fortran, dims = found.groups()
    dtype = _DTYPES.get(descr)
    if dtype is None:
        try:
            dtype = np.dtype(descr.decode("ascii"))
        except (TypeError, ValueError):
            return None
        if len(_DTYPES) < 64:
            _DTYPES[descr] = dtype
    shape = tuple(int(d) for d in dims.split(b",") if d.strip())
    return shape, fortran == b"True", dtype, end


def _array(view: memoryview) -> np.ndarray:
    """One member's bytes (a .npy file) as a new array, after checking its header."""
    plain = _plain_header(view)
    if plain is not None:
        shape, fortran, dtype, start = plain
        return _checked_array(view[start:], shape, fortran, dtype)
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
    return _checked_array(view[head.tell():], shape, fortran, dtype)


def _checked_array(data: memoryview, shape, fortran: bool, dtype: np.dtype) -> np.ndarray:
    """A new array of ``shape`` and ``dtype`` holding ``data``, after checking that they agree."""
    if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.names is not None or dtype.subdtype:
        raise NpzError(f"an array of dtype {dtype} cannot be received (numeric dtypes only)")
    count = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:     # (a bool is not a size)
            raise NpzError("array header has an invalid shape")
        count *= dim
    if count * dtype.itemsize != len(data):
        raise NpzError("array data length does not match its header")
    try:
        flat = np.frombuffer(data, dtype=dtype, count=count)
        return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")
    except (ValueError, TypeError, OverflowError) as exc:   # e.g. an empty array with a dimension too large
        raise NpzError(f"array header has a shape numpy cannot make ({type(exc).__name__})") from None


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


# --------------------------------------------------------------------------------------------- writing
def _npy_header(arr: np.ndarray) -> bytes:
    """The .npy 1.0 header of a C-ordered ``arr``, padded as numpy pads it (data aligned to 64 bytes)."""
    text = ("{'descr': %r, 'fortran_order': False, 'shape': %r, }"
            % (np.lib.format.dtype_to_descr(arr.dtype), tuple(int(d) for d in arr.shape))).encode("ascii")
    pad = -(10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return _NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(text)) + text


def write_npz(arrays: dict) -> bytes:
    """An uncompressed npz archive holding ``arrays`` (name -> ndarray of a numeric dtype), as ``np.savez``
    writes it: one stored ``<name>.npy`` member per array, in C order.

    Raises :class:`NpzError` for more than :data:`MAX_MEMBERS` arrays, a name that is not short ASCII, a
    dtype that is not numeric, or an archive of 4 GiB or more (no zip64).

    >>> sorted(read_npz(write_npz({"a0": np.arange(3.0)})))
    ['a0']
    """
    if len(arrays) > MAX_MEMBERS:
        raise NpzError(f"{len(arrays)} arrays, more than {MAX_MEMBERS}")
    parts, central, offset = [], [], 0
    for name, arr in arrays.items():
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")
        if arr.dtype.hasobject or arr.dtype.kind not in ARRAY_KINDS or arr.dtype.names is not None:
            raise NpzError(f"an array of dtype {arr.dtype} cannot be sent (numeric dtypes only)")
        raw = f"{name}.npy".encode("ascii", "replace")
        if len(raw) > 64 or not str(name).isascii():
            raise NpzError(f"array name {str(name)[:64]!r} is not short ASCII")
        head, data = _npy_header(arr), arr.data.cast("B") if arr.size else b""
        size = len(head) + len(data)
        crc = zlib.crc32(data, zlib.crc32(head))
        if offset + size >= 0xFFFFFFFF:
            raise NpzError("arrays total 4 GiB or more (refused: no zip64)")
        parts += [_LOCAL.pack(_SIG_LOCAL, 20, 0, 0, 0, 0, 0x21, crc, size, size, len(raw), 0), raw, head, data]
        central.append(_CENTRAL.pack(_SIG_CENTRAL, 20, 3, 20, 0, 0, 0, 0, 0x21, crc, size, size, len(raw),
                                     0, 0, 0, 0, 0, offset) + raw)
        offset += _LOCAL.size + len(raw) + size
    directory = b"".join(central)
    end = _EOCD.pack(_SIG_EOCD, 0, 0, len(central), len(central), len(directory), offset, 0)
    return b"".join(parts) + directory + end
