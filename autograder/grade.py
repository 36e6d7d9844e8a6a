"""The trusted grading pipeline: a short, ordered list of steps per submission.

The process running this module never executes student code. It reads the submitted
notebook as JSON, hands the answer cells' text to a sandboxed worker, chooses every input
at grading time (hidden cases from a fresh secret seed), and judges the plain values that
come back with the specs' trusted comparison. Then it is the only writer of the gradebook.

Steps for one submission (``grade_submission``), in order:

1. ``snapshot``       copy the submission folder into a private temporary folder; every
                      later step reads the copy, so nothing the student shipped can change
                      while it is graded, and nothing is ever run inside the course folder.
2. ``read``           parse the notebook as JSON (a broken file is a fault, not a crash).
3. ``inventory``      compare its cells with the released notebook: deleted, duplicated,
                      renamed, retyped cells, edited read-only cells (restored from release).
4. ``flag``           static checks of the student's code and of extra files; flags never
                      change a score, they are reported to the instructor.
5. ``run``            load the code in the sandbox, call every graded function on every
                      case (visible cases from the public seed, hidden ones from the secret
                      seed drawn now), and judge each returned value in this process.
6. ``score``          per test cell, the sum of its cases' points; 0 for what is missing.

Submissions are graded by ``workers`` threads or processes; their results come back to the
calling thread, the only one that writes, which stores each in this order (``record``): the
gradebook transaction, the autograded notebook that ``nbgrader generate_feedback`` turns into
feedback, and the grading log (whose presence marks the submission as done for a resumed run).
"""
from __future__ import annotations

import contextlib
import datetime
import logging
import multiprocessing
import os
import secrets
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from . import answer_code, autograded, feedback, gradebook, notebook
from .case_flags import case_flags
from .integrity import static_flags, structure_flags
from .notebook import NotebookError, ReleaseNotebook
from .run import run_cases
from .snapshot import (NotReadable, extra_files, file_sha256, live_fingerprint, read_timestamp, release_manifest,
                       shown, snapshot, valid_timestamp)
from .specs import CaseResult, Spec, specs_for

#: Seconds of the trusted side's own work per submission (copy, reading, inventory, flags, scoring,
#: the autograded notebook), the sandboxed run not included (it has the sandbox's own limits).
#: Checked between steps and between cells of the static analysis; see SECURITY.md for the worst case.
TRUSTED_SECONDS = 30.0
#: Longest student id (a folder name) that is graded; nbgrader stores it as the gradebook's key.
MAX_STUDENT_ID = 128
log = logging.getLogger("autograder")


class Deadline:
    """A time budget on a monotonic clock that can be paused (while the sandbox runs the code).

    ``expired`` is True once more than ``seconds`` have been spent outside :meth:`paused` blocks.
    """

    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds, self.clock = float(seconds), clock
        self.start, self.excluded = clock(), 0.0

    def spent(self) -> float:
        return self.clock() - self.start - self.excluded

    @property
    def expired(self) -> bool:
        return self.spent() > self.seconds

    @contextlib.contextmanager
    def paused(self):
        t0 = self.clock()
        try:
            yield
        finally:
            self.excluded += self.clock() - t0


@dataclass
class SubmissionResult:
    """Everything the pipeline decided about one submission."""
    student: str
    assignment: str
    timestamp: str | None = None
    seed: int | None = None
    notebook_sha256: str | None = None
    scores: dict[str, float] = field(default_factory=dict)        # test grade_id -> points
    max_scores: dict[str, float] = field(default_factory=dict)
    cases: dict[str, list[CaseResult]] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)         # grade_id -> answered|no_response|missing
    comments: dict[str, str] = field(default_factory=dict)        # answer grade_id -> comment for nbgrader
    flags: list[str] = field(default_factory=list)                # integrity concerns, for the instructor
    errors: list[str] = field(default_factory=list)               # faults that cost points
    notes: list[str] = field(default_factory=list)                # what was repaired or ignored
    changes: list[str] = field(default_factory=list)              # "old -> new" per changed score
    skipped: bool = False                                         # already graded, left as is
    graded_at: str | None = None
    seconds: float = 0.0
    notebook: dict | None = field(default=None, repr=False, metadata={"log": False})
    autograded_text: str | None = field(default=None, repr=False, metadata={"log": False})

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())


