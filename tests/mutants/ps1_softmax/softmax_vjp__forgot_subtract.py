"""Multiplies by s only."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax_vjp", "forgot_subtract"


def softmax_vjp(logits, v):
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return s * v
