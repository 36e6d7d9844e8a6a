"""Exports for LMSs: every file is parsed back and its numbers compared with nbgrader's gradebook, through
``python -m autograder export`` and through ``nbgrader export --exporter``.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from autograder.__main__ import main
from autograder.exports import rows
from autograder.exports.canvas import fill_canvas
from autograder.specs import specs_for
from export_course import ASSIGNMENT, PEOPLE, SEED, SUBMISSIONS, gradebook, make_graded_course
from redteam import factory

pytestmark = pytest.mark.slow
TEMPLATE = os.path.join(os.path.dirname(__file__), "exports_data", "canvas_gradebook.csv")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_graded_course(str(tmp_path_factory.mktemp("exports")))


def run(course, *args):
    """``python -m autograder export --course <course> ARGS`` (in this process: nbgrader takes seconds to import);
    returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["export", "--course", course, *args]) == 0
    return out.getvalue()


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def stored(course):
    """From nbgrader's own API: student -> (raw score, penalty, final score) and (student, cell) -> grade."""
    totals, grades = {}, {}
    with gradebook(course) as gb:
        for student in PEOPLE:
            try:
                sub = gb.find_submission(ASSIGNMENT, student)
            except Exception:
                continue
            totals[student] = (sub.score, sub.late_submission_penalty, max(0.0, sub.score - sub.late_submission_penalty))
            for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades:
                grades[student, g.name] = (g.auto_score, g.manual_score, g.extra_credit, g.score, g.max_score,
                                           g.needs_manual_grade)
        top = gb.find_assignment(ASSIGNMENT).max_score
    return totals, grades, top


def test_the_course_has_what_the_exports_must_carry(course):
    totals, grades, top = stored(course)
    assert set(totals) == set(SUBMISSIONS) and top == 20.0
    assert totals["cy"] == (15.0, 2.0, 13.0)                  # late: PerHour's 2 points
    assert totals["ana"][0] == 15.0 + 1 / 3 and totals["ana"][1] == 0.0
    assert grades["ben", "derivation_1"][:4] == (None, 4.0, 0.25, 4.25)


def test_per_question_csv_has_every_grade_with_every_digit(course):
    out = run(course, "--format", "questions")
    path = os.path.join(course, "exports", "questions.csv")
    assert "questions: 1 file(s)" in out and path in out
    table = read_csv(path)
    header, body = table[0], table[1:]
    assert header[:5] == ["assignment", "notebook", "student_id", "question", "cell_type"]
    _, grades, _ = stored(course)
    assert len(body) == len(grades) == len(SUBMISSIONS) * 6
    num = lambda text: None if text == "" else float(text)  # noqa: E731
    for row in map(dict, (zip(header, r) for r in body)):
        want = grades[row["student_id"], row["question"]]
        got = (num(row["auto_score"]), num(row["manual_score"]), num(row["extra_credit"]), num(row["score"]),
               num(row["max_score"]), row["needs_manual_grade"] == "true")
        assert got == want, row
    assert any(r[header.index("score")] == repr(1 / 3) for r in body)


def test_canvas_csv_new_file(course, tmp_path):
    dest = str(tmp_path / "canvas.csv")
    run(course, "--format", "canvas", "--to", dest, "--missing", "0")
    table = read_csv(dest)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert table[1][0].strip() == "Points Possible" and float(table[1][5]) == 20.0
    totals, _, _ = stored(course)
    by_login = {r[3]: r for r in table[2:]}
    assert set(by_login) == set(PEOPLE)
    for student, (first, last, _, lms) in PEOPLE.items():
        row = by_login[student]
        assert row[0] == f"{last}, {first}" and row[1] == (lms or "")
        assert float(row[5]) == (totals[student][2] if student in totals else 0.0)
    assert by_login["ana"][5] == repr(15.0 + 1 / 3)


def test_canvas_csv_filled_into_a_canvas_export(course, tmp_path):
    dest = str(tmp_path / "filled.csv")
    out = run(course, "--format", "canvas", "--canvas-csv", TEMPLATE, "--to", dest)
    before, after = read_csv(TEMPLATE), read_csv(dest)
    column = before[0].index(f"{ASSIGNMENT} (4242)")
    assert after[0] == before[0] and len(after) == len(before)
    totals, _, _ = stored(course)
    filled = {r[0]: r[column] for r in after[2:]}
    # by SIS Login ID, by Canvas ID (the LMS id in nbgrader), by name, by login in another case
    assert {k: float(v) for k, v in filled.items() if v} == {
        "Lima, Ana": totals["ana"][2], "Okafor, Ben": totals["ben"][2], "Park, Cy": totals["cy"][2],
        "Quinn, Dee": totals["dee"][2]}
    assert filled["Zed, Zoe"] == "" and filled["Stone, Fay"] == ""     # nobody; no submission
    for old, new in zip(before, after):     # every other cell as Canvas wrote it
        assert [c for k, c in enumerate(old) if k != column] == [c for k, c in enumerate(new) if k != column]
    assert "row 7 (Zed, Zoe) not filled: no gradebook student has this login, id or name" in out
    assert "student eli (Ross, Eli) has a submission but no row of the Canvas CSV" in out
    assert out.count("not filled") == 1 and out.count("no row") == 1


