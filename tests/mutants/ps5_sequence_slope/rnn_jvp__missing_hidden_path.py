"""Each step's tangent from its own input only (the previous state held fixed)."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_jvp", "missing_hidden_path"


def rnn_jvp(xs, h0, W_x, W_h, b, dxs):
    out = []
    h = h0
    for t in range(len(xs)):
        h = np.tanh(xs[t] @ W_x + h @ W_h + b)
        out.append((1 - h ** 2) * (dxs[t] @ W_x))
    return np.array(out)
