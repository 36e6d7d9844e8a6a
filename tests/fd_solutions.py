"""Finite-difference "solutions" of the derivative specs: what a student who skipped the derivation returns.

Each function has the graded function's signature and builds its answer from central differences of a
forward computation (course code is fine here: these are trusted test doubles, never submissions). The
step ``EPS`` is module-wide so a test can try several. ``truncated_grad`` is left out: a truncated gradient
is not the derivative of one evaluable function, so finite differences do not produce it directly.
"""
from __future__ import annotations

import numpy as np

EPS = 1e-6


def _grad(loss, x):
    """d loss / d x by central differences (``loss`` a function of an array shaped like ``x``)."""
    g = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += EPS
        down[i] -= EPS
        g[i] = (loss(up) - loss(down)) / (2 * EPS)
    return g


def _jacobian(f, x):
    """Numerator-layout Jacobian f.shape + x.shape by central differences."""
    out = None
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += EPS
        down[i] -= EPS
        col = (f(up) - f(down)) / (2 * EPS)
        if out is None:
            out = np.zeros(col.shape + x.shape)
        out[(Ellipsis,) + i] = col
    return out


def _directional(f, x, dx):
    return (f(x + EPS * dx) - f(x - EPS * dx)) / (2 * EPS)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _act(name, a):
    from rnngrad.activations import activation
    return activation(name, a)


def _inverse(name, h):
    return np.arctanh(h) if name == "tanh" else np.log(h / (1.0 - h))


# ------------------------------------------------------------------------------------------ ps1
def softmax_jacobian(logits):
    return np.stack([_jacobian(_softmax, row) for row in logits])


def softmax_vjp(logits, v):
    return _grad(lambda z: np.sum(v * _softmax(z)), logits)


def _ce(z, targets):
    shifted = z - z.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.sum(targets * logp) / z.shape[0]


def cross_entropy_grad(logits, labels):
    return _grad(lambda z: _ce(z, np.eye(logits.shape[1])[labels]), logits)


def smoothed_cross_entropy_grad(logits, labels, epsilon):
    C = logits.shape[1]
    return _grad(lambda z: _ce(z, (1 - epsilon) * np.eye(C)[labels] + epsilon / C), logits)


# ------------------------------------------------------------------------------------------ ps2
def map_jacobian(W, x, activation):
    return _jacobian(lambda u: W @ _act(activation, u), x)


def rnn_step_jacobian(h, W_h):
    a = np.arctanh(h)
    return np.stack([_jacobian(lambda u: np.tanh(a[n] + u @ W_h), np.zeros(W_h.shape[0])) for n in range(len(h))])


def batched_matmul_jacobian(h, W):
    return _jacobian(lambda u: u @ W, h)


def _step_backward(name):
    def backward(dh, x, h_prev, h, W_x, W_h):
        b = (_inverse(name, h) - x @ W_x - h_prev @ W_h).mean(axis=0)
        args = {"x": x, "h_prev": h_prev, "W_x": W_x, "W_h": W_h, "b": b}

        def loss(key):
            def f(value):
                a = {**args, key: value}
                return np.sum(dh * _act(name, a["x"] @ a["W_x"] + a["h_prev"] @ a["W_h"] + a["b"]))
            return f
        return {key: _grad(loss(key), value) for key, value in args.items()}
    return backward


rnn_step_backward = _step_backward("tanh")
sigmoid_step_backward = _step_backward("sigmoid")


# ------------------------------------------------------------------------------------------ ps3
def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    from rnngrad.rnn import rnn_forward
    b = (np.arctanh(hs[0]) - xs[0] @ W_x - h0 @ W_h).mean(axis=0)
    args = {"xs": xs, "h0": h0, "W_x": W_x, "W_h": W_h, "b": b}

    def loss(key):
        return lambda value: np.sum(dhs * rnn_forward(**{**args, key: value}))
    return {key: _grad(loss(key), value) for key, value in args.items()}


def char_lm_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y):
    from rnngrad.char_lm import char_lm_loss
    args = {"W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y, "h0": h0}

    def forward(p):
        return char_lm_loss({k: p[k] for k in ("W_x", "W_h", "b", "W_y", "b_y")}, inputs, targets, p["h0"])

    def loss(key):
        return lambda value: forward({**args, key: value})[0]
    value, cache = forward(args)
    return value, {key: _grad(loss(key), v) for key, v in args.items()}, cache["hs"][-1]


def squared_error_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y):
    from rnngrad.rnn import rnn_forward
    args = {"h0": h0, "W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y}

    def loss(key):
        def f(value):
            p = {**args, key: value}
            ys = rnn_forward(xs, p["h0"], p["W_x"], p["W_h"], p["b"]) @ p["W_y"] + p["b_y"]
            return 0.5 * np.sum((ys - targets) ** 2) / xs.shape[1]
        return f
    h_last = rnn_forward(xs, h0, W_x, W_h, b)[-1]
    return loss("b")(b), {key: _grad(loss(key), value) for key, value in args.items()}, h_last


# ------------------------------------------------------------------------------------------ ps4
def two_state_state_jacobian(h_prev, W_h, activation):
    H = W_h.shape[0]

    def step(state):
        h, c = state[:H], state[H:]
        h_new = _act(activation, h) @ W_h
        return np.concatenate([h_new, c - h + h_new])
    return np.stack([_jacobian(step, np.concatenate([h, np.zeros(H)])) for h in h_prev])


def leaky_step_jacobians(hs, h0, W_h, alpha):
    prev = np.concatenate([h0[None], hs[:-1]])
    a = np.arctanh((hs - (1 - alpha) * prev) / alpha)
    out = np.zeros(hs.shape + (hs.shape[-1],))
    for t in range(len(hs)):
        for n in range(hs.shape[1]):
            def step(h, t=t, n=n):
                return (1 - alpha) * h + alpha * np.tanh(a[t, n] + (h - prev[t, n]) @ W_h)
            out[t, n] = _jacobian(step, prev[t, n].copy())
    return out


# ------------------------------------------------------------------------------------------ ps5
def rnn_jvp(xs, h0, W_x, W_h, b, dxs):
    from rnngrad.rnn import rnn_forward
    return _directional(lambda u: rnn_forward(u, h0, W_x, W_h, b), xs, dxs)


def sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt):
    def outputs(u):
        h, ys = h0, []
        for t in range(len(u)):
            h = 1.0 / (1.0 + np.exp(-(u[t] @ W_x + h @ W_h + b)))
            ys.append(h @ W_y + b_y)
        return np.stack(ys)
    return _directional(outputs, xs, dxs_dt)


