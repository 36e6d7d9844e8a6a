"""Stores d h_T / d h_{k+1} at index k (starts from the identity)."""
import numpy as np

FUNCTION, DIAGNOSIS = "jacobian_products", "off_by_one"


def jacobian_products(step_jacobians):
    J = step_jacobians
    T, N, H, _ = J.shape
    P = np.empty_like(J)
    running = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    for k in range(T - 1, -1, -1):
        P[k] = running
        running = running @ J[k]
    return P
