"""The class report on synthetic grading records: numbers, diagnoses, flags, figures, HTML and Markdown."""
from __future__ import annotations

import json
import os
import re

import matplotlib.image
import pytest

from autograder.__main__ import main as cli
from autograder.course import NothingGraded
from autograder.inert import html_text
from autograder.report import build_report, to_html, to_markdown, write_report
from autograder.report.data import assemble
from autograder.report.figures import _counts
from autograder.similarity import SimilarityFlag
from autograder.specs import specs_for

SET = "ps1_softmax"
SPECS = specs_for(SET)
POINTS = {s.grade_id: s.points for s in SPECS}
EVIL = "<script>alert(1)</script>"


def _cases(spec, failed: dict[str, tuple[str, str]] | None = None, answered: bool = True):
    """Case records of one spec; ``failed`` maps case name -> (diagnosis, message)."""
    out = []
    for case in spec.cases(seed=1):
        if not answered:
            out.append({"case": case.name, "points": 0.0, "max_points": case.points, "passed": False,
                        "message": "not implemented yet", "diagnosis": "not_implemented"})
        elif failed and case.name in failed:
            d, m = failed[case.name]
            out.append({"case": case.name, "points": 0.0, "max_points": case.points, "passed": False,
                        "message": m, "diagnosis": d})
        else:
            out.append({"case": case.name, "points": case.points, "max_points": case.points, "passed": True,
                        "message": "ok", "diagnosis": None})
    return out


def _record(student, failed_by_fn=None, unanswered=(), flags=(), errors=()):
    failed_by_fn = failed_by_fn or {}
    cases = {s.grade_id: _cases(s, failed_by_fn.get(s.function), s.function not in unanswered) for s in SPECS}
    scores = {gid: round(sum(c["points"] for c in cs if c["passed"]), 6) for gid, cs in cases.items()}
    return {"student": student, "assignment": SET, "scores": scores, "max_scores": dict(POINTS), "cases": cases,
            "flags": list(flags), "errors": list(errors), "notes": [], "seed": 1}


def _scoring_case(spec) -> str:
    """The name of the first case of ``spec`` that carries points (failing it costs points)."""
    return next(c.name for c in spec.cases(seed=1) if c.points > 0)


def _class():
    overflow = {"large_logits_1e4": ("softmax_overflow", "overflow"), "large_logits_hidden": ("softmax_overflow", "x")}
    return {
        "ada": _record("ada"),
        "ben": _record("ben", {"softmax": overflow, "cross_entropy_grad": overflow}),
        "cy": _record("cy", {"softmax": {_scoring_case(SPECS[0]): ("wrong_axis", "axis")},
                             "softmax_jacobian": {"batch_of_rows": ("exception", "the function raised " + EVIL)}},
                      flags=["system_module: cell #3, line 1: imports 'os'"]),
        "dee": _record("dee", unanswered=[s.function for s in SPECS]),
        EVIL: _record(EVIL, {"softmax": overflow}, errors=["softmax: a call ran out of time"]),
    }


