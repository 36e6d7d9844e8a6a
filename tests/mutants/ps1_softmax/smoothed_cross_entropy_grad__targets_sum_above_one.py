"""Adds the full one-hot 1 to the label on top of the uniform share (the targets sum to more than one)."""
import numpy as np

FUNCTION, DIAGNOSIS = "smoothed_cross_entropy_grad", "targets_sum_above_one"


def smoothed_cross_entropy_grad(logits, labels, epsilon):
    N, C = logits.shape
    q = np.full((N, C), epsilon / C)
    q[np.arange(N), labels] += 1.0
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (s * q.sum(axis=1, keepdims=True) - q) / N
