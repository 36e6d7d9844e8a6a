"""The grading pipeline: notebooks as data, the gradebook as the only store of grades, resuming,
regrading, feedback and export through nbgrader's own commands, and the command line.

Notebook-level tests build tiny notebooks with factories; pipeline tests copy one course directory
(made once for the module with ``nbgrader generate_assignment``) so each test starts clean.
"""
from __future__ import annotations

import copy
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from autograder import answer_code, autograded, gradebook, notebook, snapshot
from autograder.answer_code import CodeUnit, loader_source
from autograder.grade import grade_assignment
from autograder.integrity import static_flags
from autograder.notebook import NotebookError, ReleaseNotebook
from autograder.specs import specs_for
from redteam import factory
from redteam.corpus import CORRECT, WRONG, Entry

ASSIGNMENT = factory.ASSIGNMENT
SPECS = specs_for(ASSIGNMENT)
FULL = sum(s.points for s in SPECS)


# -- small notebooks -------------------------------------------------------------------------

def cell(kind, source, gid=None, **meta):
    c = {"cell_type": kind, "metadata": {}, "source": source, "id": gid or f"c{abs(hash(source)) % 10**6}"}
    if kind == "code":
        c.update(outputs=[], execution_count=None)
    if gid is not None:
        c["metadata"]["nbgrader"] = {"grade_id": gid, "schema_version": 3, **meta}
    return c


def release_nb():
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("markdown", "# Title"),
        cell("code", "import numpy as np\nfrom rnncheck import check", "setup", locked=True, grade=False,
             solution=False),
        cell("code", "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()", "f", solution=True,
             grade=False, locked=False),
        cell("code", 'check("f", f)', "test_f", grade=True, solution=False, locked=True, points=2.0),
        cell("markdown", "YOUR ANSWER HERE", "derivation_1", grade=True, solution=True, locked=False, points=3),
        cell("markdown", "Rubric", "rubric_1", grade=False, solution=False, locked=True),
    ]}


@pytest.fixture
def release(tmp_path):
    path = tmp_path / "rel.ipynb"
    path.write_text(json.dumps(release_nb()))
    return ReleaseNotebook.load(str(path))


def submitted(edit=None):
    nb = copy.deepcopy(release_nb())
    nb["cells"][2]["source"] = "def f(x):\n    return 2 * x\n"
    if edit:
        edit(nb["cells"])
    return nb


def test_release_notebook_is_indexed(release):
    assert release.answers == ["f"] and release.tests == ["test_f"] and release.written == ["derivation_1"]
    assert set(release.locked) == {"setup", "test_f", "rubric_1"}
    assert release.points("test_f") == 2.0
    assert release.is_unchanged("derivation_1", "YOUR ANSWER HERE\n")


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"[1, 2]", "not a notebook"),
    (b'{"nbformat": 3, "cells": []}', "format version 3"),
])
def test_unreadable_notebooks_raise_a_plain_reason(tmp_path, content, reason):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=reason):
        notebook.read_notebook(str(path))


def test_missing_oversized_and_linked_notebooks(tmp_path, monkeypatch):
    with pytest.raises(NotebookError, match="missing"):
        notebook.read_notebook(str(tmp_path / "none.ipynb"))
    big = tmp_path / "big.ipynb"
    big.write_text(json.dumps(release_nb()))
    monkeypatch.setattr(notebook, "MAX_NOTEBOOK_BYTES", 100)
    with pytest.raises(NotebookError, match="more than the 100 allowed"):
        notebook.read_notebook(str(big))
    (tmp_path / "link.ipynb").symlink_to(big)
    with pytest.raises(NotebookError, match="not a regular file"):
        notebook.read_notebook(str(tmp_path / "link.ipynb"))


