"""The demo class end to end: the one-command instructor workflow on a fresh course directory.

``python -m autograder demo --sets ps1_softmax,ps3_bptt`` runs once for the module (release with nbgrader, a
late policy and a due date, submissions, sandboxed grading, class reports and flags, a derivation graded by hand,
nbgrader feedback and every export); the tests then check the grades against what each demo student did.
Expected partial scores are recomputed here, in this trusted process, by running the course's own mutant
solutions on the same cases (the grading seed is in the log), so they are not written down anywhere. The late
penalty is recomputed from the timestamps and the due date, with nbgrader's own ``AssignLatePenalties`` and the
course's plugin, and by hand.
"""
from __future__ import annotations

import csv
import datetime
import html
import json
import math
import os
import re
import subprocess
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
FIRST = SETS[0]
COURSE_ID = "rnn-derivatives"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import contextlib
    import io
    import time

    root = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out):
        assert cli(["demo", "--dir", str(root), "--sets", ",".join(SETS)]) == 0
    course = root / "course"
    roster = json.loads((root / "demo_class.json").read_text())
    records = {a: load_records(str(course), a) for a in SETS}
    return {"root": root, "course": course, "out": out.getvalue(), "roster": roster, "records": records,
            "seconds": time.monotonic() - start}


def _students(demo, assignment, kind):
    return [s for s in demo["roster"][assignment] if s["kind"] == kind]


def _md(demo, assignment):
    return (demo["course"] / "reports" / assignment / "report.md").read_text()


def _gradebook(demo):
    from nbgrader.api import Gradebook

    return Gradebook("sqlite:///" + str(demo["course"] / "gradebook.db"), COURSE_ID)


def _auto_total(demo, assignment, student):
    return sum(demo["records"][assignment][student]["scores"].values())


def _late(demo):
    (late,) = [s for s in demo["roster"][FIRST] if s["late_seconds"]]
    return late


def _hand(demo):
    (hand,) = [s for s in demo["roster"][FIRST] if s["hand_graded"]]
    return hand


def _table_row(demo, assignment, student):
    """The student's row of the final table, in the block of ``assignment``."""
    block = demo["out"].split(f"\n{assignment}: ", 1)[1].split("\n\n", 1)[0]
    (row,) = [line for line in block.splitlines() if line.split() and line.split()[0] == student]
    return row.split()


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


def _report_flagged(demo, assignment) -> set[str]:
    flagged_part = _md(demo, assignment).split("## Flagged submissions")[1].split("### Similar code")[0]
    flagged = set(re.findall(r"^\| ([a-z\\_]+) \|", flagged_part, re.M)) - {"student"}
    return {f.replace("\\_", "_") for f in flagged}


@pytest.mark.parametrize("assignment", SETS)
def test_report_flags_the_copy_and_the_static_flag_only(demo, assignment):
    md = _md(demo, assignment)
    flagged_part = md.split("## Flagged submissions")[1].split("### Similar code")[0]
    similar_part = md.split("### Similar code")[1].split("## Faults")[0]
    flagged = _report_flagged(demo, assignment)
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


@pytest.mark.parametrize("assignment", SETS)
def test_what_the_report_flags_is_flagged_in_the_gradebook(demo, assignment):
    """formgrader's list of submissions (nbgrader's API) shows the same flags as the report and the table."""
    from autograder.demo_course import nbgrader_api

    api = nbgrader_api(str(demo["course"]))
    listed = {d["student"]: d["flagged"] for d in api.get_notebook_submissions(assignment, assignment)}
    assert set(listed) == {s["student"] for s in demo["roster"][assignment]}
    flagged = {s for s, f in listed.items() if f}
    assert flagged == _report_flagged(demo, assignment)
    assert "copies_own_style" in flagged
    # grading flags what it sees in one submission; similar code is found by the report, across the class
    by_report_only = {s for s in flagged if not demo["records"][assignment][s]["flags"]}
    if assignment == "ps3_bptt":
        assert by_report_only == {"copies_own_style", "correct_own_style", "pastes_course_code"}
    for s in demo["roster"][assignment]:
        assert ("flagged" in _table_row(demo, assignment, s["student"])) == (s["student"] in flagged), s["student"]


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
        bundle = demo["course"] / "exports" / "feedback" / assignment / f"{s['student']}.html"
        assert bundle.read_bytes() == path.read_bytes()        # the file for the LMS is nbgrader's page
        for spec in specs_for(assignment):
            for number in _hidden_numbers(spec, rec["seed"]):
                assert number not in page, (s["student"], spec.function, number)
                checked += 1
    assert checked > 100


# -- the late submission ----------------------------------------------------------------------------

