"""onehot - softmax."""
import numpy as np

FUNCTION, DIAGNOSIS = "cross_entropy_grad", "wrong_sign"


def cross_entropy_grad(logits, labels):
    N, C = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (np.eye(C)[labels] - p) / N