def test_inventory_finds_what_is_out_of_place(release):
    def edit(cells):
        cells[1]["source"] = "import numpy as np\nnp.allclose = print"      # edited locked set-up
        cells[3]["cell_type"] = "markdown"                                    # retyped test cell
        cells.append(copy.deepcopy(cells[2]))                                 # duplicated answer
        cells[4]["metadata"]["nbgrader"]["grade_id"] = "my_derivation"        # renamed written answer
    nb = submitted(edit)
    inv = notebook.take_inventory(nb, release)
    assert inv.missing == ["derivation_1"]
    assert inv.duplicated == ["f"] and inv.positions["f"] == [2, 6]
    assert inv.renamed == ["my_derivation"]
    assert inv.edited_locked == ["setup"]
    assert inv.retyped == ["test_f"]
    notes = "\n".join(inv.notes(release))
    for text in ("'derivation_1' was deleted", "'f' appears 2 times", "unknown id 'my_derivation'",
                 "'setup' was edited", "'test_f' changed type"):
        assert text in notes


def test_code_units_run_release_setup_answers_and_added_cells_but_never_test_cells(release):
    def edit(cells):
        cells[1]["source"] = "np = None"                       # the released text is run instead
        cells.insert(3, cell("code", "%time helper = 1\n"))    # a cell of the student's own
    nb = submitted(edit)
    units = answer_code.code_units(nb, release, notebook.take_inventory(nb, release))
    assert [u.from_student for u in units] == [False, True, True]
    assert units[0].source.startswith("import numpy as np")
    assert "return 2 * x" in units[1].source
    assert units[2].text == "%time helper = 1\n"          # IPython's transformer runs it, in the sandbox
    assert units[2].source == "helper = 1\n"              # what the static analysis reads
    assert not any("check(" in u.source for u in units)


def test_an_answer_cell_turned_into_markdown_still_runs(release):
    def edit(cells):
        cells[2]["cell_type"] = "markdown"
        del cells[2]["outputs"], cells[2]["execution_count"]
    nb = submitted(edit)
    inv = notebook.take_inventory(nb, release)
    assert inv.retyped == ["f"]
    units = answer_code.code_units(nb, release, inv)
    assert [u.label for u in units] == ["cell setup", "cell f"]
    assert autograded.rebuild(nb, release, inv)["cells"][2]["cell_type"] == "code"


def test_deleted_setup_cell_still_runs(release):
    nb = submitted(lambda cells: cells.pop(1))
    units = answer_code.code_units(nb, release, notebook.take_inventory(nb, release))
    assert units[0] == CodeUnit("cell setup", release_nb()["cells"][1]["source"], False)


def test_the_analysis_reads_python_lines_and_skips_ipython_ones():
    src = "%%time\nx = 1\nif x:\n  !ls -l\nhelp?\ny = x % 2  # not a magic\n"
    assert answer_code.analysis_source(src).splitlines() == [
        "", "x = 1", "if x:", "  pass", "pass", "y = x % 2  # not a magic"]


def test_rebuild_restores_locked_cells_and_puts_deleted_ones_back(release):
    def edit(cells):
        cells[3]["source"] = "1.0"                      # edited test cell
        cells[3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "fake"}]
        cells.insert(4, copy.deepcopy(cells[3]))        # duplicated test cell
        del cells[1]                                    # deleted set-up cell
    nb = submitted(edit)
    out = autograded.rebuild(nb, release, notebook.take_inventory(nb, release))
    ids = [notebook.grade_id(c) for c in out["cells"]]
    assert ids == [None, "setup", "f", "test_f", "derivation_1", "rubric_1"]
    test_cell = out["cells"][3]
    assert test_cell["source"] == 'check("f", f)' and test_cell["outputs"] == []
    assert out["cells"][2]["source"] == "def f(x):\n    return 2 * x\n"
    assert len({c["id"] for c in out["cells"]}) == len(out["cells"])


def test_rebuild_of_an_unreadable_submission_is_the_release(release):
    out = autograded.rebuild(None, release, None)
    assert [c["source"] for c in out["cells"]] == [c["source"] for c in release_nb()["cells"]]


