"""Never carries dh_next back: every step sees only its direct gradient."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_backward", "missing_hidden_path"


def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    T, N, H = hs.shape
    g = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = dhs[t] * (1 - hs[t] ** 2)
        g["xs"][t] = da @ W_x.T
        g["W_x"] += xs[t].T @ da
        g["W_h"] += h_prev.T @ da
        g["b"] += da.sum(axis=0)
        if t == 0:
            g["h0"] = da @ W_h.T
    return g
