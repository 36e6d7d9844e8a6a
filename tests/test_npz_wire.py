"""The npz archives that cross the sandbox boundary: ``write_npz`` writes real npz archives that ``read_npz``
(and ``np.load``) read back bit for bit, for every accepted dtype, byte order and layout; ``read_npz`` still
reads ``np.savez``'s archives; the reader's fast header path is really taken for numpy's exact header form,
and a header in any other form is refused or read correctly through numpy's parser, never read wrongly;
non-numeric dtypes, too many members, headers that run past their member and data of the wrong length are
refused."""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograder.sandbox import ProtocolError, protocol
from autograder.sandbox.npzread import MAX_MEMBERS, NpzError, read_npz, write_npz
from crafted_zip import craft_zip
from strategies import seeds

DTYPES = ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")


@st.composite
def wire_arrays(draw):
    """An array of an accepted dtype in either byte order: 0-d, empty or not, C, Fortran or strided."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES))).newbyteorder(draw(st.sampled_from("<>")))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    layout = draw(st.sampled_from(("C", "F", "strided", "reversed")))
    rng = np.random.default_rng(draw(seeds))
    big = tuple(2 * s + 1 for s in shape) if layout in ("strided", "reversed") else shape
    if dtype.kind == "b":
        base = rng.random(big) < 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        base = rng.integers(info.min, info.max, size=big, endpoint=True, dtype=dtype.newbyteorder("="))
    else:
        base = rng.standard_normal(big) * 1e3
        if base.size:
            base.flat[rng.integers(0, base.size, size=3)] = [np.nan, -np.inf, -0.0]
        if dtype.kind == "c":
            base = base + 1j * rng.standard_normal(big)
    arr = np.asarray(base).astype(dtype)
    if layout == "F":
        arr = arr.copy(order="F")
    elif layout == "strided" and shape:
        arr = arr[tuple(slice(1, None, 2) for _ in shape)]
    elif layout == "reversed" and shape:
        arr = arr[tuple(slice(-2, None, -2) for _ in shape)]
    assert arr.shape == shape
    return arr


def assert_same(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name, arr in want.items():
        assert got[name].dtype == arr.dtype, name          # byte order included
        assert got[name].shape == arr.shape, name
        assert got[name].tobytes() == arr.tobytes(), name  # bit for bit (NaN, -0.0)


@given(st.lists(wire_arrays(), min_size=1, max_size=4))
def test_write_npz_round_trips_through_read_npz_and_np_load(arrays):
    d = {f"a{i}": a for i, a in enumerate(arrays)}
    payload = write_npz(d)
    assert_same(read_npz(payload), d)
    with np.load(io.BytesIO(payload)) as loaded:    # a real npz archive: zipfile checks the CRCs
        assert_same({k: loaded[k] for k in loaded.files}, d)


@given(st.lists(wire_arrays(), min_size=1, max_size=3))
def test_np_savez_archives_still_decode(arrays):
    d = {f"a{i}": a for i, a in enumerate(arrays)}
    buf = io.BytesIO()
    np.savez(buf, **d)
    assert_same(read_npz(buf.getvalue()), d)


def _numpy_parser_gone(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("numpy's header parser was called")
    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", boom)
    monkeypatch.setattr(np.lib.format, "read_array_header_2_0", boom)


def test_fast_path_reads_numpy_exact_headers(monkeypatch):
    arrays = {f"a{i}": np.arange(6).reshape(2, 3).astype(np.dtype(t).newbyteorder(o))
              for i, (t, o) in enumerate((t, o) for t in DTYPES for o in "<>")}
    arrays |= {"zero_d": np.full((), 2.5), "empty": np.zeros((0, 3)),
               "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)), "long": np.arange(7.0)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)                          # fortran_order True among them
    ours = write_npz(arrays)
    _numpy_parser_gone(monkeypatch)
    assert_same(read_npz(ours), arrays)
    assert_same(read_npz(buf.getvalue()), arrays)


def npy(header: str, data: bytes, version: int = 1) -> bytes:
    """A .npy member with ``header`` verbatim (no padding added) and ``data``."""
    text = header.encode("latin1")
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


def one_member(blob: bytes) -> bytes:
    return craft_zip([blob], [("a0.npy", 0, len(blob), len(blob))])


THREE = np.arange(3.0)
MUST, MAY, NEVER = "must read", "may read", "must refuse"
# (header, data, what it must decode to when read, whether it must, may or must not be read)
ODD_HEADERS = [
    ("{'descr':  '<f8', 'fortran_order': False, 'shape': (3,), }\n", THREE.tobytes(), THREE, MUST),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,),  }\n", THREE.tobytes(), THREE, MUST),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, ), }\n", THREE.tobytes(), THREE, MUST),
    ("{'shape': (3,), 'fortran_order': False, 'descr': '<f8', }\n", THREE.tobytes(), THREE, MUST),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}\n", THREE.tobytes(), THREE, MUST),
    ("{'descr': '<f8', 'fortran_order': 0, 'shape': (3,), }\n", THREE.tobytes(), THREE, MAY),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", THREE.tobytes(), THREE, MAY),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (03,), }\n", THREE.tobytes(), None, NEVER),
    ("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }\t\n", THREE.astype(">f8").tobytes(),
     THREE.astype(">f8"), MAY),
] + [  # each of these with 24 bytes of data, which is the length 3 float64s would take
    ("{'descr': %s, 'fortran_order': %s, 'shape': %s, }\n" % (descr, order, shape), THREE.tobytes(), None, NEVER)
    for descr, order, shape in [
        ("'<f8'", "False", "(3)"), ("'<f8'", "False", "(-1, -3)"), ("'<f8'", "False", "(-3,)"),
        ("'<f8'", "'False'", "(3,)"), ("'<f8 '", "False", "(3,)"), ("'<i3'", "False", "(8,)"),
        ("'|O'", "False", "(3,)"), ("'|O8'", "False", "(3,)"), ("[('a', '<f8')]", "False", "(3,)"),
        ("[('a', '<f4'), ('b', '<i4')]", "False", "(3,)"), ("('<f8', (3,))", "False", "()"),
        ("'|S8'", "False", "(3,)"), ("'<U2'", "False", "(3,)"), ("'|V8'", "False", "(3,)"),
        ("'<M8[s]'", "False", "(3,)"), ("'<m8'", "False", "(3,)"), ("'<f8'", "False", "(10000000000000000000003,)"),
    ]
] + [  # shapes numpy cannot make, or sizes that are not ints, with the data length they claim: NpzError, not a crash
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 999999999999999999, 999999999999999999), }\n", b"",
     None, NEVER),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1000000000000000000000000000000), }\n", b"", None, NEVER),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (True,), }\n", THREE.tobytes()[:8], None, NEVER),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (False, 5), }\n", b"", None, NEVER),
]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("header, data, means, rule", ODD_HEADERS)
def test_odd_headers_are_refused_or_read_right(header, data, means, rule, version):
    payload = one_member(npy(header, data, version))
    try:
        got = read_npz(payload)["a0"]
    except NpzError:
        assert rule != MUST, "a header numpy reads was refused"
        return
    assert rule != NEVER, f"read {got!r} from a header that must be refused"
    assert got.dtype == means.dtype and got.shape == means.shape and got.tobytes() == means.tobytes()


@pytest.mark.parametrize("header", [h for h, _, _, rule in ODD_HEADERS if rule == MUST])
def test_non_exact_headers_go_through_numpy_parser(header, monkeypatch):
    payload = one_member(npy(header, THREE.tobytes()))
    np.testing.assert_array_equal(read_npz(payload)["a0"], THREE)
    _numpy_parser_gone(monkeypatch)   # not numpy's exact form: the fast path must not take it
    with pytest.raises(NpzError):
        read_npz(payload)


@pytest.mark.parametrize("bad", [np.array([1, None], dtype=object), np.zeros(3, dtype=[("a", "<f8")]),
                                 np.array(["ab"]), np.array([b"ab"]), np.zeros(2, "M8[s]"), np.zeros(2, "V8")])
def test_write_npz_refuses_non_numeric_dtypes(bad):
    with pytest.raises(NpzError):
        write_npz({"a0": np.zeros(2), "a1": bad})
    with pytest.raises(ProtocolError):
        protocol.pack_value([np.zeros(2), bad])


def test_member_count_limit():
    tiny = np.zeros(1)
    assert len(read_npz(write_npz({f"a{i}": tiny for i in range(MAX_MEMBERS)}))) == MAX_MEMBERS
    with pytest.raises(NpzError, match=str(MAX_MEMBERS)):
        write_npz({f"a{i}": tiny for i in range(MAX_MEMBERS + 1)})
    with pytest.raises(ProtocolError):
        protocol.pack_value([tiny] * (MAX_MEMBERS + 1))


def test_pack_value_writes_with_write_npz_and_turns_its_errors_into_protocol_errors(monkeypatch):
    calls = []
    real = protocol._npzread.write_npz
    monkeypatch.setattr(protocol._npzread, "write_npz", lambda arrays: calls.append(arrays) or real(arrays))
    value = {"x": np.arange(6.0).reshape(2, 3)[:, ::2].astype(">f4"), "y": (np.float32(1.5), 3, None)}
    tree, payload = protocol.pack_value(value)
    assert len(calls) == 1 and payload == real(calls[0])
    back = protocol.unpack_value(tree, payload)
    assert back["x"].dtype == np.dtype(">f4") and back["x"].tolist() == value["x"].tolist()
    assert back["y"] == (np.float32(1.5), 3, None) and type(back["y"][0]) is np.float32

    def refuse(arrays):
        raise NpzError("refused for the test")
    monkeypatch.setattr(protocol._npzread, "write_npz", refuse)
    with pytest.raises(ProtocolError, match="refused for the test"):
        protocol.pack_value([np.zeros(2)])


EXACT = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
EMPTY = "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }\n"


@pytest.mark.parametrize("blob", [
    npy(EXACT + "\n", THREE.tobytes())[:20],                        # header cut short by the member's end
    b"\x93NUMPY\x01\x00" + struct.pack("<H", 4000) + (EXACT + "\n").encode() + THREE.tobytes(),
    b"\x93NUMPY\x02\x00" + struct.pack("<I", 4000) + (EXACT + "\n").encode() + THREE.tobytes(),
    b"\x93NUMPY\x01\x00" + struct.pack("<H", 0xFFFF) + (EXACT + "\n").encode(),
    b"\x93NUMPY\x01",
    # a whole exact header for an empty array, whose declared length runs 24 bytes past the member's end
    b"\x93NUMPY\x01\x00" + struct.pack("<H", len(EMPTY) + 24) + EMPTY.encode(),
], ids=["cut", "v1-past-end", "v2-past-end", "v1-max", "magic-only", "exact-but-longer"])
def test_header_running_past_its_member_is_refused(blob):
    with pytest.raises(NpzError):
        read_npz(one_member(blob))


@pytest.mark.parametrize("header", [EXACT + "\n", EXACT + "  \n", EXACT.replace(", }", "}") + "\n"])
@pytest.mark.parametrize("data", [THREE.tobytes()[:-8], THREE.tobytes()[:-1], THREE.tobytes() + b"\0" * 8,
                                  THREE.tobytes() + b"\0", b""], ids=["short", "short1", "long", "long1", "none"])
def test_data_length_must_match_the_shape(header, data):
    np.testing.assert_array_equal(read_npz(one_member(npy(header, THREE.tobytes())))["a0"], THREE)
    with pytest.raises(NpzError, match="length"):
        read_npz(one_member(npy(header, data)))
