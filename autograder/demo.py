"""The demo class: a course directory with realistic submissions, graded end to end with one command.

``rnngrad-grader demo [--dir DIR] [--sets ps1_softmax,...]`` (or ``python -m autograder demo``) runs the
instructor's whole workflow on a fresh copy of the course directory (:func:`run_demo`):

1. copy ``assignments/`` (sources only, with its ``.gitignore``), run nbgrader's ``generate_assignment`` for each
   set, name the demo's late-submission plugin in the course's ``nbgrader_config.py`` (one point off per started
   hour late) and give the first set a due date;
2. write the class's submissions as nbgrader's ``collect`` leaves them (:mod:`autograder.demo_students`,
   :mod:`autograder.demo_course`); in the first set one student hands in after the due date and one writes a
   derivation that the grader marks by hand;
3. grade every set with the trusted pipeline (:func:`autograder.grade.grade_assignment`), which applies the late
   penalty as ``nbgrader autograde`` does;
4. the class report of each set (:mod:`autograder.report`), and formgrader's ``flagged`` on every submission a
   report flags (:mod:`autograder.demo_review`);
5. the hand grading: a manual score and comment on the derivation, as a grader enters them in formgrader;
6. nbgrader's ``generate_feedback`` and every export (:mod:`autograder.demo_exports`): ``grades.csv``, Canvas,
   Moodle, per question, Gradescope, one feedback file per student.

The summary (:mod:`autograder.demo_summary`) reads the gradebook after all of it. Nothing here runs student code:
the submissions are written as notebooks and graded by the pipeline.
"""
from __future__ import annotations

import csv
import datetime
import os
import sys
import time
from dataclasses import dataclass, field

from .demo_course import (DUE, LATE_BY, LATE_STUDENT, RUN_STATE, add_late_policy, make_course, save_roster,
                          set_due_date, write_submissions)
from .demo_exports import export_all, export_csv, gradebook_rows
from .demo_review import HandGrading, flag_reported, hand_grading_for
from .demo_students import MUTANTS, OWN_STYLE, REPO, DemoStudent, class_for, make_late
from .specs import all_assignments as _all_assignments

__all__ = ["DemoStudent", "DemoResult", "class_for", "make_course", "write_submissions", "run_demo",
           "DEFAULT_SETS", "REPO", "MUTANTS", "RUN_STATE", "OWN_STYLE", "STEPS", "read_csv"]

#: every problem set of the course (the specs' list)
DEFAULT_SETS = tuple(_all_assignments())
#: the steps the demo announces
STEPS = 6


@dataclass
class DemoResult:
    """Everything the demo made, for the summary and for checking it."""
    directory: str
    course: str
    roster: dict[str, list[DemoStudent]]
    results: dict[str, list]                     # set -> SubmissionResults
    feedback: dict[str, list[str]]               # set -> feedback HTML files (nbgrader's feedback/ folder)
    csv: str
    reports: dict[str, dict]                     # set -> {"html", "markdown", "figures", "flagged"}
    seconds: dict[str, float]
    exports: dict[str, list[str]] = field(default_factory=dict)     # format -> files
    export_problems: list[str] = field(default_factory=list)
    due: dict[str, datetime.datetime] = field(default_factory=dict)  # set -> due date
    late_policy: str = ""                        # the late policy's name (its plugin class)
    late_plugin: str = ""                        # the plugin's dotted name in the course's nbgrader_config.py
    flagged: dict[str, list[str]] = field(default_factory=dict)     # set -> flagged by the review (not by grading)
    hand_grading: HandGrading | None = None
    hand_max: float | None = None                # the points of the hand-graded answer
    totals: dict[str, dict] = field(default_factory=dict)           # set -> student -> exports.rows.Total
    hand_scores: dict[str, dict[str, float]] = field(default_factory=dict)   # set -> student -> manual points


def _say(out, text: str) -> None:
    if out is not None:
        print(text, file=out, flush=True)