def test_canvas_fill_adds_a_missing_column_and_reports_ambiguous_names():
    import types

    people = [types.SimpleNamespace(id=i, first_name="Sam", last_name="Lee", lms_user_id=None) for i in ("s1", "s2")]
    a = types.SimpleNamespace(name="ps9", max_score=4.0)
    total = lambda sid: rows.Total("ps9", sid, True, 3.5, 0.5, 3.0, 4.0, None, False, False)  # noqa: E731
    text = 'Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\n"Lee, Sam",7,,x,\n"S2",8,,s2,\n'
    out, problems = fill_canvas(text, [a], people, {"ps9": {"s1": total("s1"), "s2": total("s2")}})
    table = list(csv.reader(out.splitlines()))
    assert table[0][-1] == "ps9" and table[1][-1] == "4.0" and table[2][-1] == "" and table[3][-1] == "3.0"
    assert problems == ["row 3 (Lee, Sam) not filled: 2 gradebook students have this name",
                        "student s1 (Lee, Sam) has a submission but no row of the Canvas CSV"]


def test_moodle_csv(course):
    run(course, "--format", "moodle", "--missing", "0")
    table = read_csv(os.path.join(course, "exports", "moodle_grades.csv"))
    assert table[0] == ["Username", "ID number", "Email address", "First name", "Last name", ASSIGNMENT]
    totals, _, _ = stored(course)
    for row in table[1:]:
        first, last, email, lms = PEOPLE[row[0]]
        assert row[1:5] == [lms or "", email or "", first, last]
        assert float(row[5]) == (totals[row[0]][2] if row[0] in totals else 0.0)


def test_gradescope_results_per_submission(course):
    run(course, "--format", "gradescope")
    totals, grades, _ = stored(course)
    specs = {s.grade_id: s for s in specs_for(ASSIGNMENT)}
    folder = os.path.join(course, "exports", "gradescope", ASSIGNMENT)
    assert sorted(os.listdir(folder)) == sorted(SUBMISSIONS)
    for student in SUBMISSIONS:
        with open(os.path.join(folder, student, "results.json")) as fh:
            data = json.load(fh)
        assert data["score"] == totals[student][2]
        assert data["extra_data"]["late_submission_penalty"] == totals[student][1]
        tests = data["tests"]
        assert sum(t["score"] for t in tests) == pytest.approx(totals[student][2], abs=1e-9)
        for t in tests:
            assert set(t) == {"name", "score", "max_score", "output", "visibility"}
        for gid, spec in specs.items():       # each question's tests add up to the gradebook's score
            mine = [t for t in tests if t["name"].startswith(spec.function + ":")]
            assert sum(t["score"] for t in mine) == pytest.approx(grades[student, gid][3], abs=1e-9)
            hidden = [t for t in mine if ": hidden case " in t["name"]]
            visible = [t for t in mine if ": visible case " in t["name"]]
            assert hidden and visible and len(hidden) + len(visible) == len(spec.cases(SEED))
            assert {t["visibility"] for t in hidden} == {"after_published"}
            assert {t["visibility"] for t in visible} == {"visible"}
        written = next(t for t in tests if t["name"] == "derivation_1")
        assert written["score"] == grades[student, "derivation_1"][3]
    ben = json.load(open(os.path.join(folder, "ben", "results.json")))
    adjust = [t for t in ben["tests"] if "adjustment" in t["name"]]
    assert len(adjust) == 1 and adjust[0]["name"].startswith("softmax_vjp")
    assert next(t for t in ben["tests"] if t["name"] == "derivation_1")["output"] == "Part (c) is missing."
    cy = json.load(open(os.path.join(folder, "cy", "results.json")))
    assert cy["tests"][-1]["name"] == "late submission penalty" and cy["tests"][-1]["score"] == -2.0
    # the leaky student's hidden inputs are nowhere in its file
    text = open(os.path.join(folder, "eli", "results.json")).read()
    seed = json.load(open(os.path.join(course, "grading_log", ASSIGNMENT, "eli.json")))["seed"]
    for spec in specs.values():
        for case in spec.cases(seed):
            if case.hidden:
                for v in case.args[0].ravel()[:50]:
                    assert repr(float(v)) not in text
    shown = next(c for c in specs["test_softmax_jacobian"].cases(seed) if not c.hidden)
    assert str(int(abs(shown.args[0][0, 0]) * 1e6)) in text       # a visible case's message is kept


def tree(folder):
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(dirpath, name)) as fh:
                out[os.path.relpath(os.path.join(dirpath, name), folder)] = fh.read()
    return out


@pytest.mark.parametrize("name", ["CanvasExportPlugin", "GradescopeExportPlugin"])
def test_nbgraders_own_export_command_takes_the_exporters(course, tmp_path, name):
    env = dict(os.environ, PYTHONPATH=factory.REPO, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ.get("PATH", ""))
    dest = str(tmp_path / "by_nbgrader")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--exporter", f"autograder.exports.{name}",
                           "--to", dest], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ours = str(tmp_path / "by_us")
    run(course, "--format", {"CanvasExportPlugin": "canvas", "GradescopeExportPlugin": "gradescope"}[name],
        "--to", ours)
    if name == "CanvasExportPlugin":
        assert read_csv(dest) == read_csv(ours)
    else:   # the grading log found through nbgrader's course directory: the cases are there
        assert tree(dest) == tree(ours) and "hidden case" in tree(dest)[os.path.join(ASSIGNMENT, "ana", "results.json")]


def test_selection_and_errors(course, tmp_path):
    dest = str(tmp_path / "one.csv")
    run(course, "--format", "moodle", "--student", "cy", "--assignment", ASSIGNMENT, "--to", dest)
    assert [r[0] for r in read_csv(dest)[1:]] == ["cy"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["export", "--course", course, "--format", "canvas", "--assignment", "ps9_nothing"])
    assert code == 2 and "no assignment 'ps9_nothing'" in err.getvalue()
