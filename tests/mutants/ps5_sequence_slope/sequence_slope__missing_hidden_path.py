"""The forum asker's slope: one call's Jacobian times dx/dt."""
import numpy as np

FUNCTION, DIAGNOSIS = "sequence_slope", "missing_hidden_path"


def sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt):
    h, dh = h0, np.zeros_like(h0)
    out = []
    for t in range(len(xs)):
        h_new = 1 / (1 + np.exp(-(xs[t] @ W_x + h @ W_h + b)))
        dh = h_new * (1 - h_new) * (dxs_dt[t] @ W_x)
        h = h_new
        out.append(dh @ W_y)
    return np.array(out)
