"""The snapshot of a submission folder and every other read of a folder a student controls:
regular files only, nothing blocks, nothing is followed, every cap holds and says what it left out.

Each test that could hang on a pipe runs under a generous hang guard (SIGALRM) that fails it instead.
"""
from __future__ import annotations

import os
import signal
import socket
import stat
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from autograder import snapshot
from autograder.grade import list_students, scan_students, student_id_problem

NB = "nb.ipynb"


@contextmanager
def hang_guard(seconds: int = 20):
    """Fail (instead of hanging for ever) when the block does not finish in ``seconds``."""
    def stalled(signum, frame):
        raise AssertionError(f"stalled for {seconds} s")
    old = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def folder(tmp_path, **files) -> str:
    src = tmp_path / "sub"
    src.mkdir()
    for name, content in files.items():
        (src / name).write_bytes(content)
    return str(src)


def test_regular_files_and_folders_are_copied(tmp_path):
    src = folder(tmp_path, **{NB: b"{}", "timestamp.txt": b"2026-01-01 00:00:00 UTC\n"})
    os.makedirs(os.path.join(src, "pkg", "deep"))
    with open(os.path.join(src, "pkg", "deep", "a.py"), "w") as fh:
        fh.write("x = 1\n")
    os.makedirs(os.path.join(src, ".ipynb_checkpoints"))
    with open(os.path.join(src, ".ipynb_checkpoints", "nb-checkpoint.ipynb"), "w") as fh:
        fh.write("{}")
    dest = str(tmp_path / "copy")
    snap = snapshot.snapshot(src, dest, first=(NB,))
    assert snap.notes == [] and snap.left_out == [] and snap.missing == {}
    assert open(os.path.join(dest, "pkg", "deep", "a.py")).read() == "x = 1\n"
    assert not os.path.exists(os.path.join(dest, ".ipynb_checkpoints"))   # Jupyter's cache: not needed
    assert snap.files == 3 and snapshot.read_timestamp(dest) == "2026-01-01 00:00:00 UTC"


def test_pipes_sockets_and_links_are_never_opened(tmp_path):
    src = folder(tmp_path, **{"data.npz": b"ok"})
    os.mkfifo(os.path.join(src, NB))                      # the notebook is a pipe: reading it would block
    os.mkfifo(os.path.join(src, "timestamp.txt"))
    os.symlink("/dev/zero", os.path.join(src, "zeros.npy"))
    os.symlink("/dev/urandom", os.path.join(src, "random.ipynb"))
    os.symlink("/etc", os.path.join(src, "etc"))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(src, "channel"))
    dest = str(tmp_path / "copy")
    try:
        with hang_guard():
            snap = snapshot.snapshot(src, dest, first=(NB,))
            assert snapshot.live_fingerprint(src, NB) == (None, None)
    finally:
        sock.close()
    assert sorted(os.listdir(dest)) == ["data.npz"]
    assert snap.missing == {NB: "a named pipe"}
    assert sorted(snap.left_out) == ["channel (special file)", "etc (link)", f"{NB} (special file)",
                                     "random.ipynb (link)", "timestamp.txt (special file)", "zeros.npy (link)"]
    notes = "\n".join(snap.notes)
    for text in ("'zeros.npy' was not copied for grading: a link", "'channel' was not copied for grading: a socket",
                 "'timestamp.txt' was not copied for grading: a named pipe"):
        assert text in notes


def test_the_notebook_is_copied_first_and_a_large_data_file_is_left_out_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(snapshot, "MAX_SNAPSHOT_BYTES", 1500)
    src = folder(tmp_path, **{"a_big.bin": b"x" * 1001, "b.bin": b"y" * 900, NB: b"z" * 800})
    snap = snapshot.snapshot(src, str(tmp_path / "copy"), first=(NB,))
    assert snap.missing == {} and sorted(os.listdir(tmp_path / "copy")) == [NB]
    notes = "\n".join(snap.notes)
    assert "'a_big.bin' was not copied for grading: 1001 bytes, more than the 1000 allowed per file" in notes
    assert "'b.bin' was not copied for grading: the folder holds more than the 1500 bytes allowed in all" in notes
    assert snap.left_out == []        # a large regular file is not a special file


def test_file_count_entry_count_and_depth_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_SNAPSHOT_FILES", 3)
    monkeypatch.setattr(snapshot, "MAX_SNAPSHOT_ENTRIES", 50)
    monkeypatch.setattr(snapshot, "MAX_DEPTH", 2)
    src = folder(tmp_path, **{NB: b"{}"}, **{f"f{i}.txt": b"." for i in range(10)})
    os.makedirs(os.path.join(src, "a", "b", "c", "d"))
    snap = snapshot.snapshot(src, str(tmp_path / "copy"), first=(NB,))
    assert snap.files == 3 and os.path.exists(tmp_path / "copy" / NB)
    assert any("more than the 3 files allowed" in n for n in snap.notes)
    assert any("'a/b/c' was not copied for grading: folders are copied 2 levels deep" in n for n in snap.notes)
    many = folder(tmp_path / "m" if (tmp_path / "m").mkdir() is None else tmp_path, **{})
    for i in range(60):
        os.mkdir(os.path.join(many, f"d{i}"))
    snap = snapshot.snapshot(many, str(tmp_path / "copy2"))
    assert any("more than the 50 entries allowed" in n for n in snap.notes)
    assert len(snap.notes) <= snapshot.MAX_NOTES + 1


