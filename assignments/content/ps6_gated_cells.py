"""Content of problem set 6 (the gated cells' backward passes); assembled by build_notebooks.py."""
from build_notebooks import Derivation, Function

TITLE = "Problem set 6: backward through the gated cells (LSTM and GRU)"

#: the book pages this set follows (names as in _toc.yml)
CHAPTERS = ["gated_cells"]

INTRO = r"""
This set follows the chapter on gated cells. You write the backward passes of the LSTM and the GRU by hand,
the Jacobian of the LSTM's state, and the GRU in the form of its original paper.

**The LSTM** (row convention, batch of N rows). The four gate blocks are stacked along the last axis in the
order **i, f, g, o** (torch's order), each of width H:

    a = x @ W_x + h_prev @ W_h + b          W_x (D, 4H), W_h (H, 4H), b (4H,), a (N, 4H)
    i = sigmoid(a[:, 0:H])      f = sigmoid(a[:, H:2H])
    g = tanh(a[:, 2H:3H])       o = sigmoid(a[:, 3H:4H])
    c = f * c_prev + i * g      h = o * tanh(c)

`gates` (N, 4H) holds the activated values `[i, f, g, o]` in the same order; the forward pass gives them to
you, so no function here needs `b`.

**The GRU** (torch's form). Gate blocks in the order **r, z, n**:

    r = sigmoid(x @ W_xr + h_prev @ W_hr + b_r)      z = sigmoid(x @ W_xz + h_prev @ W_hz + b_z)
    n = tanh(x @ W_xn + b_n + r * (h_prev @ W_hn + b_hn))
    h = (1 - z) * n + z * h_prev

with `W_xr = W_x[:, 0:H]`, `W_xz = W_x[:, H:2H]`, `W_xn = W_x[:, 2H:3H]` and likewise for `W_h` (H, 3H);
`b` (3H,) holds `[b_r, b_z, b_n]` and `b_hn` (H,) is the bias of the recurrent part. `gates` (N, 3H) holds
`[r, z, n]`.

Write plain numpy; run the `check(...)` cell after each function. Every gradient has the shape of the
quantity it is taken with respect to, and a dict's keys are the names of those arguments.
"""