def test_extra_files(tmp_path):
    rel, sub = tmp_path / "release", tmp_path / "sub"
    rel.mkdir()
    (rel / "nb.ipynb").write_text("{}")
    (rel / "rnncheck.py").write_text("def check(): pass\n")
    (rel / "data.npz").write_bytes(b"\x00\x01")
    shutil.copytree(rel, sub)
    (sub / "timestamp.txt").write_text("2026-01-01 00:00:00 UTC")
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text("{}")
    (sub / "__pycache__").mkdir()
    (sub / "__pycache__" / "rnncheck.cpython-311.pyc").write_bytes(b"x")
    manifest = snapshot.release_manifest(str(rel))
    assert snapshot.extra_files(str(sub), manifest, ["nb.ipynb"]) == []
    (sub / "rnncheck.py").write_text("def check(): return 1.0\n")
    (sub / "pkg").mkdir()
    (sub / "pkg" / "__init__.py").write_text("")
    assert snapshot.extra_files(str(sub), manifest, ["nb.ipynb"]) == ["pkg/__init__.py", "rnncheck.py (modified)"]


def test_loader_runs_each_cell_on_its_own_and_reports_the_students_failures():
    tricky = 's = """\'\'\'\\\\n{0}"""\ndef g():\n    return s\n'   # quotes and backslashes
    units = [CodeUnit("cell setup", "import numpy as np\nfrom rnncheck import check\n", False),
             CodeUnit("cell f", "def f(x):\n    return np.asarray(x) * 2\n", True),
             CodeUnit("cell #4", "raise ValueError('oops')\n", True),
             CodeUnit("cell g", tricky, True)]
    expected: dict = {}
    exec(tricky, expected)
    namespace: dict = {}
    exec(compile(loader_source(units), "<loader>", "exec"), namespace)  # benign code, run here on purpose
    assert list(namespace["f"]([1, 2])) == [2, 4]
    assert namespace["g"]() == expected["s"] and "\'\'\'" in expected["s"]
    assert json.loads(namespace["_grader_report"]())["errors"] == [["cell #4", "ValueError: oops"]]


def test_static_flags_know_the_released_imports():
    units = [CodeUnit("cell setup", "import numpy as np\n", False),
             CodeUnit("cell #3", "x = 1\nnp.allclose = lambda *a, **k: True\n", True)]
    flags = static_flags(units)
    assert flags == ["patches_module: cell #3, line 2: assigns the attribute 'np.allclose' of the module 'numpy'"]
    assert static_flags(units[:1]) == []


def test_hidden_cases_show_fixed_sentences_only():
    from autograder.feedback import HIDDEN_MESSAGES, case_line
    from autograder.specs import CaseResult

    spec = next(s for s in SPECS if s.function == "softmax_jacobian")
    for diagnosis in HIDDEN_MESSAGES:
        cr = CaseResult("c", 0.0, 0.5, False, f"quoted value 0.987654321 ({diagnosis})", diagnosis)
        assert "0.987654321" in case_line(cr, hidden=False, spec=spec)
        line = case_line(cr, hidden=True, spec=spec)
        assert "0.987654321" not in line and HIDDEN_MESSAGES[diagnosis] in line
    mistake = spec.mistakes[0]
    cr = CaseResult("c", 0.0, 0.5, False, mistake.message, mistake.id)
    assert mistake.message in case_line(cr, hidden=True, spec=spec)
    raised = CaseResult("c", 0.0, 0.5, False, "the function raised Secret_0_98: 0.98", "exception")
    assert case_line(raised, hidden=True, spec=spec).endswith("the function raised an exception [exception]")
    raised = CaseResult("c", 0.0, 0.5, False, "the function raised KeyError: 0.98", "exception")
    assert case_line(raised, hidden=True, spec=spec).endswith("the function raised KeyError [exception]")


# -- a real course ---------------------------------------------------------------------------

PARTIAL = Entry("partial", "the softmax VJP without the weighted mean",
                answers={"softmax_vjp": "def softmax_vjp(logits, v):\n    return softmax(logits) * v\n"})
LEAKY = Entry("leaky", "tries to copy the hidden inputs into its feedback", base="wrong",
              answers={"softmax": "def softmax(logits):\n    print(repr(logits.tolist()))\n"
                                  "    raise ValueError(repr(logits.tolist()))\n",
                       # a zero-size answer whose shape spells a number taken from the input
                       "softmax_jacobian": "def softmax_jacobian(logits):\n"
                                           "    return np.zeros((0, int(abs(logits[0, 0]) * 1e6)))\n"})
STUDENTS = {"ana": Entry("ana", "correct"), "ben": PARTIAL, "cy": LEAKY}


