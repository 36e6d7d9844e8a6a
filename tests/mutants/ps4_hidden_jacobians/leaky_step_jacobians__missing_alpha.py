"""Forgets to scale the tanh path by α."""
import numpy as np

FUNCTION, DIAGNOSIS = "leaky_step_jacobians", "missing_alpha"


def leaky_step_jacobians(hs, h0, W_h, alpha):
    prev = np.concatenate([h0[None], hs[:-1]])
    u = (hs - (1 - alpha) * prev) / alpha
    eye = np.eye(W_h.shape[0])
    J = (1 - alpha) * eye + np.einsum('tni,ji->tnij', 1 - u ** 2, W_h)
    return J
