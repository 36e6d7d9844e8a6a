"""Carries the tangent through W_h transposed (the reverse-mode habit in forward mode)."""
import numpy as np

PASSES_ON = "single_step"  # one step: nothing is carried, the mistake cannot show
FUNCTION, DIAGNOSIS = "rnn_jvp", "missing_transpose"


def rnn_jvp(xs, h0, W_x, W_h, b, dxs):
    h, dh, out = h0, np.zeros_like(h0), []
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ W_x + h @ W_h + b)
        dh = (1.0 - h ** 2) * (dxs[t] @ W_x + dh @ W_h.T)
        out.append(dh)
    return np.array(out)
