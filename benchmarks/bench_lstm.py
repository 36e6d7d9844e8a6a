"""Hand-written LSTM backward (rnngrad.lstm_backward) against torch autograd, two ways, in one run.

Three backward passes of the same LSTM with the same upstream gradients ``dhs`` on every hidden state:

* ``rnngrad.lstm_backward`` (numpy) from the cached ``hs, cs, gates`` of ``rnngrad.lstm_forward``;
* torch autograd through the primitive-op LSTM ``rnngrad.torch_ref.gated_lstm.lstm_forward_tensor``;
* torch autograd through ``torch.nn.LSTM`` holding the same weights (converted with
  ``rnngrad.lstm_params_to_torch``).

Each torch backward starts from a finished forward pass that recorded the graph (``torch.autograd.grad`` on the
outputs). All run on the CPU in float64 with the same number of BLAS threads (torch is set to the thread count
numpy's OpenBLAS reports). The timed pieces run in turn inside every repeat, so that drifts of the machine
affect them alike; the table gives the best and the median over the repeats after a warm-up. The ratios are
given two ways: the ratio of the best times, and the median over the repeats of the ratio within a repeat
(the pieces of one repeat run back to back, so a busy moment of a shared machine slows them alike; this is
the steadier number there). Before timing, the three gradients are compared.

Usage::

    python benchmarks/bench_lstm.py [--T 64] [--N 32] [--D 128] [--H 128] [--repeats 30] [--warmup 3] [--threads K]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from bench_bptt import numpy_blas_threads
from rnngrad.gated_torch_weights import lstm_params_to_torch
from rnngrad.lstm import lstm_backward, lstm_forward
from rnngrad.torch_ref.gated_lstm import lstm_forward_tensor

NAMES = ("xs", "h0", "c0", "W_x", "W_h", "b")


def problem(T: int, N: int, D: int, H: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "xs": rng.standard_normal((T, N, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "c0": rng.standard_normal((N, H)) * 0.5,
        "W_x": rng.standard_normal((D, 4 * H)) / np.sqrt(D),
        "W_h": rng.standard_normal((H, 4 * H)) / np.sqrt(H),
        "b": rng.standard_normal(4 * H) * 0.1,
        "dhs": rng.standard_normal((T, N, H)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--T", type=int, default=64)
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads for both sides (default: whatever numpy's OpenBLAS uses)")
    args = ap.parse_args()

    threads = numpy_blas_threads(args.threads)
    torch.set_num_threads(threads)
    p = problem(args.T, args.N, args.D, args.H)
    t_dhs = torch.from_numpy(p["dhs"])

    # primitive-op LSTM: leaves in rnngrad's layout
    prim = [torch.tensor(p[k], dtype=torch.float64, requires_grad=True) for k in NAMES]
    # torch.nn.LSTM with the same weights; its inputs as leaves too (the same gradients are asked of all three)
    module = torch.nn.LSTM(args.D, args.H, dtype=torch.float64)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in lstm_params_to_torch(
        {k: p[k] for k in ("W_x", "W_h", "b")}).items()})
    nn_in = [torch.tensor(p[k], dtype=torch.float64, requires_grad=True) for k in ("xs", "h0", "c0")]
    nn_leaves = nn_in + [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0]

    def np_forward():
        return lstm_forward(p["xs"], p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"])

    hs, cs, gates = np_forward()

    def np_backward():
        return lstm_backward(p["dhs"], p["xs"], p["h0"], p["c0"], hs, cs, gates, p["W_x"], p["W_h"])

    def prim_forward():
        return lstm_forward_tensor(*prim)[0]

    def prim_backward(out):
        return torch.autograd.grad(out, prim, t_dhs)

    def nn_forward():
        return module(nn_in[0], (nn_in[1][None], nn_in[2][None]))[0]

    def nn_backward(out):
        return torch.autograd.grad(out, nn_leaves, t_dhs)

    # the three compute the same gradients
    ours = np_backward()
    theirs = dict(zip(NAMES, (g.numpy() for g in prim_backward(prim_forward()))))
    g_nn = [g.numpy() for g in nn_backward(nn_forward())]
    nn_grads = {"xs": g_nn[0], "h0": g_nn[1], "c0": g_nn[2], "W_x": g_nn[3].T, "W_h": g_nn[4].T, "b": g_nn[5]}
    worst = 0.0
    for ref in (theirs, nn_grads):
        worst = max(worst, max(float(np.abs(ours[k] - ref[k]).max() / np.abs(ref[k]).max()) for k in NAMES))
    assert worst < 1e-10, f"hand-written and autograd gradients differ (relative {worst:.2e})"

    keys = ("np_fwd", "np_bwd", "prim_fwd", "prim_bwd", "nn_fwd", "nn_bwd")
    timings = {k: [] for k in keys}
    for r in range(args.warmup + args.repeats):
        t0 = time.perf_counter(); np_forward(); t1 = time.perf_counter()
        np_backward(); t2 = time.perf_counter()
        out = prim_forward(); t3 = time.perf_counter()
        prim_backward(out); t4 = time.perf_counter()
        out = nn_forward(); t5 = time.perf_counter()
        nn_backward(out); t6 = time.perf_counter()
        del out
        if r >= args.warmup:
            for key, dt in zip(keys, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
                timings[key].append(dt * 1e3)
    best = {k: float(np.min(v)) for k, v in timings.items()}
    med = {k: float(np.median(v)) for k, v in timings.items()}

    print(f"LSTM, T={args.T} N={args.N} D={args.D} H={args.H}, float64, CPU "
          f"({platform.processor() or platform.machine()})")
    print(f"numpy {np.__version__} (OpenBLAS threads: {threads}); torch {torch.__version__} "
          f"(torch.set_num_threads({threads}))")
    print(f"{args.warmup} warm-up + {args.repeats} timed repeats, pieces interleaved; max relative gradient "
          f"difference {worst:.1e}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs; 1-minute load average after the run: {load:.2f}")
    print()
    print("| method                        | forward ms best (median) | backward ms best (median) | backward / nn.LSTM's |")
    print("|-------------------------------|--------------------------|---------------------------|----------------------|")
    for label, f, b in (("rnngrad.lstm_backward (numpy)", "np_fwd", "np_bwd"),
                        ("autograd, primitive-op LSTM", "prim_fwd", "prim_bwd"),
                        ("autograd, torch.nn.LSTM", "nn_fwd", "nn_bwd")):
        fwd = f"{best[f]:.2f} ({med[f]:.2f})"
        bwd = f"{best[b]:.2f} ({med[b]:.2f})"
        print(f"| {label:<29} | {fwd:<24} | {bwd:<25} | {best[b] / best['nn_bwd']:<20.2f} |")
    print()
    # the ratio within each repeat (the pieces ran back to back) is steadier than a ratio of two minima
    paired = {ref: np.array(timings["np_bwd"]) / np.array(timings[ref]) for ref in ("nn_bwd", "prim_bwd")}
    for ref, label in (("nn_bwd", "nn.LSTM autograd"), ("prim_bwd", "primitive-op autograd")):
        q1, q2, q3 = np.percentile(paired[ref], (25, 50, 75))
        print(f"backward time hand-written / {label}: {best['np_bwd'] / best[ref]:.2f} (ratio of the bests); "
              f"per repeat median {q2:.2f} (IQR {q1:.2f}-{q3:.2f})")
    ratio = float(np.median(paired["nn_bwd"]))
    print(f"target (hand-written backward no slower than nn.LSTM's, per-repeat median <= 1): "
          f"{'met' if ratio <= 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
