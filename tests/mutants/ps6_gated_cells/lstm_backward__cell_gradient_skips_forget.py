"""Carries the cell gradient to the previous step without the forget gate."""
import numpy as np

FUNCTION, DIAGNOSIS = "lstm_backward", "cell_gradient_skips_forget"


def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h):
    T, N, H = hs.shape
    grads = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(4 * H)}
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        c_prev = cs[t - 1] if t > 0 else c0
        i, f, g, o = gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:3 * H], gates[t, :, 3 * H:]
        dh = dhs[t] + dh_next
        tc = np.tanh(cs[t])
        dc = dc_next + dh * o * (1.0 - tc * tc)
        d_i, d_f, d_g, d_o = dc * g, dc * c_prev, dc * i, dh * tc
        da = np.concatenate([d_i * (i * (1.0 - i)), d_f * (f * (1.0 - f)), d_g * (1.0 - g * g),
                             d_o * (o * (1.0 - o))], axis=1)
        grads["xs"][t] = da @ W_x.T
        grads["W_x"] += xs[t].T @ da
        grads["W_h"] += h_prev.T @ da
        grads["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
        dc_next = dc
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    return grads
