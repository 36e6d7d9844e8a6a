"""Forgets to divide by the batch size."""
import numpy as np

FUNCTION, DIAGNOSIS = "cross_entropy_grad", "sum_vs_mean"


def cross_entropy_grad(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p