def test_numbers_diagnoses_and_flags():
    records = _class()
    sim = [SimilarityFlag("ada", "softmax_vjp", "ben", 0.97, "student")]
    rep = assemble(SET, SPECS, records, sim)
    assert rep.students == sorted(records)
    assert rep.max_total == sum(POINTS.values())
    assert rep.totals["ada"] == pytest.approx(rep.max_total)
    assert rep.totals["dee"] == 0
    q = {x.function: x for x in rep.questions}
    softmax = q["softmax"]
    assert softmax.full == 1 and softmax.zero == 1          # ada full; dee nothing
    assert softmax.unanswered == ["dee"]
    assert softmax.mean == pytest.approx(sum(softmax.scores.values()) / 5)
    diags = {d.id: d for d in softmax.diagnoses}
    assert set(diags) == {"softmax_overflow", "wrong_axis"}
    assert diags["softmax_overflow"].students == 2 and diags["softmax_overflow"].cases == 4
    assert diags["softmax_overflow"].who == sorted(["ben", EVIL])
    # the spec's own sentence, not the message of one record
    assert diags["softmax_overflow"].message == SPECS[0].nonfinite[1]
    assert diags["wrong_axis"].message == SPECS[0].mistakes[0].message and diags["wrong_axis"].known
    assert softmax.diagnoses[0].id == "softmax_overflow"   # most students first
    exc = q["softmax_jacobian"].diagnoses[0]
    assert exc.id == "exception" and not exc.known and EVIL in exc.message
    top = rep.top_diagnoses(3)
    assert top[0] == ("softmax", diags["softmax_overflow"])
    flagged = {f.student: f.reasons for f in rep.flagged}
    assert set(flagged) == {"ada", "ben", "cy"}
    assert flagged["ada"] == ["similar code: group 1, with ben (1 function(s); the evidence is under Similar code)"]
    assert [(g.students, g.evidence) for g in rep.similar] == [(["ada", "ben"], [("softmax_vjp", "ada", "ben", 0.97)])]
    assert flagged["cy"] == ["system_module: cell #3, line 1: imports 'os'"]
    assert rep.faults == {EVIL: ["softmax: a call ran out of time"]}


def _write_records(course, records):
    folder = os.path.join(course, "grading_log", SET)
    os.makedirs(folder)
    for student, rec in records.items():
        name = "evil" if student == EVIL else student  # the log file name is the student id on disk
        rec = dict(rec, student=student)
        with open(os.path.join(folder, f"{name}.json"), "w") as fh:
            json.dump(rec, fh)


def test_written_report_html_markdown_and_figures(tmp_path):
    course = str(tmp_path / "course")
    _write_records(course, _class())
    out = str(tmp_path / "out")
    paths = write_report(course, SET, out, similarity=False)
    assert set(paths["flagged"]) == {"cy"}
    figs = paths["figures"]
    assert len(figs) == len(SPECS) + 1
    for f in figs:
        img = matplotlib.image.imread(f)
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 400
    page = open(paths["html"], encoding="utf-8").read()
    assert page.count("data:image/png;base64,") == len(figs)       # self-contained
    assert EVIL not in page and "&lt;script&gt;" in page              # student text is escaped
    assert "softmax_overflow" in page and html_text(SPECS[0].mistakes[0].message) in page
    assert "imports &#x27;os&#x27;" in page
    assert "The similarity check was not run" in page
    md = open(paths["markdown"], encoding="utf-8").read()
    assert "<script>" not in md
    for f in figs:
        assert f"]({os.path.relpath(f, out)})" in md
    assert "| softmax | softmax\\_overflow | 2 | 4 |" in md
    assert "## Flagged submissions" in md and "| cy |" in md


def test_cli_report(tmp_path, capsys):
    course = str(tmp_path / "course")
    _write_records(course, _class())
    open(os.path.join(course, "nbgrader_config.py"), "w").close()   # what makes it a course directory
    assert cli(["report", SET, "--course", course, "--no-similarity"]) == 0
    out = capsys.readouterr().out
    html = os.path.join(course, "reports", SET, "report.html")
    assert os.path.isfile(html) and html in out
    assert "flagged   1: cy" in out


def test_no_records_is_a_clear_error(tmp_path):
    with pytest.raises(NothingGraded, match="grade them first: rnngrad-grader grade ps1_softmax"):
        build_report(str(tmp_path), SET, similarity=False)


def test_score_bars_group_close_scores():
    xs, ns, width = _counts([0, 1, 1, 2], 2.0)
    assert xs == [0, 1, 2] and ns == [1, 2, 1]
    xs, ns, width = _counts([0.1 * k for k in range(40)], 4.0, bins=4)
    assert xs == [0.0, 1.0, 2.0, 3.0, 4.0] and sum(ns) == 40 and ns[-1] == 0


# -- faults, similar code, numbers ------------------------------------------------------------

