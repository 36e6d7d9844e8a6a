"""Grading on a dask.distributed cluster: a LocalCluster of worker processes, or an existing cluster.

Each worker starts the sandbox's warm fork server once (:class:`SandboxPlugin`, a dask ``WorkerPlugin``)
and grades with :func:`autograder.local_graders.grade_safely`, exactly as a local grading process does; a
worker whose sandbox cannot start (no bubblewrap, no user namespaces) refuses every submission with the
reason, and the batch reports it per submission without storing anything for it. Workers only return
plain :class:`SubmissionResult` objects; the caller (:mod:`autograder.batch`) checks them and is the only
writer. What travels to a worker: the course as loaded here (released notebook, specs) with the bytes of
the released files bound into the sandbox, and per submission its id, its hidden-case seed and its bounded
snapshot (:mod:`autograder.shipment`: taken here, with the caps and the deadline of local grading, released
files the submission holds unchanged named rather than sent, and
written by the worker into a private folder of its own), so no worker reads the course folder and no
shared file system is needed. The answer code and the case inputs go from the worker into its sandbox, on
that machine. The grader sends new submissions while those in flight are fewer than TASKS_PER_THREAD per worker
thread and hold less than MAX_BYTES_IN_FLIGHT bytes, and keeps only the results of those done. A worker that dies is replaced by dask, which runs its
submissions again elsewhere (``distributed.scheduler.allowed-failures`` times at most); a cluster that
returns nothing for ``stall_seconds`` ends the batch's wait with a reason for each submission left.
"""
from __future__ import annotations

import collections
import contextlib
import math
import os
import tempfile
import time
import uuid
from concurrent.futures import CancelledError

from .course import CourseError
from .local_graders import grade_safely
from .sandbox.public import MAX_PUBLIC_BYTES
from .shipment import pack, unpack

__all__ = ["ClusterUnavailable", "LOCAL_CLUSTER_CONFIG", "SandboxPlugin", "TASKS_PER_THREAD", "WorkerCannotSandbox", "check_address",
           "dask_graders", "grade_on_worker", "local_cluster",
           "stall_seconds"]

#: retries of a submission whose task raised (a worker that cannot sandbox: another one may take it)
RETRIES = 2
#: bytes of snapshots sent and not yet graded past which no new submission is sent (one more may be packed)
MAX_BYTES_IN_FLIGHT = 256 * 1024 * 1024
#: submissions in flight per worker thread of the cluster (the rest wait here, not yet packed)
TASKS_PER_THREAD = 4
#: seconds between two questions to the scheduler about how many worker threads the cluster has
THREADS_SEEN_SECONDS = 5.0
#: dask settings of the LocalCluster the grader starts (recommended for the workers of any grading cluster):
#: dask's statistical profiler samples every worker thread every 10 ms and its event-loop watchdog wakes every
#: 20 ms, which on a busy machine cost the grading threads about a tenth of their time (benchmarks/RESULTS.md)
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
}


def stall_seconds(limits) -> float:
    """How long a batch waits for the next result from a cluster before it gives up on the rest: twice the
    longest a submission may take (the trusted side's bound plus the sandbox's), plus a minute to start.

    >>> from autograder.sandbox import Limits
    >>> stall_seconds(Limits())
    240.0
    """
    from .grade import TRUSTED_SECONDS

    return 2.0 * (TRUSTED_SECONDS + float(limits.wall_seconds_total)) + 60.0


class ClusterUnavailable(CourseError):
    """The cluster asked for cannot be used: dask missing, a malformed address, no scheduler there."""


class WorkerCannotSandbox(RuntimeError):
    """This dask worker could not start the sandbox, so it grades nothing."""