@pytest.fixture(scope="module")
def base_course(tmp_path_factory):
    course = factory.make_course(str(tmp_path_factory.mktemp("base")))
    for student, entry in STUDENTS.items():
        factory.make_submission(course, student, entry)
    return course


@pytest.fixture
def course(base_course, tmp_path):
    dest = str(tmp_path / "course")
    shutil.copytree(base_course, dest, symlinks=True)
    return dest


def rows(course):
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives") as gb:
        for student in STUDENTS:
            try:
                sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            except Exception:
                continue
            out[student] = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in sub.grades}
    return out


def rewrite(course, student, entry, timestamp=factory.TIMESTAMP):
    folder = os.path.join(course, "submitted", student, ASSIGNMENT)
    shutil.rmtree(folder)
    factory.make_submission(course, student, entry, timestamp=timestamp)


def test_grades_go_into_the_gradebook(course):
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2)}
    assert results["ana"].total == FULL and results["cy"].total == 0.0
    assert 0 < results["ben"].total < FULL
    assert "forgot_subtract" in {c.diagnosis for c in results["ben"].cases["test_softmax_vjp"]}
    stored = rows(course)
    for student, r in results.items():
        for gid, score in r.scores.items():
            assert stored[student][gid] == (score, None, False)
        assert stored[student]["derivation_1"] == (None, None, True)   # answered: waits for the instructor
    # the batch's write-ahead log is folded back: nbgrader finds its usual rollback-journal file
    import sqlite3
    con = sqlite3.connect(os.path.join(course, "gradebook.db"))
    assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    con.close()
    assert not os.path.exists(os.path.join(course, "gradebook.db-wal"))
    log = gradebook.load_records(course, ASSIGNMENT)
    assert set(log) == set(STUDENTS) and all(isinstance(rec["seed"], int) for rec in log.values())
    with open(os.path.join(course, "grading_log", ASSIGNMENT, "runs.jsonl")) as fh:
        assert len(fh.readlines()) == 3


def test_bulk_created_submissions_match_nbgrader_add_submission(course):
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    def shape(gb, student):
        sub = gb.find_submission(ASSIGNMENT, student)
        d = sub.to_dict()
        for key in ("id", "student", "first_name", "last_name"):
            d.pop(key, None)
        nbs = [(n.name, sorted((g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                               for g in n.grades),
                sorted((c.name, c.auto_comment, c.manual_comment) for c in n.comments), n.flagged)
               for n in sub.notebooks]
        return d, nbs

    with Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives") as gb:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            gb.add_student("by_nbgrader")
            gb.add_submission(ASSIGNMENT, "by_nbgrader")
        gradebook.ensure_submissions(gb, ASSIGNMENT, ["by_us", "by_us", "by_nbgrader"])
        assert shape(gb, "by_us") == shape(gb, "by_nbgrader")
        assert len(gb.find_submission(ASSIGNMENT, "by_us").notebooks[0].grades) == len(SPECS) + 1


def test_rerun_skips_graded_submissions_and_changes_nothing(course):
    grade_assignment(course, ASSIGNMENT, workers=2)
    before = rows(course)
    again = grade_assignment(course, ASSIGNMENT, workers=2)
    assert all(r.skipped for r in again)
    assert rows(course) == before


def test_a_resubmission_is_graded_again(course):
    grade_assignment(course, ASSIGNMENT, workers=2)
    rewrite(course, "ben", Entry("ben", "fixed"), timestamp="2026-03-03 09:00:00.000000 UTC")
    again = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2)}
    assert again["ben"].total == FULL and not again["ben"].skipped
    assert again["ana"].skipped and again["cy"].skipped


def test_regrade_grades_everything_and_reports_changed_scores(course):
    # a fixed seed: fresh hidden cases could, very rarely, change a partly right score by themselves
    first = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2, seed=7)}
    same = grade_assignment(course, ASSIGNMENT, workers=2, regrade=True, seed=7)
    assert not any(r.skipped for r in same) and all(r.changes == [] for r in same)
    rewrite(course, "ben", Entry("ben", "fixed"))      # same timestamp, different answer
    again = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2, regrade=True, seed=7)}
    old = first["ben"].scores["test_softmax_vjp"]
    assert again["ben"].changes == [f"ben test_softmax_vjp: {old:g} -> 3"]
    assert again["ana"].changes == [] and again["cy"].changes == []


