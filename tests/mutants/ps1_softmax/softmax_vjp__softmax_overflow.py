"""A naive softmax inside the vector-Jacobian product."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax_vjp", "softmax_overflow"
FAILS_ONLY_ON = "large_logits"


def softmax_vjp(logits, v):
    e = np.exp(logits)
    s = e / e.sum(axis=1, keepdims=True)
    return s * (v - (s * v).sum(axis=1, keepdims=True))
