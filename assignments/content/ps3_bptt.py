"""Content of problem set 3 (back-propagation through time); assembled by build_notebooks.py."""
from build_notebooks import Derivation, Function

TITLE = "Problem set 3: back-propagation through time"

#: the book pages this set follows (names as in _toc.yml)
CHAPTERS = ["bptt"]

INTRO = r"""
This set follows the chapter on BPTT. The cell is `h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)`; sequences are
time-major: `xs` is `(T, N, D)`, `hs` is `(T, N, H)` with `hs[t]` the state after reading `xs[t]` (the initial
state `h0` is not in `hs`).

The character model reads one-hot characters (so `x_t @ W_x` is the row `W_x[inputs[t]]`, `W_x` of shape
`(V, H)`), predicts the next character with `logits_t = h_t @ W_y + b_y` and uses the cross-entropy, **summed
over time and averaged over the batch**.

Every function takes its arrays in the order data, state, weights (`inputs, targets, h0, W_x, W_h, b, W_y,
b_y`), options such as `k` as keywords, and a function that starts from `h0` returns `(loss, grads, h_last)`:
`h_last` is the state after the last step, where the next chunk of a long text starts. Gradient keys are the
names of the arguments.

Write plain numpy; run the `check(...)` cell after each function. A good habit that the checks cannot grade:
compare your gradients with central differences, `(L(θ + ε) - L(θ - ε)) / (2 ε)` entry by entry, with
clipping switched off.
"""

