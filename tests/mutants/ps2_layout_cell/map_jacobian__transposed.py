"""Denominator layout: diag(σ'(x)) W^T."""
import numpy as np

FUNCTION, DIAGNOSIS = "map_jacobian", "transposed"


def map_jacobian(W, x, activation):
    d = 1 - np.tanh(x) ** 2 if activation == "tanh" else (1 / (1 + np.exp(-x))) * (1 - 1 / (1 + np.exp(-x)))
    return np.diag(d) @ W.T
