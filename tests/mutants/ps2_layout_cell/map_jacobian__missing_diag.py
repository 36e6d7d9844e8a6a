"""Forgets σ'."""
import numpy as np

FUNCTION, DIAGNOSIS = "map_jacobian", "missing_diag"


def map_jacobian(W, x, activation):
    return W.astype(float).copy()