@dataclass
class Course:
    """The parts of an nbgrader course directory the pipeline needs, read once per batch."""
    root: str
    assignment: str
    db_url: str
    course_id: str
    submitted_dir: str       # submitted/  (formats: <dir>/<student>/<assignment>/)
    autograded_dir: str
    release: ReleaseNotebook
    release_manifest: dict[str, str]
    specs: list[Spec]
    public_files: list[str] = field(default_factory=list)   # released files bound read-only into the sandbox

    @property
    def notebook_name(self) -> str:
        return self.assignment

    def submission_dir(self, student: str) -> str:
        return os.path.join(self.submitted_dir, student, self.assignment)


def load_course(course_root: str, assignment: str) -> Course:
    """Read the course's nbgrader configuration (instructor's file) and the released notebook."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader, ConfigFileNotFound

    from .sandbox.public import release_files

    root = os.path.abspath(course_root)
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    except ConfigFileNotFound:
        config = None
    cd = CourseDirectory(config=config) if config is not None else CourseDirectory()
    cd.root = root
    release_dir = cd.format_path(cd.release_directory, ".", assignment)
    nb_path = os.path.join(release_dir, f"{assignment}.ipynb")
    if not os.path.isfile(nb_path):
        raise FileNotFoundError(f"no released notebook {nb_path}; run `nbgrader generate_assignment {assignment}`")
    release = ReleaseNotebook.load(nb_path)
    specs = specs_for(assignment)
    for spec in specs:
        if spec.grade_id not in release.tests or spec.function not in release.answers:
            raise LookupError(f"the released notebook has no answer cell {spec.function!r} with test cell "
                              f"{spec.grade_id!r}; it does not match the specs of {assignment}")
    return Course(root=root, assignment=assignment, db_url=cd.db_url, course_id=cd.course_id,
                  submitted_dir=os.path.join(root, cd.submitted_directory),
                  autograded_dir=os.path.join(root, cd.autograded_directory),
                  release=release, release_manifest=release_manifest(release_dir), specs=specs,
                  public_files=release_files(release_dir))


def student_id_problem(name: str) -> str | None:
    """Why a folder name of submitted/ cannot be a student id of the gradebook, or None when it can:
    it must be UTF-8 text of printable characters (no control or bidi characters), at most
    MAX_STUDENT_ID characters, not start with '.', and hold no path separator."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the folder name is not UTF-8 text"
    if not name or name.startswith(".") or os.sep in name or (os.altsep and os.altsep in name):
        return "the folder name is empty, hidden or holds a path separator"
    if not name.isprintable():
        return "the folder name holds control or formatting characters"
    if len(name) > MAX_STUDENT_ID:
        return f"the folder name is longer than {MAX_STUDENT_ID} characters"
    return None


def scan_students(course: Course) -> tuple[list[str], list[str]]:
    """(student ids with a submission of the assignment, sorted; reasons for folders left out).

    A folder of submitted/ is a student when it is a real folder (not a link) whose name can be a
    gradebook id (:func:`student_id_problem`) and that holds an entry named like the assignment
    (whatever it is: grading then says what is wrong with it). Entries that are not folders are
    ignored; nothing is opened or followed.
    """
    try:
        entries = list(os.scandir(course.submitted_dir))
    except OSError:
        return [], []
    students, refused = [], []
    for entry in entries:
        name = entry.name
        try:
            if name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            os.lstat(os.path.join(entry.path, course.assignment))
        except OSError:
            continue
        problem = student_id_problem(name)
        if problem is None:
            students.append(name)
        else:
            refused.append(f"submitted/{shown(name)} was not graded: {problem}")
    return sorted(students), sorted(refused)


