"""The demo's second correct style for ps6_gated_cells: one answer cell per "# %% <function>" line.

Written independently of the worked solutions in assignments/source (gate blocks split with np.split, the
affine map's gradients in one helper, einsum for the Jacobian, a loop over the examples). Each cell is the
text a student typed; numpy is imported by the notebook, and a helper defined in one cell is used by later
cells, as students do.
"""

# %% lstm_step_backward
def _affine_grads(da, x, h_prev, W_x, W_h):
    """Gradients through a = x W_x + h_prev W_h + b."""
    return {"x": np.matmul(da, W_x.T), "h_prev": np.matmul(da, W_h.T), "W_x": np.matmul(x.T, da),
            "W_h": np.matmul(h_prev.T, da), "b": np.sum(da, axis=0)}


def lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h):
    gi, gf, gg, go = np.split(gates, 4, axis=1)
    squashed = np.tanh(c)
    cell_grad = dc + dh * go * (1 - squashed ** 2)
    pre = np.hstack([cell_grad * gg * gi * (1 - gi),
                     cell_grad * c_prev * gf * (1 - gf),
                     cell_grad * gi * (1 - gg ** 2),
                     dh * squashed * go * (1 - go)])
    out = _affine_grads(pre, x, h_prev, W_x, W_h)
    out["c_prev"] = cell_grad * gf
    return out

# %% lstm_backward
def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h):
    T = xs.shape[0]
    total = {"xs": np.zeros(xs.shape), "W_x": np.zeros(W_x.shape), "W_h": np.zeros(W_h.shape),
             "b": np.zeros(W_x.shape[1])}
    carry_h, carry_c = np.zeros(h0.shape), np.zeros(c0.shape)
    for t in range(T - 1, -1, -1):
        prev_h = h0 if t == 0 else hs[t - 1]
        prev_c = c0 if t == 0 else cs[t - 1]
        step = lstm_step_backward(dhs[t] + carry_h, carry_c, xs[t], prev_h, prev_c, cs[t], gates[t], W_x, W_h)
        total["xs"][t] = step["x"]
        for name in ("W_x", "W_h", "b"):
            total[name] = total[name] + step[name]
        carry_h, carry_c = step["h_prev"], step["c_prev"]
    total["h0"], total["c0"] = carry_h, carry_c
    return total

# %% gru_step_backward
def gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn):
    r, z, n = np.split(gates, 3, axis=1)
    Wr, Wz, Wn = np.split(W_h, 3, axis=1)
    rec = h_prev @ Wn + b_hn
    pre_n = dh * (1 - z) * (1 - n ** 2)
    pre_z = dh * (h_prev - n) * z * (1 - z)
    pre_r = pre_n * rec * r * (1 - r)
    rec_grad = pre_n * r
    pre = np.hstack([pre_r, pre_z, pre_n])
    back = np.hstack([pre_r, pre_z, rec_grad])
    return {"x": pre @ W_x.T, "h_prev": dh * z + pre_r @ Wr.T + pre_z @ Wz.T + rec_grad @ Wn.T,
            "W_x": x.T @ pre, "W_h": h_prev.T @ back, "b": pre.sum(0), "b_hn": rec_grad.sum(0)}

# %% lstm_state_jacobian
def lstm_state_jacobian(c_prev, c, gates, W_h):
    N, H = c.shape
    gi, gf, gg, go = np.split(gates, 4, axis=1)
    blocks = np.split(W_h, 4, axis=1)
    coef = [gg * gi * (1 - gi), c_prev * gf * (1 - gf), gi * (1 - gg ** 2)]
    squashed = np.tanh(c)
    out = np.zeros((N, 2 * H, 2 * H))
    for k in range(N):
        dc_dh = sum(np.diag(a[k]) @ W.T for a, W in zip(coef, blocks[:3]))
        dh_dc = go[k] * (1 - squashed[k] ** 2)
        out[k, :H, :H] = np.diag(squashed[k] * go[k] * (1 - go[k])) @ blocks[3].T + np.diag(dh_dc) @ dc_dh
        out[k, :H, H:] = np.diag(dh_dc * gf[k])
        out[k, H:, :H] = dc_dh
        out[k, H:, H:] = np.diag(gf[k])
    return out

# %% gru_cho_step_backward
def gru_cho_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn):
    r, z, n = np.split(gates, 3, axis=1)
    Wr, Wz, Wn = np.split(W_h, 3, axis=1)
    pre_n = dh * (1 - z) * (1 - n ** 2)
    pre_z = dh * (h_prev - n) * z * (1 - z)
    to_reset_state = pre_n @ Wn.T
    pre_r = to_reset_state * h_prev * r * (1 - r)
    pre = np.hstack([pre_r, pre_z, pre_n])
    grad_h = dh * z + to_reset_state * r + pre_r @ Wr.T + pre_z @ Wz.T
    grad_Wh = np.hstack([h_prev.T @ pre_r, h_prev.T @ pre_z, (r * h_prev).T @ pre_n])
    return {"x": pre @ W_x.T, "h_prev": grad_h, "W_x": x.T @ pre, "W_h": grad_Wh, "b": pre.sum(0),
            "b_hn": pre_n.sum(0)}
