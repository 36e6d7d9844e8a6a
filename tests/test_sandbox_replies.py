"""A worker's reply costs the grader at most a fixed multiple of its size: crafted npz archives are refused
whole, before anything is inflated or read, and decoding counts against the submission's time.

Memory is measured with ``tracemalloc`` (bytes allocated by Python and numpy), never time.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from autograder.sandbox import Limits, ProtocolError, WorkerPool, protocol
from autograder.sandbox.npzread import MAX_MEMBERS, NpzError, read_npz
from crafted_zip import craft_zip, deflate_bomb, npy_bytes, overlapping

def peak_bytes(fn) -> tuple[int, BaseException | None]:
    """Peak bytes allocated while ``fn()`` runs, and the exception it raised (None if it returned)."""
    tracemalloc.start()
    try:
        fn()
        raised = None
    except BaseException as exc:  # noqa: BLE001
        raised = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, raised


def test_crafted_archive_builder_makes_valid_archives():
    blob = npy_bytes(np.arange(4.0))
    payload = craft_zip([blob], [("a0.npy", 0, len(blob), len(blob))])
    assert zipfile.ZipFile(io.BytesIO(payload)).namelist() == ["a0.npy"]
    np.testing.assert_array_equal(read_npz(payload)["a0"], np.arange(4.0))


def test_overlapping_members_are_refused_before_reading():
    blob = npy_bytes(np.zeros(1 << 17))   # 1 MiB
    # two directory entries on the same member: one copy of the data, read twice
    payload = craft_zip([blob], [("a0.npy", 0, len(blob), len(blob)), ("a1.npy", 0, len(blob), len(blob))])
    peak, exc = peak_bytes(lambda: read_npz(payload))
    assert isinstance(exc, NpzError) and "overlap" in str(exc)
    assert peak < 64 << 10, peak        # nothing of the 1 MiB was copied
    with pytest.raises(ProtocolError, match="overlap"):
        protocol.unpack_value({"t": "list", "v": [{"t": "nd", "k": "a0"}, {"t": "nd", "k": "a1"}]}, payload)


def test_repeated_member_names_are_refused():
    a, b = npy_bytes(np.zeros(3)), npy_bytes(np.ones(3))
    payload = craft_zip([a, b], [("a0.npy", 0, len(a), len(a)), ("a0.npy", 1, len(b), len(b))])
    with pytest.raises(ProtocolError, match="appears twice"):
        protocol.unpack_value({"t": "nd", "k": "a0"}, payload)


def test_directory_claiming_huge_sizes_is_refused_without_allocating():
    blob = npy_bytes(np.zeros(8))
    for claimed in (1 << 31, 0xFFFFFFF0, len(blob) + 1):
        payload = craft_zip([blob], [("a0.npy", 0, claimed, claimed)])
        peak, exc = peak_bytes(lambda: read_npz(payload))
        assert isinstance(exc, NpzError) and "outside the archive" in str(exc), exc
        assert peak < 64 << 10, peak
    # and a compressed size that differs from the uncompressed one
    payload = craft_zip([blob], [("a0.npy", 0, len(blob), 1 << 30)])
    with pytest.raises(NpzError, match="inconsistent"):
        read_npz(payload)


def test_zip_bomb_shapes_are_refused_at_a_cost_bounded_by_the_payload():
    # (1) thousands of directory entries on one 1 MiB member: 4 GiB if each were read
    blob = npy_bytes(np.zeros(1 << 17))
    payload = overlapping(blob, MAX_MEMBERS)
    directory = [(f"a{i}.npy", 0, len(blob), len(blob)) for i in range(MAX_MEMBERS)]
    peak, exc = peak_bytes(lambda: read_npz(payload))
    assert isinstance(exc, NpzError) and "overlap" in str(exc)
    assert peak < 2 * len(payload), (peak, len(payload))
    # (2) more members than allowed: refused from the end record alone
    many = craft_zip([blob], directory + [("z.npy", 0, len(blob), len(blob))])
    peak, exc = peak_bytes(lambda: read_npz(many))
    assert isinstance(exc, NpzError) and f"more than {MAX_MEMBERS}" in str(exc)
    assert peak < 64 << 10, peak
    # (3) a deflated member that would inflate to 256 MiB: refused, nothing inflated
    payload = deflate_bomb(256 << 20)
    assert len(payload) < 1 << 20
    peak, exc = peak_bytes(lambda: read_npz(payload))
    assert isinstance(exc, NpzError) and "compressed" in str(exc)
    assert peak < 64 << 10, peak


def test_members_outside_the_data_or_a_padded_directory_are_refused():
    blob = npy_bytes(np.zeros(4))
    good = craft_zip([blob], [("a0.npy", 0, len(blob), len(blob))])
    with pytest.raises(NpzError, match="end record"):
        read_npz(good + b"trailing")
    with pytest.raises(NpzError, match="not ASCII"):
        read_npz(craft_zip([blob], [("\u00e9.npy", 0, len(blob), len(blob))]))
    with pytest.raises(NpzError, match="name"):
        read_npz(craft_zip([blob], [("a0.pkl", 0, len(blob), len(blob))]))


def test_largest_honest_reply_decodes_within_twice_its_size():
    value = [np.random.default_rng(0).standard_normal(1 << 20) for _ in range(8)]   # 64 MiB of float64
    tree, payload = protocol.pack_value(value)
    result = []
    peak, exc = peak_bytes(lambda: result.append(protocol.unpack_value(tree, payload)))
    assert exc is None
    assert all(np.array_equal(a, b) for a, b in zip(result[0], value))
    assert peak < 1.1 * len(payload), (peak, len(payload))   # the arrays themselves, once


def test_decoding_stops_at_the_deadline():
    tree, payload = protocol.pack_value([np.zeros(3), np.ones(2)])
    with pytest.raises(protocol.ChannelTimeout):
        protocol.unpack_value(tree, payload, deadline=time.monotonic() - 1.0)
    deep = {"t": "list", "v": [{"t": "none"}] * 5000}
    with pytest.raises(protocol.ChannelTimeout):
        protocol.unpack_value(deep, b"", deadline=time.monotonic() - 1.0)


FORGE = '''
import sys, struct, json, zlib
def _frame_with(payload):
    f = sys._getframe(1)
    while f is not None and "header" not in f.f_locals:
        f = f.f_back
    seq = f.f_locals["header"]["seq"]
    fd = f.f_locals["self"].fd
    head = json.dumps({"ok": True, "seq": seq, "stdout": "", "stderr": "",
                       "value": {"t": "list", "v": [{"t": "nd", "k": "a0"}, {"t": "nd", "k": "a1"}]}}).encode()
    return fd, b"SBX1" + struct.pack(">IQ", len(head), len(payload)) + head + payload

def forge(payload):
    import os
    fd, frame = _frame_with(bytes(payload))
    os.write(fd, frame)
    import time
    time.sleep(30)
'''


def test_a_reply_forged_by_student_code_is_refused_and_the_worker_replaced():
    blob = npy_bytes(np.zeros(1 << 14))
    overlapping = craft_zip([blob], [("a0.npy", 0, len(blob), len(blob)), ("a1.npy", 0, len(blob), len(blob))])
    limits = Limits(wall_seconds_per_call=5, wall_seconds_total=30)
    with WorkerPool(1) as pool, pool.sandbox(FORGE + "def ok():\n    return 7\n", limits=limits) as sb:
        assert sb.load_error is None, sb.load_error
        res = sb.call("forge", [np.frombuffer(overlapping, dtype=np.uint8)], {})
        assert not res.ok and not res.timed_out
        assert "rejected" in res.error and "overlap" in res.error, res.error
        assert not sb.alive
        assert sb.call("ok", [], {}).value == 7


FORKS_AND_RETURNS = '''
import numpy as np
def forks(raise_in_child):
    os_ = getattr(np.lib._npyio_impl, "o" + "s")
    pid = os_.fork()
    if pid == 0:
        if raise_in_child:
            raise OSError("the child's own error")
        return "the child's answer"       # the forked child comes back out of the function
    os_.waitpid(pid, 0)
    return "the worker's answer"
def ok():
    return 7
'''


@pytest.mark.parametrize("raise_in_child", [False, True])
def test_a_process_forked_by_the_code_never_answers_for_the_worker(raise_in_child):
    """A child the function forks and that returns or raises out of it exits: only the worker replies, so the
    call's answer is the worker's and later calls keep their order."""
    limits = Limits(wall_seconds_per_call=5, wall_seconds_total=30)
    with WorkerPool(1) as pool, pool.sandbox(FORKS_AND_RETURNS, limits=limits) as sb:
        assert sb.load_error is None, sb.load_error
        for _ in range(3):
            res = sb.call("forks", [raise_in_child], {})
            assert res.ok and res.value == "the worker's answer", (res.error, res.value)
            assert sb.call("ok", [], {}).value == 7
        assert sb.alive
