"""Normalises to max_norm whatever the norm."""
import numpy as np

FUNCTION, DIAGNOSIS = "clip_global_norm", "always_rescaled"


def clip_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum((g ** 2).sum() for g in grads.values())))
    return {k: g * (max_norm / norm) for k, g in grads.items()}, norm