def _lost_to_a_cell_error(student):
    """A record as the pipeline writes it when the answer cell of softmax raised an ImportError: softmax is
    missing, and every other function, which calls softmax, raises NameError."""
    rec = _record(student)
    for spec in SPECS:
        for c in rec["cases"][spec.grade_id]:
            c["passed"] = False
            c["points"] = 0.0
            if spec.function == "softmax":
                c["diagnosis"] = "missing_function"
                c["message"] = ("softmax is not defined: its answer cell raised an error before defining it "
                                "(see the problems above)")
            else:
                c["diagnosis"] = "exception"
                c["message"] = "the function raised NameError: name 'softmax' is not defined"
        rec["scores"][spec.grade_id] = 0.0
    rec["notes"] = ["this cell raised an error when run: cell softmax: ModuleNotFoundError: No module named 'scipy'"]
    return rec


def test_a_cell_error_that_cost_points_is_a_fault_with_the_points_lost(tmp_path):
    records = {"ada": _record("ada"), "imp": _lost_to_a_cell_error("imp"),
               "typo": _record("typo", {"softmax": {c.name: ("exception", "the function raised NameError: name 'e'")
                                                    for c in SPECS[0].cases(seed=1)}})}
    rep = assemble(SET, SPECS, records)
    assert set(rep.faults) == {"imp"}                   # a NameError without a failed cell is a mistake
    (softmax_fault,) = [f for f in rep.faults["imp"] if f.startswith("softmax:")]
    assert softmax_fault.startswith(f"softmax: {SPECS[0].points:g} of {SPECS[0].points:g} points lost")
    assert "ModuleNotFoundError: No module named 'scipy'" in softmax_fault
    assert rep.fault_points["imp"] == pytest.approx(rep.max_total)
    softmax = next(q for q in rep.questions if q.function == "softmax")
    assert "imp" not in softmax.unanswered             # not a blank answer: it appears as a diagnosis
    assert "not_defined_after_error" in {d.id for d in softmax.diagnoses}
    md = to_markdown(rep, {})
    faults = md.split("## Faults that cost points")[1].split("## All students")[0]
    assert "None." not in faults and f"| imp | {rep.max_total:g} |" in faults and "scipy" in faults


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A course where one student's softmax cell imports a module the sandbox does not have, graded."""
    from autograder.grade import grade_assignment
    from redteam import factory
    from redteam.corpus import CORRECT, Entry

    course = factory.make_course(str(tmp_path_factory.mktemp("report")))
    factory.make_submission(course, "ana", Entry("ana", "correct"))
    factory.make_submission(course, "imp", Entry("imp", "imports scipy",
                                                 answers={"softmax": "import scipy.special\n" + CORRECT["softmax"]}))
    grade_assignment(course, SET, workers=1, seed=3)
    return course


def test_an_import_error_found_by_grading_is_in_the_report(graded_course, tmp_path):
    rep = build_report(graded_course, SET, similarity=False)
    assert rep.totals["imp"] == 0 and set(rep.faults) == {"imp"}
    assert any("scipy" in f for f in rep.faults["imp"])
    assert rep.fault_points["imp"] == pytest.approx(rep.max_total)
    page = open(write_report(graded_course, SET, str(tmp_path / "out"), similarity=False)["html"]).read()
    faults = page.split("Faults that cost points")[1].split("All students")[0]
    assert "None." not in faults and "scipy" in faults


def test_report_command_marks_what_it_flags_in_the_gradebook(graded_course, tmp_path, monkeypatch, capsys):
    """What only the class report sees (similar code) is flagged where formgrader shows it."""
    from nbgrader.api import Gradebook

    import autograder.report as report
    real = report.write_report

    def flagging_ana(*args, **kwargs):
        paths = real(*args, **kwargs)
        return dict(paths, flagged=["ana"])

    monkeypatch.setattr(report, "write_report", flagging_ana)
    db = f"sqlite:///{os.path.join(graded_course, 'gradebook.db')}"
    with Gradebook(db, "rnn-derivatives") as gb:
        assert not gb.find_submission_notebook(SET, SET, "ana").flagged
    assert cli(["report", SET, "--course", graded_course, "--no-similarity", "--out", str(tmp_path / "r")]) == 0
    assert "marked as flagged for formgrader: 1 newly" in capsys.readouterr().out
    with Gradebook(db, "rnn-derivatives") as gb:
        assert gb.find_submission_notebook(SET, SET, "ana").flagged