def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    from rnngrad.rnn import rnn_forward
    return _directional(lambda w: rnn_forward(xs, h0, W_x, w, b), W_h, dW_h)


# ------------------------------------------------------------------------------------------ ps6
def _lstm_bias(x, h_prev, gates, W_x, W_h):
    """The bias the forward pass used, read off the first example's gates."""
    H = h_prev.shape[1]
    a = np.concatenate([_inverse("sigmoid", gates[0, :2 * H]), _inverse("tanh", gates[0, 2 * H:3 * H]),
                        _inverse("sigmoid", gates[0, 3 * H:])])
    return a - x[0] @ W_x - h_prev[0] @ W_h


def _grads(loss, args: dict) -> dict:
    return {key: _grad(lambda v, key=key: loss({**args, key: v}), value) for key, value in args.items()}


def lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h):
    from rnngrad.lstm import lstm_step_forward
    args = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "W_x": W_x, "W_h": W_h,
            "b": _lstm_bias(x, h_prev, gates, W_x, W_h)}

    def loss(p):
        h, c_new, _ = lstm_step_forward(p["x"], p["h_prev"], p["c_prev"], p["W_x"], p["W_h"], p["b"])
        return np.sum(dh * h) + np.sum(dc * c_new)
    return _grads(loss, args)


def lstm_backward(dhs, xs, h0, c0, hs, cs, gates, W_x, W_h):
    from rnngrad.lstm import lstm_forward
    args = {"xs": xs, "h0": h0, "c0": c0, "W_x": W_x, "W_h": W_h, "b": _lstm_bias(xs[0], h0, gates[0], W_x, W_h)}
    return _grads(lambda p: np.sum(dhs * lstm_forward(p["xs"], p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"])[0]),
                  args)


def _gru_biases(x, h_prev, gates, W_x, W_h, b_hn, variant):
    H = h_prev.shape[1]
    r, n = gates[0, :H], gates[0, 2 * H:]
    xw = x[0] @ W_x
    rec = r * (h_prev[0] @ W_h[:, 2 * H:] + b_hn) if variant == "torch" else (r * h_prev[0]) @ W_h[:, 2 * H:] + b_hn
    return np.concatenate([_inverse("sigmoid", gates[0, :2 * H]) - xw[:2 * H] - h_prev[0] @ W_h[:, :2 * H],
                           _inverse("tanh", n) - xw[2 * H:] - rec])


def _gru_step(variant):
    def backward(dh, x, h_prev, gates, W_x, W_h, b_hn):
        from rnngrad.gru import gru_step_forward
        args = {"x": x, "h_prev": h_prev, "W_x": W_x, "W_h": W_h,
                "b": _gru_biases(x, h_prev, gates, W_x, W_h, b_hn, variant), "b_hn": b_hn}
        return _grads(lambda p: np.sum(dh * gru_step_forward(p["x"], p["h_prev"], p["W_x"], p["W_h"], p["b"],
                                                             p["b_hn"], variant=variant)[0]), args)
    return backward


gru_step_backward = _gru_step("torch")
gru_cho_step_backward = _gru_step("cho")


def lstm_state_jacobian(c_prev, c, gates, W_h):
    H = c.shape[1]
    out = np.zeros((len(c), 2 * H, 2 * H))
    for n in range(len(c)):
        a = np.concatenate([_inverse("sigmoid", gates[n, :2 * H]), _inverse("tanh", gates[n, 2 * H:3 * H]),
                            _inverse("sigmoid", gates[n, 3 * H:])])

        def step(state, a=a):
            pre = a + state[:H] @ W_h           # the previous h moved by state[:H] from where it was
            i, f, o = _act("sigmoid", pre[:H]), _act("sigmoid", pre[H:2 * H]), _act("sigmoid", pre[3 * H:])
            c_new = f * state[H:] + i * np.tanh(pre[2 * H:3 * H])
            return np.concatenate([o * np.tanh(c_new), c_new])
        out[n] = _jacobian(step, np.concatenate([np.zeros(H), c_prev[n]]))
    return out


FUNCTIONS = {
    "ps1_softmax": ["softmax_jacobian", "softmax_vjp", "cross_entropy_grad", "smoothed_cross_entropy_grad"],
    "ps2_layout_cell": ["map_jacobian", "rnn_step_jacobian", "batched_matmul_jacobian", "rnn_step_backward",
                        "sigmoid_step_backward"],
    "ps3_bptt": ["rnn_backward", "char_lm_grad", "squared_error_grad"],
    "ps4_hidden_jacobians": ["two_state_state_jacobian", "leaky_step_jacobians"],
    "ps5_sequence_slope": ["rnn_jvp", "sequence_slope", "weight_tangent"],
    "ps6_gated_cells": ["lstm_step_backward", "lstm_backward", "gru_step_backward", "lstm_state_jacobian",
                        "gru_cho_step_backward"],
}
