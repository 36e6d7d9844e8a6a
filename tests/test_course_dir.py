"""The course directory as the grader finds it, and the ``.gitignore`` that keeps its student data out of git."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from autograder.__main__ import main as cli
from autograder.course import GITIGNORE, NotACourse, check_course_root, find_course_root
from redteam import factory
from redteam.corpus import Entry

SET = factory.ASSIGNMENT


def test_the_course_is_the_nearest_folder_with_an_nbgrader_config(tmp_path):
    course = tmp_path / "course"
    (course / "source" / SET).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    assert find_course_root(str(course / "source" / SET)) == str(course)
    assert find_course_root(str(course)) == str(course)
    assert check_course_root(str(course)) == str(course)
    with pytest.raises(NotACourse, match="no nbgrader_config.py there or in any folder above it"):
        find_course_root(str(tmp_path))
    with pytest.raises(NotACourse, match="is not an nbgrader course directory"):
        check_course_root(str(course / "source"))
    with pytest.raises(NotACourse, match="no such folder"):
        check_course_root(str(tmp_path / "nowhere"))


def test_the_repository_course_ignores_what_the_grader_writes():
    with open(os.path.join(factory.REPO, "assignments", ".gitignore")) as fh:
        assert fh.read() == GITIGNORE


def _git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_grading_writes_a_gitignore_that_keeps_student_data_out_of_git(tmp_path, capsys):
    course = factory.make_course(str(tmp_path))
    os.remove(os.path.join(course, ".gitignore"))      # a course directory of one's own, without one
    factory.make_submission(course, "ana", Entry("ana", "correct"))
    assert cli(["grade", SET, "--course", course, "--quiet", "--workers", "1"]) == 0
    assert "keeps the course's student data out of git" in capsys.readouterr().out
    with open(os.path.join(course, ".gitignore")) as fh:
        assert fh.read() == GITIGNORE
    assert cli(["report", SET, "--course", course, "--no-similarity"]) == 0
    factory.nbgrader(course, "generate_feedback", SET)
    factory.nbgrader(course, "export")
    for made in ("submitted", "autograded", "feedback", "grading_log", "reports", "grades.csv", "gradebook.db",
                 "release"):
        assert os.path.exists(os.path.join(course, made)), made
    _git(course, "init", "-q")
    _git(course, "add", "-A")
    staged = _git(course, "diff", "--cached", "--name-only").split()
    assert staged and all(path.startswith(("source/", "content/")) or "/" not in path for path in staged), staged
    assert not {"grades.csv", "gradebook.db"} & set(staged)
    # a second run leaves the file as the instructor keeps it
    with open(os.path.join(course, ".gitignore"), "a") as fh:
        fh.write("my_notes/\n")
    assert cli(["grade", SET, "--course", course, "--quiet"]) == 0
    with open(os.path.join(course, ".gitignore")) as fh:
        assert fh.read().endswith("my_notes/\n")
