"""Copies the tanh backward pass."""
import numpy as np

FUNCTION, DIAGNOSIS = "sigmoid_step_backward", "tanh_derivative"


def sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h):
    da = dh * (1 - h ** 2)
    return {"x": da @ W_x.T, "h_prev": da @ W_h.T, "W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
