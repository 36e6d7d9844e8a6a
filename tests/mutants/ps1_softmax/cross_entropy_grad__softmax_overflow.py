"""A naive softmax inside the gradient."""
import numpy as np

FUNCTION, DIAGNOSIS = "cross_entropy_grad", "softmax_overflow"
FAILS_ONLY_ON = "large_logits"


def cross_entropy_grad(logits, labels):
    N, C = logits.shape
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return (p - np.eye(C)[labels]) / N