def _plugin_base():
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class SandboxPlugin(_plugin_base()):
    """Starts one warm sandbox pool per dask worker (``setup``) and closes it with the worker (``teardown``).

    Args:
        course: the :class:`autograder.course.Course` being graded (pickled to every worker).
        limits: the :class:`autograder.sandbox.Limits` of each submission.

    The released files bound into the sandbox travel as bytes (read here, at most MAX_PUBLIC_BYTES together)
    and are written on each worker into a private folder under the same names.
    """

    def __init__(self, course, limits):
        from .snapshot import read_bytes

        self.course, self.limits = course, limits
        self.public = {os.path.basename(path): read_bytes(path, MAX_PUBLIC_BYTES) for path in course.public_files}
        self.pool = None
        self.folder: str | None = None
        self.error: str | None = None

    def setup(self, worker) -> None:
        from .sandbox import WorkerPool

        _warm_up()
        try:
            self.folder = tempfile.mkdtemp(prefix="released-")
            paths = []
            for name, content in self.public.items():
                paths.append(os.path.join(self.folder, name))
                with open(paths[-1], "xb") as fh:
                    fh.write(content)
            self.pool = WorkerPool(1, limits=self.limits, public_files=paths).start()
        except Exception as exc:   # no bubblewrap, no user namespaces...: said for each submission
            self.error = f"{type(exc).__name__}: {str(exc)[:300]}"

    def teardown(self, worker) -> None:
        import shutil

        if self.pool is not None:
            self.pool.close()
            self.pool = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _warm_up() -> None:
    """Import now what grading imports on first use, so that no submission's time budget pays for it (a fresh
    worker process has none of it loaded, unlike a local grading process, forked from the loaded grader)."""
    import importlib

    for name in ("rnngrad", "nbgrader.utils", "autograder.grade", "autograder.run"):   # nbgrader: the timestamp check
        importlib.import_module(name)


def grade_on_worker(shipped, seed, plugin_name: str):
    """On a dask worker: grade one submission, sent as a :class:`autograder.shipment.Shipment`, with the
    worker's sandbox pool (see :class:`SandboxPlugin`). The shipment is written into a private folder first;
    one that breaks the snapshot's caps raises :class:`autograder.shipment.ShipmentRefused` (the batch lists
    the submission as not graded, with the reason)."""
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(plugin_name)
    if plugin is None or plugin.pool is None:
        why = "its sandbox was not set up" if plugin is None else plugin.error
        raise WorkerCannotSandbox(f"the dask worker {worker.address} cannot run the sandbox ({why})")
    with tempfile.TemporaryDirectory(prefix="received-") as tmp:
        taken = unpack(shipped, os.path.join(tmp, "submission"))
        return grade_safely(plugin.course, shipped.student, seed, plugin.pool.sandbox, taken=taken)


class _Sent:
    """One submission's way through the cluster, as the batch sees a future: ``done()``, ``result()``,
    ``cancel()``. Queued here until :class:`DaskGraders` packs and sends it; once its task is done, its
    outcome is kept here and the cluster's copy (the shipment included) is released."""

    def __init__(self, student: str, seed):
        self.student, self.seed = student, seed
        self.future = None
        self.size = 0
        self.outcome: tuple | None = None       # (True, result) or (False, exception)

    def done(self) -> bool:
        return self.outcome is not None

    def result(self):
        ok, value = self.outcome
        if ok:
            return value
        raise value

    def cancel(self) -> None:
        if self.future is not None:
            self.future.cancel()
            self.future = None
        if self.outcome is None:
            self.outcome = (False, CancelledError("cancelled before it was graded"))

    def settle(self) -> None:
        """Keep the outcome of a finished task and let the cluster forget it."""
        try:
            self.outcome = (True, self.future.result())
        except Exception as exc:
            self.outcome = (False, exc)
        self.future = None