def run_demo(directory: str, sets=DEFAULT_SETS, *, workers: int = 2, out=sys.stdout, progress=True,
             seed: int | None = None) -> DemoResult:
    """The whole workflow in ``directory`` (created if needed; must not hold a course yet).

    Args:
        directory: the folder of the demo; the course goes to ``<directory>/course``.
        sets: problem-set ids; the first gets the due date, the late submission and the hand-graded derivation.
        workers: submissions graded at once.
        out: where the steps and the progress go (None: nowhere).
        progress: show the grading progress with ETA.
        seed: fixes the hidden cases (default: a fresh secret seed per submission).
    """
    from . import report as class_report
    from .cli_grade import ProgressLine
    from .grade import grade_assignment
    from .late import policy_for

    sets = list(sets)
    if not sets:
        raise ValueError("sets: expected at least one problem set, got none")
    os.makedirs(directory, exist_ok=True)
    directory = os.path.abspath(directory)
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    first = sets[0]

    if os.path.exists(os.path.join(directory, "course")):
        raise FileExistsError(f"{os.path.join(directory, 'course')} exists; choose an empty --dir")
    _say(out, f"1/{STEPS} course directory and release (nbgrader generate_assignment): {', '.join(sets)}; "
              f"{first} due {DUE:%Y-%m-%d %H:%M} UTC")
    course = make_course(directory, sets)
    plugin = add_late_policy(course)
    set_due_date(course, first, DUE)
    seconds["release"] = time.monotonic() - t0

    t = time.monotonic()
    roster = {}
    hand = hand_grading_for(first)
    for assignment in sets:
        roster[assignment] = class_for(course, assignment)
        if assignment == first:
            make_late(roster[assignment], LATE_STUDENT, LATE_BY)
            hand.answer_into(roster[assignment])
        write_submissions(course, assignment, roster[assignment], due=DUE if assignment == first else None)
    save_roster(directory, roster)
    _say(out, f"2/{STEPS} submissions: {sum(len(v) for v in roster.values())} notebooks in {course}/submitted "
              f"({LATE_STUDENT} hands in {first} late)")
    seconds["submissions"] = time.monotonic() - t

    t = time.monotonic()
    policy = policy_for(course).name
    results = {}
    for assignment in sets:
        _say(out, f"3/{STEPS} grading {assignment} in the sandbox ({len(roster[assignment])} submissions; "
                  f"late penalties by {policy})")
        results[assignment] = grade_assignment(course, assignment, workers=workers, seed=seed,
                                               progress=ProgressLine(out) if progress and out else None)
    seconds["grading"] = time.monotonic() - t

    t = time.monotonic()
    _say(out, f"4/{STEPS} class reports; every submission a report flags gets formgrader's flag in the gradebook")
    reports, flagged = {}, {}
    for assignment in sets:
        reports[assignment] = class_report.write_report(course, assignment,
                                                        os.path.join(course, "reports", assignment))
        flagged[assignment] = flag_reported(course, assignment, reports[assignment]["flagged"])
    seconds["report"] = time.monotonic() - t

    t = time.monotonic()
    _say(out, f"5/{STEPS} hand grading (as in formgrader): a score and a comment on {hand.student}'s {hand.cell} "
              f"of {first}")
    hand_max = hand.apply(course)
    seconds["hand_grading"] = time.monotonic() - t

    t = time.monotonic()
    _say(out, f"6/{STEPS} feedback (nbgrader generate_feedback) and exports: grades.csv, "
              "canvas, moodle, questions, gradescope, feedback files")
    exports, problems = export_all(course, sets)
    csv_path = export_csv(course)
    feedback = {a: sorted(os.path.join(course, "feedback", s.student, a, f"{a}.html") for s in roster[a])
                for a in sets}
    totals, hand_scores = gradebook_rows(course, sets)
    seconds["feedback_export"] = time.monotonic() - t
    seconds["total"] = time.monotonic() - t0
    return DemoResult(directory, course, roster, results, feedback, csv_path, reports, seconds,
                      exports=exports, export_problems=problems, due={first: DUE}, late_policy=policy,
                      late_plugin=plugin, flagged=flagged, hand_grading=hand, hand_max=hand_max, totals=totals,
                      hand_scores=hand_scores)


def read_csv(path: str) -> list[dict]:
    """The rows of a CSV file with a header row (grades.csv, the exports)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
