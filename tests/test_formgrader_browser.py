"""Hand grading in the browser, as an instructor does it: nbgrader's formgrader in headless Chromium.

The course is a temporary copy of ``assignments/`` with ps1_softmax released and three submissions graded by
``rnngrad-grader grade``: ana (correct answers and a written derivation), ben (wrong answers) and dee (correct, but
its softmax opens a path spelled from its inputs while it runs: a static flag and a behaviour flag). With the
formgrader served on 127.0.0.1 as the README serves it, the browser

1. opens the formgrader, goes to Manual Grading > ps1_softmax > ps1_softmax, shows the names and reads the
   "Flagged?" column: dee carries the flag, nobody else does;
2. opens dee's submission: the comment box of the flagged answer shows the flag's reason (formgrader shows the
   automatic comment in the box until a grader writes one), whole, without scrolling;
3. opens ana's submission and grades the derivation as a grader does: a score typed into the score box and
   left with Tab, a comment typed into the comment box and left with Escape (formgrader saves a box when it
   changes); after a reload both are still there, and the list shows the new total.

Then the server is stopped with Ctrl-C and the grade is looked for where students and LMSs see it:
``nbgrader generate_feedback`` (ana's page shows the score and the comment), every ``rnngrad-grader export``
format and ``nbgrader export``: each counts the manual score in ana's total and leaves the others alone.
Screenshots of the three pages go to the test's temporary folder (``screenshots/``).
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import sync_playwright

from autograder.flag_comments import EXPLANATIONS, FLAG_HEADING
from export_course import SPELLER, gradebook
from formgrader_site import formgrader_server, jupyter_home, keep_local, run_tool
from redteam import factory
from redteam.corpus import Entry

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET = factory.ASSIGNMENT
STUDENTS = {"ana": Entry("ana", "correct, with a derivation"), "ben": Entry("ben", "wrong", base="wrong"),
            "dee": Entry("dee", "opens a path spelled from its inputs", answers={"softmax": SPELLER})}
FLAGGED = "dee"
HAND_GRADED = "ana"
MANUAL_SCORE = 3.5                    # of derivation_1's 5 points; not a whole number, to see every digit kept
MANUAL_COMMENT = "Both cases of (a) are right; (c) should say why no exponent can overflow after the shift."
EXPORTS = ["canvas", "moodle", "questions", "gradescope", "nbgrader"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = 20_000

# formgrade.js has built the score and comment boxes, MathJax's start-up has ended and the page has scrolled to
# the box it then focuses (typing before that could land in the wrong box)
SUBMISSION_READY_JS = """() => !!(window.formgrader && formgrader.loaded && formgrader.grades.loaded
  && formgrader.comments.loaded && window.MathJax && MathJax.loaded === true && $(':animated').length === 0)"""
LIST_READY_JS = "() => !!(window.models && models.loaded)"
# the rows of the list of submissions of a notebook, with the names shown
ROWS_JS = """() => Array.from(document.querySelectorAll('#main-table tr')).map(tr => {
  const flag = tr.querySelector('td.flagged .glyphicon-flag');
  const name = tr.querySelector('td.name a.name-shown');
  return {name: name ? name.textContent.trim() : null,
          flagged: !!flag && flag.getBoundingClientRect().width > 0,
          score: tr.querySelector('td.score').textContent.trim(),
          written: tr.querySelector('td.written-score').textContent.trim()};
})"""
# comment boxes whose automatic comment (shown as the box's placeholder) holds ``heading``: does the text fit?
FLAG_BOXES_JS = """(heading) => Array.from(document.querySelectorAll('textarea.comment'))
  .filter(box => (box.getAttribute('placeholder') || '').includes(heading))
  .map(box => {
    const before = box.value;
    box.value = box.getAttribute('placeholder');      // no event: nothing is saved
    const fits = box.scrollHeight <= box.clientHeight + 1;
    box.value = before;
    const r = box.getBoundingClientRect();
    return {id: box.id, text: box.getAttribute('placeholder'), fits, shown: r.width > 0 && r.height > 0};
  })"""


@dataclass
class Session:
    """What the browser saw and did."""
    course: str
    shots: str
    graded: dict[str, float] = field(default_factory=dict)     # student -> total before hand grading
    rows: list[dict] = field(default_factory=list)
    flag_boxes: list[dict] = field(default_factory=list)
    saved_grade: dict = field(default_factory=dict)
    saved_comment: dict = field(default_factory=dict)
    reloaded: tuple[str, str] = ("", "")
    rows_after: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _totals(course: str) -> dict[str, float]:
    with gradebook(course) as gb:
        return {s: gb.find_submission(SET, s).score for s in STUDENTS}


def _open_list(page, base: str) -> list[dict]:
    """Manual Grading > the set > its notebook, as a grader clicks there, names shown; returns the rows."""
    page.goto(base)
    page.click("a:text-is('Manual Grading')")
    page.wait_for_url("**/formgrader/gradebook", timeout=WAIT_MS)
    page.click(f"#main-table a:text-is('{SET}')")
    page.wait_for_url(f"**/formgrader/gradebook/{SET}", timeout=WAIT_MS)
    page.click(f"#main-table a:text-is('{SET}')")
    page.wait_for_url(f"**/formgrader/gradebook/{SET}/{SET}", timeout=WAIT_MS)
    page.wait_for_function(LIST_READY_JS, timeout=WAIT_MS)
    page.click("#toggle_names")
    return page.evaluate(ROWS_JS)


def _open_submission(page, student: str) -> None:
    page.click(f"#main-table a.name-shown:text-is('{student}')")
    page.wait_for_function(SUBMISSION_READY_JS, timeout=WAIT_MS)


def _grade_derivation(page, session: Session) -> None:
    """Score and comment typed into derivation_1's boxes; each saved as formgrader saves it, when left."""
    page.click("#derivation_1")
    page.fill("#derivation_1", repr(MANUAL_SCORE))
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                              timeout=WAIT_MS) as saved:
        page.keyboard.press("Tab")
    session.saved_grade = saved.value.json()
    page.click("#derivation_1-comment")
    page.fill("#derivation_1-comment", MANUAL_COMMENT)
    with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT",
                              timeout=WAIT_MS) as saved:
        page.keyboard.press("Escape")
    session.saved_comment = saved.value.json()


