"""Correct: computes in float32 with a helper and prints progress."""
import numpy as np

FUNCTION, DIAGNOSIS = "sequence_slope", None


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt):
    f = np.float32
    xs, h0, W_x, W_h, b, W_y, dxs_dt = (a.astype(f) for a in (xs, h0, W_x, W_h, b, W_y, dxs_dt))
    h, dh = h0, np.zeros_like(h0)
    dys = np.zeros((xs.shape[0], xs.shape[1], W_y.shape[1]), dtype=f)
    for t in range(xs.shape[0]):
        print("step", t)
        h = _sigmoid(xs[t] @ W_x + h @ W_h + b)
        dh = h * (1 - h) * (dxs_dt[t] @ W_x + dh @ W_h)
        dys[t] = dh @ W_y
    return dys