def list_students(course: Course) -> list[str]:
    """Student ids with a submission of the assignment (see :func:`scan_students`)."""
    return scan_students(course)[0]


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
                     snapshot_root: str | None = None) -> SubmissionResult:
    """Steps 1-6 for one student (the gradebook is not touched here).

    The trusted side's own work is bounded by TRUSTED_SECONDS (:class:`Deadline`, the sandboxed run
    excluded): once past it, the steps not yet done are skipped with a fault (cases not run get no
    points; points already earned are kept), and the score and the autograded notebook are still made.
    """
    start = time.monotonic()
    deadline = Deadline(TRUSTED_SECONDS)
    seed = secrets.randbits(63) if seed is None else int(seed)
    result = SubmissionResult(student=student, assignment=course.assignment, seed=seed,
                              graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
    make_sandbox = make_sandbox or default_sandbox_factory()
    nb_name = f"{course.notebook_name}.ipynb"
    nb = inv = None
    with tempfile.TemporaryDirectory(prefix="grading-", dir=snapshot_root) as tmp:
        # 1. snapshot: from here on only the private copy is read (timestamp and hash included)
        copy = os.path.join(tmp, "submission")
        try:
            snap = snapshot(course.submission_dir(student), copy, first=(nb_name,), deadline=deadline)
        except NotReadable as exc:
            result.errors.append(f"the submission could not be read: {exc}")
            snap = None
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


# -- a batch --------------------------------------------------------------------------------

@dataclass
class Progress:
    """What a progress callback receives after each submission."""
    done: int
    total: int
    elapsed: float
    result: SubmissionResult
    skipped: int = 0        # of ``done``, how many were already graded (they took no time)

    @property
    def eta(self) -> float:
        graded = max(self.done - self.skipped, 1)
        return self.elapsed / graded * (self.total - self.done)


def record(course: Course, gb, result: SubmissionResult) -> None:
    """Store one result. Order matters: gradebook first (the official score), then the
    autograded notebook (for feedback), then the log (which marks the submission as done)."""
    changes = gradebook.write_grades(gb, result, course.notebook_name)
    result.changes = [str(c) for c in changes]
    feedback.write_autograded(course, result)
    gradebook.write_record(course.root, result)


def grade_assignment(course_dir: str, assignment: str, students: list[str] | None = None, workers: int = 2,
                     seed: int | None = None, regrade: bool = False, progress=None,
                     limits=None) -> list[SubmissionResult]:
    """Grade every submission of ``assignment`` (or only ``students``) and fill the gradebook.

    Submissions already graded with the same timestamp and notebook are skipped unless
    ``regrade``. ``seed`` fixes the hidden cases (to reproduce a logged run); by default each
    submission gets a fresh secret seed. ``workers`` submissions are graded at once, each in
    its own sandboxed worker forked from one warm pool; ``limits`` (a ``sandbox.Limits``) bounds
    each submission. ``progress(Progress)`` is called after each one.
    Returns one :class:`SubmissionResult` per submission, in student order; skipped ones
    have ``skipped=True``; regraded ones list their changed scores in ``changes``.
    """
    from .sandbox import Limits

    course = load_course(course_dir, assignment)
    if students is None:
        wanted, refused = scan_students(course)
        for reason in refused:      # the rest of the class is graded
            log.warning("%s", reason)
    else:
        wanted = list(students)
    results: dict[str, SubmissionResult] = {}
    start = time.monotonic()
    with gradebook.open_gradebook(course.db_url, course.course_id) as gb:
        gradebook.check_assignment(gb, assignment, course.notebook_name)
        todo = []
        for student in wanted:
            if not student or student.startswith(".") or os.sep in student or (os.altsep or os.sep) in student:
                raise ValueError(f"invalid student id {student!r}")
            folder = course.submission_dir(student)
            if not os.path.lexists(folder):
                raise FileNotFoundError(f"no submission folder {folder}")
            # bounded, non-blocking reads (see live_fingerprint): a pipe or a link there cannot stall the batch
            if not regrade and gradebook.already_graded(
                    gb, course.root, assignment, course.notebook_name, student,
                    *live_fingerprint(folder, f"{course.notebook_name}.ipynb")):
                results[student] = SubmissionResult(student=student, assignment=assignment, skipped=True)
                continue
            todo.append(student)
        done = skipped = len(results)
        if not todo:
            return [results[s] for s in wanted]
        workers = max(1, int(workers))
        with gradebook.batch_mode(gb), _graders(course, workers, limits or Limits()) as submit:
            futures = [submit(s, seed) for s in todo]
            # while the first submissions are graded: the rows nbgrader needs for each of them
            gradebook.ensure_submissions(gb, assignment, todo)
            for fut in as_completed(futures):
                res = fut.result()
                record(course, gb, res)     # only this thread writes, one submission at a time
                results[res.student] = res
                done += 1
                if progress is not None:
                    progress(Progress(done, len(wanted), time.monotonic() - start, res, skipped))
    return [results[s] for s in wanted]


@contextlib.contextmanager
def _graders(course: Course, workers: int, limits):
    """``submit(student, seed) -> Future[SubmissionResult]`` for ``workers`` submissions at a time.

    One worker: a thread of this process, so grading overlaps with the writes of the calling
    thread. More: that many processes, each with its own warm sandbox pool, because the trusted
    side of grading (decoding replies, comparing with the reference) is Python code that one
    process would run on one core at a time. The processes only compute results; writing them
    stays with the caller.
    """
    from .sandbox import WorkerPool

    if workers == 1:
        with WorkerPool(1, limits=limits, public_files=course.public_files) as pool, \
                ThreadPoolExecutor(max_workers=1) as threads:
            with _cancel_on_error(threads):
                yield lambda student, seed: threads.submit(_grade_safely, course, student, seed, pool.sandbox)
        return
    ctx = multiprocessing.get_context("fork")   # children inherit the loaded course and specs
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_process_start,
                             initargs=(course, limits)) as procs:
        with _cancel_on_error(procs):
            yield lambda student, seed: procs.submit(_process_grade, student, seed)


