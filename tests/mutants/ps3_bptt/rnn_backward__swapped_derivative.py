"""Uses the sigmoid's derivative h (1 - h) for the tanh cell."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_backward", "swapped_derivative"


def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    T, N, H = hs.shape
    g = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + dh_next) * hs[t] * (1 - hs[t])
        g["xs"][t] = da @ W_x.T
        g["W_x"] += xs[t].T @ da
        g["W_h"] += h_prev.T @ da
        g["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    g["h0"] = dh_next
    return g
