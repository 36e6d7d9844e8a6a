"""The demo's second correct style for ps2_layout_cell: one answer cell per "# %% <function>" line.

Written independently of the worked solutions in assignments/source (other loops, einsum, helpers,
float32 in places). Each cell is the text a student typed; numpy is imported by the notebook, and a
helper defined in one cell is used by later cells, as students do.
"""

# %% map_jacobian
def _act_slope(x, activation):
    if activation == "sigmoid":
        sig = 1 / (1 + np.exp(-x))
        return sig - sig ** 2
    t = np.tanh(x)
    return 1 - t * t


def map_jacobian(W, x, activation):
    M, H = W.shape
    J = np.zeros((M, H))
    slope = _act_slope(x, activation)
    for i in range(M):
        for j in range(H):
            J[i, j] = W[i, j] * slope[j]
    return J

# %% rnn_step_jacobian
def rnn_step_jacobian(h, W_h):
    # J[n, i, j] = (1 - h[n, i]^2) * W_h[j, i]
    return np.einsum("ni,ji->nij", 1.0 - np.square(h), W_h)

# %% batched_matmul_jacobian
def batched_matmul_jacobian(h, W):
    # dU[i, j] / dh[p, q] = delta(i, p) W[q, j]
    return np.einsum("ip,qj->ijpq", np.eye(h.shape[0]), W)

# %% sigmoid_step_backward
def sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h):
    g = dh * h * (1 - h)  # through the sigmoid
    out = {}
    out["b"] = np.sum(g, axis=0)
    out["W_x"] = np.dot(x.T, g)
    out["W_h"] = np.dot(h_prev.T, g)
    out["x"] = np.dot(g, W_x.T)
    out["h_prev"] = np.dot(g, W_h.T)
    return out
