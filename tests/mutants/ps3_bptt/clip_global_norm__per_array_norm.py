"""Rescales each array by its own norm."""
import numpy as np

FUNCTION, DIAGNOSIS = "clip_global_norm", "per_array_norm"


def clip_global_norm(grads, max_norm):
    norm = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    out = {}
    for k, g in grads.items():
        n_k = np.linalg.norm(g)
        out[k] = g * max_norm / n_k if n_k > max_norm else g.copy()
    return out, float(norm)
