"""Problem set 6 (gated cells): the mistakes it is about are named, its variants are rnngrad's, and it grades.

The set's known mistakes are mutation classes of rnngrad's own LSTM and GRU functions
(:mod:`autograder.specs._gated_variants`, :mod:`autograder.specs._gated_gru_variants`). Here:

* each mistake the problem set is about has a hand-written student solution (``tests/mutants/ps6_gated_cells``)
  that fails every case where the mistake shows, each time named with its class and that class's hint (no
  formula, a section of the chapter);
* a variant without a mutation is the reference, and every mutation changes the answer somewhere;
* the points: 16 autograded and 4 by hand, 20 in all; in a fresh course nbgrader releases the set, and the
  grading pipeline gives the worked solutions every autograded point and the release none.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "mutants"))
from _harness import COURSE, GRADING_SEED, MUTANTS, call, grade_function, load_mutant  # noqa: E402
from test_hints import formula_in  # noqa: E402

from autograder import compare
from autograder.specs import spec_for, specs_for
from autograder.specs._core import normalize
from autograder.specs._gated_gru_variants import gru_mutations, gru_step
from autograder.specs._gated_hints import gated_hint
from autograder.specs._gated_jacobian_variants import STATE_JACOBIAN_MUTATIONS, state_jacobian
from autograder.specs._gated_variants import LSTM_SEQUENCE_MUTATIONS, LSTM_STEP_MUTATIONS, lstm_sequence, lstm_step

ASSIGNMENT = "ps6_gated_cells"

#: the mistakes the problem set names: (what the student did, mutant file, the class that must name it)
ISSUE_MISTAKES = [
    ("the forget gate's gradient without c_{t-1}", "lstm_step_backward__forget_without_previous_cell",
     "forget_without_previous_cell"),
    ("the forget gate's gradient without c_{t-1}, through time", "lstm_backward__forget_without_previous_cell",
     "forget_without_previous_cell"),
    ("the dc path from t + 1 dropped", "lstm_backward__missing_cell_path", "missing_cell_path"),
    ("the dc path from t + 1 dropped, one step", "lstm_step_backward__missing_cell_path", "missing_cell_path"),
    ("the output gate multiplied by c instead of tanh(c)", "lstm_step_backward__output_gate_reads_cell",
     "output_gate_reads_cell"),
    ("σ' and tanh' swapped", "lstm_step_backward__swapped_derivative", "swapped_derivative"),
    ("the LSTM's gates in another order than stated", "lstm_step_backward__gate_order", "gate_order"),
    ("the GRU's gates in another order than stated", "gru_step_backward__gate_order", "gate_order"),
    ("dc not carried through f", "lstm_backward__cell_gradient_skips_forget", "cell_gradient_skips_forget"),
    ("dc not carried through f, one step", "lstm_step_backward__cell_gradient_skips_forget",
     "cell_gradient_skips_forget"),
]


def _named(diagnosis: str) -> set[str]:
    return {i for part in (diagnosis or "").split("+") for i in part.split("@")[0].split("|")}


@pytest.mark.parametrize("what,stem,class_id", ISSUE_MISTAKES, ids=[m[1] for m in ISSUE_MISTAKES])
def test_each_mistake_of_the_set_is_named_with_its_hint(what, stem, class_id):
    ns = load_mutant(MUTANTS / ASSIGNMENT / f"{stem}.py")
    spec = spec_for(ASSIGNMENT, ns["FUNCTION"])
    assert ns["DIAGNOSIS"] == class_id
    results = grade_function(spec, ns[spec.function])
    failed = [r for r in results if not r.passed]
    assert any(r.max_points > 0 for r in failed), f"{what}: no scored case catches it"
    for r in failed:
        assert class_id in _named(r.diagnosis), (what, r.case, r.diagnosis)
        assert gated_hint(class_id) in r.message
    hint = gated_hint(class_id)
    assert formula_in(hint) is None, (class_id, formula_in(hint))
    assert "(book: " in hint


def _variants():
    """(spec, variant(args, kwargs, mutation), mutations) of every graded function."""
    def gru(variant):
        return lambda a, k, m: gru_step(*a, variant=variant, mutation=m)
    return [
        (spec_for(ASSIGNMENT, "lstm_step_backward"), lambda a, k, m: lstm_step(*a, mutation=m), LSTM_STEP_MUTATIONS),
        (spec_for(ASSIGNMENT, "lstm_backward"), lambda a, k, m: lstm_sequence(*a, mutation=m),
         LSTM_SEQUENCE_MUTATIONS),
        (spec_for(ASSIGNMENT, "lstm_state_jacobian"), lambda a, k, m: state_jacobian(*a, mutation=m),
         STATE_JACOBIAN_MUTATIONS),
        (spec_for(ASSIGNMENT, "gru_step_backward"), gru("torch"), gru_mutations("torch")),
        (spec_for(ASSIGNMENT, "gru_cho_step_backward"), gru("cho"), gru_mutations("cho")),
    ]


VARIANTS = _variants()
IDS = [v[0].function for v in VARIANTS]


@pytest.mark.parametrize("spec,variant,mutations", VARIANTS, ids=IDS)
def test_a_variant_without_mutation_is_the_reference(spec, variant, mutations):
    unchanged = [None] if spec.function == "lstm_backward" else [None, "rescaled"]
    for case in spec.cases(GRADING_SEED):
        for mutation in unchanged:
            got = normalize(variant(case.args, case.kwargs, mutation))
            assert compare.matches(got, spec.expected(case)), (case.name, mutation)


@pytest.mark.parametrize("spec,variant,mutations", VARIANTS, ids=IDS)
def test_every_mutation_changes_the_answer(spec, variant, mutations):
    cases = spec.cases(GRADING_SEED)
    for mutation in mutations:
        answers = [variant(c.args, c.kwargs, mutation) for c in cases]
        assert any(a is not None and compare.distinct(normalize(a), spec.expected(c))
                   for a, c in zip(answers, cases)), mutation


def test_the_mistake_the_beyond_question_invites_is_torchs_placement():
    """Cho's form graded against torch's backward: the answer torch's form gives is named."""
    spec = spec_for(ASSIGNMENT, "gru_cho_step_backward")
    torch = spec_for(ASSIGNMENT, "gru_step_backward").reference
    for case in spec.cases(GRADING_SEED):
        r = spec.evaluate(case, call(torch, case))
        assert not r.passed and "reset_placement" in _named(r.diagnosis), (case.name, r.diagnosis)


