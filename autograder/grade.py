"""The trusted grading pipeline for one submission: a short, ordered list of steps.

The process running this module never executes student code. It reads the submitted
notebook as JSON, hands the answer cells' text to a sandboxed worker, chooses every input
at grading time (hidden cases from a fresh secret seed), and judges the plain values that
come back with the specs' trusted comparison.

Steps for one submission (``grade_submission``), in order:

1. ``snapshot``       copy the submission folder into a private temporary folder; every
                      later step reads the copy, so nothing the student shipped can change
                      while it is graded, and nothing is ever run inside the course folder
                      (on a cluster the grader's process takes it and sends it: ``taken``).
2. ``read``           parse the notebook as JSON (a broken file is a fault, not a crash).
3. ``inventory``      compare its cells with the released notebook: deleted, duplicated,
                      renamed, retyped cells, edited read-only cells (restored from release).
4. ``flag``           static checks of the student's code and of extra files; flags never
                      change a score, they are reported to the instructor.
5. ``run``            load the code in the sandbox, call every graded function on every
                      case (visible cases from the public seed, hidden ones from the secret
                      seed drawn now), and judge each returned value in this process.
6. ``score``          per test cell, the sum of its cases' points; 0 for what is missing.

The rest of grading lives in modules of one purpose each: :mod:`autograder.course` (the course
directory), :mod:`autograder.students` (who submitted), :mod:`autograder.deadline` (the time budget),
:mod:`autograder.result` (what was decided) and :mod:`autograder.batch` (a whole class: workers,
resuming, and the only writer of the gradebook). Their public names are importable from here too.
"""
from __future__ import annotations

import datetime
import os
import secrets
import tempfile
import time

from . import answer_code, autograded, feedback, notebook
from .case_flags import case_flags
from .course import Course, load_course
from .deadline import Deadline
from .integrity import static_flags, structure_flags
from .notebook import NotebookError
from .result import SubmissionResult
from .run import run_cases
from .snapshot import NotReadable, extra_files, file_sha256, read_timestamp, snapshot, valid_timestamp
from .specs import CaseResult
from .students import MAX_STUDENT_ID, list_students, scan_students, student_id_problem

__all__ = ["TRUSTED_SECONDS", "MAX_STUDENT_ID", "Course", "Deadline", "SubmissionResult", "default_sandbox_factory",
           "grade_submission", "list_students", "load_course", "scan_students", "score", "student_id_problem"]

#: Seconds of the trusted side's own work per submission (copy, reading, inventory, flags, scoring,
#: the autograded notebook), the sandboxed run not included (it has the sandbox's own limits).
#: Checked between steps and between cells of the static analysis; see SECURITY.md for the worst case.
TRUSTED_SECONDS = 30.0

#: names of :mod:`autograder.batch` that are importable from here (``from autograder.grade import ...``)
_BATCH_NAMES = ("Progress", "grade_assignment", "record")


