"""Builds the right matrix, then returns its transpose."""
import numpy as np

FUNCTION, DIAGNOSIS = "two_state_state_jacobian", "transposed"


def two_state_state_jacobian(h_prev, W_h, activation):
    N, H = h_prev.shape
    if activation == "relu":
        d = (h_prev > 0) * 1.0
    elif activation == "sigmoid":
        d = np.exp(-h_prev) / (1 + np.exp(-h_prev)) ** 2
    else:
        d = np.ones_like(h_prev)
    J = np.zeros((N, 2 * H, 2 * H))
    for n in range(N):
        A = W_h.T @ np.diag(d[n])
        J[n, :H, :H] = A
        J[n, H:, :H] = A - np.eye(H)
        J[n, H:, H:] = np.eye(H)
    return J.transpose(0, 2, 1)
