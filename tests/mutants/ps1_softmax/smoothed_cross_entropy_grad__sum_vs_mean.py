"""Smoothed targets right, but no division by N."""
import numpy as np

FUNCTION, DIAGNOSIS = "smoothed_cross_entropy_grad", "sum_vs_mean"


def smoothed_cross_entropy_grad(logits, labels, epsilon):
    N, C = logits.shape
    q = (1 - epsilon) * np.eye(C)[labels] + epsilon / C
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return p - q
