"""Wire format between the trusted grader and the sandboxed worker: JSON headers and npz payloads, never pickle.

A frame is ``MAGIC | header length (u32) | payload length (u64) | header JSON | payload``. The payload is an
uncompressed npz archive holding every ndarray of the message; the header describes the rest of the value as a
small tagged tree whose ndarray leaves name an archive member.

This module is loaded on both sides of the boundary (it is bound read-only into the sandbox), so it imports
nothing but the standard library and numpy. Decoding is strict: anything that is not one of the listed kinds
raises :class:`ProtocolError` with a plain-words reason, and the npz archive is checked whole (``npzread.py``:
stored members only, no overlapping or repeated members, sizes consistent with their headers, numeric dtypes
only) before any array is read, so a hostile frame can neither run code nor make the reader allocate more
than about twice the frame's own size; with a deadline, decoding stops when the submission's time is up.
"""

from __future__ import annotations

import json
import os
import struct
import time

import numpy as np

try:
    from . import npzread as _npzread
except ImportError:  # inside the sandbox: loaded as a top-level module beside this file
    import npzread as _npzread

MAGIC = b"SBX1"
_PREFIX = struct.Struct(">4sIQ")
PREFIX_SIZE = _PREFIX.size

MAX_DEPTH = 32
MAX_ITEMS = 100_000
MAX_STRING = 1 << 20
# Numeric dtype kinds that may cross the boundary: bool, signed, unsigned, float, complex.
ARRAY_KINDS = _npzread.ARRAY_KINDS


class ProtocolError(Exception):
    """A frame or value that does not follow the wire format (the message says what was wrong)."""


class ChannelTimeout(ProtocolError):
    """The peer did not deliver a whole frame before the deadline."""


class ChannelClosed(ProtocolError):
    """The peer closed the channel (for the trusted side: the worker died)."""


def _type_name(obj) -> str:
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "") else f"{module}.{name}"


