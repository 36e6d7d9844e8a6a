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


def char_lm_grad(W_x, W_h, b, W_y, b_y, inputs, targets, h0):
    from rnngrad.char_lm import char_lm_loss
    args = {"W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y, "h0": h0}

    def loss(key):
        def f(value):
            p = {**args, key: value}
            return char_lm_loss({k: p[k] for k in ("W_x", "W_h", "b", "W_y", "b_y")}, inputs, targets, p["h0"])[0]
        return f
    return loss("b")(b), {key: _grad(loss(key), value) for key, value in args.items()}


def squared_error_grad(xs, h0, W_x, W_h, b, W_y, b_y, targets):
    from rnngrad.rnn import rnn_forward
    args = {"h0": h0, "W_x": W_x, "W_h": W_h, "b": b, "W_y": W_y, "b_y": b_y}

    def loss(key):
        def f(value):
            p = {**args, key: value}
            ys = rnn_forward(xs, p["h0"], p["W_x"], p["W_h"], p["b"]) @ p["W_y"] + p["b_y"]
            return 0.5 * np.sum((ys - targets) ** 2) / xs.shape[1]
        return f
    return loss("b")(b), {key: _grad(loss(key), value) for key, value in args.items()}


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


FUNCTIONS = {
    "ps1_softmax": ["softmax_jacobian", "softmax_vjp", "cross_entropy_grad", "smoothed_cross_entropy_grad"],
    "ps2_layout_cell": ["map_jacobian", "rnn_step_jacobian", "batched_matmul_jacobian", "rnn_step_backward",
                        "sigmoid_step_backward"],
    "ps3_bptt": ["rnn_backward", "char_lm_grad", "squared_error_grad"],
    "ps4_hidden_jacobians": ["two_state_state_jacobian", "leaky_step_jacobians"],
    "ps5_sequence_slope": ["rnn_jvp", "sequence_slope", "weight_tangent"],
}
