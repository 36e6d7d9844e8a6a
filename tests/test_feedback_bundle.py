"""Flags and feedback reach nbgrader and the students: formgrader's flag and the reasons in the gradebook,
``nbgrader generate_feedback`` and ``release_feedback`` on the pipeline's grades, and one feedback file per
student (``python -m autograder export --format feedback``) in which no hidden input appears.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re

import pytest

from autograder.__main__ import main
from autograder.exports.feedback_bundle import bundle_student
from autograder.specs import specs_for
from export_course import ASSIGNMENT, SUBMISSIONS, gradebook, make_graded_course
from redteam import factory

pytestmark = pytest.mark.slow
SPECS = specs_for(ASSIGNMENT)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_graded_course(str(tmp_path_factory.mktemp("feedback")))


def hidden_numbers(course, student):
    """repr of every number of every hidden case input the student's code was called with."""
    with open(os.path.join(course, "grading_log", ASSIGNMENT, f"{student}.json")) as fh:
        seed = json.load(fh)["seed"]
    out = set()
    for spec in SPECS:
        for case in spec.cases(seed):
            if case.hidden:
                out.update(repr(float(v)) for v in case.args[0].ravel())
    return out


def log_flags(course, student):
    with open(os.path.join(course, "grading_log", ASSIGNMENT, f"{student}.json")) as fh:
        return json.load(fh)["flags"]


def test_flags_reach_the_gradebook_with_their_kinds_and_never_their_runtime_text(course):
    flags = log_flags(course, "dee")
    assert any(f.startswith("reads_files: cell softmax, line 3") for f in flags)
    leaked = [f for f in flags if f.startswith("behaviour: opened /leak_")]
    assert leaked and any(n in f for f in leaked for n in hidden_numbers(course, "dee"))   # the channel is real
    with gradebook(course) as gb:
        flagged = {s: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s).flagged for s in SUBMISSIONS}
        comments = {(c.student.id, c.name): c.auto_comment or "" for s in SUBMISSIONS
                    for c in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s).comments}
    assert flagged == {"ana": False, "ben": False, "cy": False, "dee": True, "eli": False}
    softmax = comments["dee", "softmax"]
    assert softmax.startswith("softmax: all") and "Flagged for the instructor's review" in softmax
    assert "`reads_files` (line 3)" in softmax and "`behaviour` (the sandbox saw the code act" in softmax
    assert not any("/leak_" in text or "Flagged" in text for key, text in comments.items() if key != ("dee", "softmax"))
    # nbgrader's submission_secret.txt is not an extra file
    assert not any("submission_secret" in f for s in SUBMISSIONS for f in log_flags(course, s))


def test_nbgrader_generate_and_release_feedback_work_on_our_grades(course, tmp_path):
    from nbgrader.utils import notebook_hash

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    factory.nbgrader(course, "generate_feedback", ASSIGNMENT)
    factory.nbgrader(course, "release_feedback", ASSIGNMENT, f"--Exchange.root={exchange}")
    released = exchange / "rnn-derivatives" / "feedback"
    for student in SUBMISSIONS:
        with open(os.path.join(course, "submitted", student, ASSIGNMENT, "submission_secret.txt")) as fh:
            name = notebook_hash(secret=fh.read(), notebook_id=ASSIGNMENT) + ".html"
        with open(released / name) as fh, \
                open(os.path.join(course, "feedback", student, ASSIGNMENT, f"{ASSIGNMENT}.html")) as mine:
            assert fh.read() == mine.read()
    assert len(os.listdir(released)) == len(SUBMISSIONS)


def page_text(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def test_one_feedback_file_per_student_without_hidden_inputs(course):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["export", "--course", course, "--format", "feedback", "--assignment", ASSIGNMENT]) == 0
    folder = os.path.join(course, "exports", "feedback", ASSIGNMENT)
    assert sorted(os.listdir(folder)) == sorted(f"{s}.html" for s in SUBMISSIONS)
    assert f"feedback for {len(SUBMISSIONS)} student(s)" in out.getvalue()
    pages = {s: page_text(os.path.join(folder, f"{s}.html")) for s in SUBMISSIONS}
    for student, page in pages.items():
        assert page == page_text(os.path.join(course, "feedback", student, ASSIGNMENT, f"{ASSIGNMENT}.html"))
        numbers = set(re.findall(r"-?\d+\.\d+(?:e-?\d+)?", page))
        assert not numbers & hidden_numbers(course, student), student
    # what the leaky student's code printed, raised and spelled shows for visible cases only
    with open(os.path.join(course, "grading_log", ASSIGNMENT, "eli.json")) as fh:
        seed = json.load(fh)["seed"]
    visible = next(c for c in SPECS[0].cases(seed) if not c.hidden)
    assert any(repr(float(v)) in pages["eli"] for v in visible.args[0].ravel())
    jacobian = next(s for s in SPECS if s.function == "softmax_jacobian")
    spelled = lambda case: str(int(abs(case.args[0][0, 0]) * 1e6))  # noqa: E731  (a returned shape)
    assert all(spelled(c) in pages["eli"] for c in jacobian.cases(seed) if not c.hidden)
    assert not any(spelled(c) in pages["eli"] for c in jacobian.cases(seed) if c.hidden)
    assert "Flagged for the instructor" in pages["dee"] and "opened /leak_" not in pages["dee"]
    assert "Autograder summary" in pages["cy"]


def test_feedback_for_some_students_and_several_pages(course, tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["export", "--course", course, "--format", "feedback", "--assignment", ASSIGNMENT,
                     "--student", "ben", "--student", "zoe", "--to", str(tmp_path / "b")]) == 0
    assert os.listdir(tmp_path / "b" / ASSIGNMENT) == ["ben.html"]
    assert "not written: zoe: no autograded submission of ps1_softmax" in out.getvalue()
    pages = tmp_path / "pages"
    (pages / "sub").mkdir(parents=True)
    (pages / "one.html").write_text("<p>1</p>")
    (pages / "sub" / "two.html").write_text("<p>2</p>")
    (pages / "timestamp.txt").write_text("x")
    os.symlink("/etc/passwd", pages / "three.html")
    import zipfile
    path = bundle_student(str(pages), str(tmp_path / "z"), "ana")
    assert path == str(tmp_path / "z" / "ana.zip")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["ana/one.html", "ana/sub/two.html"]
    assert bundle_student(str(tmp_path / "nothing"), str(tmp_path / "z"), "bo") is None
