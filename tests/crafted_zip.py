"""Archives shaped by an attacker, for the tests and the benchmark of the grader's reply decoding: members
that overlap or repeat, directories that lie about sizes, deflate bombs. Each builder writes the zip
structures by hand, so the archive can say whatever the attack needs."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np

__all__ = ["npy_bytes", "craft_zip", "overlapping", "deflate_bomb"]

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_EOCD = struct.Struct("<4s4H2LH")


def npy_bytes(arr: np.ndarray) -> bytes:
    """``arr`` in the .npy format, as one member of an npz holds it."""
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def craft_zip(blobs: list[bytes], directory: list[tuple[str, int, int, int]], method: int = 0) -> bytes:
    """An archive whose data part holds ``blobs`` (each behind a local header named ``b<i>.npy``) and
    whose central directory lists ``directory``: (name, index of the blob whose header it points at,
    compressed size, uncompressed size), whatever the blobs really are."""
    data, offsets = b"", []
    for i, blob in enumerate(blobs):
        name = f"b{i}.npy".encode()
        offsets.append(len(data))
        data += _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, method, 0, 0, zlib.crc32(blob), len(blob), len(blob),
                            len(name), 0) + name + blob
    central = b""
    for name, index, csize, usize in directory:
        raw = name.encode()
        central += _CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, 0, method, 0, 0, 0, csize, usize, len(raw), 0, 0,
                                 0, 0, 0, offsets[index]) + raw
    return data + central + _EOCD.pack(b"PK\x05\x06", 0, 0, len(directory), len(directory), len(central),
                                       len(data), 0)


def overlapping(blob: bytes, copies: int) -> bytes:
    """One stored member and ``copies`` directory entries (``a0.npy``, ``a1.npy``, ...) that all point at it."""
    return craft_zip([blob], [(f"a{i}.npy", 0, len(blob), len(blob)) for i in range(copies)])


def deflate_bomb(inflated: int) -> bytes:
    """A one-member archive (``a0.npy``) whose deflated member inflates to ``inflated`` zero bytes (whole MiB)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("a0.npy", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(inflated >> 20):
                fh.write(chunk)
    return buf.getvalue()