def test_an_interrupted_batch_loses_nothing_and_resumes(course, monkeypatch):
    calls = []
    real = gradebook.write_record

    def crash_on_second(root, result):
        calls.append(result.student)
        if len(calls) == 2:
            raise KeyboardInterrupt("the grader was stopped")
        real(root, result)

    monkeypatch.setattr(gradebook, "write_record", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        grade_assignment(course, ASSIGNMENT, workers=1)
    monkeypatch.setattr(gradebook, "write_record", real)
    first = calls[0]
    assert set(gradebook.load_records(course, ASSIGNMENT)) == {first}
    resumed = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2)}
    assert resumed[first].skipped
    assert sorted(s for s, r in resumed.items() if not r.skipped) == sorted(set(STUDENTS) - {first})
    assert set(rows(course)) == set(STUDENTS)
    assert all(auto is not None for r in rows(course).values() for gid, (auto, _, _) in r.items()
               if gid.startswith("test_"))


def test_a_failure_inside_the_grader_gives_zero_with_a_reason(course, monkeypatch):
    from autograder import grade

    real = grade.grade_submission

    def broken(course_, student, **kw):
        if student == "ana":
            raise OSError("disk full")
        return real(course_, student, **kw)

    monkeypatch.setattr(grade, "grade_submission", broken)
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2)}
    assert results["ana"].total == 0.0 and results["ana"].errors == ["grading failed: OSError: disk full"]
    assert results["ben"].total > 0
    assert all(auto == 0.0 and not pending for gid, (auto, _, pending) in rows(course)["ana"].items()
               if gid.startswith("test_"))


def test_results_of_an_unsandboxed_worker_are_never_scored(course, monkeypatch):
    from autograder.grade import grade_submission, load_course
    from autograder.sandbox import Sandbox
    from autograder.sandbox import sandbox as sandbox_module

    loaded = load_course(course, ASSIGNMENT)
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)  # no bubblewrap: the opt-in runs bare
    with pytest.raises(RuntimeError, match="unsandboxed"):
        grade_submission(loaded, "ana", seed=1,
                         make_sandbox=lambda source: Sandbox(source, allow_unsandboxed=True))


def test_students_asked_for_by_name_are_checked_like_the_scanned_ones(course):
    from autograder.course import InvalidStudentId, NoSubmission

    with pytest.raises(InvalidStudentId, match="path separator"):
        grade_assignment(course, ASSIGNMENT, students=["../ana"])
    with pytest.raises(InvalidStudentId, match="control or formatting"):
        grade_assignment(course, ASSIGNMENT, students=["ana\u202e"])
    with pytest.raises(NoSubmission, match="'nobody' has no submission of ps1_softmax .* ana, ben, cy"):
        grade_assignment(course, ASSIGNMENT, students=["nobody"])
    assert not os.path.exists(os.path.join(course, "grading_log"))


def test_the_split_pipeline_keeps_its_names_importable():
    from autograder import batch, course, deadline, grade, result, students

    assert grade.grade_assignment is batch.grade_assignment and grade.Progress is batch.Progress
    assert grade.record is batch.record and grade.load_course is course.load_course
    assert grade.Deadline is deadline.Deadline and grade.SubmissionResult is result.SubmissionResult
    assert grade.scan_students is students.scan_students and grade.student_id_problem is students.student_id_problem
    with pytest.raises(AttributeError):
        grade.no_such_name  # noqa: B018


def test_a_logged_seed_reproduces_the_hidden_cases(course):
    a = grade_assignment(course, ASSIGNMENT, students=["ben"], workers=1, seed=12345)[0]
    b = grade_assignment(course, ASSIGNMENT, students=["ben"], workers=1, seed=12345, regrade=True)[0]
    assert a.seed == b.seed == 12345 and a.cases == b.cases and b.changes == []


