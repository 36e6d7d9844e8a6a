"""Exponentiates the raw logits: overflows for logits of size 1e4."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax", "softmax_overflow"
FAILS_ONLY_ON = "large_logits"


def softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)
