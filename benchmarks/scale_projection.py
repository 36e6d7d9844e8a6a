"""How far a class's grading scales: the per-submission costs measured on a few cores, projected to a cluster.

A batch has three kinds of work (each measured by the scale benchmark, ``bench_scale.py``):

* grading, done by ``W`` workers in parallel: ``c`` seconds of one core per submission (the worker's
  ``grade_submission``, the sandboxed process included, plus encoding the autograded notebook);
* writing, done by the one writer: ``1 / w`` seconds per submission (``w``: the writer's capacity,
  submissions per second of its own time);
* scheduling, with Dask: ``s`` seconds of the client and the scheduler per task (one task per submission),
  measured with tasks that do nothing but return a result of a submission's size.

The batch cannot go faster than its slowest stage, so with ``W`` workers it grades at most
``R(W) = min(W / c, w, 1 / s)`` submissions per second, and a worker added past ``W* = c · min(w, 1 / s)``
(writer: ``c · w``; scheduler: ``c / s``) makes it no faster. When the writer and the scheduler share one
core (a LocalCluster's scheduler runs in the grading command's process), their costs add:
``R ≤ 1 / (1 / w + s)`` and ``W* = c / (1 / w + s)``.

    >>> p = projection(c=0.05, w=500.0, s=0.002)
    >>> round(p["workers_writer"]), round(p["workers_scheduler"]), round(p["workers_shared_core"])
    (25, 25, 12)
"""
from __future__ import annotations

import time

__all__ = ["projection", "rate", "dask_task_overhead"]


def rate(workers: int, c: float, w: float, s: float | None = None, shared_core: bool = False) -> float:
    """Projected submissions per second with ``workers`` workers (see the module docstring).

    Args: ``c`` core seconds per submission on a worker, ``w`` writer submissions per second, ``s`` client and
    scheduler seconds per task (None: no Dask), ``shared_core``: the writer and the scheduler share one core.

    Example:
        >>> rate(10, c=0.05, w=500.0)
        200.0
    """
    if c <= 0 or w <= 0 or (s is not None and s <= 0) or workers < 1:
        raise ValueError(f"c, w, s, workers: expected positive numbers, got c={c}, w={w}, s={s}, workers={workers}")
    limits = [workers / c, w]
    if s is not None:
        limits.append(1.0 / (1.0 / w + s) if shared_core else 1.0 / s)
    return min(limits)


def projection(c: float, w: float, s: float | None = None) -> dict[str, float]:
    """The workers a cluster can use before the writer or the scheduler limits, and the rate it reaches.

    Returns ``workers_writer`` (c·w), ``workers_scheduler`` (c/s), ``workers_shared_core`` (c/(1/w + s)),
    ``workers_usable`` (the smaller of the first two), ``max_rate`` (submissions per second at that point) and
    ``max_rate_shared_core``; the Dask entries are None when ``s`` is None.
    """
    if c <= 0 or w <= 0 or (s is not None and s <= 0):
        raise ValueError(f"c, w, s: expected positive numbers, got c={c}, w={w}, s={s}")
    out: dict = {"c": c, "w": w, "s": s, "workers_writer": c * w, "workers_scheduler": None,
                 "workers_shared_core": None, "max_rate_shared_core": None}
    limit = w
    if s is not None:
        out["workers_scheduler"] = c / s
        out["workers_shared_core"] = c / (1.0 / w + s)
        out["max_rate_shared_core"] = 1.0 / (1.0 / w + s)
        limit = min(w, 1.0 / s)
    out["workers_usable"] = c * limit
    out["max_rate"] = limit
    return out


def _payload(size: int) -> bytes:
    return b"x" * size


def dask_task_overhead(client, tasks: int = 2000, payload_bytes: int = 0) -> dict[str, float]:
    """Seconds per task of Dask alone: ``tasks`` tasks that only return ``payload_bytes`` bytes, submitted at once
    and gathered as they complete, as the batch does.

    Returns ``wall`` (seconds per task, end to end) and ``client_cpu`` (CPU seconds per task of this process,
    which holds the client and, for a LocalCluster, the scheduler).
    """
    from distributed import as_completed

    if tasks < 1 or payload_bytes < 0:
        raise ValueError(f"tasks, payload_bytes: expected tasks >= 1 and payload_bytes >= 0, got {tasks}, "
                         f"{payload_bytes}")
    client.gather(client.map(_payload, [payload_bytes] * 8, pure=False))      # warm the workers
    wall, cpu = time.perf_counter(), time.process_time()
    futures = client.map(_payload, [payload_bytes] * tasks, pure=False)
    for fut in as_completed(futures):
        fut.result()
        fut.release()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"tasks": tasks, "payload_bytes": payload_bytes, "wall": wall / tasks, "client_cpu": cpu / tasks}
