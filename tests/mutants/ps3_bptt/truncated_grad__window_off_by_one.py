"""Lets each loss term reach k + 1 states (h_{t-k} included)."""
import numpy as np

FUNCTION, DIAGNOSIS = "truncated_grad", "window_off_by_one"


def truncated_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y, *, k):
    T, N = inputs.shape
    rows = np.arange(N)
    loss = 0.0
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(W_x[inputs[t]] + hs[-1] @ W_h + b))
    g = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b),
         "W_y": np.zeros_like(W_y), "b_y": np.zeros_like(b_y), "h0": np.zeros_like(h0)}
    for t in range(T):
        z = hs[t + 1] @ W_y + b_y
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss -= np.log(p[rows, targets[t]]).sum() / N
        p[rows, targets[t]] -= 1
        dz = p / N
        g["W_y"] += hs[t + 1].T @ dz
        g["b_y"] += dz.sum(axis=0)
        dh = dz @ W_y.T
        s = t
        while s >= 0 and s >= t - k:
            da = dh * (1 - hs[s + 1] ** 2)
            np.add.at(g["W_x"], inputs[s], da)
            g["W_h"] += hs[s].T @ da
            g["b"] += da.sum(axis=0)
            dh = da @ W_h.T
            s -= 1
        if t - k < 0:
            g["h0"] += dh
    return loss, g, hs[-1]
