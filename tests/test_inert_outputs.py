"""End to end: submissions carrying hostile strings (tests/redteam/corpus_text.py, and a folder name that is not
UTF-8) are graded by ``python -m autograder grade`` on a real nbgrader course; then the class report and
``nbgrader generate_feedback`` run. Every output a person reads (the grade and report commands' terminal
bytes, the grading log, the autograded notebooks, the feedback pages, the report in HTML and Markdown) must
be written for every student and hold nothing active. Also: one broken record or notebook degrades to a
plain message for that student only.
"""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from autograder import feedback
from autograder.gradebook import read_record, result_record, write_record
from autograder.grade import SubmissionResult, load_course
from autograder.report import write_report
from autograder.specs import CaseResult, specs_for
from inert_checks import assert_no_active_payload, assert_plain, bad_chars, html_problems
from redteam import corpus, corpus_text, factory
from test_inert_text import render

SET = factory.ASSIGNMENT
ENTRIES = corpus_text.ENTRIES + [e for e in corpus.ENTRIES if e.name == "honest_correct"]
MARKERS = [f"rtx-{n}" for n in range(1, 14)]
ODD_NAME = os.fsdecode(b"rtx-13-\xff\xfe")      # a folder name that is not UTF-8
HANG_GUARD = 1500


def _run(*args: str, cwd: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=factory.REPO)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, timeout=HANG_GUARD)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("inert"))
    course = factory.make_course(root)
    for entry in ENTRIES:
        factory.make_submission(course, entry.name, entry)
    factory.make_submission(course, ODD_NAME, ENTRIES[-1])
    grade = _run("-m", "autograder", "grade", SET, "--course", course, "--workers", "2", cwd=root)
    report = _run("-m", "autograder", "report", SET, "--course", course, cwd=root)
    fb = _run("-m", "nbgrader", "generate_feedback", SET, cwd=course)
    return {"course": course, "grade": grade, "report": report, "feedback": fb}


def _terminal_bytes_are_clean(out: bytes) -> str:
    text = out.decode("utf-8")                 # strict: the bytes are UTF-8
    assert not bad_chars(text, allowed="\n"), bad_chars(text, allowed="\n")[:5]
    assert all(len(line) < 5000 for line in text.splitlines())
    return text


