"""The red-team corpus graded through the whole pipeline on a real nbgrader course directory.

One course is built for the module (copy of ``assignments/``, ``nbgrader generate_assignment``),
every corpus entry is placed in ``submitted/<entry>/ps1_softmax/``, and the pipeline grades them
all in one batch. Each entry's scores, flags, faults and notes are checked against the corpus;
then the course directory is checked to be byte-for-byte what it was, apart from what the
grader itself writes (the gradebook rows of the graded students, autograded/, grading_log/).
"""
from __future__ import annotations

import os
import sqlite3
import time
import warnings

import pytest


from autograder.grade import grade_assignment
from autograder.points import points
from autograder.sandbox import Limits
from autograder.specs import specs_for
from redteam import factory
from redteam.corpus import ENTRIES

ASSIGNMENT = factory.ASSIGNMENT
SPECS = {s.grade_id: s for s in specs_for(ASSIGNMENT)}
# short limits keep the endless loop and the memory bomb quick; honest code needs far less
# The CPU limit is set above the wall limit of a call: with both at 3 s, a loop that never ends raced
# the two (killed for CPU, or timed out), and the verdict's message depended on the machine's load.
LIMITS = Limits(cpu_seconds=5, wall_seconds_per_call=3.0, wall_seconds_total=40.0)
DETACHED_SLEEP = 2.0          # the detached process of the corpus sleeps this long before writing
GRADER_WRITES = ("gradebook.db", "autograded", "grading_log", "feedback")   # feedback: nbgrader's, on request
EARLIER = "zz_earlier_student"  # graded by hand before the batch; the batch must not touch their rows


def _gradebook_rows(db: str, exclude_students: set[str]) -> dict[str, list[tuple]]:
    """Every row of every table, except the grade/comment/submission rows of ``exclude_students``."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sub_ids = {r[0] for r in con.execute("SELECT id, student_id FROM submitted_assignment")
                   if r[1] in exclude_students}
        nb_ids = {r[0] for r in con.execute("SELECT id, assignment_id FROM submitted_notebook")
                  if r[1] in sub_ids}
        out = {}
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            cols = [c[1] for c in con.execute(f"PRAGMA table_info({table})")]
            rows = []
            for row in con.execute(f"SELECT * FROM {table}"):
                rec = dict(zip(cols, row))
                if table == "student" and rec["id"] in exclude_students:
                    continue
                if table == "submitted_assignment" and rec["id"] in sub_ids:
                    continue
                if table == "submitted_notebook" and rec["id"] in nb_ids:
                    continue
                if table in ("grade", "comment") and rec["notebook_id"] in nb_ids:
                    continue
                rows.append(tuple(sorted(rec.items(), key=lambda kv: kv[0])))
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _grade_by_hand(course: str) -> None:
    """An earlier student whose submission the instructor graded by hand (rows that must survive)."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives") as gb, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission; the rows are stored
        gb.update_or_create_student(EARLIER, first_name="Ada")
        gb.update_or_create_submission(ASSIGNMENT, EARLIER, timestamp="2026-02-01 10:00:00 UTC")
        for gid in SPECS:
            grade = gb.find_grade(gid, ASSIGNMENT, ASSIGNMENT, EARLIER)
            grade.manual_score = 1.0
            grade.needs_manual_grade = False
        gb.db.commit()


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("redteam"))
    course = factory.make_course(root)
    _grade_by_hand(course)
    for entry in ENTRIES:
        factory.make_submission(course, entry.name, entry)
    everyone = {e.name for e in ENTRIES}
    before = factory.tree_hashes(course, skip=GRADER_WRITES)
    rows_before = _gradebook_rows(os.path.join(course, "gradebook.db"), everyone)
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2, limits=LIMITS)}
    written = factory.tree_hashes(course, skip=("source", "release", "submitted", "gradebook.db", "feedback"))
    # let the detached process of the corpus wake up and try its writes before anything is compared
    time.sleep(DETACHED_SLEEP + 1.5)
    return {"course": course, "results": results, "before": before, "rows_before": rows_before,
            "written": written, "everyone": everyone}


def test_the_corpus_is_large_and_varied():
    names = [e.name for e in ENTRIES]
    assert len(names) >= 25 and len(set(names)) == len(names)
    assert sum(e.name.startswith("honest_") for e in ENTRIES) >= 5


