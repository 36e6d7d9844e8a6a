"""No sigmoid derivative at all."""
import numpy as np

FUNCTION, DIAGNOSIS = "sigmoid_step_backward", "missing_diag"


def sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h):
    return {"x": dh @ W_x.T, "h_prev": dh @ W_h.T, "W_x": x.T @ dh, "W_h": h_prev.T @ dh, "b": dh.sum(axis=0)}