def _nbgrader_penalty(course: Path, student: str, score: float, seconds_late: float) -> float | None:
    """What nbgrader's AssignLatePenalties, configured by the course's nbgrader_config.py, gives."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    sys.path.insert(0, str(course))            # the plugin is the course's module, as when nbgrader runs in it
    try:
        pre = AssignLatePenalties(config=config)
        pre.init_plugin()
    finally:
        sys.path.remove(str(course))
    assert type(pre.plugin_inst).__name__ == "PointsPerStartedHour"
    penalty = pre.plugin_inst.late_submission_penalty(student, score, seconds_late)
    return pre._check_late_penalty(type("Notebook", (), {"score": score})(), penalty)


def test_the_late_submission_carries_the_course_penalty(demo):
    from nbgrader.utils import parse_utc

    late = _late(demo)
    student = late["student"]
    course = demo["course"]
    stamp = (course / "submitted" / student / FIRST / "timestamp.txt").read_text().strip()
    assert stamp == late["timestamp"]
    with _gradebook(demo) as gb:
        due = gb.find_assignment(FIRST).duedate
        sub = gb.find_submission(FIRST, student)
        seconds = (parse_utc(stamp) - due).total_seconds()
        assert seconds == sub.total_seconds_late == late["late_seconds"] == 9000.0      # 2 h 30 min
        raw, stored = sub.score, sub.late_submission_penalty
        others = {s.student.id: s.late_submission_penalty for a in SETS for s in gb.find_assignment(a).submissions
                  if (a, s.student.id) != (FIRST, student)}
        assert all(gb.find_assignment(a).duedate is None for a in SETS[1:])
    assert raw == _auto_total(demo, FIRST, student) == 15.0
    assert stored == _nbgrader_penalty(course, student, raw, seconds) == 1.0 * math.ceil(9000 / 3600) == 3.0
    assert not any(others.values()), {k: v for k, v in others.items() if v}        # only one submission is late
    # the score everywhere: the table, grades.csv, Canvas, Moodle, Gradescope, the feedback page
    row = _table_row(demo, FIRST, student)
    assert row[1:5] == ["15.00", "-", "-3.00", "12.00"], row
    (grades,) = [r for r in read_csv(str(course / "grades.csv")) if (r["assignment"], r["student_id"]) ==
                 (FIRST, student)]
    assert (float(grades["raw_score"]), float(grades["late_submission_penalty"]), float(grades["score"])) \
        == (15.0, 3.0, 12.0)
    assert _lms_scores(demo, "canvas")[student][FIRST] == 12.0
    assert _lms_scores(demo, "moodle")[student][FIRST] == 12.0
    results = json.loads((course / "exports" / "gradescope" / FIRST / student / "results.json").read_text())
    assert results["score"] == 12.0
    assert {"name": "late submission penalty", "score": -3.0, "max_score": 0.0,
            "output": "nbgrader's late-submission policy", "visibility": "visible"} in results["tests"]
    page = html.unescape((course / "feedback" / student / FIRST / f"{FIRST}.html").read_text())
    assert "Late submission penalty (Score: -3.0)" in page
    assert "handed in 2 h 30 min after the due date" in demo["out"]


# -- the hand-graded derivation ---------------------------------------------------------------------

def _lms_scores(demo, fmt) -> dict[str, dict[str, float | None]]:
    """student -> set -> score of the Canvas or Moodle file (None where the cell is empty)."""
    name, key = {"canvas": ("canvas_grades.csv", "SIS Login ID"), "moodle": ("moodle_grades.csv", "Username")}[fmt]
    out = {}
    for r in read_csv(str(demo["course"] / "exports" / name)):
        if fmt == "canvas" and r["Student"].strip() == "Points Possible":
            continue
        out[r[key]] = {a: float(r[a]) if r[a] else None for a in SETS}
    return out


def test_the_hand_graded_derivation_is_in_the_feedback_and_every_export(demo):
    from autograder.demo_review import hand_grading_for

    hand = _hand(demo)
    student, cell = hand["student"], hand["hand_graded"]["cell"]
    mark = hand_grading_for(FIRST)
    assert (student, cell, hand["hand_graded"]["manual_score"], hand["hand_graded"]["comment"]) \
        == (mark.student, mark.cell, mark.manual_score, mark.comment)
    score, comment = mark.manual_score, mark.comment
    course = demo["course"]
    submitted = json.loads((course / "submitted" / student / FIRST / f"{FIRST}.ipynb").read_text())
    assert any(c["metadata"].get("nbgrader", {}).get("grade_id") == cell and "".join(c["source"]) == mark.answer
               for c in submitted["cells"])
    with _gradebook(demo) as gb:
        grade = gb.find_grade(cell, FIRST, FIRST, student)
        assert (grade.manual_score, grade.needs_manual_grade) == (score, False)
        assert gb.find_comment(cell, FIRST, FIRST, student).manual_comment == comment
        top = grade.max_score
        assert gb.find_submission(FIRST, student).score == _auto_total(demo, FIRST, student) + score
    total = _auto_total(demo, FIRST, student) + score
    # nbgrader's feedback page, and the file of the feedback export
    for page in (course / "feedback" / student / FIRST / f"{FIRST}.html",
                 course / "exports" / "feedback" / FIRST / f"{student}.html"):
        text = html.unescape(page.read_text())
        assert f"Written response</a> (Score: {score} / {top})" in text
        assert comment in text
    # per question, Canvas, Moodle, Gradescope, grades.csv
    (q,) = [r for r in read_csv(str(course / "exports" / "questions.csv"))
            if (r["assignment"], r["student_id"], r["question"]) == (FIRST, student, cell)]
    assert (q["cell_type"], float(q["manual_score"]), float(q["score"]), q["needs_manual_grade"]) \
        == ("markdown", score, score, "false")
    assert _lms_scores(demo, "canvas")[student][FIRST] == total
    assert _lms_scores(demo, "moodle")[student][FIRST] == total
    results = json.loads((course / "exports" / "gradescope" / FIRST / student / "results.json").read_text())
    assert {"name": cell, "score": score, "max_score": top, "output": comment, "visibility": "visible"} \
        in results["tests"]
    assert results["score"] == total
    (grades,) = [r for r in read_csv(str(course / "grades.csv")) if (r["assignment"], r["student_id"]) ==
                 (FIRST, student)]
    assert float(grades["score"]) == total
    assert _table_row(demo, FIRST, student)[1:5] == [f"{_auto_total(demo, FIRST, student):.2f}", f"{score:.2f}",
                                                     "-", f"{total:.2f}"]
    # nobody else has a manual score
    from nbgrader.api import Grade

    with _gradebook(demo) as gb:
        manual = {(g.notebook.assignment.assignment.name, g.notebook.student.id, g.name)
                  for g in gb.db.query(Grade).filter(Grade.manual_score.isnot(None))}
    assert manual == {(FIRST, student, cell)}


# -- every export ---------------------------------------------------------------------------------

def test_every_export_exists_and_parses(demo):
    from autograder.exports.canvas import FIXED_COLUMNS
    from autograder.exports.moodle import IDENTITY_COLUMNS
    from autograder.exports.questions import COLUMNS

    course = demo["course"]
    everyone = {s["student"] for a in SETS for s in demo["roster"][a]}
    submitted = {(a, s["student"]) for a in SETS for s in demo["roster"][a]}
    grades = {(r["assignment"], r["student_id"]): float(r["score"]) for r in read_csv(str(course / "grades.csv"))}
    for fmt, columns in (("canvas", FIXED_COLUMNS), ("moodle", IDENTITY_COLUMNS)):
        name = f"{fmt}_grades.csv"
        with open(course / "exports" / name, newline="") as fh:
            header = next(csv.reader(fh))
        assert header[:len(columns)] == columns and sorted(header[len(columns):]) == sorted(SETS), header
        scores = _lms_scores(demo, fmt)
        assert set(scores) == everyone
        for student, per_set in scores.items():
            for a, value in per_set.items():
                assert value == (grades[(a, student)] if (a, student) in submitted else None), (fmt, student, a)
    questions = read_csv(str(course / "exports" / "questions.csv"))
    assert list(questions[0]) == COLUMNS
    with _gradebook(demo) as gb:
        cells = {a: len([c for nb in gb.find_assignment(a).notebooks for c in nb.grade_cells]) for a in SETS}
    assert len(questions) == sum(cells[a] * len(demo["roster"][a]) for a in SETS)
    for r in questions:
        assert float(r["score"]) <= float(r["max_score"]) and r["needs_manual_grade"] in ("true", "false")
    for a, student in submitted:
        results = json.loads((course / "exports" / "gradescope" / a / student / "results.json").read_text())
        assert results["score"] == grades[(a, student)]
        assert results["tests"] and all({"name", "score", "max_score", "output", "visibility"} <= set(t)
                                        for t in results["tests"])
        page = (course / "exports" / "feedback" / a / f"{student}.html").read_text()
        assert page.lstrip().lower().startswith("<!doctype html") and a in page
    assert sorted(p.relative_to(course / "exports" / "gradescope").parts[:2] for p in
                  (course / "exports" / "gradescope").rglob("results.json")) == sorted(submitted)
    # the summary lists each export where it is
    out = demo["out"]
    for fmt in ("canvas", "moodle", "questions", "gradescope", "feedback"):
        (line,) = [line for line in out.splitlines() if line.startswith(f"  export {fmt} ")]
        path = line.split()[2]
        folder = path.split("/<")[0]
        assert os.path.exists(folder if os.path.isabs(folder) else os.path.join(os.getcwd(), folder)), line


def test_export_csv_has_a_row_per_student_and_set(demo):
    rows = read_csv(str(demo["course"] / "grades.csv"))
    hand = _hand(demo)
    for assignment in SETS:
        got = {r["student_id"]: r for r in rows if r["assignment"] == assignment}
        assert set(got) >= {s["student"] for s in demo["roster"][assignment]}
        for s in demo["roster"][assignment]:
            manual = hand["hand_graded"]["manual_score"] if (assignment, s["student"]) == (FIRST, hand["student"]) \
                else 0.0
            penalty = float(got[s["student"]]["late_submission_penalty"])
            assert float(got[s["student"]]["raw_score"]) == pytest.approx(_auto_total(demo, assignment, s["student"])
                                                                          + manual)
            assert float(got[s["student"]]["score"]) == pytest.approx(float(got[s["student"]]["raw_score"]) - penalty)
            assert (penalty > 0) == (s["student"] == _late(demo)["student"] and assignment == FIRST)


def test_the_course_gitignore_keeps_every_output_of_the_run_out_of_git(demo, tmp_path):
    course = demo["course"]
    proc = subprocess.run(["git", f"--git-dir={tmp_path / 'git'}", f"--work-tree={course}", "init", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["git", f"--git-dir={tmp_path / 'git'}", f"--work-tree={course}", "status",
                           "--porcelain", "--untracked-files=all"], cwd=course, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    kept = {line[3:].split("/")[0] for line in proc.stdout.splitlines()}
    sources = {".gitignore", "README.md", "build_notebooks.py", "content", "nbgrader_config.py", "rnncheck.py",
               "source", "demo_late_policy.py"}
    assert kept <= sources, kept - sources             # nothing the run made (student data) is left for git
    assert {"nbgrader_config.py", "demo_late_policy.py", "source"} <= kept          # the course's own files are


def test_the_command_prints_where_everything_is(demo):
    out = demo["out"]
    for step in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6"):
        assert step in out
    assert "ETA" in out
    for label in ("course directory", "feedback (HTML)", "grades (CSV export)", "late policy", "report ps1_softmax",
                  "report ps3_bptt", "export canvas", "export moodle", "export questions", "export gradescope",
                  "export feedback", ".gitignore"):
        assert label in out
    top = f"{sum(demo['records']['ps3_bptt']['correct_own_style']['max_scores'].values()):.2f}"
    own = _table_row(demo, "ps3_bptt", "correct_own_style")
    assert own[1:5] == [top, "-", "-", top] and own[5] == "flagged", own
    assert _table_row(demo, FIRST, "blank")[1:5] == ["0.00", "-", "-", "0.00"]
    assert f"graded by hand: {_hand(demo)['student']}'s derivation_1 in {FIRST}: 3 of 5 points" in out
    assert f"late: {FIRST} was due 2026-03-02 17:00 UTC; PointsPerStartedHour took off: correct_worked -3" in out
    where = out.split("Where each output is:\n", 1)[1].splitlines()
    shown = [token for line in where for token in line.split() if token.startswith("/") and "<" not in token]
    assert len(shown) >= 12 and all(os.path.exists(p) for p in shown), [p for p in shown if not os.path.exists(p)]
    assert any(p.endswith("course/demo_late_policy.py") for p in shown)
    assert "flagged after the reports (similar or pasted code): " in out and "copies_own_style (ps3_bptt)" in out


def test_demo_refuses_an_existing_course_and_unknown_sets(demo, tmp_path, capsys):
    from autograder.demo import make_course

    with pytest.raises(FileExistsError):
        make_course(str(demo["root"]), ["ps1_softmax"])
    assert cli(["demo", "--dir", str(demo["root"]), "--sets", "ps1_softmax"]) == 2
    assert "exists; choose an empty --dir" in capsys.readouterr().err
    assert cli(["demo", "--dir", str(tmp_path), "--sets", "ps9_nothing"]) == 2
    assert "unknown problem set(s): ps9_nothing" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_demo_data_is_read_from_files(tmp_path):
    """The answer cells, the late policy and the hand grading come from autograder/demo_data/."""
    from autograder.demo_review import hand_grading_for
    from autograder.demo_students import DATA, OWN_STYLE, own_style

    assert set(OWN_STYLE) == {p.stem for p in (DATA / "own_style").glob("*.py")}
    for assignment, cells in OWN_STYLE.items():
        assert set(cells) <= {s.function for s in specs_for(assignment)}
        for function, text in cells.items():
            compile(text, f"{assignment}/{function}", "exec")
            assert f"def {function}(" in text and "# %%" not in text
    assert own_style("ps9_nothing") == {}
    for assignment in OWN_STYLE:
        mark = hand_grading_for(assignment)
        assert mark.answer.strip() and mark.comment and mark.manual_score >= 0
    with pytest.raises(LookupError, match="ps9_nothing"):
        hand_grading_for("ps9_nothing")
