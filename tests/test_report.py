"""The class report on synthetic grading records: numbers, diagnoses, flags, figures, HTML and Markdown."""
from __future__ import annotations

import json
import os

import matplotlib.image
import pytest

from autograder.__main__ import main as cli
from autograder.report import build_report, write_report
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
    assert set(flagged) == {"ada", "cy"}
    assert "near copy of ben's softmax_vjp" in flagged["ada"][0]
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
    assert "softmax_overflow" in page and SPECS[0].mistakes[0].message in page
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
    assert cli(["report", SET, "--course", course, "--no-similarity"]) == 0
    out = capsys.readouterr().out
    html = os.path.join(course, "reports", SET, "report.html")
    assert os.path.isfile(html) and html in out
    assert "flagged   1: cy" in out


def test_no_records_is_a_clear_error(tmp_path):
    with pytest.raises(LookupError, match="run `python -m autograder grade ps1_softmax`"):
        build_report(str(tmp_path), SET, similarity=False)


def test_score_bars_group_close_scores():
    xs, ns, width = _counts([0, 1, 1, 2], 2.0)
    assert xs == [0, 1, 2] and ns == [1, 2, 1]
    xs, ns, width = _counts([0.1 * k for k in range(40)], 4.0, bins=4)
    assert xs == [0.0, 1.0, 2.0, 3.0, 4.0] and sum(ns) == 40 and ns[-1] == 0
