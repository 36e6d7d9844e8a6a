"""Sums over the batch instead of averaging."""
import numpy as np

FUNCTION, DIAGNOSIS = "char_lm_grad", "sum_vs_mean"


def char_lm_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y):
    T, N = inputs.shape
    V, H = W_x.shape
    rows = np.arange(N)
    hs = [h0]
    probs = []
    loss = 0.0
    for t in range(T):
        hs.append(np.tanh(W_x[inputs[t]] + hs[-1] @ W_h + b))
        z = hs[-1] @ W_y + b_y
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        probs.append(np.exp(log_p))
        loss -= log_p[rows, targets[t]].sum() / 1.0
    g = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b),
         "W_y": np.zeros_like(W_y), "b_y": np.zeros_like(b_y)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dz = probs[t].copy()
        dz[rows, targets[t]] -= 1.0
        dz /= 1.0
        g["W_y"] += hs[t + 1].T @ dz
        g["b_y"] += dz.sum(axis=0)
        da = (dz @ W_y.T + dh_next) * (1.0 - hs[t + 1] ** 2)
        np.add.at(g["W_x"], inputs[t], da)
        g["W_h"] += hs[t].T @ da
        g["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    g["h0"] = dh_next
    return loss, g, hs[-1]
