"""Clips every entry instead of rescaling by the global norm."""
import numpy as np

FUNCTION, DIAGNOSIS = "clip_global_norm", "elementwise"


def clip_global_norm(grads, max_norm):
    norm = np.sqrt(sum((g ** 2).sum() for g in grads.values()))
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, float(norm)
