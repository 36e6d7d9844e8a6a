"""Returns the Jacobian in denominator layout (the transpose of each example's matrix)."""
import numpy as np

FUNCTION, DIAGNOSIS = "lstm_state_jacobian", "transposed"


def lstm_state_jacobian(c_prev, c, gates, W_h):
    N, H = c.shape
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    W_i, W_f, W_g, W_o = W_h[:, :H], W_h[:, H:2 * H], W_h[:, 2 * H:3 * H], W_h[:, 3 * H:]
    dc_dh = (np.einsum("nk,lk->nkl", g * i * (1 - i), W_i) + np.einsum("nk,lk->nkl", c_prev * f * (1 - f), W_f)
             + np.einsum("nk,lk->nkl", i * (1 - g ** 2), W_g))
    to_h = o * (1 - tc ** 2)
    J = np.zeros((N, 2 * H, 2 * H))
    J[:, :H, :H] = np.einsum("nk,lk->nkl", tc * o * (1 - o), W_o) + to_h[:, :, None] * dc_dh
    J[:, :H, H:] = np.einsum("nk,kl->nkl", to_h * f, np.eye(H))
    J[:, H:, :H] = dc_dh
    J[:, H:, H:] = np.einsum("nk,kl->nkl", f, np.eye(H))
    return J.transpose(0, 2, 1)