ITEMS = [
    Function("lstm_step_backward", r"""
## 1. One LSTM step backward (3 points)

Given `dh = dL/dh` and `dc = dL/dc` for this step's outputs (`dc` is the gradient that reaches `c` from the
next step, not through `h`), return the gradients of the loss with respect to `x`, `h_prev`, `c_prev`,
`W_x`, `W_h` and `b` as a dict with those keys.
""", r'''
def lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h):
    """Gradients of one LSTM step.

    Args:
        dh: (N, H) gradient of the loss with respect to this step's h.
        dc: (N, H) gradient with respect to this step's c from the next step (not through h).
        x: (N, D); h_prev: (N, H); c_prev: (N, H); c: (N, H) this step's cell state.
        gates: (N, 4H) the activated gates [i, f, g, o].
        W_x: (D, 4H); W_h: (H, 4H).

    Returns:
        dict with "x" (N, D), "h_prev" (N, H), "c_prev" (N, H), "W_x" (D, 4H), "W_h" (H, 4H), "b" (4H,).
    """
    ### BEGIN SOLUTION
    H = c.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    d_o = dh * tc
    dc_total = dc + dh * o * (1.0 - tc * tc)
    d_i = dc_total * g
    d_f = dc_total * c_prev
    d_g = dc_total * i
    da = np.concatenate([d_i * (i * (1.0 - i)), d_f * (f * (1.0 - f)), d_g * (1.0 - g * g),
                         d_o * (o * (1.0 - o))], axis=1)
    return {"x": da @ W_x.T, "h_prev": da @ W_h.T, "c_prev": dc_total * f,
            "W_x": x.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    ### END SOLUTION
'''),
    Function("lstm_backward", r"""
## 2. Back-propagation through time for the LSTM (4 points)

`hs`, `cs` (T, N, H) and `gates` (T, N, 4H) come from the forward pass over `xs` (T, N, D) from `h0`, `c0`:
`hs[t]`, `cs[t]` are the states after reading `xs[t]`. `dhs[t]` is the part of `dL/dh_t` that reaches `h_t`
directly (through an output layer, say). Return the total gradients with respect to `xs`, `h0`, `c0`,
`W_x`, `W_h` and `b`.
""", r'''
def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h):
    """Back-propagation through time for the LSTM.

    Args:
        dhs: (T, N, H) direct gradients of the loss with respect to every hidden state.
        xs: (T, N, D); h0: (N, H); c0: (N, H).
        hs: (T, N, H); cs: (T, N, H); gates: (T, N, 4H) from the forward pass.
        W_x: (D, 4H); W_h: (H, 4H).

    Returns:
        dict with "xs" (T, N, D), "h0" (N, H), "c0" (N, H), "W_x" (D, 4H), "W_h" (H, 4H), "b" (4H,).
    """
    ### BEGIN SOLUTION
    T, N, H = hs.shape
    grads = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(4 * H)}
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        c_prev = cs[t - 1] if t > 0 else c0
        i, f, g, o = gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:3 * H], gates[t, :, 3 * H:]
        dh = dhs[t] + dh_next
        tc = np.tanh(cs[t])
        dc = dc_next + dh * o * (1.0 - tc * tc)
        d_i, d_f, d_g, d_o = dc * g, dc * c_prev, dc * i, dh * tc
        da = np.concatenate([d_i * (i * (1.0 - i)), d_f * (f * (1.0 - f)), d_g * (1.0 - g * g),
                             d_o * (o * (1.0 - o))], axis=1)
        grads["xs"][t] = da @ W_x.T
        grads["W_x"] += xs[t].T @ da
        grads["W_h"] += h_prev.T @ da
        grads["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
        dc_next = dc * f
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    return grads
    ### END SOLUTION
'''),
    Function("gru_step_backward", r"""
## 3. One GRU step backward (3 points)

Given `dh = dL/dh` for this step's output, return the gradients with respect to `x`, `h_prev`, `W_x`,
`W_h`, `b` and `b_hn` for the GRU in torch's form (the introduction's equations).
""", r'''
def gru_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn):
    """Gradients of one GRU step, the reset gate scaling the finished recurrent part.

    Args:
        dh: (N, H) gradient of the loss with respect to this step's h.
        x: (N, D); h_prev: (N, H).
        gates: (N, 3H) the activated gates [r, z, n].
        W_x: (D, 3H); W_h: (H, 3H); b_hn: (H,).

    Returns:
        dict with "x" (N, D), "h_prev" (N, H), "W_x" (D, 3H), "W_h" (H, 3H), "b" (3H,), "b_hn" (H,).
    """
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    u = h_prev @ W_h[:, 2 * H:] + b_hn
    d_n = dh * (1.0 - z)
    d_z = dh * (h_prev - n)
    da_n = d_n * (1.0 - n * n)
    da_z = d_z * (z * (1.0 - z))
    da_r = da_n * u * (r * (1.0 - r))
    du = da_n * r
    da = np.concatenate([da_r, da_z, da_n], axis=1)
    da_rec = np.concatenate([da_r, da_z, du], axis=1)
    return {"x": da @ W_x.T, "h_prev": dh * z + da_rec @ W_h.T, "W_x": x.T @ da, "W_h": h_prev.T @ da_rec,
            "b": da.sum(axis=0), "b_hn": du.sum(axis=0)}
    ### END SOLUTION
'''),
    Function("lstm_state_jacobian", r"""
## 4. The Jacobian of the LSTM's state (3 points)

The LSTM's state is the pair `s_t = [h_t, c_t]` (2H units: h first, then c). Return the Jacobian of one step,
`J[n] = d s_t[n] / d s_{t-1}[n]` (numerator layout: rows index `s_t`), shape (N, 2H, 2H). The step's cached
values are enough: `h_{t-1}` and `x_t` act on `s_t` only through the gates and `c_t`.
""", r'''
def lstm_state_jacobian(c_prev, c, gates, W_h):
    """Jacobian of one LSTM step's state [h_t, c_t] with respect to [h_{t-1}, c_{t-1}].

    Args:
        c_prev: (N, H) previous cell state; c: (N, H) this step's cell state.
        gates: (N, 4H) the activated gates [i, f, g, o].
        W_h: (H, 4H).

    Returns:
        J: (N, 2H, 2H), J[n, a, b] = d s_t[n, a] / d s_{t-1}[n, b] with s = [h, c].
    """
    ### BEGIN SOLUTION
    N, H = c.shape
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c)
    W_i, W_f, W_g, W_o = W_h[:, :H], W_h[:, H:2 * H], W_h[:, 2 * H:3 * H], W_h[:, 3 * H:]

    def rows(k, W):                       # diag(k) W^T for every example: k (N, H), W (H, H)
        return k[:, :, None] * W.T
    dc_dh = rows(g * (i * (1.0 - i)), W_i) + rows(c_prev * (f * (1.0 - f)), W_f) + rows(i * (1.0 - g * g), W_g)
    to_h = o * (1.0 - tc * tc)
    J = np.zeros((N, 2 * H, 2 * H))
    J[:, :H, :H] = rows(tc * (o * (1.0 - o)), W_o) + to_h[:, :, None] * dc_dh
    J[:, :H, H:] = np.einsum("nk,kl->nkl", to_h * f, np.eye(H))
    J[:, H:, :H] = dc_dh
    J[:, H:, H:] = np.einsum("nk,kl->nkl", f, np.eye(H))
    return J
    ### END SOLUTION
'''),
    Function("gru_cho_step_backward", r"""
## 5. Beyond the chapter: the GRU of Cho et al. (3 points)

In the paper that introduced the GRU, the reset gate scales the previous state *before* the recurrent
product, and `b_hn` stays outside the gate:

    n = tanh(x @ W_xn + b_n + (r * h_prev) @ W_hn + b_hn)

with `r`, `z` and `h` as in the introduction. The chapter derives the backward pass of torch's form only.
Derive this one and return the same dict as in question 3 (the gradient with respect to `W_hn` is now read
from what that block multiplies).
""", r'''
def gru_cho_step_backward(dh, x, h_prev, gates, W_x, W_h, b_hn):
    """Gradients of one GRU step in Cho et al.'s form.

    Args:
        dh: (N, H) gradient of the loss with respect to this step's h.
        x: (N, D); h_prev: (N, H).
        gates: (N, 3H) the activated gates [r, z, n].
        W_x: (D, 3H); W_h: (H, 3H); b_hn: (H,).

    Returns:
        dict with "x" (N, D), "h_prev" (N, H), "W_x" (D, 3H), "W_h" (H, 3H), "b" (3H,), "b_hn" (H,).
    """
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    W_hr, W_hz, W_hn = W_h[:, :H], W_h[:, H:2 * H], W_h[:, 2 * H:]
    d_n = dh * (1.0 - z)
    d_z = dh * (h_prev - n)
    da_n = d_n * (1.0 - n * n)
    da_z = d_z * (z * (1.0 - z))
    d_rh = da_n @ W_hn.T
    da_r = d_rh * h_prev * (r * (1.0 - r))
    da = np.concatenate([da_r, da_z, da_n], axis=1)
    dh_prev = dh * z + d_rh * r + da_r @ W_hr.T + da_z @ W_hz.T
    dW_h = np.concatenate([h_prev.T @ da_r, h_prev.T @ da_z, (r * h_prev).T @ da_n], axis=1)
    return {"x": da @ W_x.T, "h_prev": dh_prev, "W_x": x.T @ da, "W_h": dW_h, "b": da.sum(axis=0),
            "b_hn": da_n.sum(axis=0)}
    ### END SOLUTION
'''),
    Derivation(1, r"""
## 6. Derivation: the two carried gradients (4 points, graded by hand)

(a) From `c_t = f_t * c_{t-1} + i_t * g_t` and `h_t = o_t * tanh(c_t)`, derive the gradient that reaches
`c_{t-1}` in back-propagation through time, in terms of the gradients `dL/dh_t` and the cell gradient from
step t + 1. Name every path it collects.

(b) Along the path that stays on the cells, what is `d c_T / d c_k` for k < T? Compare it with the product
`d h_T / d h_k` of the tanh RNN: which factors does the RNN's product have that the cell path lacks, and
what does that mean for gradients over long distances? When does the cell path vanish anyway?
""", r"""
**Model answer.** (a) Let `δc_t` be the gradient that reaches `c_t` from step t + 1 along the cells (zero at
t = T) and `dh_t` the total gradient of `h_t` (direct, plus what comes back from step t + 1 through the gates
and `W_h`). The cell's total gradient collects two paths, along the cells and through `h_t`:
`dc_t = δc_t + dh_t ⊙ o_t ⊙ (1 - tanh²(c_t))`. `c_{t-1}` enters step t only through `c_t`, with
`∂c_t/∂c_{t-1} = diag(f_t)`, so what step t passes back is `δc_{t-1} = dc_t ⊙ f_t` (the path from `c_{t-1}`
through `h_{t-1}` is added at step t - 1).

(b) On the cell path, `d c_T / d c_k = diag(f_{k+1} ⊙ ... ⊙ f_T)`: element-wise, no weight matrix and no
squashing derivative. The RNN's `d h_T / d h_k = Π diag(1 - h_t²) W_h^T` has a matrix and a slope ≤ 1 in
every factor, so its norm typically shrinks (or grows) geometrically. The cell path stays near 1 while the
forget gates stay near 1, so gradients reach far back; it vanishes anyway when the forget gates are small
(the product of numbers well below 1), that is when the cell is reset.
""", r"""
- (a) 2 points: the one-step derivative of the cell state with respect to the previous one (1), and the
  two paths the cell's gradient collects, each with its factors (1).
- (b) 2 points: the product along the cell path (1), the comparison with the RNN's product and when the cell
  path still vanishes (1).
- A different correct route earns the same points as the course's own derivation.
""", 4),
]
