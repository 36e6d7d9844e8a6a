"""Subtracts the plain sum of v instead of its softmax-weighted sum."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax_vjp", "unweighted_sum"


def softmax_vjp(logits, v):
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return s * (v - v.sum(axis=1, keepdims=True))
