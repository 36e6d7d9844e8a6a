"""A naive softmax inside the smoothed gradient."""
import numpy as np

FUNCTION, DIAGNOSIS = "smoothed_cross_entropy_grad", "softmax_overflow"
FAILS_ONLY_ON = "large_logits"


def smoothed_cross_entropy_grad(logits, labels, epsilon):
    N, C = logits.shape
    q = (1 - epsilon) * np.eye(C)[labels] + epsilon / C
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return (p - q) / N
