"""Correct: gradient through log-sum-exp, written with einsum."""
import numpy as np

FUNCTION, DIAGNOSIS = "cross_entropy_grad", None


def cross_entropy_grad(logits, labels):
    N, C = logits.shape
    m = logits.max(axis=1)
    lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
    s = np.exp(logits - lse[:, None])
    return np.einsum("nc->nc", s - np.eye(C)[labels]) / N
