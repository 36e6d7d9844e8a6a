"""Uses h_t instead of h_{t-1} in dW_h."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_backward", "off_by_one"


def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    T, N, H = hs.shape
    g = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        da = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
        g["xs"][t] = da @ W_x.T
        g["W_x"] += xs[t].T @ da
        g["W_h"] += hs[t].T @ da
        g["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    g["h0"] = dh_next
    return g
