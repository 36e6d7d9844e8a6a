"""s s^T - diag(s)."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax_jacobian", "wrong_sign"


def softmax_jacobian(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return np.einsum("ni,nj->nij", s, s) - np.stack([np.diag(row) for row in s])
