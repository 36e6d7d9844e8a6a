"""Grading a whole class: the submissions to grade, the workers that grade them, and the one writer.

Submissions are graded by a thread, a pool of processes (:mod:`autograder.local_graders`) or a
dask.distributed cluster (:mod:`autograder.dask_backend`), each with the sandbox's warm fork server;
workers only compute results. The results come back to the calling thread, the only one that writes:
:class:`autograder.writer.ResultWriter` stores them in batches, each batch as one gradebook
transaction followed, submission by submission, by the autograded notebook that ``nbgrader
generate_feedback`` turns into feedback and the grading log (whose presence marks the submission as
done for a resumed run). A stopped batch (Ctrl-C) stores the results already received, then raises
:class:`GradingInterrupted`, which says how many submissions were stored; running it again grades the rest.

Contract (stable; benchmarks and the command line rely on it)::

    grade_assignment(course_dir, assignment, students=None, workers=2, seed=None, regrade=False,
                     progress=None, limits=None, dask=None, batch_size=50, batch_seconds=0.5,
                     stats=None) -> list[SubmissionResult]

* ``dask=None``: ``workers`` local processes (one: a thread). ``dask="local"`` or ``True``: a
  dask.distributed LocalCluster of ``workers`` worker processes, one thread each, started and closed
  by the call. ``dask="tcp://host:port"`` (or ``"tls://..."``, or a ``distributed.Client``): an
  existing cluster; ``workers`` is then ignored.
* ``batch_size`` / ``batch_seconds``: the writer commits once ``batch_size`` results wait, or once the
  oldest has waited ``batch_seconds``, and at the end.
* ``stats``: a :class:`autograder.writer.WriterStats` filled in place (also after Ctrl-C) with the
  writer's own work: ``submissions``, ``batches``, ``seconds`` (all of it), ``gradebook_seconds``,
  ``files_seconds`` and ``per_second`` (submissions / seconds).
* each graded result's ``stage_seconds`` (a dict of seconds): ``"grade"`` (the worker's
  ``grade_submission``), ``"sandbox"`` (of it, inside the sandbox: starting the submission's process,
  loading its code, its calls), ``"compare"`` (of it, the trusted side's own work: snapshot, reading,
  checks, judging, scoring; ``grade - sandbox``), ``"encode"`` (the autograded notebook's text, on the
  worker) and ``"turnaround"`` (from submission to the result in the caller's hands: queue, transfer,
  grading). Skipped results have ``{}``.
* a submission that a cluster could not grade (its worker cannot sandbox, its task failed
  ``distributed.scheduler.allowed-failures`` times, or the cluster stalled) comes back with ``not_graded``
  (the reason, also in ``errors``) and nothing stored: the next run grades it.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from dataclasses import dataclass

from . import feedback, gradebook
from .course import Course, InvalidStudentId, NoSubmission, SetNotReleased, load_course
from .local_graders import LocalGraders, failed_result, local_graders
from .result import SubmissionResult
from .snapshot import live_fingerprint, shown
from .students import scan_students, student_id_problem
from .writer import BATCH_SECONDS, BATCH_SIZE, ResultWriter

__all__ = ["GradingInterrupted", "Progress", "grade_assignment", "record"]

log = logging.getLogger("autograder")

#: the longest autograded notebook accepted from a worker (characters)
MAX_AUTOGRADED_CHARS = 64 * 1024 * 1024


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
                     seed: int | None = None, regrade: bool = False, progress=None, limits=None, dask=None,
                     batch_size: int = BATCH_SIZE, batch_seconds: float = BATCH_SECONDS,
                     stats=None) -> list[SubmissionResult]:
    """Grade every submission of ``assignment`` (or only ``students``) and fill the gradebook.

    Submissions already graded with the same timestamp and notebook are skipped unless
    ``regrade``. ``seed`` fixes the hidden cases (to reproduce a logged run); by default each
    submission gets a fresh secret seed. ``workers`` submissions are graded at once, each in
    its own sandboxed worker forked from one warm pool; ``limits`` (a ``sandbox.Limits``) bounds
    each submission. ``dask``, ``batch_size``, ``batch_seconds`` and ``stats``: see the module's contract.
    ``progress(Progress)`` is called after each one.
    Returns one :class:`SubmissionResult` per submission, in student order; skipped ones
    have ``skipped=True``; regraded ones list their changed scores in ``changes``; a submission that a
    cluster could not grade has ``not_graded`` (why) and nothing stored: the next run grades it.
    """
    from .sandbox import Limits

    if dask is not None and dask is not False:
        from .dask_backend import check_address

        check_address(dask)
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
    count = {"done": 0, "skipped": 0}

    def tell(res: SubmissionResult) -> None:
        results[res.student] = res
        count["done"] += 1
        if progress is not None:
            progress(Progress(count["done"], len(wanted), time.monotonic() - start, res, count["skipped"]))

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
            count["done"] = count["skipped"] = len(results)
            if not todo:
                return [results[s] for s in wanted]
            with gradebook.batch_mode(gb):
                writer = ResultWriter(course, gb, tell, batch_size, batch_seconds, stats)
                try:
                    with _graders(course, max(1, int(workers)), limits or Limits(), dask) as graders:
                        _collect(course, graders, todo, seed, writer, tell,
                                 lambda: gradebook.ensure_submissions(gb, assignment, todo))
                except BaseException:
                    try:    # the results already received are stored (none, if storing itself was stopped)
                        writer.flush()
                    except Exception:
                        log.exception("the results received before the batch stopped could not be stored")
                    raise
                writer.flush()
                log.info("stored %d submissions in %d gradebook transactions; the writer's own time %.3f s",
                         writer.stats.submissions, writer.stats.batches, writer.stats.seconds)
    except GradingInterrupted:
        raise
    except KeyboardInterrupt:
        raise GradingInterrupted(count["done"], len(wanted)) from None
    return [results[s] for s in wanted]


def _collect(course: Course, graders, todo: list[str], seed, writer: ResultWriter, tell, prepare) -> None:
    """Submit every student of ``todo``, then hand each result to ``writer`` as it comes back, storing a
    batch when it is due or when nothing else is waiting (``tell`` gets what is not stored)."""
    submitted = time.monotonic()
    futures = {graders.submit(s, seed): s for s in todo}
    prepare()       # while the first submissions are graded: the rows nbgrader needs for each of them
    pending = set(futures)
    last = time.monotonic()
    while pending:
        left = writer.wait_left()
        timeout = min(left, graders.stall_seconds) if left is not None else graders.stall_seconds
        done = graders.wait(pending, timeout)
        now = time.monotonic()
        if done:
            last = now
        elif writer.wait_left() is None and now - last >= graders.stall_seconds:
            graders.cancel(pending)
            for fut in sorted(pending, key=futures.get):
                tell(_not_graded(course, futures[fut], seed, f"the cluster returned no result for "
                                 f"{graders.stall_seconds:.0f} s"))
            break
        for fut in sorted(done, key=futures.get):
            pending.discard(fut)
            res = _received(course, futures[fut], seed, fut, graders.remote)
            if res.not_graded:
                tell(res)
                continue
            res.stage_seconds["turnaround"] = round(now - submitted, 6)
            writer.add(res)
        if writer.due or (writer.pending and not pending):
            writer.flush()


def _received(course: Course, student: str, seed, fut, remote: bool) -> SubmissionResult:
    """The result of ``student``'s future, checked as a result made from a student's submission must be:
    a SubmissionResult of this student and set, its scores those of the specs within their points, an
    autograded notebook of bounded length. A result that fails the check is a zero with the reason; a
    task that failed on a cluster is a submission not graded (nothing stored)."""
    try:
        res = fut.result()
    except Exception as exc:
        if not remote:
            raise       # a local grader that cannot work (no sandbox) stops the batch with its reason
        try:
            said = str(exc)[:300]
        except Exception:       # an exception whose text cannot be made
            said = "(no message)"
        return _not_graded(course, student, seed, f"{type(exc).__name__}: {said}")
    problem = _result_problem(course, student, res)
    if problem is None:
        return res
    log.warning("%s: the grader returned an unusable result (%s)", shown(student), problem)
    return failed_result(course, student, seed, f"grading failed: the grader returned an unusable result "
                                                f"({problem})")


def _result_problem(course: Course, student: str, res) -> str | None:
    if not isinstance(res, SubmissionResult):
        return f"a {type(res).__name__}, not a SubmissionResult"
    if res.student != student or res.assignment != course.assignment:
        return "a result of another submission"
    if not isinstance(res.scores, dict) or not isinstance(res.stage_seconds, dict):
        return "scores or stage_seconds are not dicts"
    points = {spec.grade_id: spec.points for spec in course.specs}
    if set(res.scores) != set(points):
        return "scores for other cells than the specs'"
    for gid, value in res.scores.items():
        if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= points[gid]:
            return f"score {gid} outside [0, {points[gid]}]"
    if not isinstance(res.autograded_text, str) or len(res.autograded_text) > MAX_AUTOGRADED_CHARS:
        return "no autograded notebook, or one too long"
    return None


def _not_graded(course: Course, student: str, seed, why: str) -> SubmissionResult:
    log.warning("%s was not graded: %s", shown(student), why)
    return SubmissionResult(student=student, assignment=course.assignment, seed=seed, not_graded=why,
                            errors=[f"not graded: {why}"])


@contextlib.contextmanager
def _graders(course: Course, workers: int, limits, dask):
    """``workers`` local graders when ``dask`` is None or False, else a dask cluster's (see the contract)."""
    if dask is None or dask is False:
        with local_graders(course, workers, limits) as submit:
            yield LocalGraders(submit)
        return
    from .dask_backend import dask_graders, stall_seconds

    with dask_graders(course, workers, limits, dask) as graders:
        graders.stall_seconds = stall_seconds(limits)
        yield graders


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