def _text_of(path):
    with open(path) as fh:
        page = fh.read()
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_feedback_formgrader_release_and_export_work_on_our_grades(course):
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2)}
    factory.nbgrader(course, "generate_feedback", ASSIGNMENT)
    pages = {s: _text_of(os.path.join(course, "feedback", s, ASSIGNMENT, f"{ASSIGNMENT}.html")) for s in STUDENTS}
    assert f"Autograder summary: {FULL:g} / {FULL:g} points" in pages["ana"]
    vjp = next(s for s in SPECS if s.function == "softmax_vjp")
    assert vjp.mistakes[0].message in pages["ben"] and "[forgot_subtract]" in pages["ben"]
    softmax = next(s for s in SPECS if s.function == "softmax")
    # the leaky student's function printed and raised its inputs: hidden ones must not show
    seed = gradebook.read_record(course, ASSIGNMENT, "cy")["seed"]
    hidden = [c for c in softmax.cases(seed) if c.hidden]
    visible = [c for c in softmax.cases(seed) if not c.hidden]
    assert any(repr(float(v)) in pages["cy"] for v in visible[0].args[0].ravel())
    for case in hidden:
        for v in case.args[0].ravel():
            assert repr(float(v)) not in pages["cy"]
    assert "the function raised ValueError" in pages["cy"]
    jac = next(s for s in SPECS if s.function == "softmax_jacobian")
    spelled = lambda case: str(int(abs(case.args[0][0, 0]) * 1e6))  # noqa: E731
    assert all(spelled(c) in pages["cy"] for c in jac.cases(seed) if not c.hidden)
    assert not any(spelled(c) in pages["cy"] for c in jac.cases(seed) if c.hidden)

    # formgrader's view of the gradebook (NbGraderAPI is what its pages call)
    from nbgrader.apps.api import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    api = NbGraderAPI(config=PyFileConfigLoader("nbgrader_config.py", path=course).load_config())
    listed = {s["student"]: s for s in api.get_notebook_submissions(ASSIGNMENT, ASSIGNMENT)}
    for student, r in results.items():
        assert listed[student]["code_score"] == pytest.approx(r.total)
        assert listed[student]["needs_manual_grade"]          # the written derivation waits for a grader
    assert all(s["autograded"] for s in api.get_submissions(ASSIGNMENT))
    # releasing the set again does not disturb the grades
    factory.nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    factory.nbgrader(course, "export")
    with open(os.path.join(course, "grades.csv")) as fh:
        exported = {row["student_id"]: row for row in csv.DictReader(fh)}
    for student, r in results.items():
        assert float(exported[student]["raw_score"]) == pytest.approx(r.total)
        assert float(exported[student]["max_score"]) == FULL + 5.0   # + the hand-graded derivation


def test_command_line_grades_with_progress_and_a_summary(course):
    env = dict(os.environ, PYTHONPATH=factory.REPO)
    cmd = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", course, "--workers", "2",
           "--seed", "7"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=factory.REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\[3/3\] 100%.*ETA 0:00", proc.stderr)
    assert "graded 3, skipped 0" in proc.stdout and re.search(r"ana\s+15 / 15", proc.stdout)
    proc = subprocess.run(cmd + ["--regrade"], capture_output=True, text=True, env=env, cwd=factory.REPO,
                          timeout=300)
    assert proc.returncode == 0 and "changed scores: 0" in proc.stdout
    help_text = subprocess.run([sys.executable, "-m", "autograder", "--help"], capture_output=True, text=True,
                               env=env, cwd=factory.REPO).stdout
    assert "grade" in help_text


def test_wrong_answers_base_is_really_wrong():
    # the corpus relies on WRONG scoring nothing and CORRECT scoring everything (checked end to end in
    # test_redteam); here: every graded function has both versions
    assert set(WRONG) == set(CORRECT) == {s.function for s in SPECS}


def test_the_command_line_shows_points_with_two_decimals():
    import io

    from autograder.cli_grade import ProgressLine
    from autograder.grade import Progress, SubmissionResult

    r = SubmissionResult("ana", ASSIGNMENT, scores={"a": 2 / 3, "b": 1.0}, max_scores={"a": 1.0, "b": 2.0})
    out = io.StringIO()
    ProgressLine(out)(Progress(1, 2, 1.0, r))
    assert out.getvalue().endswith("ana: 1.67/3\n")
