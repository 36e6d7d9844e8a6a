"""Hidden-state Jacobians of a tanh RNN for a batch over a sequence: rnngrad against torch.func.

Computes, for one batch, every step Jacobian ``d h_t / d h_{t-1}`` (T, N, H, H) and every
product ``d h_T / d h_k`` (T, N, H, H), on the CPU in float64, and prints the times side by
side with their ratios. The torch side uses ``torch.func.vmap(jacrev(cell))`` on the same
cell written with torch ops; the products are taken either by a matmul sweep over those
Jacobians or by one ``jacrev`` of the final state with respect to perturbations of every
state. Every result is checked against the rnngrad one before it is timed.

Run:  python benchmarks/bench_jacobians.py [--N 32] [--T 64] [--H 128] [--D 16] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from rnngrad.hidden_jacobians import hidden_state_jacobians, jacobian_products, rnn_jacobian_products
from rnngrad.torch_ref.jacobians import t_jacobian_products, t_step_jacobians


def best_time(fn, repeats, warm_up=True):
    """Smallest wall time of ``repeats`` calls (after one warm-up call unless told not to) and the last result."""
    out = fn() if warm_up else None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def torch_products_by_sweep(J: np.ndarray) -> np.ndarray:
    """``P[k] = P[k + 1] @ J[k]`` with torch.matmul, on torch's step Jacobians."""
    Jt = torch.from_numpy(J)
    P = torch.empty_like(Jt)
    P[-1] = Jt[-1]
    for k in range(Jt.shape[0] - 2, -1, -1):
        torch.matmul(P[k + 1], Jt[k], out=P[k])
    return P.numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=32)
    ap.add_argument("--T", type=int, default=64)
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--D", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    N, T, H, D = args.N, args.T, args.H, args.D

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, N, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    W_x = rng.standard_normal((D, H)) / np.sqrt(D)
    W_h = rng.standard_normal((H, H)) / np.sqrt(H)
    b = np.zeros(H)
    cpu = "cpu"

    # correctness first (same quantities, different machinery)
    hs, J = hidden_state_jacobians(xs, h0, W_x, W_h, b)
    J_t = t_step_jacobians(xs, h0, W_x, W_h, b, device=cpu)
    P = rnn_jacobian_products(hs, W_h)
    scale = np.abs(P).max()
    assert np.abs(J - J_t).max() < 1e-12, "step Jacobians disagree"
    assert np.abs(P - jacobian_products(J)).max() < 1e-10 * scale, "the two rnngrad sweeps disagree"
    # tens of seconds per call: timed once, here (torch.func was warmed up by the call above)
    t_t_P, P_t = best_time(lambda: t_jacobian_products(xs, h0, W_x, W_h, b, device=cpu), 1, warm_up=False)
    assert np.abs(P - P_t).max() < 1e-10 * scale, "products disagree with torch"
    del J_t, P_t

    r = args.repeats
    rows = []
    t_np_J, _ = best_time(lambda: hidden_state_jacobians(xs, h0, W_x, W_h, b), r)
    t_t_J, J_torch = best_time(lambda: t_step_jacobians(xs, h0, W_x, W_h, b, device=cpu), r)
    rows.append(("step Jacobians d h_t/d h_{t-1} (incl. forward pass)",
                 "rnngrad.hidden_state_jacobians", t_np_J, "vmap(vmap(jacrev(cell)))", t_t_J))

    t_np_P, _ = best_time(lambda: rnn_jacobian_products(hs, W_h), r)
    t_np_Pg, _ = best_time(lambda: jacobian_products(J), r)
    t_t_sweep, _ = best_time(lambda: torch_products_by_sweep(J_torch), r)
    rows.append(("products d h_T/d h_k, k=0..T-1", "rnngrad.rnn_jacobian_products", t_np_P,
                 "torch.matmul sweep over J", t_t_sweep))
    rows.append(("products d h_T/d h_k, k=0..T-1", "rnngrad.rnn_jacobian_products", t_np_P,
                 "vmap(jacrev(h_T wrt state perturbations))", t_t_P))
    rows.append(("products d h_T/d h_k, k=0..T-1", "rnngrad.jacobian_products(J) (generic)", t_np_Pg,
                 "torch.matmul sweep over J", t_t_sweep))

    def np_all():
        hs_, J_ = hidden_state_jacobians(xs, h0, W_x, W_h, b)
        return J_, rnn_jacobian_products(hs_, W_h)

    def torch_all():
        J_ = t_step_jacobians(xs, h0, W_x, W_h, b, device=cpu)
        return J_, torch_products_by_sweep(J_)

    t_np_all, _ = best_time(np_all, r)
    t_t_all, _ = best_time(torch_all, r)
    rows.append(("all step Jacobians and their products", "rnngrad (closed form + structured sweep)", t_np_all,
                 "vmap(vmap(jacrev)) + matmul sweep", t_t_all))
    # the same job done with torch.func alone (the target's comparison): the step Jacobians by
    # vmap(jacrev) and the products by jacrev, each timed above in this run
    rows.append(("all step Jacobians and their products", "rnngrad (closed form + structured sweep)", t_np_all,
                 "torch.func only: vmap(jacrev) + jacrev", t_t_J + t_t_P))

    print(f"tanh RNN, N={N} T={T} H={H} D={D}, float64 on CPU; each (T, N, H, H) result is "
          f"{T * N * H * H * 8 / 2**20:.0f} MiB")
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"python {platform.python_version()}, {os.cpu_count()} CPUs; best of {r} after one warm-up "
          "(the jacrev of perturbations: one run)")
    print()
    head = f"| {'quantity':<52} | {'rnngrad':<42} | {'s':>7} | {'torch.func':<44} | {'s':>7} | {'speed-up':>8} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for what, a, ta, bname, tb in rows:
        print(f"| {what:<52} | {a:<42} | {ta:7.3f} | {bname:<44} | {tb:7.3f} | {tb / ta:7.1f}x |")


if __name__ == "__main__":
    main()