def test_grade_command_output_is_inert_and_complete(graded):
    proc = graded["grade"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = _terminal_bytes_are_clean(proc.stdout)
    _terminal_bytes_are_clean(proc.stderr)
    for entry in ENTRIES:
        assert re.search(rf"^  {entry.name}\s", out, re.MULTILINE), entry.name
    # the flag naming the file is shown with its escapes made visible; its newline cannot fake a line
    assert "rtx-11" in out and "]0;owned" in out, out
    assert not re.search(r"^\s*flag: none", out, re.MULTILINE)


def test_every_student_is_graded_or_named(graded):
    course = graded["course"]
    for entry in ENTRIES:
        rec = read_record(course, SET, entry.name)
        assert rec is not None, entry.name
        for spec in specs_for(SET):
            want = {"full": spec.points, "zero": 0.0}[entry.expected(spec.grade_id)]
            assert rec["scores"][spec.grade_id] == pytest.approx(want), (entry.name, spec.grade_id)
    # the folder whose name is not UTF-8 is graded, or left out with a reason on the terminal; never a crash
    if read_record(course, SET, ODD_NAME) is None:
        err = graded["grade"].stderr.decode("utf-8")
        assert "submitted/rtx-13-" in err and "not graded" in err


def test_grading_log_is_strict_utf8_without_surrogates(graded):
    files = glob.glob(os.path.join(graded["course"], "grading_log", SET, "*"))
    assert len(files) >= len(ENTRIES) + 1                     # + runs.jsonl
    for path in files:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
        for line in text.splitlines() if path.endswith(".jsonl") else [text]:
            json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")   # no lone surrogate inside


def test_autograded_notebooks_render_inert(graded):
    course = graded["course"]
    for entry in ENTRIES:
        path = os.path.join(course, "autograded", entry.name, SET, f"{SET}.ipynb")
        with open(path, "rb") as fh:
            raw = fh.read()
        nb = json.loads(raw.decode("utf-8"))
        json.dumps(nb, ensure_ascii=False).encode("utf-8")
        for cell in nb["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            assert_plain(source)
            if cell["cell_type"] == "markdown":
                page = render(source, cell.get("attachments"))
                assert html_problems(page) == [], (entry.name, source[:300])
            elif cell["cell_type"] == "raw":
                assert "<" not in source
            for out in cell.get("outputs", []):
                assert_plain(out.get("text", ""))


def test_feedback_is_made_for_everyone_and_inert(graded):
    proc = graded["feedback"]
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    course = graded["course"]
    for entry in ENTRIES:
        path = os.path.join(course, "feedback", entry.name, SET, f"{SET}.html")
        with open(path, "rb") as fh:
            page = fh.read().decode("utf-8")
        assert "Autograder summary:" in page
        assert_no_active_payload(page, MARKERS)
        assert not bad_chars(page), (entry.name, bad_chars(page)[:5])
        for tag in re.findall(r"<(?:img|a)\b[^>]*>", page):
            assert not re.search(r"\son\w+\s*=", tag), tag


def test_report_is_written_and_inert(graded):
    proc = graded["report"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = _terminal_bytes_are_clean(proc.stdout)
    assert "class report" in out
    folder = os.path.join(graded["course"], "reports", SET)
    with open(os.path.join(folder, "report.html"), "rb") as fh:
        page = fh.read().decode("utf-8")
    with open(os.path.join(folder, "report.md"), "rb") as fh:
        md = fh.read().decode("utf-8")
    assert "<script" not in page.lower() and not bad_chars(page) and not bad_chars(md)
    assert_no_active_payload(page, MARKERS)
    assert html_problems(render(md)) == []
    for entry in ENTRIES:
        assert entry.name.replace("_", "\\_") in md and entry.name in page


# -- one student's content never stops another's output ----------------------------------------------

def test_a_broken_record_degrades_to_a_message(tmp_path):
    course = str(tmp_path / "course")
    folder = os.path.join(course, "grading_log", SET)
    os.makedirs(folder)
    good = {"student": "ada", "scores": {"test_softmax": 2.0}, "cases": {}, "flags": [], "errors": [], "notes": []}
    broken = {"student": "bob", "scores": {"test_softmax": "lots"}, "cases": {"test_softmax": [7]},
              "flags": "not a list"}
    for rec in (good, broken):
        with open(os.path.join(folder, f"{rec['student']}.json"), "w") as fh:
            json.dump(rec, fh)
    paths = write_report(course, SET, str(tmp_path / "out"), similarity=False)
    page = open(paths["html"], encoding="utf-8").read()
    assert "ada" in page and "bob" in page and "the grading record could not be read" in page


def test_grading_log_never_crashes_on_surrogates(tmp_path):
    res = SubmissionResult(student="ada", assignment=SET, seed=1)
    res.errors = ["raised ValueError: \udfff\ud800"]
    res.notes = ["a cell has the unknown id '\x1b[31m\udcff'"]
    res.cases = {"test_softmax": [CaseResult("c", 0.0, 1.0, False, "msg \ud800", "exception")]}
    write_record(str(tmp_path), res)
    with open(os.path.join(tmp_path, "grading_log", SET, "ada.json"), "rb") as fh:
        rec = json.loads(fh.read().decode("utf-8"))
    assert rec["errors"] == ["raised ValueError: \\udfff\\ud800"]
    assert rec["notes"] == ["a cell has the unknown id '\x1b[31m\\xff'"]   # only the surrogate changed
    assert result_record(res)["cases"]["test_softmax"][0]["message"] == "msg \\ud800"


def test_a_notebook_that_cannot_be_built_falls_back_to_the_release(graded):
    course = load_course(graded["course"], SET)
    res = SubmissionResult(student="ada", assignment=SET, seed=1)
    res.notebook = {"cells": [{"cell_type": "markdown", "source": 12, "metadata": "junk"}, "not a cell"]}
    nb = json.loads(feedback.autograded_text(course, res))
    assert "could not be shown" in "".join(nb["cells"][0]["source"])
    assert len(nb["cells"]) == len(course.release.nb["cells"]) + 1