def __getattr__(name: str):
    """The batch's names, from :mod:`autograder.batch` (imported on first use: it imports this module)."""
    if name in _BATCH_NAMES:
        from . import batch

        return getattr(batch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- step 6: score ------------------------------------------------------------------------

def score(course: Course, result: SubmissionResult) -> None:
    """Test cell points = sum of its case points, within [0, points]; comments for nbgrader."""
    for spec in course.specs:
        cases = result.cases.get(spec.grade_id, [])
        got = sum(c.points for c in cases if c.passed)
        result.scores[spec.grade_id] = round(min(max(got, 0.0), spec.points), 6)
        result.max_scores[spec.grade_id] = spec.points
        result.comments[spec.function] = feedback.comment_for(spec, result)


# -- one submission -------------------------------------------------------------------------

def grade_submission(course: Course, student: str, seed: int | None = None, make_sandbox=None,
                     snapshot_root: str | None = None, taken=None) -> SubmissionResult:
    """Steps 1-6 for one student (the gradebook is not touched here).

    The trusted side's own work is bounded by TRUSTED_SECONDS (:class:`Deadline`, the sandboxed run
    excluded): once past it, the steps not yet done are skipped with a fault (cases not run get no
    points; points already earned are kept), and the score and the autograded notebook are still made.
    ``taken``: a :class:`autograder.shipment.Taken`, the snapshot already taken elsewhere (a submission
    sent to a cluster's worker); step 1 is then skipped and its time counts against the budget.
    """
    start = time.monotonic() - (taken.seconds if taken is not None else 0.0)
    deadline = Deadline(TRUSTED_SECONDS)
    seed = secrets.randbits(63) if seed is None else int(seed)
    result = SubmissionResult(student=student, assignment=course.assignment, seed=seed,
                              graded_at=taken.graded_at if taken is not None else
                              datetime.datetime.now(datetime.timezone.utc).isoformat())
    make_sandbox = make_sandbox or default_sandbox_factory()
    nb_name = f"{course.notebook_name}.ipynb"
    nb = inv = None
    with tempfile.TemporaryDirectory(prefix="grading-", dir=snapshot_root) as tmp:
        # 1. snapshot: from here on only the private copy is read (timestamp and hash included)
        if taken is None:
            copy, unreadable = os.path.join(tmp, "submission"), None
            try:
                snap = snapshot(course.submission_dir(student), copy, first=(nb_name,), deadline=deadline)
            except NotReadable as exc:
                snap, unreadable = None, str(exc)
        else:
            deadline.start -= taken.seconds     # the time spent taking it counts
            copy, snap, unreadable = taken.folder, taken.snapshot, taken.unreadable
        if snap is None:
            result.errors.append(f"the submission could not be read: {unreadable}")
        if snap is not None:
            result.notes.extend(snap.notes)
            result.timestamp = valid_timestamp(read_timestamp(copy), result)
            result.notebook_sha256 = file_sha256(os.path.join(copy, nb_name))
            # 2. read
            try:
                if nb_name in snap.missing and not snap.missing[nb_name].startswith("it is not in"):
                    raise NotebookError(f"the notebook was not copied from the submission folder "
                                        f"({snap.missing[nb_name]}); it counts as missing")
                nb = notebook.read_notebook(os.path.join(copy, nb_name), report=result)
            except NotebookError as exc:
                result.errors.append(f"your notebook could not be read: {exc}")
            # 4 (files). extra files are checked even when the notebook is unreadable
            extras = sorted(snap.left_out + extra_files(copy, course.release_manifest, [nb_name]))
            if extras:
                result.flags.append("extra_files: files in the submission besides the notebook: "
                                    + ", ".join(extras[:20]) + (" ..." if len(extras) > 20 else ""))
    if nb is not None and not _past(deadline, "reading the notebook", result):
        # 3. inventory (and the notebook to store under autograded/)
        inv = notebook.take_inventory(nb, course.release)
        result.notes.extend(inv.notes(course.release))
        units = answer_code.code_units(nb, course.release, inv, deadline=deadline)
        # 4. static flags
        result.flags.extend(structure_flags(inv) + static_flags(units, deadline=deadline))
        # 5. run (bounded by the sandbox's own limits)
        if not _past(deadline, "the static analysis", result):
            with deadline.paused():
                run_cases(course, units, seed, make_sandbox, result)
            result.flags.extend(case_flags(course.specs, result.cases))   # looked-up answers, finite differences
    if not result.cases:
        why = ("not run: the notebook could not be read", "unreadable") if nb is None else \
              (f"not run: grading took longer than the {TRUSTED_SECONDS:g} s allowed", "timeout")
        for spec in course.specs:
            result.cases[spec.grade_id] = [CaseResult(c.name, 0.0, c.points, False, *why)
                                           for c in spec.cases(seed, hidden=True)]
    # 6. score (linear in the notebook: always done, so feedback is made)
    if nb is not None and inv is None:
        inv = notebook.take_inventory(nb, course.release)
    result.written = autograded.written_answers(course.release, nb, inv)
    for gid, state in result.written.items():
        if state != "answered":
            result.comments[gid] = "No response."
    score(course, result)
    result.notebook = autograded.rebuild(nb, course.release, inv, notes=result.notes)
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _past(deadline: Deadline, step: str, result: SubmissionResult) -> bool:
    """True (with a fault, once) when the trusted side's time ran out by the end of ``step``."""
    if not deadline.expired:
        return False
    text = (f"grading stopped after {step}: the grader's own work on this submission took longer than "
            f"the {TRUSTED_SECONDS:g} s allowed; the steps left were not done")
    if not any(e.startswith("grading stopped after") for e in result.errors):
        result.errors.append(text)
    return True


def default_sandbox_factory(limits=None):
    """A sandbox per submission with its own bubblewrap sandbox (slow start; a batch uses a pool)."""
    from .sandbox import Limits, Sandbox

    limits = limits or Limits()
    return lambda source: Sandbox(source, limits=limits)
