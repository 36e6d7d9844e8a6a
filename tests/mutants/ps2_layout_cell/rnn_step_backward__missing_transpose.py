"""da @ W_h for the previous state."""
import numpy as np

FUNCTION, DIAGNOSIS = "rnn_step_backward", "missing_transpose"


def rnn_step_backward(dh, x, h_prev, h, W_x, W_h):
    da = dh * (1 - h ** 2)
    return {"x": da @ W_x.T, "h_prev": da @ W_h, "W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