def _browse(base: str, session: Session, profile: str) -> None:
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                       args=CHROMIUM_ARGS, viewport=VIEWPORT)
        try:
            session.refused = keep_local(context)
            page = context.new_page()
            page.on("pageerror", lambda exc: session.errors.append(f"page error: {exc}"))
            page.on("console", lambda msg: session.errors.append(f"console: {msg.text}")
                    if msg.type == "error" else None)
            session.rows = _open_list(page, base)
            page.screenshot(path=os.path.join(session.shots, "submissions.png"), full_page=True)
            _open_submission(page, FLAGGED)
            session.flag_boxes = page.evaluate(FLAG_BOXES_JS, FLAG_HEADING)
            if session.flag_boxes:
                page.locator(f"#{session.flag_boxes[0]['id']}").scroll_into_view_if_needed()
            page.screenshot(path=os.path.join(session.shots, "flagged_submission.png"))
            _open_list(page, base)
            _open_submission(page, HAND_GRADED)
            _grade_derivation(page, session)
            page.locator("#derivation_1").scroll_into_view_if_needed()
            page.screenshot(path=os.path.join(session.shots, "hand_graded.png"))
            page.reload()
            page.wait_for_function(SUBMISSION_READY_JS, timeout=WAIT_MS)
            session.reloaded = (page.input_value("#derivation_1"), page.input_value("#derivation_1-comment"))
            session.rows_after = _open_list(page, base)
        finally:
            context.close()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    assert os.path.isfile(CHROMIUM), "Debian's chromium is needed (setup.sh installs it)"
    tmp = str(tmp_path_factory.mktemp("formgrader"))
    home = jupyter_home(tmp)
    course = factory.make_course(tmp)
    for student, entry in STUDENTS.items():
        factory.make_submission(course, student, entry)
    run_tool(home, course, "rnngrad-grader", "grade", SET, "--quiet")
    found = Session(course=course, shots=os.path.join(tmp, "screenshots"), graded=_totals(course))
    os.makedirs(found.shots)
    with formgrader_server(course, home, os.path.join(tmp, "server.log")) as base:
        _browse(base, found, os.path.join(tmp, "chromium-profile"))
    # what the instructor runs next (the server is stopped): the students' feedback and every export
    commands = [("nbgrader", "generate_feedback", SET), ("nbgrader", "export")] + [
        ("rnngrad-grader", "export", "--format", f) for f in EXPORTS if f != "nbgrader"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda args: run_tool(home, course, *args), commands))
    yield found
    shutil.rmtree(os.path.join(tmp, "chromium-profile"), ignore_errors=True)


def test_the_course_is_graded_before_the_browser_opens(session):
    assert session.graded == {"ana": 15.0, "ben": 0.0, "dee": 15.0}


