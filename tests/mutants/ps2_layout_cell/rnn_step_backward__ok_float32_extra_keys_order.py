"""Correct: float32 arithmetic, keys inserted in another order, loops over the batch."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_step_backward", None


def rnn_step_backward(dh, x, h_prev, h, W_x, W_h):
    dh, x, h_prev, h = (a.astype(np.float32) for a in (dh, x, h_prev, h))
    W_x, W_h = W_x.astype(np.float32), W_h.astype(np.float32)
    out = {"b": np.zeros(W_h.shape[0], np.float32), "W_h": np.zeros_like(W_h), "W_x": np.zeros_like(W_x)}
    xs, hps = [], []
    for n in range(dh.shape[0]):
        da = dh[n] * (1 - h[n] * h[n])
        out["b"] += da
        out["W_h"] += np.outer(h_prev[n], da)
        out["W_x"] += np.outer(x[n], da)
        xs.append(W_x @ da)
        hps.append(W_h @ da)
    out["x"], out["h_prev"] = np.array(xs), np.array(hps)
    return out
