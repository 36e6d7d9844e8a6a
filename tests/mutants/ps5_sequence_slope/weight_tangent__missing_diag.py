"""Forgets tanh' in the recursion."""
import numpy as np

FUNCTION, DIAGNOSIS = "weight_tangent", "missing_diag"


def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    out = []
    h_prev, dh = h0, np.zeros_like(h0)
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ W_x + h_prev @ W_h + b)
        dh = h_prev @ dW_h + dh @ W_h
        out.append(dh)
        h_prev = h
    return np.array(out)
