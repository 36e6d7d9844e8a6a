"""The demo class end to end: the one-command instructor workflow on a fresh course directory.

``python -m autograder demo --sets ps1_softmax,ps3_bptt`` runs once for the module (release with nbgrader,
submissions, sandboxed grading, nbgrader feedback and CSV export, class reports); the tests then check the
grades against what each demo student did. Expected partial scores are recomputed here, in this trusted
process, by running the course's own mutant solutions on the same cases (the grading seed is in the log),
so they are not written down anywhere.
"""
from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.__main__ import main as cli
from autograder.demo import read_csv
from autograder.gradebook import load_records
from autograder.specs import spec_for, specs_for

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import MUTANTS, grade_function, load_mutant  # noqa: E402

SETS = ("ps1_softmax", "ps3_bptt")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import contextlib
    import io

    root = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["demo", "--dir", str(root), "--sets", ",".join(SETS)]) == 0
    course = root / "course"
    roster = json.loads((root / "demo_class.json").read_text())
    records = {a: load_records(str(course), a) for a in SETS}
    return {"root": root, "course": course, "out": out.getvalue(), "roster": roster, "records": records}


def _students(demo, assignment, kind):
    return [s for s in demo["roster"][assignment] if s["kind"] == kind]


def _md(demo, assignment):
    return (demo["course"] / "reports" / assignment / "report.md").read_text()


@pytest.mark.parametrize("assignment", SETS)
def test_every_submission_was_graded(demo, assignment):
    assert set(demo["records"][assignment]) == {s["student"] for s in demo["roster"][assignment]}
    assert len(demo["roster"][assignment]) >= 15


@pytest.mark.parametrize("assignment", SETS)
def test_correct_styles_get_full_marks(demo, assignment):
    correct = _students(demo, assignment, "correct") + _students(demo, assignment, "copy")
    assert len(correct) == 3
    for s in correct:
        rec = demo["records"][assignment][s["student"]]
        assert rec["scores"] == rec["max_scores"], (s["student"], rec["scores"])
        assert not rec["errors"]


@pytest.mark.parametrize("assignment", SETS)
def test_each_mistake_gets_its_partial_score_and_diagnosis(demo, assignment):
    mistakes = _students(demo, assignment, "mistake")
    diagnoses = {d for spec in specs_for(assignment) for d in spec.diagnoses}
    assert {s["diagnosis"] for s in mistakes} == diagnoses    # every known mistake of the set is in the class
    for s in mistakes:
        rec = demo["records"][assignment][s["student"]]
        spec = spec_for(assignment, s["function"])
        # the same mutant, run here on the same cases (the seed of the hidden ones is in the log)
        ns = load_mutant(MUTANTS / assignment / s["mutant"])
        with np.errstate(all="ignore"):  # the overflow mutants overflow on purpose
            expected = grade_function(spec, ns[spec.function], seed=rec["seed"])
        got = rec["cases"][spec.grade_id]
        assert [(c["case"], c["passed"]) for c in got] == [(c.case, c.passed) for c in expected], s["student"]
        assert rec["scores"][spec.grade_id] == pytest.approx(sum(c.points for c in expected))
        assert rec["scores"][spec.grade_id] < spec.points
        assert s["diagnosis"] in {c["diagnosis"] for c in got if not c["passed"]}
        for other in specs_for(assignment):                   # the other answers were left as released
            if other.function != s["function"]:
                assert rec["scores"][other.grade_id] == 0
                assert {c["diagnosis"] for c in rec["cases"][other.grade_id]} == {"not_implemented"}


@pytest.mark.parametrize("assignment", SETS)
def test_blank_and_broken(demo, assignment):
    recs = demo["records"][assignment]
    assert sum(recs["blank"]["scores"].values()) == 0
    syntax = recs["broken_syntax"]
    assert sum(syntax["scores"].values()) == 0
    assert any("SyntaxError" in n for n in syntax["notes"])
    first = specs_for(assignment)[0]
    assert {c["diagnosis"] for c in syntax["cases"][first.grade_id]} == {"missing_function"}
    typo = recs["broken_typo"]
    assert sum(typo["scores"].values()) == 0
    assert all(c["diagnosis"] == "exception" and "NameError" in c["message"] for c in typo["cases"][first.grade_id])


@pytest.mark.parametrize("assignment", SETS)
def test_report_flags_the_copy_and_the_static_flag_only(demo, assignment):
    md = _md(demo, assignment)
    flagged_part = md.split("## Flagged submissions")[1].split("### Similar code")[0]
    similar_part = md.split("### Similar code")[1].split("## Faults")[0]
    flagged = set(re.findall(r"^\| ([a-z\\_]+) \|", flagged_part, re.M)) - {"student"}
    flagged = {f.replace("\\_", "_") for f in flagged}
    pasted = {s["student"] for s in _students(demo, assignment, "reference_copy")}
    assert flagged == {"copies_own_style", "correct_own_style", "peeks_at_files", "broken_syntax"} | pasted
    copy_row = next(line for line in flagged_part.splitlines() if line.startswith("| copies\\_own\\_style"))
    n = len(specs_for(assignment))
    assert f"similar code: group 1, with correct\\_own\\_style ({n} function(s" in copy_row.replace("\\(", "(")
    (group,) = [line for line in similar_part.splitlines() if re.match(r"\| \d+ \|", line)]   # the pair, once
    assert group.startswith("| 1 | copies\\_own\\_style, correct\\_own\\_style |") and group.count("%") == n
    assert "imports 'os'" in flagged_part
    for s in _students(demo, assignment, "mistake") + _students(demo, assignment, "correct"):
        escaped = s["student"].replace("_", "\\_")
        row = [line for line in flagged_part.splitlines() if line.startswith(f"| {escaped} |")]
        if s["student"] == "correct_own_style":
            assert "copies\\_own\\_style" in row[0]
        else:
            assert not row, row


