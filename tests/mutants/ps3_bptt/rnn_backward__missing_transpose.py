"""Passes the gradient back to the previous state through W_h instead of its transpose."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_backward", "missing_transpose"


def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    T, N, H = hs.shape
    g = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
    dh_prev = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + dh_prev) * (1 - hs[t] ** 2)
        g["xs"][t] = da @ W_x.T
        g["W_x"] += xs[t].T @ da
        g["W_h"] += h_prev.T @ da
        g["b"] += da.sum(axis=0)
        dh_prev = da @ W_h
    g["h0"] = dh_prev
    return g
