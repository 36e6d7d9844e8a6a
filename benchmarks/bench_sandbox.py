"""Cost of running submissions in the sandbox: start-up per submission, per call, and scaling with workers.

    python benchmarks/bench_sandbox.py            # prints a table (and --json FILE to keep the numbers)

Measured:
  (a) a fresh bubblewrap + Python + ``import numpy`` per submission (``Sandbox(source)`` without a pool),
      next to plain ``python -c "import numpy"`` without any sandbox for reference;
  (b) the warm fork server (``WorkerPool``): a fresh isolated process per submission, numpy already imported;
  (c) one call round trip for small and medium arrays;
  (d) grading many submissions with 1 and 2 workers (CPU-bound student functions).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from autograder.sandbox import Limits, Sandbox, WorkerPool  # noqa: E402

SOURCE = """
import numpy as np

def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)

def rnn_forward(xs, h0, W_x, W_h, b):
    h, hs = h0, []
    for x in xs:
        h = np.tanh(x @ W_x + h @ W_h + b)
        hs.append(h)
    return np.stack(hs)

def busy(n):
    # a deliberately slow, CPU-bound pure-Python answer
    s = 0.0
    for i in range(n):
        s += (i % 7) * 0.5
    return s
"""


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--submissions", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    out = {"cpus": len(os.sched_getaffinity(0)), "python": sys.version.split()[0], "numpy": np.__version__}

    plain = timed(lambda: subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True), 5)
    out["plain_python_import_numpy_s"] = plain[0]

    def fresh():
        with Sandbox(SOURCE) as sb:
            assert sb.call("softmax", [np.zeros((2, 3))], {}).ok

    out["fresh_bwrap_per_submission_s"] = timed(fresh, 7)[0]

    with WorkerPool(2) as pool:
        def forked():
            with pool.sandbox(SOURCE) as sb:
                assert sb.call("softmax", [np.zeros((2, 3))], {}).ok

        forked()
        out["fork_server_per_submission_s"] = timed(forked, 30)[0]

        with pool.sandbox(SOURCE) as sb:
            small = rng.normal(size=(8, 10))
            out["call_small_softmax_s"] = timed(lambda: sb.call("softmax", [small], {}), 200)[0]
            T, N, D, H = 50, 32, 16, 64
            medium = [rng.normal(size=(T, N, D)), np.zeros((N, H)), rng.normal(size=(D, H)),
                      rng.normal(size=(H, H)), np.zeros(H)]
            out["call_rnn_forward_T50_N32_H64_s"] = timed(lambda: sb.call("rnn_forward", medium, {}), 50)[0]
            in_process = {}
            exec(compile(SOURCE, "<bench>", "exec"), in_process)
            out["same_rnn_forward_in_process_s"] = timed(lambda: in_process["rnn_forward"](*medium), 50)[0]

    # (d) many submissions, each with a few CPU-bound calls, graded by 1 and then 2 workers.
    def grade(sb, _):
        for _ in range(4):
            assert sb.call("busy", [200_000], {}).ok
        return True

    items = [(SOURCE, k) for k in range(args.submissions)]
    best = {1: float("inf"), 2: float("inf")}
    pools = {w: WorkerPool(w, limits=Limits(wall_seconds_per_call=30)).start() for w in (1, 2)}
    try:
        for w, pool in pools.items():
            pool.map(grade, items[:2])  # warm up
        for _ in range(args.rounds):  # alternate, keep the best of each: other load on the machine varies
            for w, pool in pools.items():
                t = time.perf_counter()
                pool.map(grade, items)
                best[w] = min(best[w], time.perf_counter() - t)
    finally:
        for pool in pools.values():
            pool.close()
    for w in (1, 2):
        out[f"grade_{args.submissions}_submissions_workers{w}_s"] = best[w]
    out["speedup_2_workers"] = best[1] / best[2]
    with open("/proc/loadavg") as fh:
        out["load_average_1min_after"] = float(fh.read().split()[0])

    width = max(map(len, out))
    for key, value in out.items():
        if key.endswith("_s"):
            shown = f"{value * 1e3:9.2f} ms" if value < 1 else f"{value:9.2f} s"
        else:
            shown = f"{value:.2f}" if isinstance(value, float) else f"{value}"
        print(f"{key:<{width}}  {shown}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
