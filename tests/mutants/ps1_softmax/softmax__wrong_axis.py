"""Normalises over the batch axis instead of the classes."""
import numpy as np

FUNCTION, DIAGNOSIS = "softmax", "wrong_axis"


def softmax(logits):
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