# --------------------------------------------------------------------------------------------- values
def pack_value(value, *, max_bytes: int | None = None) -> tuple[dict, bytes]:
    """Split ``value`` into a JSON-able tree and npz bytes.

    Accepted: ndarray of a numeric dtype (exactly ``np.ndarray``, not a subclass), numpy numeric scalars,
    ``float``, ``int``, ``bool``, ``None``, ``str``, and tuples, lists and dicts (``str`` keys) nesting these.
    Anything else raises ``ProtocolError("returned an object of type X")``-style reasons.
    """
    arrays: dict[str, np.ndarray] = {}
    counter = [0]

    def walk(obj, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError(f"value is nested more than {MAX_DEPTH} levels deep")
        counter[0] += 1
        if counter[0] > MAX_ITEMS:
            raise ProtocolError(f"value has more than {MAX_ITEMS} items")
        if obj is None:
            return {"t": "none"}
        if type(obj) is bool:
            return {"t": "bool", "v": obj}
        if type(obj) is int:
            return {"t": "int", "v": str(obj)}
        if type(obj) is float:
            return {"t": "float", "v": float.hex(obj)}
        if type(obj) is str:
            if len(obj) > MAX_STRING:
                raise ProtocolError(f"string of {len(obj)} characters is longer than {MAX_STRING}")
            return {"t": "str", "v": obj}
        if type(obj) is np.ndarray or (isinstance(obj, np.generic) and type(obj).__module__ == "numpy"):
            arr = np.asarray(obj)
            if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.hasobject or arr.dtype.names is not None:
                raise ProtocolError(f"an array of dtype {arr.dtype} cannot be sent (numeric dtypes only)")
            if len(arrays) >= _npzread.MAX_MEMBERS:
                raise ProtocolError(f"value holds more than {_npzread.MAX_MEMBERS} arrays")
            key = f"a{len(arrays)}"
            arrays[key] = arr
            return {"t": "nd" if type(obj) is np.ndarray else "scalar", "k": key}
        if type(obj) in (tuple, list):
            return {"t": type(obj).__name__, "v": [walk(item, depth + 1) for item in obj]}
        if type(obj) is dict:
            items = []
            for key, item in obj.items():
                if type(key) is not str:
                    raise ProtocolError(f"dict key of type {_type_name(key)} (only str keys are allowed)")
                items.append([key, walk(item, depth + 1)])
            return {"t": "dict", "v": items}
        raise ProtocolError(f"returned an object of type {_type_name(obj)}")

    tree = walk(value, 0)
    total = sum(a.nbytes for a in arrays.values())
    if max_bytes is not None and total > max_bytes:
        raise ProtocolError(f"arrays total {total} bytes, more than the limit of {max_bytes} bytes")
    if not arrays:
        return tree, b""
    try:
        return tree, _npzread.write_npz(arrays)  # uncompressed (stored) members, as np.savez writes them
    except _npzread.NpzError as exc:
        raise ProtocolError(str(exc)) from None


def _read_npz(payload: bytes, deadline: float | None = None) -> dict[str, np.ndarray]:
    """Load an npz archive after checking it whole (see ``npzread.py``); never unpickles, never over-allocates."""
    try:
        return _npzread.read_npz(payload, deadline=deadline)
    except _npzread.NpzError as exc:
        raise ProtocolError(str(exc)) from None


def unpack_value(tree, payload: bytes, *, deadline: float | None = None):
    """Inverse of :func:`pack_value`; strict about every node (raises :class:`ProtocolError`).

    ``deadline`` (a ``time.monotonic()`` value): past it, decoding stops with a :class:`ChannelTimeout`
    (decoding counts against the submission's time). Work and memory are linear in the sizes of ``tree``
    and ``payload``.
    """
    try:
        arrays = _npzread.read_npz(payload, deadline=deadline)
    except _npzread.NpzError as exc:
        if deadline is not None and time.monotonic() > deadline:
            raise ChannelTimeout(str(exc)) from None
        raise ProtocolError(str(exc)) from None
    used = set()
    counter = [0]

    def walk(node, depth):
        if depth > MAX_DEPTH:
            raise ProtocolError(f"value is nested more than {MAX_DEPTH} levels deep")
        counter[0] += 1
        if counter[0] > MAX_ITEMS:
            raise ProtocolError(f"value has more than {MAX_ITEMS} items")
        if deadline is not None and not counter[0] % 1024 and time.monotonic() > deadline:
            raise ChannelTimeout("decoding the reply took longer than the time left to the submission")
        if type(node) is not dict or "t" not in node:
            raise ProtocolError("value tree node is malformed")
        kind = node["t"]
        val = node.get("v")
        if kind == "none":
            return None
        if kind == "bool" and type(val) is bool:
            return val
        if kind == "int" and type(val) is str and len(val) <= 400:
            try:
                return int(val)
            except ValueError:
                raise ProtocolError("integer is malformed") from None
        if kind == "float" and type(val) is str and len(val) <= 64:
            try:
                return float.fromhex(val)
            except ValueError:
                raise ProtocolError("float is malformed") from None
        if kind == "str" and type(val) is str:
            return val
        if kind in ("nd", "scalar"):
            key = node.get("k")
            if type(key) is not str or key not in arrays or key in used:
                raise ProtocolError("array reference is missing or repeated")
            used.add(key)
            arr = arrays[key]
            if kind == "scalar":
                if arr.shape != ():
                    raise ProtocolError("numpy scalar is not zero-dimensional")
                return arr[()]
            return arr
        if kind in ("tuple", "list") and type(val) is list:
            items = [walk(item, depth + 1) for item in val]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict" and type(val) is list:
            out = {}
            for pair in val:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise ProtocolError("dict entry is malformed")
                out[pair[0]] = walk(pair[1], depth + 1)
            return out
        raise ProtocolError(f"unknown or malformed value node {str(kind)[:40]!r}")

    value = walk(tree, 0)
    if used != set(arrays):
        raise ProtocolError("payload holds arrays that the value does not reference")
    return value


# --------------------------------------------------------------------------------------------- frames
def encode_frame(header: dict, payload: bytes = b"") -> bytes:
    """Serialise one frame (``header`` must be JSON-able; non-finite floats are not allowed in it)."""
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return _PREFIX.pack(MAGIC, len(head), len(payload)) + head + payload


def write_frame(fd: int, header: dict, payload: bytes = b"") -> None:
    """Write a whole frame to the file descriptor ``fd`` (blocking)."""
    view = memoryview(encode_frame(header, payload))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    import select

    chunks = []
    remaining = n
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise ChannelTimeout("timed out")
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise ChannelTimeout("timed out")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, *, max_header: int, max_payload: int, deadline: float | None = None):
    """Read one frame from ``fd``; returns ``(header dict, payload bytes)``.

    Raises :class:`ChannelTimeout` past ``deadline`` (a ``time.monotonic()`` value), :class:`ChannelClosed`
    on end of file, and :class:`ProtocolError` for a bad magic, oversized parts or a header that is not a JSON
    object. Sizes are checked before anything is allocated.
    """
    magic, head_len, payload_len = _PREFIX.unpack(_read_exact(fd, PREFIX_SIZE, deadline))
    if magic != MAGIC:
        raise ProtocolError("malformed frame (bad magic bytes): the channel was written to by something else")
    if head_len > max_header:
        raise ProtocolError(f"frame header of {head_len} bytes exceeds the limit of {max_header} bytes")
    if payload_len > max_payload:
        raise ProtocolError(f"result of {payload_len} bytes exceeds the limit of {max_payload} bytes")
    head = _read_exact(fd, head_len, deadline)
    payload = _read_exact(fd, payload_len, deadline) if payload_len else b""
    try:
        header = json.loads(head.decode("utf-8"))
    except (ValueError, RecursionError):
        raise ProtocolError("frame header is not valid JSON") from None
    if deadline is not None and time.monotonic() > deadline:
        raise ChannelTimeout("timed out (decoding the frame header)")
    if type(header) is not dict:
        raise ProtocolError("frame header is not a JSON object")
    return header, payload
