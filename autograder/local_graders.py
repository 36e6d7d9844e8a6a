"""Grading on this machine: one submission in a thread, or several in a pool of processes.

Each grader holds a warm sandbox pool (:class:`autograder.sandbox.WorkerPool`) and returns plain
:class:`SubmissionResult` objects; writing them is the caller's (:mod:`autograder.batch`).
:func:`grade_safely` is what every grader runs for one submission, here or on a dask worker
(:mod:`autograder.dask_backend`): the pipeline, with any unexpected failure turned into a zero with
a reason, and the seconds of each stage in ``result.stage_seconds``.
"""
from __future__ import annotations

import contextlib
import datetime
import math
import multiprocessing
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from . import autograded, feedback
from . import grade as pipeline
from .course import Course
from .result import SubmissionResult
from .snapshot import live_fingerprint, valid_timestamp

__all__ = ["LocalGraders", "local_graders", "grade_safely", "failed_result"]


@contextlib.contextmanager
def local_graders(course: Course, workers: int, limits):
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
                yield lambda student, seed: threads.submit(grade_safely, course, student, seed, pool.sandbox)
        return
    ctx = multiprocessing.get_context("fork")   # children inherit the loaded course and specs
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_process_start,
                             initargs=(course, limits)) as procs:
        with _cancel_on_error(procs):
            yield lambda student, seed: procs.submit(_process_grade, student, seed)


class LocalGraders:
    """The futures of :func:`local_graders` behind the interface of :class:`autograder.dask_backend.DaskGraders`:
    ``submit(student, seed)``, ``wait(futures, timeout) -> done``, ``cancel(futures)``, ``remote``, ``stall_seconds``.
    """

    remote = False
    stall_seconds = math.inf        # local processes are bounded by the sandbox and the trusted side's deadline

    def __init__(self, submit):
        self.submit = submit

    @staticmethod
    def wait(futures, timeout: float | None) -> set:
        return wait_futures(futures, timeout=None if timeout is None or math.isinf(timeout) else timeout,
                            return_when=FIRST_COMPLETED).done

    @staticmethod
    def cancel(futures) -> None:
        for f in futures:
            f.cancel()


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
    return grade_safely(_PROCESS["course"], student, seed, _PROCESS["pool"].sandbox)


class _TimedSandbox:
    """A sandbox that adds the seconds spent in it (start, loading, calls, closing) to ``clock[0]``."""

    def __init__(self, sandbox, clock: list):
        self._sandbox, self._clock = sandbox, clock

    def _timed(self, fn, *args, **kwargs):
        start = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            self._clock[0] += time.monotonic() - start

    def __enter__(self):
        self._timed(self._sandbox.__enter__)
        return self

    def __exit__(self, *exc):
        return self._timed(self._sandbox.__exit__, *exc)

    def call(self, *args, **kwargs):
        return self._timed(self._sandbox.call, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._sandbox, name)


def grade_safely(course: Course, student: str, seed, make_sandbox, taken=None) -> SubmissionResult:
    """grade_submission, turning any unexpected failure into a zero with a reason, so the
    batch always completes and nothing is left pending; ``stage_seconds`` says where the time went
    (see :mod:`autograder.batch`). ``taken``: the snapshot already taken (see grade_submission)."""
    clock = [0.0]
    start = time.monotonic()
    graded = None
    try:
        res = pipeline.grade_submission(course, student, seed=seed, taken=taken,
                                        make_sandbox=lambda source: _TimedSandbox(make_sandbox(source), clock))
        graded = time.monotonic()
        res.autograded_text = feedback.autograded_text(course, res)   # encoded here, written by the caller
    except Exception as exc:  # a bug or an environment failure: grade 0, say why, keep going
        graded = graded or time.monotonic()
        res = failed_result(course, student, seed, f"grading failed: {type(exc).__name__}: {str(exc)[:300]}",
                            folder=None if taken is None else taken.folder)
    res.stage_seconds = {"grade": round(graded - start, 6), "sandbox": round(clock[0], 6),
                         "compare": round(max(graded - start - clock[0], 0.0), 6),
                         "encode": round(time.monotonic() - graded, 6)}
    return res


def failed_result(course: Course, student: str, seed, reason: str, folder: str | None = None) -> SubmissionResult:
    """A zero for every case of ``student``'s submission, with ``reason`` as its fault and the
    autograded notebook of the released one (the submission's timestamp and hash read as they are now, from
    ``folder`` when given: the copy a worker received, else the course's submission folder)."""
    res = SubmissionResult(student=student, assignment=course.assignment, seed=seed,
                           graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
    timestamp, res.notebook_sha256 = live_fingerprint(folder or course.submission_dir(student),
                                                      f"{course.notebook_name}.ipynb")
    res.timestamp = valid_timestamp(timestamp, res)
    res.errors.append(reason)
    for spec in course.specs:
        res.cases[spec.grade_id] = []
    res.written = {gid: "answered" for gid in course.release.written}
    pipeline.score(course, res)
    res.notebook = autograded.rebuild(None, course.release, None)
    res.autograded_text = feedback.autograded_text(course, res)
    return res
