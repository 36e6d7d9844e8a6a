"""Fills every (i, p) block with W^T."""
import numpy as np

FUNCTION, DIAGNOSIS = "batched_matmul_jacobian", "missing_batch_delta"


def batched_matmul_jacobian(h, W):
    N, H = h.shape
    J = np.zeros((N, W.shape[1], N, H))
    for i in range(N):
        for p in range(N):
            J[i, :, p, :] = W.T
    return J
