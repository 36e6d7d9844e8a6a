"""The slope of an RNN's output along its sequence: one forward-mode sweep against differentiating every prefix.

For T = 16, 32, ..., 1024 it computes ``dy_t/dτ`` for all t with
``rnngrad.sequence_slope`` (one forward sweep, O(T)) and with
``rnngrad.slope_by_prefix_differentiation`` (a reverse pass through every prefix, O(T^2)),
checks that they agree, prints both times and their ratio, and fits the exponent ``p`` of
``time ~ T^p`` on a log-log scale for each. ``torch.func.jvp`` through the whole sequence is
timed alongside. The model is a small sigmoid RNN with a linear output layer, the shape of
the question this course answers: D=3 inputs, H=10 hidden units, C=1 output.

Run:  python benchmarks/bench_slope.py [--N 8] [--budget 1.0] [--T-max 1024]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from rnngrad.forward_mode import sequence_slope, slope_by_prefix_differentiation
from rnngrad.torch_ref.forward import t_sequence_slope


def timed(fn, budget):
    """Best wall time of repeated calls: at least one, more while the total stays under ``budget`` seconds (max 50)."""
    best, spent, runs, out = float("inf"), 0.0, 0, None
    while runs == 0 or (spent < budget and runs < 50):
        start = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - start
        best, spent, runs = min(best, dt), spent + dt, runs + 1
    return best, runs, out


def loglog_slope(Ts, times):
    """Least-squares exponent p of times ~ T^p."""
    return float(np.polyfit(np.log(Ts), np.log(times), 1)[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=8)
    ap.add_argument("--D", type=int, default=3)
    ap.add_argument("--H", type=int, default=10)
    ap.add_argument("--C", type=int, default=1)
    ap.add_argument("--T-max", type=int, default=1024)
    ap.add_argument("--budget", type=float, default=1.0, help="seconds of repetitions per method and T")
    args = ap.parse_args(argv)
    N, D, H, C = args.N, args.D, args.H, args.C
    rng = np.random.default_rng(0)
    params = {"W_x": rng.standard_normal((D, H)), "W_h": rng.standard_normal((H, H)) / np.sqrt(H),
              "b": rng.standard_normal(H) * 0.1, "W_y": rng.standard_normal((H, C)), "b_y": np.zeros(C)}
    h0 = np.zeros((N, H))
    Ts = []
    T = 16
    while T <= args.T_max:
        Ts.append(T)
        T *= 2

    # the first torch.func call of a process pays for torch's own set-up; keep it out of the table
    t_sequence_slope(np.zeros((2, N, D)), h0, **params, dxs_dt=np.zeros((2, N, D)), activation="sigmoid", device="cpu")
    rows = []
    total = time.perf_counter()
    for T in Ts:
        tau = np.linspace(0.0, 4.0, T)
        # smooth inputs x(τ) = sin(ω τ + φ) and their exact rates of change, per batch row and feature
        omega = rng.uniform(0.5, 2.0, size=(1, N, D))
        phase = rng.uniform(0, np.pi, size=(1, N, D))
        xs = np.sin(omega * tau[:, None, None] + phase)
        rates = omega * np.cos(omega * tau[:, None, None] + phase)
        t_fwd, n_fwd, (_, fast) = timed(
            lambda: sequence_slope(xs, h0, **params, dxs_dt=rates, activation="sigmoid"), args.budget)
        t_pre, n_pre, (_, slow) = timed(
            lambda: slope_by_prefix_differentiation(xs, h0, **params, dxs_dt=rates, activation="sigmoid"), args.budget)
        t_jvp, n_jvp, (_, tj) = timed(
            lambda: t_sequence_slope(xs, h0, **params, dxs_dt=rates, activation="sigmoid", device="cpu"),
            args.budget)
        err = max(np.abs(fast - slow).max(), np.abs(fast - tj).max()) / np.abs(fast).max()
        assert err < 1e-10, f"T={T}: the methods disagree (relative error {err:.2e})"
        rows.append((T, t_fwd, n_fwd, t_pre, n_pre, t_jvp, n_jvp, err))
    total = time.perf_counter() - total

    print(f"sigmoid RNN + linear output, N={N} D={D} H={H} C={C}, float64 on CPU; best of repeated runs "
          f"(up to {args.budget:g} s per entry, runs in brackets)")
    print(f"numpy {np.__version__}, torch {torch.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; whole run {total:.0f} s")
    print()
    head = (f"| {'T':>5} | {'forward mode (s)':>19} | {'each prefix (s)':>19} | {'prefix / forward':>16} | "
            f"{'torch.func.jvp (s)':>19} | {'max rel. diff':>13} |")
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for T, tf, nf, tp, n_p, tj, nj, err in rows:
        print(f"| {T:>5} | {tf:>12.5f} [{nf:>3}] | {tp:>12.5f} [{n_p:>3}] | {tp / tf:>15.1f}x | "
              f"{tj:>12.5f} [{nj:>3}] | {err:>13.1e} |")
    Ts_a = np.array([r[0] for r in rows], dtype=float)
    big = Ts_a >= 64
    print()
    for name, col in (("forward mode", 1), ("each prefix", 3), ("torch.func.jvp", 5)):
        times = np.array([r[col] for r in rows])
        tail = f", {loglog_slope(Ts_a[big], times[big]):.2f} (T >= 64)" if big.sum() >= 2 else ""
        print(f"log-log slope of time vs T, {name:<15}: {loglog_slope(Ts_a, times):.2f} (all T){tail}")


if __name__ == "__main__":
    main()