def test_notes_are_capped_and_names_are_printable(tmp_path):
    src = folder(tmp_path)
    for i in range(30):
        os.symlink("/dev/null", os.path.join(src, f"link{i}"))
    weird = os.fsdecode(b"bad\xff\x1b[31mname")
    os.symlink("/dev/null", os.path.join(os.fsencode(src), os.fsencode(weird)))
    snap = snapshot.snapshot(src, str(tmp_path / "copy"))
    assert len(snap.notes) == snapshot.MAX_NOTES + 1 and "not listed" in snap.notes[-1]
    assert len(snap.left_out) == 31
    for text in snap.left_out + snap.notes:
        text.encode("utf-8")                       # no lone surrogate
        assert "\x1b" not in text
    assert "bad\ufffd\ufffd[31mname (link)" in snap.left_out


def test_a_file_swapped_for_a_link_after_the_check_is_refused(tmp_path, monkeypatch):
    src = folder(tmp_path, **{NB: b"{}"})
    real_stat = os.stat

    def swap_then_stat(name, *a, **kw):      # the race: lstat sees a file, then a link takes its place
        out = real_stat(name, *a, **kw)
        if name == NB:
            os.remove(os.path.join(src, NB))
            os.symlink("/dev/zero", os.path.join(src, NB))
        return out
    monkeypatch.setattr(snapshot.os, "stat", swap_then_stat)
    with hang_guard():
        snap = snapshot.snapshot(src, str(tmp_path / "copy"), first=(NB,))
    assert NB in snap.missing and "could not be opened" in snap.missing[NB]
    assert not os.path.exists(tmp_path / "copy" / NB)


def test_a_submission_folder_that_is_a_link_or_a_pipe_is_refused(tmp_path):
    real = folder(tmp_path, **{NB: b"{}"})
    os.symlink(real, tmp_path / "linked")
    os.mkfifo(tmp_path / "pipe")
    with hang_guard():
        for path in (tmp_path / "linked", tmp_path / "pipe"):
            with pytest.raises(snapshot.NotReadable, match="cannot be opened as a folder"):
                snapshot.snapshot(str(path), str(tmp_path / "copy"))
            assert snapshot.live_fingerprint(str(path), NB) == (None, None)


def test_live_fingerprint_reads_only_small_regular_files(tmp_path, monkeypatch):
    src = folder(tmp_path, **{NB: b"{}", "timestamp.txt": b"2026-01-01 00:00:00 UTC\n"})
    ts, sha = snapshot.live_fingerprint(src, NB)
    assert ts == "2026-01-01 00:00:00 UTC" and sha == snapshot.file_sha256(os.path.join(src, NB))
    (tmp_path / "sub" / "timestamp.txt").write_bytes(b"x" * 500)        # not one short line
    monkeypatch.setattr(snapshot, "MAX_FILE_BYTES", 1)                  # notebook over the cap
    assert snapshot.live_fingerprint(src, NB) == (None, None)


def test_students_with_odd_folder_names_are_refused_with_a_reason_and_the_rest_are_listed(tmp_path):
    sub = tmp_path / "submitted"
    for name in ["ana", "ben", "caf\u00e9"]:
        (sub / name / "ps").mkdir(parents=True)
    bad = os.fsencode(str(sub)) + b"/bad\xff"
    os.makedirs(bad + b"/ps")
    (sub / "esc\x1b[2J").mkdir()
    (sub / "esc\x1b[2J" / "ps").mkdir()
    (sub / "rtl\u202efdp.exe").mkdir()
    (sub / "rtl\u202efdp.exe" / "ps").mkdir()
    (sub / "no_submission").mkdir()                       # no folder of this assignment: not a student
    (sub / "linked").symlink_to(sub / "ana")              # a link is never a student
    os.mkfifo(sub / "pipe")
    (sub / ".hidden" / "ps").mkdir(parents=True)
    (sub / "dan").mkdir()
    (sub / "dan" / "ps").symlink_to("/etc")               # listed: grading says what is wrong with it
    course = SimpleNamespace(submitted_dir=str(sub), assignment="ps")
    with hang_guard():
        students, refused = scan_students(course)
    assert students == ["ana", "ben", "caf\u00e9", "dan"] == list_students(course)
    assert len(refused) == 3
    assert any("not UTF-8" in r for r in refused) and sum("control or formatting" in r for r in refused) == 2
    for r in refused:
        r.encode("utf-8")
        assert "\x1b" not in r and "\u202e" not in r


@pytest.mark.parametrize("name, ok", [("ana", True), ("caf\u00e9 2", True), ("", False), (".x", False),
                                      ("a/b", False), ("tab\there", False), ("x" * 129, False),
                                      (os.fsdecode(b"\xff"), False), ("nul\x00", False)])
def test_student_id_problem(name, ok):
    assert (student_id_problem(name) is None) == ok


def test_file_sha256_refuses_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    os.symlink("/dev/zero", tmp_path / "zero")
    with hang_guard():
        assert snapshot.file_sha256(str(tmp_path / "pipe")) is None
        assert snapshot.file_sha256(str(tmp_path / "zero")) is None
        assert snapshot.read_timestamp(str(tmp_path)) is None
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