def test_every_submission_is_graded(corpus_run):
    results = corpus_run["results"]
    assert set(results) == corpus_run["everyone"]
    assert not any(r.skipped for r in results.values())


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_verdict(corpus_run, entry):
    r = corpus_run["results"][entry.name]
    for gid, spec in SPECS.items():
        want = entry.expected(gid)
        got = r.scores[gid]
        if want == "full":
            assert got == pytest.approx(spec.points), (gid, r.cases[gid])
        elif want == "zero":
            assert got == 0.0, (gid, r.cases[gid])
        else:
            assert 0.0 < got < spec.points, (gid, r.cases[gid])
            assert got == pytest.approx(sum(c.points for c in r.cases[gid] if c.passed))
        assert len(r.cases[gid]) == len(spec.cases(r.seed))  # every case has a verdict, run or not
    flags = "\n".join(r.flags)
    if entry.clean:
        assert r.flags == []
    for text in entry.flags:
        assert text in flags, (text, r.flags)
    for text in entry.errors:
        assert any(text in e for e in r.errors), (text, r.errors)
    for text in entry.notes:
        assert any(text in n for n in r.notes), (text, r.notes)
    for gid, diagnosis in entry.diagnoses.items():
        assert diagnosis in {c.diagnosis for c in r.cases[gid]}, (diagnosis, r.cases[gid])
    if entry.written is not None:
        assert r.written["derivation_1"] == entry.written


def test_gradebook_holds_the_verdicts_and_nothing_is_left_pending(corpus_run):
    from nbgrader.api import Gradebook

    course = corpus_run["course"]
    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives") as gb:
        for name, r in corpus_run["results"].items():
            sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, name)
            assert sub.flagged == bool(r.flags)     # formgrader shows the flag
            for grade in sub.grades:
                if grade.name in SPECS:
                    assert grade.auto_score == pytest.approx(r.scores[grade.name])
                    assert not grade.needs_manual_grade
                else:  # the written derivation: only a real answer waits for the instructor
                    assert grade.needs_manual_grade == (r.written[grade.name] == "answered")
                    assert (grade.auto_score is None) == (r.written[grade.name] == "answered")


def test_course_directory_is_unchanged(corpus_run):
    course = corpus_run["course"]
    after = factory.tree_hashes(course, skip=GRADER_WRITES)
    changed = {k for k in set(after) | set(corpus_run["before"])
               if after.get(k) != corpus_run["before"].get(k)}
    assert changed == set()
    assert not os.path.exists(os.path.join(course, "pwned"))


def test_other_gradebook_rows_are_unchanged(corpus_run):
    db = os.path.join(corpus_run["course"], "gradebook.db")
    assert _gradebook_rows(db, corpus_run["everyone"]) == corpus_run["rows_before"]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        manual = con.execute("SELECT g.manual_score FROM grade g JOIN submitted_notebook n ON g.notebook_id = n.id "
                             "JOIN submitted_assignment s ON n.assignment_id = s.id WHERE s.student_id = ?",
                             (EARLIER,)).fetchall()
    finally:
        con.close()
    assert sorted(m for (m,) in manual if m is not None) == [1.0] * len(SPECS)


def test_grader_outputs_survive_the_detached_process(corpus_run):
    """What the grader wrote (autograded notebooks, logs) is still what it wrote after the sleep."""
    course = corpus_run["course"]
    now = factory.tree_hashes(course, skip=("source", "release", "submitted", "gradebook.db", "feedback"))
    assert now == corpus_run["written"]
    from autograder.gradebook import read_record

    rec = read_record(course, ASSIGNMENT, "detached_rewriter")
    assert rec is not None and sum(rec["scores"].values()) == 0.0


def test_nbgrader_feedback_is_made_for_every_submission(corpus_run):
    """nbgrader's own generate_feedback accepts every autograded notebook the pipeline wrote."""
    course = corpus_run["course"]
    factory.nbgrader(course, "generate_feedback", ASSIGNMENT)
    for name, r in corpus_run["results"].items():
        page = os.path.join(course, "feedback", name, ASSIGNMENT, f"{ASSIGNMENT}.html")
        with open(page) as fh:
            text = fh.read()
        assert f"Autograder summary: {points(r.total)} / {points(r.max_total)} points" in text


def test_the_class_report_covers_every_submission(corpus_run, tmp_path):
    """One batch of hostile submissions still gives the instructor a whole class report."""
    from autograder.report import build_report, write_report

    course = corpus_run["course"]
    out = write_report(course, ASSIGNMENT, str(tmp_path / "report"))
    report = build_report(course, ASSIGNMENT)
    assert set(report.students) >= corpus_run["everyone"]
    flagged = {f.student for f in report.flagged}
    assert {name for name, r in corpus_run["results"].items() if r.flags} <= flagged
    for key in ("html", "markdown"):
        with open(out[key], encoding="utf-8") as fh:     # valid UTF-8, whatever the submissions held
            text = fh.read()
        assert "\x1b" not in text and "<script" not in text.lower()
