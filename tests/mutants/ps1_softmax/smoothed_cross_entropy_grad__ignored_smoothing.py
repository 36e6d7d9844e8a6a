"""Uses the one-hot targets."""
import numpy as np

FUNCTION, DIAGNOSIS = "smoothed_cross_entropy_grad", "ignored_smoothing"


def smoothed_cross_entropy_grad(logits, labels, epsilon):
    N, C = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (p - np.eye(C)[labels]) / N
