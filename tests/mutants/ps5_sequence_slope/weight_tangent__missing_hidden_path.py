"""Only the direct effect of dW_h at each step."""
import numpy as np

FUNCTION, DIAGNOSIS = "weight_tangent", "missing_hidden_path"


def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    out = []
    h_prev = h0
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ W_x + h_prev @ W_h + b)
        out.append((1 - h ** 2) * (h_prev @ dW_h))
        h_prev = h
    return np.array(out)
