"""Late submissions: the pipeline applies nbgrader's policy (due date, extensions, LateSubmissionPlugin) exactly
as ``nbgrader autograde`` does on the same notebooks, and a regrade keeps the graders' own scores and comments.

Each policy gets two copies of one course (a due date, a late ``timestamp.txt``, an extension): nbgrader grades
one, the pipeline the other, and the gradebook rows must agree. The notebooks are ones both graders score alike
(all right, or some functions left as released), so any difference is the penalty's.
"""
from __future__ import annotations

import os
import shutil
import warnings

import pytest
from sqlalchemy.exc import SAWarning

from autograder import late
from autograder.grade import grade_assignment
from redteam import factory
from redteam.corpus import CORRECT, Entry

pytestmark = pytest.mark.slow

ASSIGNMENT = factory.ASSIGNMENT
DUE = "2026-03-01 12:00:00 UTC"
STUDENTS = {   # student -> (entry, timestamp.txt)
    "early": (Entry("early", "correct"), "2026-03-01 11:00:00.000000 UTC"),
    "late": (Entry("late", "correct"), "2026-03-02 12:00:00.000000 UTC"),                  # 24 h late
    "late_partial": (Entry("late_partial", "two functions done", base="release",
                           answers={"softmax": CORRECT["softmax"], "softmax_jacobian": CORRECT["softmax_jacobian"]}),
                     "2026-03-01 13:30:00.000000 UTC"),                                   # 1.5 h late
    "extended": (Entry("extended", "correct"), "2026-03-02 12:00:00.000000 UTC"),          # within 2 days more
    "no_stamp": (Entry("no_stamp", "correct"), None),                                      # no timestamp.txt
}
POLICIES = {
    "none": ['c.LateSubmissionPlugin.penalty_method = "none"'],
    "zero": ['c.LateSubmissionPlugin.penalty_method = "zero"'],
    "custom": ['c.AssignLatePenalties.plugin_class = "late_policy_plugin.PerHour"'],
}
PLUGIN = os.path.join(os.path.dirname(__file__), "late_policy_plugin.py")


def gradebook(course):
    from nbgrader.api import Gradebook
    return Gradebook("sqlite:///" + os.path.join(course, "gradebook.db"), "rnn-derivatives")


@pytest.fixture(scope="module")
def base_course(tmp_path_factory):
    course = factory.make_course(str(tmp_path_factory.mktemp("late")))
    for student, (entry, stamp) in STUDENTS.items():
        folder = factory.make_submission(course, student, entry, timestamp=stamp or factory.TIMESTAMP)
        if stamp is None:
            os.unlink(os.path.join(folder, "timestamp.txt"))
    shutil.copy(PLUGIN, course)
    with gradebook(course) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
        for student in STUDENTS:
            gb.update_or_create_student(student)
        with warnings.catch_warnings():     # nbgrader's add_submission warns about its own rows
            warnings.simplefilter("ignore", SAWarning)
            gb.add_submission(ASSIGNMENT, "extended")
        gb.grant_extension(ASSIGNMENT, "extended", days=2)
    return course


def copy_course(base, dest, policy_lines):
    shutil.copytree(base, dest, symlinks=True)
    with open(os.path.join(dest, "nbgrader_config.py"), "a") as fh:
        fh.write("\n" + "\n".join(policy_lines) + "\n")
    return dest


def rows(course):
    """student -> (timestamp, seconds late, notebook score, late_submission_penalty, flagged)."""
    out = {}
    with gradebook(course) as gb:
        for student in STUDENTS:
            sub = gb.find_submission(ASSIGNMENT, student)
            nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            out[student] = (sub.timestamp, sub.total_seconds_late, nb.score, nb.late_submission_penalty)
    return out


@pytest.mark.parametrize("method", sorted(POLICIES))
def test_the_pipeline_and_nbgrader_autograde_store_the_same_penalties(base_course, tmp_path, method):
    by_nbgrader = copy_course(base_course, str(tmp_path / "nbgrader"), POLICIES[method])
    by_pipeline = copy_course(base_course, str(tmp_path / "pipeline"), POLICIES[method])
    factory.nbgrader(by_nbgrader, "autograde", ASSIGNMENT)
    results = {r.student: r for r in grade_assignment(by_pipeline, ASSIGNMENT, workers=1, seed=3)}
    ours, theirs = rows(by_pipeline), rows(by_nbgrader)
    assert ours == theirs
    assert all(not r.errors for r in results.values())
    score, penalty = {s: row[2] for s, row in ours.items()}, {s: row[3] for s, row in ours.items()}
    assert score == {"early": 15.0, "late": 15.0, "late_partial": 5.0, "extended": 15.0, "no_stamp": 15.0}
    assert ours["late"][1] == 86400 and ours["extended"][1] == 0 and ours["no_stamp"][0] is None
    expected = {"none": {},
                "zero": {"late": 15.0, "late_partial": 5.0},
                "custom": {"late": 15.0, "late_partial": 2.0}}[method]     # 24 points clipped to the score
    assert penalty == {s: expected.get(s) for s in STUDENTS}

    # mixing the two: the pipeline regrading nbgrader's rows leaves the same rows
    grade_assignment(by_nbgrader, ASSIGNMENT, workers=1, seed=3, regrade=True)
    assert rows(by_nbgrader) == ours


