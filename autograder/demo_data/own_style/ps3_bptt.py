"""The demo's second correct style for ps3_bptt: one answer cell per "# %% <function>" line.

Written independently of the worked solutions in assignments/source (other loops, einsum, helpers,
float32 in places). Each cell is the text a student typed; numpy is imported by the notebook, and a
helper defined in one cell is used by later cells, as students do.
"""

# %% rnn_backward
def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    """Sweep backwards for the pre-activation gradients, then contract over time and batch."""
    T = hs.shape[0]
    prev = np.concatenate([h0[None], hs[:-1]], axis=0)   # h_{t-1} for every t
    das = np.zeros_like(hs)
    carry = np.zeros_like(h0)
    t = T - 1
    while t >= 0:
        das[t] = (dhs[t] + carry) * (1.0 - hs[t] * hs[t])
        carry = das[t] @ W_h.T
        t -= 1
    return {"xs": np.einsum("tnh,dh->tnd", das, W_x),
            "h0": carry,
            "W_x": np.einsum("tnd,tnh->dh", xs, das),
            "W_h": np.einsum("tnk,tnh->kh", prev, das),
            "b": das.sum(axis=(0, 1))}

# %% char_lm_grad
def _forward_char(W_x, W_h, b, inputs, h0):
    """One-hot inputs (T, N, V) and the states h_0..h_T stacked (T + 1, N, H)."""
    onehots = np.eye(W_x.shape[0])[inputs]
    states = [h0]
    for x_t in onehots:
        states.append(np.tanh(x_t @ W_x + states[-1] @ W_h + b))
    return onehots, np.stack(states)


def char_lm_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y):
    T, N = inputs.shape
    onehots, states = _forward_char(W_x, W_h, b, inputs, h0)
    logits = states[1:] @ W_y + b_y
    logits = logits - logits.max(axis=2, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    wanted = np.eye(W_y.shape[1])[targets]
    loss = -(wanted * logp).sum() / N
    dlogits = (np.exp(logp) - wanted) / N
    direct = dlogits @ W_y.T
    das = np.zeros_like(direct)
    carry = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        das[t] = (direct[t] + carry) * (1 - states[t + 1] ** 2)
        carry = das[t] @ W_h.T
    grads = {"W_x": np.einsum("tnv,tnh->vh", onehots, das),
             "W_h": np.einsum("tnk,tnh->kh", states[:-1], das),
             "b": das.sum(axis=(0, 1)),
             "W_y": np.einsum("tnh,tnv->hv", states[1:], dlogits),
             "b_y": dlogits.sum(axis=(0, 1)),
             "h0": carry}
    return float(loss), grads, states[-1]

# %% truncated_grad
def truncated_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y, *, k):
    """Each loss term sends its gradient back through at most k states; the loss is the full one."""
    T, N = inputs.shape
    onehots, states = _forward_char(W_x, W_h, b, inputs, h0)
    grads = {name: np.zeros_like(p) for name, p in
             (("W_x", W_x), ("W_h", W_h), ("b", b), ("W_y", W_y), ("b_y", b_y), ("h0", h0))}
    total_loss = 0.0
    for t in range(T):
        z = states[t + 1] @ W_y + b_y
        q = np.exp(z - z.max(axis=1, keepdims=True))
        q = q / q.sum(axis=1, keepdims=True)
        picked = np.take_along_axis(q, targets[t][:, None], axis=1)
        total_loss += -np.log(picked).sum() / N
        dz = (q - np.eye(W_y.shape[1])[targets[t]]) / N
        grads["W_y"] += states[t + 1].T @ dz
        grads["b_y"] += dz.sum(axis=0)
        g = dz @ W_y.T
        steps, s = 0, t
        while steps < k and s >= 0:
            da = g * (1 - states[s + 1] ** 2)
            grads["W_x"] += onehots[s].T @ da
            grads["W_h"] += states[s].T @ da
            grads["b"] += da.sum(axis=0)
            g = da @ W_h.T
            s -= 1
            steps += 1
        if s < 0 and steps < k:
            grads["h0"] += g
    return float(total_loss), grads, states[-1]

# %% squared_error_grad
def squared_error_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y):
    T, N, _ = xs.shape
    states = [h0]
    for t in range(T):
        states.append(np.tanh(xs[t] @ W_x + states[t] @ W_h + b))
    all_h = np.array(states)
    err = all_h[1:] @ W_y + b_y - targets
    loss = float((err ** 2).sum() / (2 * N))
    derr = err / N
    grads = {"W_y": sum(all_h[t + 1].T @ derr[t] for t in range(T)), "b_y": derr.sum(axis=(0, 1))}
    grads.update(rnn_backward(derr @ W_y.T, xs, h0, all_h[1:], W_x, W_h))
    del grads["xs"]
    return loss, grads, all_h[-1]

# %% clip_global_norm
def clip_global_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(value) for value in grads.values()])
    norm = float(np.linalg.norm(flat))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {name: value * scale for name, value in grads.items()}, norm
