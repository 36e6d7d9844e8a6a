"""Sums over the batch."""
import numpy as np

FUNCTION, DIAGNOSIS = "squared_error_grad", "sum_vs_mean"


def squared_error_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y):
    T, N, _ = xs.shape
    hs = []
    h = h0
    for t in range(T):
        h = np.tanh(xs[t] @ W_x + h @ W_h + b)
        hs.append(h)
    hs = np.array(hs)
    diff = hs @ W_y + b_y - targets
    loss = 0.5 * (diff ** 2).sum()
    dys = diff
    g = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b),
         "W_y": np.einsum("tnh,tnc->hc", hs, dys), "b_y": dys.sum(axis=(0, 1))}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dys[t] @ W_y.T + dh_next) * (1 - hs[t] ** 2)
        g["W_x"] += xs[t].T @ da
        g["W_h"] += h_prev.T @ da
        g["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    g["h0"] = dh_next
    return loss, g, h
