"""The demo's second correct style for ps5_sequence_slope: one answer cell per "# %% <function>" line.

Written independently of the worked solutions in assignments/source (other loops, einsum, helpers,
float32 in places). Each cell is the text a student typed; numpy is imported by the notebook, and a
helper defined in one cell is used by later cells, as students do.
"""

# %% rnn_jvp
def rnn_jvp(xs, h0, W_x, W_h, b, dxs):
    states, tangents = [h0], [np.zeros_like(h0)]
    for x_t, dx_t in zip(xs, dxs):
        pre = x_t @ W_x + states[-1] @ W_h + b
        dpre = dx_t @ W_x + tangents[-1] @ W_h
        h_t = np.tanh(pre)
        states.append(h_t)
        tangents.append(dpre * (1 - h_t ** 2))
    return np.stack(tangents[1:])

# %% weight_tangent
def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    def step(h, x):
        return np.tanh(x @ W_x + h @ W_h + b)

    h, tangent = h0, np.zeros_like(h0)
    result = []
    for x in xs:
        h_new = step(h, x)
        tangent = (1 - np.square(h_new)) * (np.matmul(h, dW_h) + np.matmul(tangent, W_h))
        result.append(tangent)
        h = h_new
    return np.asarray(result)