def test_similar_code_is_shown_once_per_group_with_its_evidence(tmp_path):
    records = {s: _record(s) for s in ("a", "b", "c", "d", "e", "f")}
    pairs = [("a", "b", "softmax_vjp", 0.97), ("b", "c", "softmax_vjp", 0.95), ("a", "c", "softmax_vjp", 0.93),
             ("a", "b", "cross_entropy_grad", 0.91), ("d", "e", "softmax_jacobian", 0.99)]
    sim = [SimilarityFlag(x, fn, y, score, "student") for a, b, fn, score in pairs for x, y in ((a, b), (b, a))]
    sim.append(SimilarityFlag("f", "softmax_vjp", "reference", 0.9, "reference", "rnngrad.softmax.softmax_vjp"))
    rep = assemble(SET, SPECS, records, sim)
    assert [g.students for g in rep.similar] == [["a", "b", "c"], ["d", "e"]]
    assert len(rep.similar[0].evidence) == 4 and len(rep.similar[1].evidence) == 1
    md, page = to_markdown(rep, {}), to_html(rep, {})
    for text in (md, page):
        assert text.count("a – b 97%") == 1
        assert text.count("99%") == 1                    # the pair d, e: once, not once per student
    reasons = {f.student: f.reasons for f in rep.flagged}
    assert set(reasons) == {"a", "b", "c", "d", "e", "f"}
    assert reasons["d"] == ["similar code: group 2, with e (1 function(s); the evidence is under Similar code)"]
    assert "near copy of the course reference rnngrad.softmax.softmax_vjp" in reasons["f"][0]
    assert "| 1 | a, b, c |" in md and "| 2 | d, e |" in md


def test_numbers_a_person_reads_have_two_decimals():
    third = _record("third")
    gid = SPECS[-1].grade_id
    third["scores"][gid] = SPECS[-1].points / 3            # stored at full precision
    rep = assemble(SET, SPECS, {"third": third})
    md, page = to_markdown(rep, {}), to_html(rep, {})
    shown = f"{round(rep.totals['third'], 2):g}"
    assert shown in md and shown in page
    assert not re.search(r"\d\.\d{3}", md) and not re.search(r"\d\.\d{3}", page.split("<style>")[0] +
                                                                    page.split("</style>")[1])
    assert rep.totals["third"] == pytest.approx(sum(third["scores"].values()))    # kept exact in the data


def test_feedback_numbers_have_two_decimals():
    from autograder.feedback import case_line, comment_for, summary_markdown, test_cell_text
    from autograder.grade import SubmissionResult
    from autograder.specs import CaseResult

    spec = SPECS[-1]
    cases = [CaseResult(c.name, c.points / 3, c.points / 3, True, "ok", None) for c in spec.cases(seed=1)]
    cases[0] = CaseResult(cases[0].case, 0.0, 1 / 3, False, "wrong", "wrong_value")
    got = sum(c.points for c in cases if c.passed)
    r = SubmissionResult("s", SET, scores={spec.grade_id: got}, max_scores={spec.grade_id: spec.points},
                         cases={spec.grade_id: cases})
    texts = [case_line(cases[0], hidden=False, spec=spec), test_cell_text(spec, r), comment_for(spec, r),
             summary_markdown(None, r)]
    for text in texts:
        assert not re.search(r"\d\.\d{3}", text), text
    assert "0/0.33" in texts[0] and f"{round(got, 2):g} / {spec.points:g} points" in texts[1]
