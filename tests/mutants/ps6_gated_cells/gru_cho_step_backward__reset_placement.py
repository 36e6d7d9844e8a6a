"""Applies torch's backward pass (reset gate after the recurrent product) to Cho's cell."""
import numpy as np

FUNCTION, DIAGNOSIS = "gru_cho_step_backward", "reset_placement"


def gru_cho_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn):
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    u = h_prev @ W_h[:, 2 * H:] + b_hn
    d_n = dh * (1.0 - z)
    d_z = dh * (h_prev - n)
    da_n = d_n * (1.0 - n * n)
    da_z = d_z * (z * (1.0 - z))
    da_r = da_n * u * (r * (1.0 - r))
    du = da_n * r
    da = np.concatenate([da_r, da_z, da_n], axis=1)
    da_rec = np.concatenate([da_r, da_z, du], axis=1)
    return {"x": da @ W_x.T, "h_prev": dh * z + da_rec @ W_h.T, "W_x": x.T @ da, "W_h": h_prev.T @ da_rec,
            "b": da.sum(axis=0), "b_hn": du.sum(axis=0)}