def test_the_flagged_submission_is_marked_in_the_list(session):
    assert {r["name"] for r in session.rows} == set(STUDENTS)
    assert {r["name"] for r in session.rows if r["flagged"]} == {FLAGGED}


def test_the_flags_reason_shows_on_the_submission_page(session):
    boxes = session.flag_boxes
    assert [b["id"] for b in boxes] == ["softmax-comment"], boxes      # the answer whose code did it
    (box,) = boxes
    assert box["shown"] and box["fits"], box
    assert "`behaviour`" in box["text"] and EXPLANATIONS["behaviour"] in box["text"]
    assert "`reads_files` (line 3)" in box["text"]
    assert "/leak_" not in box["text"]         # the path it opened spells hidden inputs: never in a comment


def test_the_page_saves_the_manual_score_and_comment(session):
    assert session.saved_grade["student"] == HAND_GRADED and session.saved_grade["name"] == "derivation_1"
    assert session.saved_grade["manual_score"] == MANUAL_SCORE
    assert session.saved_grade["needs_manual_grade"] is False
    assert session.saved_comment["manual_comment"] == MANUAL_COMMENT
    assert session.reloaded == (repr(MANUAL_SCORE), MANUAL_COMMENT)
    after = {r["name"]: r for r in session.rows_after}
    total = session.graded[HAND_GRADED] + MANUAL_SCORE
    assert after[HAND_GRADED]["score"] == f"{total:g} / 20"
    assert after[HAND_GRADED]["written"] == f"{MANUAL_SCORE:g} / 5"


def test_the_pages_have_no_errors_and_stay_on_this_machine(session):
    assert session.errors == []
    assert session.refused == []
    for name in ("submissions.png", "flagged_submission.png", "hand_graded.png"):
        assert os.path.getsize(os.path.join(session.shots, name)) > 10_000, name


def test_the_feedback_shows_the_manual_score_and_comment(session):
    with open(os.path.join(session.course, "feedback", HAND_GRADED, SET, f"{SET}.html"), encoding="utf-8") as fh:
        page = fh.read()
    total = session.graded[HAND_GRADED] + MANUAL_SCORE
    assert f"{SET} (Score: {total} / 20.0)" in page
    assert re.search(rf'href="#derivation_1">Written response</a> \(Score: {MANUAL_SCORE} / 5\.0\)', page)
    assert f"<b>Comments:</b> <p>{MANUAL_COMMENT}</p>" in page


def _read_csv(path: str) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def exported(course: str, fmt: str) -> tuple[dict[str, float], dict[str, float]]:
    """(student -> total, student -> derivation_1's score where the format has one) from an export's files."""
    out = os.path.join(course, "exports")
    if fmt == "canvas":
        rows = [r for r in _read_csv(os.path.join(out, "canvas_grades.csv")) if r["SIS Login ID"]]
        return {r["SIS Login ID"]: float(r[SET]) for r in rows}, {}
    if fmt == "moodle":
        return {r["Username"]: float(r[SET]) for r in _read_csv(os.path.join(out, "moodle_grades.csv"))}, {}
    if fmt == "questions":
        rows = _read_csv(os.path.join(out, "questions.csv"))
        totals: dict[str, float] = {}
        for r in rows:
            totals[r["student_id"]] = totals.get(r["student_id"], 0.0) + float(r["score"] or 0)
        return totals, {r["student_id"]: float(r["manual_score"]) for r in rows
                        if r["question"] == "derivation_1" and r["manual_score"]}
    if fmt == "gradescope":
        totals, derivation = {}, {}
        for student in os.listdir(os.path.join(out, "gradescope", SET)):
            with open(os.path.join(out, "gradescope", SET, student, "results.json")) as fh:
                data = json.load(fh)
            totals[student] = data["score"]
            test = next(t for t in data["tests"] if t["name"] == "derivation_1")
            if test["output"] == MANUAL_COMMENT:      # the grader's comment goes with the score
                derivation[student] = test["score"]
        return totals, derivation
    rows = _read_csv(os.path.join(course, "grades.csv"))      # nbgrader export
    assert all(r["raw_score"] == r["score"] for r in rows)    # no late penalty here
    return {r["student_id"]: float(r["score"]) for r in rows}, {}


@pytest.mark.parametrize("fmt", EXPORTS)
def test_every_export_counts_the_manual_score(session, fmt):
    totals, derivation = exported(session.course, fmt)
    want = dict(session.graded)
    want[HAND_GRADED] += MANUAL_SCORE
    assert totals == want
    if fmt in ("questions", "gradescope"):
        assert derivation == {HAND_GRADED: MANUAL_SCORE}
