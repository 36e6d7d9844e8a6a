"""The output gate's gradient multiplies by c instead of tanh(c)."""
import numpy as np

FUNCTION, DIAGNOSIS = "lstm_step_backward", "output_gate_reads_cell"


def lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h):
    H = c.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    d_o = dh * c
    dc_total = dc + dh * o * (1.0 - tc * tc)
    d_i = dc_total * g
    d_f = dc_total * c_prev
    d_g = dc_total * i
    da = np.concatenate([d_i * (i * (1.0 - i)), d_f * (f * (1.0 - f)), d_g * (1.0 - g * g),
                         d_o * (o * (1.0 - o))], axis=1)
    return {"x": da @ W_x.T, "h_prev": da @ W_h.T, "c_prev": dc_total * f,
            "W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