class DaskGraders:
    """``submit(student, seed)`` and ``wait(futures, timeout)`` on a dask client (see :func:`dask_graders`)."""

    remote = True

    def __init__(self, client, plugin_name: str, course):
        self.client, self.plugin_name, self.course = client, plugin_name, course
        self.queue: collections.deque[_Sent] = collections.deque()
        self.in_flight: set[_Sent] = set()
        self._bytes_in_flight = 0
        self._threads, self._threads_seen = 1, -math.inf

    def submit(self, student: str, seed) -> _Sent:
        sent = _Sent(student, seed)
        self.queue.append(sent)
        self._send()
        return sent

    def _task_limit(self) -> int:
        """How many submissions may be in flight: TASKS_PER_THREAD per worker thread of the cluster now
        (asked of the scheduler at most every THREADS_SEEN_SECONDS, so a cluster that grows gets more)."""
        now = time.monotonic()
        if now - self._threads_seen > THREADS_SEEN_SECONDS:
            with contextlib.suppress(Exception):
                self._threads = max(1, sum(self.client.nthreads().values()))
            self._threads_seen = now
        return TASKS_PER_THREAD * self._threads

    def _send(self) -> None:
        """Pack and send queued submissions while those in flight are fewer than :meth:`_task_limit` and hold
        less than MAX_BYTES_IN_FLIGHT: a submission is packed shortly before a worker is free for it, and the
        scheduler holds a few tasks per worker rather than the whole class."""
        from .grade import TRUSTED_SECONDS

        while self.queue and (not self.in_flight or (self._bytes_in_flight < MAX_BYTES_IN_FLIGHT
                                                     and len(self.in_flight) < self._task_limit())):
            sent = self.queue.popleft()
            if sent.done():         # cancelled while queued
                continue
            try:
                shipped = pack(self.course.submission_dir(sent.student), sent.student,
                               f"{self.course.notebook_name}.ipynb", TRUSTED_SECONDS, self.course.release_manifest)
            except Exception as exc:    # the batch lists it as not graded, with the reason
                sent.outcome = (False, exc)
                continue
            sent.size = shipped.size
            sent.future = self.client.submit(grade_on_worker, shipped, sent.seed, self.plugin_name,
                                             pure=False, retries=RETRIES)
            self.in_flight.add(sent)
            self._bytes_in_flight += sent.size

    def wait(self, futures, timeout: float | None) -> set:
        """The submissions of ``futures`` that are done, waiting up to ``timeout`` seconds for the first one."""
        from distributed import wait

        if not any(s.done() for s in futures):
            running = [s.future for s in futures if s.future is not None]
            if running:
                try:
                    wait(running, timeout=timeout, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    pass
        for sent in list(self.in_flight):
            if sent.future is None or sent.future.done():
                if sent.future is not None:
                    sent.settle()
                self._landed(sent)
        self._send()
        return {s for s in futures if s.done()}

    def cancel(self, futures) -> None:
        for sent in futures:
            sent.cancel()
            self._landed(sent)

    def _landed(self, sent: _Sent) -> None:
        """``sent`` is no longer in flight."""
        if sent in self.in_flight:
            self.in_flight.discard(sent)
            self._bytes_in_flight -= sent.size


def check_address(address) -> None:
    """Raise :class:`ClusterUnavailable` unless ``address`` is True, "local", a distributed.Client or an address
    ``tcp://host:port`` / ``tls://host:port``; checked before any work, so that a typo answers at once."""
    if address is True or address == "local":
        return
    if isinstance(address, str) and address.split("://", 1)[0] in ("tcp", "tls") and "://" in address \
            and len(address) <= 300:
        return
    if type(address).__name__ == "Client" and hasattr(address, "submit"):
        return
    raise ClusterUnavailable(f"--dask takes a scheduler address such as tcp://host:8786 or tls://host:8786 "
                             f"(or nothing, for a cluster on this machine); got {str(address)[:100]!r}")


def local_cluster(workers: int):
    """A dask LocalCluster of ``workers`` single-threaded worker processes on the loopback interface (the
    scheduler's small HTTP server too, on a free port), with :data:`LOCAL_CLUSTER_CONFIG`."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_CLUSTER_CONFIG):     # the workers take the configuration they start with
        return LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1, processes=True,
                            host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=40)


@contextlib.contextmanager
def dask_graders(course, workers: int, limits, address):
    """A :class:`DaskGraders` on ``address``: "local" or True for a LocalCluster of ``workers`` worker
    processes (one thread each, on the loopback interface, no dashboard), a scheduler address
    ("tcp://host:port", "tls://host:port"; TLS settings come from dask's configuration) or a
    ``distributed.Client``. Every worker gets a :class:`SandboxPlugin`, removed at the end."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable("grading on a cluster needs dask.distributed: pip install -r requirements.txt") \
            from None

    check_address(address)
    with contextlib.ExitStack() as stack:
        if isinstance(address, Client):
            client = address
        elif address is True or address == "local":
            cluster = stack.enter_context(local_cluster(workers))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(address))
            except (OSError, TimeoutError) as exc:
                raise ClusterUnavailable(f"--dask {address}: no dask scheduler answers there "
                                         f"({type(exc).__name__}: {str(exc)[:200]})") from None
        name = f"rnngrad-sandbox-{uuid.uuid4().hex}"
        client.register_plugin(SandboxPlugin(course, limits), name=name)
        try:
            yield DaskGraders(client, name, course)
        finally:
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(name)
