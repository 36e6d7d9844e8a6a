"""W^T diag(σ'(x)), as printed in the paper."""
import numpy as np

FUNCTION, DIAGNOSIS = "map_jacobian", "pascanu_transpose"


def map_jacobian(W, x, activation):
    d = 1 - np.tanh(x) ** 2 if activation == "tanh" else (1 / (1 + np.exp(-x))) * (1 - 1 / (1 + np.exp(-x)))
    return W.T @ np.diag(d)
