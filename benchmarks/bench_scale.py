"""Grading a large class end to end: the process pool and a Dask LocalCluster, 1 and 2 workers, per-stage costs.

    python benchmarks/bench_scale.py                                  # 5,000 submissions, all four configurations
    python benchmarks/bench_scale.py --submissions 200 --workers 1 --backends pool --json out.json

One class is made once (``scale_class.py``): every problem set released by nbgrader in one course, and
``--submissions`` submissions spread over the sets with the mix of ``scale_class.json`` (right, partly right,
wrong, empty, broken) and ``--loops`` infinite loops in all. Every configuration grades the whole class from
scratch in its own copy of the course, one set after the other, as ``autograder.batch.grade_assignment``
does for the command line: ``pool`` runs local processes (one worker: a thread), ``dask`` starts one
LocalCluster of that many single-threaded worker processes and grades every set on it (its start is
timed with the rest).

Reported per configuration: wall seconds, submissions per second, the mean seconds per submission in the
sandbox, in the trusted comparison and in writing (the writer's own time), the writer's capacity, scaling from
1 to 2 workers and Dask's time relative to the pool's. Then Dask's own cost per task, measured on the cluster of
the largest worker count once it has graded the class (tasks that only return a result of a submission's median
pickled size, or nothing), and the projection of ``scale_projection.py``: how many workers a cluster
can use before the writer or the scheduler limits. Each run checks that every submission has a score for every
autograded cell in the gradebook, and prints the mean score of each kind of submission.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import pickle
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (os.path.dirname(HERE), HERE) if p not in sys.path]

import scale_class  # noqa: E402
from scale_projection import dask_task_overhead, projection  # noqa: E402

from autograder.batch import grade_assignment  # noqa: E402

STAGES = ("sandbox", "compare", "encode", "grade", "turnaround")


def dask_available() -> str | None:
    """None when the Dask backend can run here, else why not."""
    if "dask" not in inspect.signature(grade_assignment).parameters:
        return "grade_assignment has no dask option"
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        return f"dask.distributed is not installed ({exc})"
    return None


def make_class(root: str, submissions: int, loops: int, sets: list[str], rng: int = 0):
    """The course with its class written; returns (course, planned submissions)."""
    mix = scale_class.load_mix()
    course = scale_class.make_course(root, sets)
    made = {a: scale_class.templates(course, a, mix) for a in sets}
    planned = scale_class.plan(sets, submissions, mix, loops=loops, rng=rng,
                               names={a: list(m) for a, m in made.items()})
    scale_class.write_class(course, planned, made, mix["timestamp"])
    return course, planned


def clone_course(base: str, dest: str) -> str:
    """A copy of the course to grade: the submissions hard-linked (grading only reads them), the rest copied."""
    def link_submitted(src, dst):
        if os.sep + "submitted" + os.sep in src:
            try:
                return os.link(src, dst)
            except OSError:
                pass
        return shutil.copy2(src, dst)
    shutil.copytree(base, dest, symlinks=True, copy_function=link_submitted)
    return dest


def graded_counts(course: str) -> dict[str, int]:
    """set -> submissions whose every autograded test cell has a score in the gradebook."""
    con = sqlite3.connect(os.path.join(course, "gradebook.db"))
    try:
        rows = con.execute(
            "SELECT a.name, s.student_id, MIN(g.auto_score IS NOT NULL) FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id "
            "JOIN assignment a ON s.assignment_id = a.id "
            "JOIN base_cell c ON g.cell_id = c.id "
            "WHERE c.name LIKE 'test_%' GROUP BY a.name, s.student_id").fetchall()
    finally:
        con.close()
    out: dict[str, int] = defaultdict(int)
    for name, _, ok in rows:
        out[name] += bool(ok)
    return dict(out)


def _start_cluster(workers: int):
    """The LocalCluster ``grade --dask`` starts (its settings included) and a client of it."""
    from distributed import Client

    from autograder.dask_backend import local_cluster

    cluster = local_cluster(workers)
    return cluster, Client(cluster)


def run_config(base: str, work: str, backend: str, workers: int, sets: list[str], expected: dict[str, int],
               overhead_tasks: int = 0):
    """Grade the whole class once; returns (row, results). With Dask and ``overhead_tasks``, then measure Dask's
    own cost per task on the same cluster (``row["dask_overhead"]``, not in the timed part)."""
    from autograder.writer import WriterStats

    course = clone_course(base, os.path.join(work, f"{backend}{workers}"))
    stats, results, cluster, client, overhead = WriterStats(), [], None, None, None
    load_before = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    try:
        if backend == "dask":
            cluster, client = _start_cluster(workers)
        started = time.perf_counter() - start
        per_set, sizes = {}, []
        for a in sets:
            options = {"dask": client} if client is not None else {}
            t = time.perf_counter()
            graded = grade_assignment(course, a, workers=workers, stats=stats, **options)
            per_set[a] = {"seconds": time.perf_counter() - t, "submissions": len(graded),
                          **{f"mean_{k}": statistics.fmean(r.stage_seconds.get(k, 0.0) for r in graded)
                             for k in ("sandbox", "compare", "grade")}}
            sizes += [len(pickle.dumps(r)) for r in graded[:50]]   # what a Dask worker sends back
            for r in graded:        # kept: scores and stage seconds; dropped: the notebooks (memory)
                r.notebook = r.autograded_text = None
            results += graded
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        if client is not None and overhead_tasks:
            payload = int(statistics.median(sizes))
            overhead = {"trivial": dask_task_overhead(client, overhead_tasks, 0),
                        "payload": dask_task_overhead(client, overhead_tasks, payload)}
    finally:
        if client is not None:
            client.close()
            cluster.close()
    graded = graded_counts(course)
    if graded != expected:
        raise SystemExit(f"{backend}, {workers} worker(s): graded {graded}, expected {expected}")
    shutil.rmtree(course)
    n = len(results)
    means = {k: statistics.fmean(r.stage_seconds.get(k, 0.0) for r in results) for k in STAGES}
    row = {"backend": backend, "workers": workers, "submissions": n, "seconds": wall, "per_second": n / wall,
           "start_seconds": started, "main_cpu": cpu / n, **{f"mean_{k}": v for k, v in means.items()},
           "write": stats.seconds / max(stats.submissions, 1), "writer_per_second": stats.per_second,
           "writer_batches": stats.batches, "writer_gradebook": stats.gradebook_seconds,
           "writer_files": stats.files_seconds, "load_before": load_before, "load_after": os.getloadavg()[0],
           "sets": per_set}
    if overhead is not None:
        row["dask_overhead"] = overhead
    return row, results


def score_table(planned, results) -> dict[str, dict[str, float]]:
    """kind -> {"n", "mean_share"}: mean share of the points, over the sets, per kind of submission."""
    kind = {(s.student, s.assignment): ("infinite_loop" if s.template == scale_class.LOOP else s.kind)
            for s in planned}
    shares: dict[str, list[float]] = defaultdict(list)
    for r in results:
        shares[kind[r.student, r.assignment]].append(r.total / r.max_total if r.max_total else 0.0)
    return {k: {"n": len(v), "mean_share": statistics.fmean(v)} for k, v in sorted(shares.items())}


def print_report(summary: dict) -> None:
    print(f"\n{'configuration':<16} {'seconds':>8} {'subs/s':>7} {'start':>6} {'sandbox':>8} {'compare':>8} "
          f"{'encode':>7} {'write':>7} {'writer/s':>9} {'main CPU':>9} {'load':>9}")
    for r in summary["runs"]:
        print(f"{r['backend'] + ', ' + str(r['workers']) + ' worker' + ('s' if r['workers'] > 1 else ''):<16} "
              f"{r['seconds']:8.1f} {r['per_second']:7.1f} {r['start_seconds']:6.2f} {r['mean_sandbox']:8.4f} "
              f"{r['mean_compare']:8.4f} {r['mean_encode']:7.4f} {r['write']:7.4f} {r['writer_per_second']:9.0f} {r['main_cpu']:9.4f} "
              f"{r['load_before']:4.1f}>{r['load_after']:<4.1f}")
    print("(mean seconds per submission; write: the writer's own time; main CPU: CPU seconds of the grading command's "
          "process (writer, results, with Dask the client and the scheduler; with one local worker its grading "
          "thread too); load: 1-minute load average before>after)")
    first = min(summary["runs"], key=lambda r: (r["workers"], r["backend"] != "pool"))
    print(f"\nper set, {first['backend']} with {first['workers']} worker(s): wall seconds (pool or sandbox start "
          f"included) and mean seconds per submission")
    print(f"  {'set':<22} {'subs':>5} {'seconds':>8} {'subs/s':>7} {'sandbox':>8} {'compare':>8} {'grade':>7}")
    for a, v in first["sets"].items():
        print(f"  {a:<22} {v['submissions']:5d} {v['seconds']:8.1f} {v['submissions'] / v['seconds']:7.1f} "
              f"{v['mean_sandbox']:8.4f} {v['mean_compare']:8.4f} {v['mean_grade']:7.4f}")
    by = {(r["backend"], r["workers"]): r for r in summary["runs"]}
    for backend in ("pool", "dask"):
        if (backend, 1) in by and (backend, 2) in by:
            print(f"scaling 1 -> 2 workers, {backend}: {by[backend, 1]['seconds'] / by[backend, 2]['seconds']:.2f}x")
    for w in (1, 2):
        if ("pool", w) in by and ("dask", w) in by:
            print(f"dask / pool time, {w} worker{'s' if w > 1 else ''}: "
                  f"{by['dask', w]['seconds'] / by['pool', w]['seconds']:.3f}")
    print("\nmean share of the points by kind of submission (last run):")
    for kind, v in summary["scores"].items():
        print(f"  {kind:<14} {v['n']:6d} submissions  {v['mean_share']:6.1%}")
    if summary.get("dask_overhead"):
        d = summary["dask_overhead"]
        for label, m in d.items():
            print(f"dask per task ({label}, {m['payload_bytes']} B back): {m['wall'] * 1e3:.2f} ms wall, "
                  f"{m['client_cpu'] * 1e3:.2f} ms CPU of the client and scheduler")
    p = summary["projection"]
    print(f"\nprojection: c = {p['c'] * 1e3:.1f} ms of a core per submission, writer w = {p['w']:.0f}/s"
          + (f", Dask s = {p['s'] * 1e3:.2f} ms per task" if p["s"] else ""))
    print(f"  workers before the writer limits: c*w = {p['workers_writer']:.0f}")
    if p["s"]:
        print(f"  workers before the scheduler limits: c/s = {p['workers_scheduler']:.0f}")
        print(f"  writer and scheduler on one core: c/(1/w + s) = {p['workers_shared_core']:.0f} "
              f"({p['max_rate_shared_core']:.0f} submissions/s)")
    print(f"  usable: {p['workers_usable']:.0f} workers, at most {p['max_rate']:.0f} submissions/s")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", "--students", type=int, default=5000,
                        help="submissions in all, spread over the sets (default 5000)")
    parser.add_argument("--loops", type=int, default=None,
                        help="submissions with an infinite loop, in all (default: 1 per 2,500, at least 1)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--backends", nargs="+", choices=["pool", "dask"], default=["pool", "dask"])
    parser.add_argument("--sets", nargs="+", help="problem sets (default: every set with a source notebook)")
    parser.add_argument("--dask-tasks", type=int, default=2000, help="tasks of the Dask overhead measurement")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    sets = args.sets or scale_class.problem_sets()
    loops = args.loops if args.loops is not None else max(1, args.submissions // 2500)
    backends = list(args.backends)
    why = dask_available()
    if "dask" in backends and why:
        print(f"dask skipped: {why}")
        backends.remove("dask")

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        t = time.perf_counter()
        base, planned = make_class(os.path.join(tmp, "base"), args.submissions, loops, sets)
        counts = scale_class.kind_counts(planned)
        print(f"class of {args.submissions} submissions over {len(sets)} sets made in "
              f"{time.perf_counter() - t:.1f} s ({os.cpu_count()} CPUs); {loops} infinite loop(s)")
        for a, c in counts.items():
            print(f"  {a:<22} " + ", ".join(f"{k} {c.get(k, 0)}" for k in (*scale_class.KINDS, "infinite_loop")))
        expected = {a: sum(c.values()) for a, c in counts.items()}
        summary = {"submissions": args.submissions, "loops": loops, "sets": sets, "cpus": os.cpu_count(),
                   "class": counts, "runs": []}
        # the most workers first: the runs that matter most are done first if the benchmark is stopped
        for w in sorted(set(args.workers), reverse=True):
            for backend in backends:
                row, results = run_config(base, tmp, backend, w, sets, expected,
                                          args.dask_tasks if w == max(args.workers) else 0)
                if "dask_overhead" in row:
                    summary["dask_overhead"] = row.pop("dask_overhead")
                summary["runs"].append(row)
                summary["scores"] = score_table(planned, results)
                summarise(summary, args.json)
                print(f"{backend}, {w} worker(s): {row['seconds']:.1f} s, {row['per_second']:.1f} submissions/s",
                      flush=True)
    print_report(summary)
    return summary


def summarise(summary: dict, path: str | None) -> None:
    """Add the projection (from the runs so far) to ``summary`` and write it to ``path``, if any."""
    runs = summary["runs"]
    first = min(runs, key=lambda r: (r["workers"], r["backend"] != "pool"))
    c = first["mean_grade"] + first["mean_encode"]
    w = statistics.fmean(r["writer_per_second"] for r in runs)
    s = summary["dask_overhead"]["payload"]["client_cpu"] if "dask_overhead" in summary else None
    summary["projection"] = {**projection(c, w, s), "c_from": f"{first['backend']}, {first['workers']} worker(s)"}
    summary["load_end"] = os.getloadavg()[0]
    if path:
        with open(path, "w") as fh:
            json.dump(summary, fh, indent=1)


if __name__ == "__main__":
    main()
