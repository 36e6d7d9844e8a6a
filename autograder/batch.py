"""Grading a whole class: the submissions to grade, workers that grade them, and the one writer.

Submissions are graded by ``workers`` threads or processes (:mod:`autograder.grade` for each one);
their results come back to the calling thread, the only one that writes, which stores each in this
order (``record``): the gradebook transaction, the autograded notebook that ``nbgrader
generate_feedback`` turns into feedback, and the grading log (whose presence marks the submission as
done for a resumed run). A stopped batch (Ctrl-C) raises :class:`GradingInterrupted`, which says how
many submissions were stored; running it again grades the rest.
"""
from __future__ import annotations

import contextlib
import datetime
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from . import autograded, feedback, gradebook
from . import grade as pipeline
from .course import Course, InvalidStudentId, NoSubmission, SetNotReleased, load_course
from .result import SubmissionResult
from .snapshot import live_fingerprint, shown, valid_timestamp
from .students import scan_students, student_id_problem

__all__ = ["GradingInterrupted", "Progress", "grade_assignment", "record"]

log = logging.getLogger("autograder")


class GradingInterrupted(KeyboardInterrupt):
    """The batch was stopped (Ctrl-C) after ``done`` of ``total`` submissions were stored."""

    def __init__(self, done: int, total: int):
        super().__init__(f"interrupted after {done} of {total}")
        self.done, self.total = done, total


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
    changes = gradebook.write_grades(gb, result, course.notebook_name, course_root=course.root)
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
        for student in wanted:
            problem = student_id_problem(student)
            if problem is not None:
                raise InvalidStudentId(f"invalid student id {shown(student)!r}: {problem}")
    results: dict[str, SubmissionResult] = {}
    start = time.monotonic()
    done = 0
    try:
        with _open_gradebook(course) as gb:
            todo = []
            for student in wanted:
                folder = course.submission_dir(student)
                if not os.path.lexists(folder):
                    raise NoSubmission(f"{shown(student)!r} has no submission of {assignment} "
                                       f"(no {os.path.relpath(folder, course.root)}); the students who submitted "
                                       f"it: {', '.join(scan_students(course)[0][:50]) or 'none'}")
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
    except GradingInterrupted:
        raise
    except KeyboardInterrupt:
        raise GradingInterrupted(done, len(wanted)) from None
    return [results[s] for s in wanted]


@contextlib.contextmanager
def _open_gradebook(course: Course):
    """The course's gradebook, which must hold the set (``nbgrader generate_assignment`` puts it there)."""
    how = (f"release it first: cd {course.root} && nbgrader generate_assignment {course.assignment}")
    try:
        gb = gradebook.open_gradebook(course.db_url, course.course_id)
    except FileNotFoundError:
        raise SetNotReleased(f"{course.assignment}: the course has no gradebook yet; {how}") from None
    with gb:
        try:
            gradebook.check_assignment(gb, course.assignment, course.notebook_name)
        except LookupError:
            raise SetNotReleased(f"{course.assignment} is not in the gradebook; {how}") from None
        yield gb


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
        # the pool is closed before the thread is waited for: after Ctrl-C its sandbox stops at once
        with ThreadPoolExecutor(max_workers=1) as threads, \
                WorkerPool(1, limits=limits, public_files=course.public_files) as pool:
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
    """If the batch stops (an error, Ctrl-C), do not grade the submissions still queued. After Ctrl-C the
    submissions being graded are not waited for either (their results would not be stored): grading
    processes are ended, and with them their sandboxes."""
    try:
        yield
    except KeyboardInterrupt:
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        raise
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        raise


_PROCESS: dict = {}


def _process_start(course: Course, limits) -> None:
    """In a grading process: start its sandbox pool, closed when the process ends."""
    from multiprocessing import util

    from .sandbox import WorkerPool

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the batch's to handle (see _cancel_on_error)
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
        res = pipeline.grade_submission(course, student, seed=seed, make_sandbox=make_sandbox)
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
        pipeline.score(course, res)
        res.notebook = autograded.rebuild(None, course.release, None)
        res.autograded_text = feedback.autograded_text(course, res)
        return res