@contextlib.contextmanager
def _cancel_on_error(executor):
    """If the batch stops (an error, Ctrl-C), do not grade the submissions still queued."""
    try:
        yield
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        raise


_PROCESS: dict = {}


def _process_start(course: Course, limits) -> None:
    """In a grading process: start its sandbox pool, closed when the process ends."""
    from multiprocessing import util

    from .sandbox import WorkerPool

    try:
        pool = WorkerPool(1, limits=limits, public_files=course.public_files).start()
    except Exception as exc:  # reported by the first task, so the batch stops with the reason
        _PROCESS["error"] = exc
        return
    util.Finalize(None, pool.close, exitpriority=10)
    _PROCESS.update(course=course, pool=pool)


def _process_grade(student: str, seed) -> SubmissionResult:
    if "error" in _PROCESS:
        raise _PROCESS["error"]
    return _grade_safely(_PROCESS["course"], student, seed, _PROCESS["pool"].sandbox)


def _grade_safely(course: Course, student: str, seed, make_sandbox) -> SubmissionResult:
    """grade_submission, turning any unexpected failure into a zero with a reason, so the
    batch always completes and nothing is left pending."""
    try:
        res = grade_submission(course, student, seed=seed, make_sandbox=make_sandbox)
        res.autograded_text = feedback.autograded_text(course, res)   # encoded here, written by the caller
        return res
    except Exception as exc:  # a bug or an environment failure: grade 0, say why, keep going
        res = SubmissionResult(student=student, assignment=course.assignment, seed=seed,
                               graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
        timestamp, res.notebook_sha256 = live_fingerprint(course.submission_dir(student),
                                                          f"{course.notebook_name}.ipynb")
        res.timestamp = valid_timestamp(timestamp, res)
        res.errors.append(f"grading failed: {type(exc).__name__}: {str(exc)[:300]}")
        for spec in course.specs:
            res.cases[spec.grade_id] = []
        res.written = {gid: "answered" for gid in course.release.written}
        score(course, res)
        res.notebook = autograded.rebuild(None, course.release, None)
        res.autograded_text = feedback.autograded_text(course, res)
        return res
