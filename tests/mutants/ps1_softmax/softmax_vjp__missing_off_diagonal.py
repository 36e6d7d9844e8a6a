"""Uses the diagonal of the Jacobian only."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax_vjp", "missing_off_diagonal"


def softmax_vjp(logits, v):
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return v * s * (1 - s)