ITEMS = [
    Function("rnn_backward", r"""
## 1. BPTT for the tanh RNN (4 points)

`dhs[t]` is the gradient that reaches `h_t` *directly* from the loss (e.g. through the output at step `t`).
Return the gradients of the loss with respect to `xs`, `h0`, `W_x`, `W_h` and `b` as a dict with those keys.
Remember that `h_t` also influences every later state.
""", r'''
def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    """Back-propagation through time for h_t = tanh(x_t W_x + h_{t-1} W_h + b).

    Args:
        dhs: float array (T, N, H), direct gradients dL/dh_t.
        xs: float array (T, N, D).
        h0: float array (N, H).
        hs: float array (T, N, H), the states of the forward pass.
        W_x: float array (D, H).
        W_h: float array (H, H).

    Returns:
        dict with "xs" (T, N, D), "h0" (N, H), "W_x" (D, H), "W_h" (H, H), "b" (H,).
    """
    ### BEGIN SOLUTION
    T, N, H = hs.shape
    grads = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + dh_next) * (1.0 - hs[t] ** 2)
        grads["xs"][t] = da @ W_x.T
        grads["W_x"] += xs[t].T @ da
        grads["W_h"] += h_prev.T @ da
        grads["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    grads["h0"] = dh_next
    return grads
    ### END SOLUTION
'''),
    Function("char_lm_grad", r"""
## 2. The character model: loss and gradient (4 points)

Run the model over the sequence from `h0`, compute the loss (sum over time of the batch-mean cross-entropy of
predicting `targets[t]`) and its gradient with respect to all five parameters and `h0`. Return
`(loss, grads, h_last)` with `grads` a dict with keys `"W_x"`, `"W_h"`, `"b"`, `"W_y"`, `"b_y"`, `"h0"` and
`h_last` the state after the last step. Do **not** clip here.
""", r'''
def char_lm_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y):
    """Loss and gradients of the character-level RNN language model.

    Args:
        inputs: int array (T, N), character indices in [0, V).
        targets: int array (T, N), the next characters.
        h0: float array (N, H), the initial state.
        W_x: float array (V, H); W_h: (H, H); b: (H,); W_y: (H, V); b_y: (V,).

    Returns:
        (loss, grads, h_last): loss a float; grads a dict with "W_x", "W_h", "b", "W_y", "b_y" (same shapes
        as the parameters) and "h0" (N, H); h_last (N, H) the state after the last step.
    """
    ### BEGIN SOLUTION
    T, N = inputs.shape
    V, H = W_x.shape
    rows = np.arange(N)
    hs = np.zeros((T + 1, N, H))
    hs[0] = h0
    probs = np.zeros((T, N, V))
    loss = 0.0
    for t in range(T):
        hs[t + 1] = np.tanh(W_x[inputs[t]] + hs[t] @ W_h + b)
        z = hs[t + 1] @ W_y + b_y
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        probs[t] = np.exp(log_p)
        loss -= log_p[rows, targets[t]].sum() / N
    grads = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b),
             "W_y": np.zeros_like(W_y), "b_y": np.zeros_like(b_y)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dz = probs[t].copy()
        dz[rows, targets[t]] -= 1.0
        dz /= N
        grads["W_y"] += hs[t + 1].T @ dz
        grads["b_y"] += dz.sum(axis=0)
        da = (dz @ W_y.T + dh_next) * (1.0 - hs[t + 1] ** 2)
        np.add.at(grads["W_x"], inputs[t], da)
        grads["W_h"] += hs[t].T @ da
        grads["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    grads["h0"] = dh_next
    return loss, grads, hs[T]
    ### END SOLUTION
'''),
    Function("truncated_grad", r"""
## 3. k-step truncated BPTT (3 points)

In k-step truncation the gradient of the loss term of step `t` flows back through `k` states only:
`h_t, h_{t-1}, ..., h_{t-k+1}`; `h_{t-k}` is treated as a constant in that term. (The initial state `h0`
counts as a state: it receives a gradient from the terms whose window reaches it.) Return
`(loss, grads, h_last)` as in question 2: the loss and `h_last` are those of the full forward pass, `grads`
is the truncated gradient with the same keys. The output-layer gradients are the full ones.
""", r'''
def truncated_grad(inputs, targets, h0, W_x, W_h, b, W_y, b_y, *, k):
    """Loss and k-step truncated gradient of the character model's loss.

    Args:
        inputs: int array (T, N); targets: int array (T, N).
        h0: float array (N, H).
        W_x: float array (V, H); W_h: (H, H); b: (H,); W_y: (H, V); b_y: (V,).
        k: int >= 1 (keyword), the number of states the gradient of each loss term reaches.

    Returns:
        (loss, grads, h_last): the loss, a dict with "W_x", "W_h", "b", "W_y", "b_y" and "h0", and the
        state after the last step (N, H).
    """
    ### BEGIN SOLUTION
    T, N = inputs.shape
    V, H = W_x.shape
    rows = np.arange(N)
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(W_x[inputs[t]] + hs[-1] @ W_h + b))
    grads = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b),
             "W_y": np.zeros_like(W_y), "b_y": np.zeros_like(b_y), "h0": np.zeros_like(h0)}
    loss = 0.0
    for t in range(T):
        z = hs[t + 1] @ W_y + b_y
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        total = p.sum(axis=1, keepdims=True)
        p /= total
        loss -= (z[rows, targets[t]] - np.log(total[:, 0])).sum() / N
        p[rows, targets[t]] -= 1.0
        dz = p / N
        grads["W_y"] += hs[t + 1].T @ dz
        grads["b_y"] += dz.sum(axis=0)
        dh = dz @ W_y.T
        lowest = t - k + 1
        for s in range(t, max(lowest, 0) - 1, -1):
            da = dh * (1.0 - hs[s + 1] ** 2)
            np.add.at(grads["W_x"], inputs[s], da)
            grads["W_h"] += hs[s].T @ da
            grads["b"] += da.sum(axis=0)
            dh = da @ W_h.T
        if lowest <= -1:
            grads["h0"] += dh
    return loss, grads, hs[T]
    ### END SOLUTION
'''),
    Function("squared_error_grad", r"""
## 4. Beyond the chapter: a real-valued output with squared error (3 points)

Now the read-out `y_t = h_t @ W_y + b_y` (shape `(N, C)`) predicts real numbers and the loss is
`L = 1/(2N) * sum over t, n, c of (y_t - targets_t)^2`. Return `(loss, grads, h_last)` with `grads` keys
`"W_x"`, `"W_h"`, `"b"`, `"W_y"`, `"b_y"`, `"h0"` and `h_last` the state after the last step. You may reuse
your `rnn_backward`.
""", r'''
def squared_error_grad(xs, targets, h0, W_x, W_h, b, W_y, b_y):
    """Loss and gradients of a tanh RNN with a linear read-out and the squared error.

    Args:
        xs: float array (T, N, D); targets: float array (T, N, C); h0: (N, H).
        W_x: (D, H); W_h: (H, H); b: (H,); W_y: (H, C); b_y: (C,).

    Returns:
        (loss, grads, h_last): loss a float; grads a dict with "W_x", "W_h", "b", "W_y", "b_y", "h0";
        h_last (N, H) the state after the last step.
    """
    ### BEGIN SOLUTION
    T, N, _ = xs.shape
    hs = np.zeros((T, N, W_h.shape[0]))
    h = h0
    for t in range(T):
        h = np.tanh(xs[t] @ W_x + h @ W_h + b)
        hs[t] = h
    diff = hs @ W_y + b_y - targets
    loss = 0.5 * np.sum(diff ** 2) / N
    dys = diff / N
    back = rnn_backward(dys @ W_y.T, xs, h0, hs, W_x, W_h)
    grads = {"W_x": back["W_x"], "W_h": back["W_h"], "b": back["b"], "h0": back["h0"],
             "W_y": np.einsum("tnh,tnc->hc", hs, dys), "b_y": dys.sum(axis=(0, 1))}
    return loss, grads, h
    ### END SOLUTION
'''),
    Function("clip_global_norm", r"""
## 5. Clipping by the global norm (2 points)

Training (not gradient checking) often rescales the gradient when it is too large. Return the gradient dict
multiplied by `min(1, max_norm / ||g||)`, where `||g||` is the norm of **all** entries of all arrays together,
and that norm (before clipping) as a float. Do not modify the input dict.
""", r'''
def clip_global_norm(grads, max_norm):
    """Rescale a gradient so that its global norm is at most max_norm.

    Args:
        grads: dict of float arrays (any shapes).
        max_norm: float > 0.

    Returns:
        (clipped, norm): a new dict with the same keys and shapes, and the global norm before clipping.
    """
    ### BEGIN SOLUTION
    total = 0.0
    for g in grads.values():
        total += float(np.sum(g * g))
    norm = total ** 0.5
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {key: g * factor for key, g in grads.items()}, norm
    ### END SOLUTION
'''),
    Derivation(1, r"""
## 6. Derivation: checking gradients, and why clipping must be off (4 points, graded by hand)

(a) Show that the central difference `(f(θ + ε) - f(θ - ε)) / (2ε)` has an error of order `ε^2` while the
one-sided difference has an error of order `ε`. Why is `ε` around `1e-6` a sensible choice in float64, and
what goes wrong with `ε = 1e-12`?

(b) A student checks the gradient of the character model with `np.clip(grad, -5, 5)` left in their gradient
function. Which entries of the check fail, and which pass? Why does clipping belong in the update step and not
in the gradient?
""", r"""
**Model answer.** (a) Taylor: `f(θ ± ε) = f ± ε f' + ε²/2 f'' ± ε³/6 f''' + ...`; the difference of the two
cancels the even terms, so the central quotient is `f' + ε²/6 f''' + ...`; the one-sided quotient is
`f' + ε/2 f'' + ...`. Rounding adds an error of about `u |f| / ε` (`u ≈ 1e-16`), so the total `ε² + u/ε` is
smallest near `ε ≈ u^(1/3) ≈ 1e-5`; `1e-6` is close. With `1e-12` the rounding term `1e-4` relative dominates.

(b) Every entry whose true value lies in `[-5, 5]` matches; the entries with `|g| > 5` are reported as `±5` and
fail the comparison, so long sequences (large gradients) fail while short ones pass. Clipping changes the
step taken, not the derivative: the check compares derivatives, and clipping is a choice of update rule.
""", r"""
- (a) 2 points: the Taylor argument for both orders (1); the choice of `ε` and the failure at `1e-12`
  explained (1).
- (b) 2 points: the failing and passing entries identified with a reason (1); where clipping belongs, with a
  reason (1).
- A different correct route earns the same points as the course's own derivation.
""", 4),
]
