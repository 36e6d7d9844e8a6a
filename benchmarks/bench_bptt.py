"""Hand-written BPTT (rnngrad.rnn_backward) against torch autograd on the same tanh RNN.

Both sides run on the CPU in float64 with the same number of BLAS threads (torch is set
to the thread count numpy's OpenBLAS reports). The four timed pieces (numpy forward,
numpy backward, torch forward with graph recording, torch autograd backward) run in
turn inside every repeat, so that drifts of the machine affect them alike; the table
gives medians (and the interquartile range) over the repeats after a warm-up.

The backward of each side starts from a finished forward pass: numpy's from the cached
``hs``, torch's from the recorded graph (``torch.autograd.grad`` on the states, with
the same upstream gradients ``dhs``). Before timing, the two gradients are compared.

Usage::

    python benchmarks/bench_bptt.py [--T 64] [--N 32] [--D 128] [--H 128] [--repeats 50] [--warmup 5] [--threads K]
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os
import platform
import time

import numpy as np
import torch

from rnngrad.rnn import rnn_backward, rnn_forward
from rnngrad.torch_ref.rnn import rnn_forward_tensor


def _openblas():
    """numpy's bundled OpenBLAS library (ctypes handle) and its symbol prefix, or (None, None)."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            if hasattr(lib, f"{prefix}get_num_threads{suffix}"):
                return lib, (prefix, suffix)
    return None, ("", "")


def numpy_blas_threads(wanted: int | None = None) -> int:
    """Set (when ``wanted``) and return the number of threads numpy's OpenBLAS uses.

    Falls back to the environment or the CPU count where the library cannot be asked.
    """
    lib, (prefix, suffix) = _openblas()
    if lib is not None:
        if wanted is not None:
            getattr(lib, f"{prefix}set_num_threads{suffix}")(int(wanted))
        return int(getattr(lib, f"{prefix}get_num_threads{suffix}")())
    if wanted is not None:
        raise SystemExit("--threads: numpy's BLAS thread count cannot be set from here; "
                         "use OPENBLAS_NUM_THREADS instead")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def problem(T: int, N: int, D: int, H: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "xs": rng.standard_normal((T, N, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "W_x": rng.standard_normal((D, H)) / np.sqrt(D),
        "W_h": rng.standard_normal((H, H)) / np.sqrt(H),
        "b": rng.standard_normal(H) * 0.1,
        "dhs": rng.standard_normal((T, N, H)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--T", type=int, default=64)
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads for both sides (default: whatever numpy's OpenBLAS uses)")
    args = ap.parse_args()

    threads = numpy_blas_threads(args.threads)
    torch.set_num_threads(threads)
    p = problem(args.T, args.N, args.D, args.H)
    names = ("xs", "h0", "W_x", "W_h", "b")
    leaves = [torch.tensor(p[k], dtype=torch.float64, device="cpu", requires_grad=True) for k in names]
    t_dhs = torch.tensor(p["dhs"], dtype=torch.float64, device="cpu")

    def np_forward():
        return rnn_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], p["b"])

    hs = np_forward()

    def np_backward():
        return rnn_backward(p["dhs"], p["xs"], p["h0"], hs, p["W_x"], p["W_h"])

    def t_forward():
        return rnn_forward_tensor(*leaves)

    def t_backward(t_hs):
        return torch.autograd.grad(t_hs, leaves, t_dhs)

    # the two sides compute the same thing
    ours = np_backward()
    theirs = t_backward(t_forward())
    worst = max(float(np.abs(ours[k] - g.numpy()).max() / np.abs(g.numpy()).max()) for k, g in zip(names, theirs))
    assert worst < 1e-10, f"hand-written and autograd gradients differ (relative {worst:.2e})"

    timings = {k: [] for k in ("np_fwd", "np_bwd", "t_fwd", "t_bwd")}
    for r in range(args.warmup + args.repeats):
        t0 = time.perf_counter(); np_forward(); t1 = time.perf_counter()
        np_backward(); t2 = time.perf_counter()
        t_hs = t_forward(); t3 = time.perf_counter()
        t_backward(t_hs); t4 = time.perf_counter()
        if r >= args.warmup:
            for key, dt in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                timings[key].append(dt * 1e3)
    med = {k: float(np.median(v)) for k, v in timings.items()}
    iqr = {k: (float(np.percentile(v, 25)), float(np.percentile(v, 75))) for k, v in timings.items()}

    print(f"tanh RNN, T={args.T} N={args.N} D={args.D} H={args.H}, float64, CPU ({platform.processor() or platform.machine()})")
    print(f"numpy {np.__version__} (OpenBLAS threads: {threads}); torch {torch.__version__} "
          f"(torch.set_num_threads({threads}))")
    print(f"{args.warmup} warm-up + {args.repeats} timed repeats, pieces interleaved; max relative gradient "
          f"difference {worst:.1e}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs; 1-minute load average after the run: {load:.2f} (other work on the machine "
          f"inflates and scatters the times)")
    print()
    def cell(key):
        return f"{med[key]:.2f} ({iqr[key][0]:.2f}-{iqr[key][1]:.2f})".ljust(22)

    print("| method               | forward ms (IQR)       | backward ms (IQR)      | backward / forward |")
    print("|----------------------|------------------------|------------------------|--------------------|")
    for label, f, b in (("hand-written (numpy)", "np_fwd", "np_bwd"), ("torch autograd", "t_fwd", "t_bwd")):
        print(f"| {label:<20} | {cell(f)} | {cell(b)} | {med[b] / med[f]:<18.2f} |")
    print()
    ratio = med["np_bwd"] / med["t_bwd"]
    print(f"backward time hand-written / autograd: {ratio:.2f} "
          f"(target <= 1: {'met' if ratio <= 1 else 'NOT met'})")
    own = med["np_bwd"] / med["np_fwd"]
    print(f"hand-written backward / its forward: {own:.2f} (target <= 3: {'met' if own <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
