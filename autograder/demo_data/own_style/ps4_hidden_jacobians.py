"""The demo's second correct style for ps4_hidden_jacobians: one answer cell per "# %% <function>" line.

Written independently of the worked solutions in assignments/source (other loops, einsum, helpers,
float32 in places). Each cell is the text a student typed; numpy is imported by the notebook, and a
helper defined in one cell is used by later cells, as students do.
"""

# %% jacobian_products
def jacobian_products(step_jacobians):
    # walk from the last step backwards, multiplying on the right
    out = [step_jacobians[-1]]
    for J_k in step_jacobians[-2::-1]:
        out.append(np.matmul(out[-1], J_k))
    return np.stack(out[::-1])

# %% two_state_state_jacobian
def _slope(u, activation):
    if activation == "relu":
        return np.where(u > 0, 1.0, 0.0)
    if activation == "sigmoid":
        sg = 1.0 / (1.0 + np.exp(-u))
        return sg * (1.0 - sg)
    return np.ones_like(u)


def two_state_state_jacobian(h_prev, W_h, activation):
    N, H = h_prev.shape
    eye = np.eye(H)
    blocks = []
    for n in range(N):
        A = W_h.T @ np.diag(_slope(h_prev[n], activation))
        top = np.hstack([A, np.zeros((H, H))])
        bottom = np.hstack([A - eye, eye])
        blocks.append(np.vstack([top, bottom]))
    return np.array(blocks)

# %% leaky_step_jacobians
def leaky_step_jacobians(hs, h0, W_h, alpha):
    previous = np.concatenate([h0[None], hs[:-1]])
    tanh_part = (hs - (1 - alpha) * previous) / alpha
    slope = 1 - tanh_part ** 2
    H = W_h.shape[0]
    # (1 - alpha) I + alpha diag(slope) W_h^T, broadcast over time and batch
    return (1 - alpha) * np.eye(H) + alpha * slope[..., :, None] * W_h.T
