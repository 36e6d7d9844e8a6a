"""Correct, in a different style: float32, explicit loops, a helper, prints and a warning on stderr."""
import sys
import warnings

import numpy as np

FUNCTION, DIAGNOSIS = "softmax", None


def _row_softmax(row):
    m = max(row)
    e = [np.exp(np.float32(v - m)) for v in row]
    total = sum(e)
    return [v / total for v in e]


def softmax(logits):
    print("computing softmax for", logits.shape)
    warnings.warn("this is a slow softmax")
    print("debug", file=sys.stderr)
    return np.array([_row_softmax(r) for r in logits], dtype=np.float32)
