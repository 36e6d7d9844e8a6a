"""Files the grading side keeps are replaced whole, their folders made when missing, and left alone when unchanged."""
import os
import stat

import pytest

from autograder.atomic_files import replace_file, same_file


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_missing_folder_is_made_and_no_temporary_file_is_left(tmp_path):
    folder = tmp_path / "autograded" / "ana" / "ps1"
    assert replace_file(str(folder), "timestamp.txt", b"2026-01-05 10:00:00 UTC\n", mode=0o644)
    assert (folder / "timestamp.txt").read_bytes() == b"2026-01-05 10:00:00 UTC\n"
    assert mode_of(folder / "timestamp.txt") == 0o644
    assert os.listdir(folder) == ["timestamp.txt"]


def test_without_a_mode_the_file_is_private(tmp_path):
    replace_file(str(tmp_path), "ana.json", b"{}")
    assert mode_of(tmp_path / "ana.json") == 0o600


def test_skip_same_keeps_an_unchanged_file_and_replaces_a_changed_one(tmp_path):
    path = tmp_path / "submission_secret.txt"
    replace_file(str(tmp_path), path.name, b"ab" * 64, mode=0o644)
    inode = os.stat(path).st_ino
    assert not replace_file(str(tmp_path), path.name, b"ab" * 64, mode=0o644, skip_same=True)
    assert os.stat(path).st_ino == inode
    assert replace_file(str(tmp_path), path.name, b"cd" * 64, mode=0o644, skip_same=True)
    assert path.read_bytes() == b"cd" * 64 and os.stat(path).st_ino != inode
    os.chmod(path, 0o600)       # same bytes, other permissions: written again
    assert replace_file(str(tmp_path), path.name, b"cd" * 64, mode=0o644, skip_same=True)
    assert mode_of(path) == 0o644
    assert not replace_file(str(tmp_path), path.name, b"cd" * 64, skip_same=True)     # any mode


def test_a_link_in_place_of_the_file_is_replaced_not_followed(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"same")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "timestamp.txt"
    link.symlink_to(target)
    assert not same_file(str(link), b"same", None)
    assert replace_file(str(tmp_path / "out"), "timestamp.txt", b"same", mode=0o644, skip_same=True)
    assert not link.is_symlink() and link.read_bytes() == b"same"
    assert target.read_bytes() == b"same"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    replace_file(str(tmp_path), "ana.json", b"old")

    def no_rename(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="disk full"):
        replace_file(str(tmp_path), "ana.json", b"new")
    assert os.listdir(tmp_path) == ["ana.json"] and (tmp_path / "ana.json").read_bytes() == b"old"
