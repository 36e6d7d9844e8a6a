"""Forgets that c_t depends on h_{t-1} directly (the -h_{t-1} term)."""
import numpy as np

FUNCTION, DIAGNOSIS = "two_state_state_jacobian", "missing_minus_identity"


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
        J[n, H:, :H] = A
        J[n, H:, H:] = np.eye(H)
    return J
