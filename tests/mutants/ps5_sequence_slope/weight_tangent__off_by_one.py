"""Reads the direction dW_h with the new state h_t instead of the previous one."""
import numpy as np

FUNCTION, DIAGNOSIS = "weight_tangent", "off_by_one"


def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    h_prev, dh, out = h0, np.zeros_like(h0), []
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ W_x + h_prev @ W_h + b)
        dh = (1 - h * h) * (h @ dW_h + dh @ W_h)
        out.append(dh)
        h_prev = h
    return np.array(out)