def test_points_are_16_autograded_and_4_by_hand():
    assert {s.function: s.points for s in specs_for(ASSIGNMENT)} == {
        "lstm_step_backward": 3, "lstm_backward": 4, "gru_step_backward": 3, "lstm_state_jacobian": 3,
        "gru_cho_step_backward": 3}
    nb = json.loads((COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    graded = [c["metadata"]["nbgrader"] for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert sum(m["points"] for m in graded) == 20
    assert [m["grade_id"] for m in graded if not m["grade_id"].startswith("test_")] == ["derivation_1"]
    assert "gated_cells.html" in "".join(nb["cells"][0]["source"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A fresh course with the set released by nbgrader, the worked solutions and the release handed in, graded."""
    from autograder.demo_course import write_submissions
    from autograder.demo_students import DemoStudent, strip_markers, worked_solutions
    from autograder.grade import grade_assignment
    from redteam import factory

    course = factory.make_course(str(tmp_path_factory.mktemp("ps6")), (ASSIGNMENT,))
    worked = worked_solutions(course, ASSIGNMENT)
    students = [DemoStudent("solution", "the worked solutions", "correct",
                            {f: strip_markers(text) for f, text in worked.items()}),
                DemoStudent("blank", "the release unchanged", "blank")]
    write_submissions(course, ASSIGNMENT, students)
    return course, {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=2, seed=GRADING_SEED)}


def test_nbgrader_releases_the_set_without_solutions(graded):
    course, _ = graded
    release = Path(course) / "release" / ASSIGNMENT
    assert sorted(p.name for p in release.iterdir()) == sorted(
        [f"{ASSIGNMENT}.ipynb", f"fixtures_{ASSIGNMENT}.npz", "rnncheck.py"])
    text = (release / f"{ASSIGNMENT}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "d_f = dc_total * c_prev" not in text


def test_the_pipeline_gives_the_solution_every_autograded_point_and_the_release_none(graded):
    _, results = graded
    autograded = sum(s.points for s in specs_for(ASSIGNMENT))
    assert results["solution"].total == pytest.approx(autograded) == 16
    assert all(c.passed for cases in results["solution"].cases.values() for c in cases)
    assert results["blank"].total == 0.0
    assert {c.diagnosis for cases in results["blank"].cases.values() for c in cases} == {"not_implemented"}


def test_the_hand_graded_derivation_makes_the_20_points(graded):
    from nbgrader.api import Gradebook
    course, _ = graded
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        assert gb.find_assignment(ASSIGNMENT).max_score == 20
        grade = gb.find_grade("derivation_1", ASSIGNMENT, ASSIGNMENT, "solution")
        assert grade.needs_manual_grade and grade.max_score == 4
        grade.manual_score = 4.0
        gb.db.commit()
        assert gb.find_submission(ASSIGNMENT, "solution").score == pytest.approx(20.0)


def test_the_demo_class_includes_the_set(graded):
    from autograder.demo import DEFAULT_SETS
    from autograder.demo_students import class_for, mutant_files
    course, _ = graded
    assert ASSIGNMENT in DEFAULT_SETS
    students = {s.student: s for s in class_for(course, ASSIGNMENT)}
    mistakes = {(s.function, s.diagnosis) for s in students.values() if s.kind == "mistake"}
    assert mistakes == {tuple(p.stem.split("__")) for p in mutant_files(ASSIGNMENT)}
    assert {stem.split("__")[1] for _, stem, _ in ISSUE_MISTAKES} <= {d for _, d in mistakes}
    functions = [s.function for s in specs_for(ASSIGNMENT)]
    assert sorted(students["correct_own_style"].answers) == sorted(functions)
    assert "_final" in students["broken_typo"].answers[functions[0]]