def test_code_pasted_from_the_course_package_is_flagged_as_a_copy_of_the_reference(demo):
    (s,) = _students(demo, "ps3_bptt", "reference_copy")
    rec = demo["records"]["ps3_bptt"][s["student"]]
    spec = spec_for("ps3_bptt", s["function"])
    assert rec["scores"][spec.grade_id] == spec.points          # it works: the flag is the only sign
    md = _md(demo, "ps3_bptt").split("## Flagged submissions")[1].split("## Faults")[0]
    row = next(line for line in md.splitlines() if line.startswith("| pastes\\_course\\_code |"))
    assert f"course reference rnngrad.rnn.{s['function']}" in row.replace("\\_", "_")


@pytest.mark.parametrize("assignment", SETS)
def test_report_lists_common_diagnoses_and_has_figures(demo, assignment):
    md = _md(demo, assignment)
    common = md.split("## Most common diagnoses")[1].split("## Flagged")[0]
    for s in _students(demo, assignment, "mistake")[:5]:
        assert s["diagnosis"].replace("_", "\\_") in common
    folder = demo["course"] / "reports" / assignment
    assert (folder / "report.html").stat().st_size > 10_000
    pngs = sorted((folder / "figures").glob("*.png"))
    assert len(pngs) == len(specs_for(assignment)) + 1
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def _hidden_numbers(spec, seed) -> list[str]:
    """Some float entries of the hidden cases' inputs as text (as they would appear if printed)."""
    out = []
    for case in spec.cases(seed, hidden=True):
        if not case.hidden:
            continue
        for a in list(case.args) + list(case.kwargs.values()):
            arrays = a.values() if isinstance(a, dict) else [a]
            for arr in arrays:
                if isinstance(arr, np.ndarray) and arr.dtype.kind == "f":
                    out += [f"{x:.6f}" for x in arr.ravel()[:4] if abs(x) > 1e-3]
    return out


@pytest.mark.parametrize("assignment", SETS)
def test_feedback_for_every_student_shows_diagnoses_and_hides_hidden_inputs(demo, assignment):
    checked = 0
    for s in demo["roster"][assignment]:
        path = demo["course"] / "feedback" / s["student"] / assignment / f"{assignment}.html"
        page = html.unescape(path.read_text())
        rec = demo["records"][assignment][s["student"]]
        if s["kind"] == "mistake":
            spec = spec_for(assignment, s["function"])
            assert f"[{s['diagnosis']}]" in page
            mistake = next((m for m in spec.mistakes if m.id == s["diagnosis"]), None)
            assert (mistake.message if mistake else spec.nonfinite[1]) in page
        for spec in specs_for(assignment):
            for number in _hidden_numbers(spec, rec["seed"]):
                assert number not in page, (s["student"], spec.function, number)
                checked += 1
    assert checked > 100


def test_export_csv_has_a_row_per_student_and_set(demo):
    rows = read_csv(str(demo["course"] / "grades.csv"))
    for assignment in SETS:
        got = {r["student_id"]: float(r["raw_score"]) for r in rows if r["assignment"] == assignment}
        assert set(got) >= {s["student"] for s in demo["roster"][assignment]}
        for s in demo["roster"][assignment]:
            rec = demo["records"][assignment][s["student"]]
            assert got[s["student"]] == pytest.approx(sum(rec["scores"].values()))


def test_the_command_prints_where_everything_is(demo):
    out = demo["out"]
    for step in ("1/5", "2/5", "3/5", "4/5", "5/5"):
        assert step in out
    assert "ETA" in out
    for label in ("course directory", "feedback (HTML)", "grades (CSV export)", "report ps1_softmax",
                  "report ps3_bptt"):
        assert label in out
    assert re.search(r"correct_own_style\s+15\.00\s+flagged", out)
    assert re.search(r"blank\s+0\.00\s", out)


def test_demo_refuses_an_existing_course_and_unknown_sets(demo, tmp_path, capsys):
    from autograder.demo import make_course

    with pytest.raises(FileExistsError):
        make_course(str(demo["root"]), ["ps1_softmax"])
    assert cli(["demo", "--dir", str(demo["root"]), "--sets", "ps1_softmax"]) == 2
    assert "exists; choose an empty --dir" in capsys.readouterr().err
    assert cli(["demo", "--dir", str(tmp_path), "--sets", "ps9_nothing"]) == 2
    assert "unknown problem set(s): ps9_nothing" in capsys.readouterr().err
    assert not os.listdir(tmp_path)