def test_a_regrade_keeps_manual_scores_and_comments_and_counts_them_in_the_penalty(base_course, tmp_path):
    by_nbgrader = copy_course(base_course, str(tmp_path / "nbgrader"), POLICIES["zero"])
    by_pipeline = copy_course(base_course, str(tmp_path / "pipeline"), POLICIES["zero"])
    factory.nbgrader(by_nbgrader, "autograde", ASSIGNMENT)
    grade_assignment(by_pipeline, ASSIGNMENT, workers=1, seed=3)
    for course in (by_nbgrader, by_pipeline):      # a grader's work in formgrader
        with gradebook(course) as gb:
            grade = gb.find_grade("derivation_1", ASSIGNMENT, ASSIGNMENT, "late")
            grade.manual_score = 4.0
            override = gb.find_grade("test_softmax", ASSIGNMENT, ASSIGNMENT, "late")
            override.manual_score = 1.5
            comment = gb.find_comment("softmax", ASSIGNMENT, ASSIGNMENT, "late")
            comment.manual_comment = "Good use of the max shift."
            gb.db.commit()
    factory.nbgrader(by_nbgrader, "autograde", ASSIGNMENT, "--force")
    grade_assignment(by_pipeline, ASSIGNMENT, workers=1, seed=3, regrade=True)
    assert rows(by_pipeline) == rows(by_nbgrader)
    with gradebook(by_pipeline) as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "late")
        assert nb.score == 15.0 - 2.0 + 1.5 + 4.0 and nb.late_submission_penalty == nb.score
        derivation = gb.find_grade("derivation_1", ASSIGNMENT, ASSIGNMENT, "late")
        override = gb.find_grade("test_softmax", ASSIGNMENT, ASSIGNMENT, "late")
        assert (derivation.manual_score, derivation.needs_manual_grade) == (4.0, True)
        assert (override.auto_score, override.manual_score, override.needs_manual_grade) == (2.0, 1.5, True)
        comment = gb.find_comment("softmax", ASSIGNMENT, ASSIGNMENT, "late")
        assert comment.manual_comment == "Good use of the max shift."
        assert comment.comment == "Good use of the max shift." and "all" in comment.auto_comment


def test_a_failing_plugin_is_reported_and_the_class_is_still_graded(base_course, tmp_path):
    course = copy_course(base_course, str(tmp_path / "broken"),
                         ['c.AssignLatePenalties.plugin_class = "late_policy_plugin.Broken"'])
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, workers=1, seed=3,
                                                      students=["early", "late"])}
    assert results["early"].errors == []            # on time: the plugin is never asked
    assert results["late"].errors == ["the late-submission penalty was not applied: Broken raised KeyError: 'late'"]
    with gradebook(course) as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "late")
        assert nb.score == 15.0 and nb.late_submission_penalty is None and nb.flagged


def test_the_policy_is_read_from_the_course_config_and_again_when_it_changes(base_course, tmp_path):
    course = copy_course(base_course, str(tmp_path / "policy"), [])
    assert late.policy_for(course).name == "LateSubmissionPlugin(none)"
    assert late.policy_for(course).penalty("x", 7.0, 10.0) == (None, None)
    with open(os.path.join(course, "nbgrader_config.py"), "a") as fh:
        fh.write("\n" + POLICIES["zero"][0] + "   # now zero\n")
    policy = late.policy_for(course)
    assert policy.name == "LateSubmissionPlugin(zero)"
    assert policy.penalty("x", 7.0, 10.0) == (7.0, None) and policy.penalty("x", 7.0, 0.0) == (None, None)
    with open(os.path.join(course, "nbgrader_config.py"), "a") as fh:
        fh.write("\n" + POLICIES["custom"][0] + "\nc.PerHour.points_per_hour = 2.5\n")
    policy = late.policy_for(course)
    assert policy.name == "PerHour" and policy.penalty("x", 7.0, 10.0) == (2.5, None)
    assert policy.penalty("x", 7.0, 7200.1) == (7.0, None)      # 7.5 clipped to the score
