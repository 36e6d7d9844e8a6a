"""Content of problem set 2 (layouts and the RNN cell); assembled by build_notebooks.py."""
from build_notebooks import Derivation, Function

TITLE = "Problem set 2: Jacobian layouts and the RNN cell"

#: the book pages this set follows (names as in _toc.yml)
CHAPTERS = ["matrix_calculus", "rnn_cell"]

INTRO = r"""
This set follows the chapter on layouts. All Jacobians are in **numerator layout**: `J[i, j] = d out_i / d in_j`
(rows are outputs, as `torch.func.jacrev` returns them); the Jacobian of an array with respect to an array has
shape `out.shape + in.shape`.

The RNN cell uses the row-vector batch convention: `h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)` with `x_t` of
shape `(N, D)`, `h_t` of shape `(N, H)`, `W_x` `(D, H)`, `W_h` `(H, H)`, `b` `(H,)`.

Write plain numpy. Run the `check(...)` cell after each function; the grade also uses hidden cases
(`N = 1`, `H = 1`, non-square matrices, saturated units). Any correct style gets full marks.
"""

ITEMS = [
    Function("map_jacobian", r"""
## 1. Jacobian of `y = W σ(x)` (3 points)

For a column vector `x` of length `H` and `W` of shape `(M, H)`, let `y = W σ(x)` with `σ` applied elementwise.
Return `dy/dx` in numerator layout, shape `(M, H)`, for `σ` = `"tanh"` or `"sigmoid"`.
""", r'''
def map_jacobian(W, x, activation):
    """Numerator-layout Jacobian of y = W sigma(x) with respect to x.

    Args:
        W: float array (M, H).
        x: float array (H,), the point.
        activation: "tanh" or "sigmoid".

    Returns:
        J: float array (M, H) with J[i, j] = d y_i / d x_j.
    """
    ### BEGIN SOLUTION
    if activation == "tanh":
        d = 1.0 - np.tanh(x) ** 2
    else:
        s = 1.0 / (1.0 + np.exp(-x))
        d = s * (1.0 - s)
    return W * d[None, :]
    ### END SOLUTION
'''),
    Function("rnn_step_jacobian", r"""
## 2. The state Jacobian of one step (3 points)

Return `d h_t / d h_{t-1}` for every row of the batch, given the new state `h = h_t` (shape `(N, H)`) and `W_h`.
Only `h_t` is needed: `tanh'(a) = 1 - tanh(a)^2`. Check your answer on `N = 1, H = 2` by hand.
""", r'''
def rnn_step_jacobian(h, W_h):
    """Jacobian of h_t = tanh(x W_x + h_prev W_h + b) with respect to h_prev, row by row.

    Args:
        h: float array (N, H), the new state h_t.
        W_h: float array (H, H).

    Returns:
        J: float array (N, H, H) with J[n, i, j] = d h_t[n, i] / d h_prev[n, j].
    """
    ### BEGIN SOLUTION
    N, H = h.shape
    J = np.empty((N, H, H))
    for n in range(N):
        J[n] = np.diag(1.0 - h[n] ** 2) @ W_h.T
    return J
    ### END SOLUTION
'''),
    Function("batched_matmul_jacobian", r"""
## 3. A fourth-order Jacobian (3 points)

For `U = h @ W` with `h` of shape `(N, H)` and `W` of shape `(H, K)`, return the full Jacobian of `U` with
respect to `h`, shape `(N, K, N, H)`: `J[i, j, p, q] = dU[i, j] / dh[p, q]`.
""", r'''
def batched_matmul_jacobian(h, W):
    """Jacobian of U = h @ W with respect to h.

    Args:
        h: float array (N, H).
        W: float array (H, K).

    Returns:
        J: float array (N, K, N, H), J[i, j, p, q] = d U[i, j] / d h[p, q].
    """
    ### BEGIN SOLUTION
    N, H = h.shape
    K = W.shape[1]
    J = np.zeros((N, K, N, H))
    for i in range(N):
        J[i, :, i, :] = W.T
    return J
    ### END SOLUTION
'''),
    Function("rnn_step_backward", r"""
## 4. One step backward (4 points)

Given `dh = dL/dh_t` (shape `(N, H)`) and the step's values, return the gradients of `L` with respect to the
step's inputs and weights as a dict with keys `"x"`, `"h_prev"`, `"W_x"`, `"W_h"`, `"b"`; each gradient has
the shape of the thing it is taken with respect to.
""", r'''
def rnn_step_backward(dh, x, h_prev, h, W_x, W_h):
    """Backward pass of one tanh step h = tanh(x @ W_x + h_prev @ W_h + b).

    Args:
        dh: float array (N, H), dL/dh.
        x: float array (N, D).
        h_prev: float array (N, H).
        h: float array (N, H), the step's output.
        W_x: float array (D, H).
        W_h: float array (H, H).

    Returns:
        dict with "x" (N, D), "h_prev" (N, H), "W_x" (D, H), "W_h" (H, H), "b" (H,).
    """
    ### BEGIN SOLUTION
    da = dh * (1.0 - h * h)
    return {
        "x": da @ W_x.T,
        "h_prev": da @ W_h.T,
        "W_x": x.T @ da,
        "W_h": h_prev.T @ da,
        "b": da.sum(axis=0),
    }
    ### END SOLUTION
'''),
    Function("sigmoid_step_backward", r"""
## 5. Beyond the chapter: a sigmoid cell (4 points)

Now the cell is `h = sigmoid(x @ W_x + h_prev @ W_h + b)` (as in the network of the forum question on slopes).
Write its backward pass, with the same arguments and dict as in question 4.
""", r'''
def sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h):
    """Backward pass of one step h = sigmoid(x @ W_x + h_prev @ W_h + b).

    Args:
        dh: float array (N, H), dL/dh.
        x: float array (N, D).
        h_prev: float array (N, H).
        h: float array (N, H), the step's output.
        W_x: float array (D, H).
        W_h: float array (H, H).

    Returns:
        dict with "x" (N, D), "h_prev" (N, H), "W_x" (D, H), "W_h" (H, H), "b" (H,).
    """
    ### BEGIN SOLUTION
    grads = {}
    da = dh * h * (1.0 - h)
    grads["x"] = np.einsum("nh,dh->nd", da, W_x)
    grads["h_prev"] = np.einsum("nh,kh->nk", da, W_h)
    grads["W_x"] = np.einsum("nd,nh->dh", x, da)
    grads["W_h"] = np.einsum("nk,nh->kh", h_prev, da)
    grads["b"] = np.einsum("nh->h", da)
    return grads
    ### END SOLUTION
'''),
    Derivation(1, r"""
## 6. Derivation: where the transpose comes from (3 points, graded by hand)

(a) For `N = 1` and `H = 2` write out `h_t` of the row-convention cell component by component and compute the
four entries of `d h_t / d h_{t-1}`. Show that the result is `diag(1 - h_t^2) W_h^T`.

(b) A paper writes the column-convention recursion `x_t = W σ(x_{t-1}) + ...` and states
`d x_t / d x_{t-1} = W^T diag(σ'(x_{t-1}))`. Which layout gives `W diag(σ'(x_{t-1}))`, and what is
`W^T diag(σ'(x_{t-1}))` the Jacobian of, if anything? Does the choice change conclusions about vanishing
gradients (think about singular values)?
""", r"""
**Model answer.** (a) `h_t[i] = tanh(a_i)`, `a_i = sum_k x[k] W_x[k, i] + h_{t-1}[0] W_h[0, i] + h_{t-1}[1] W_h[1, i] + b_i`.
So `d h_t[i] / d h_{t-1}[j] = (1 - h_t[i]^2) W_h[j, i]`: row `i` is `(1 - h_t[i]^2)` times column `i` of `W_h`,
which is row `i` of `W_h^T`, giving `diag(1 - h_t^2) W_h^T`.

(b) Entry by entry `d x_t[i] / d x_{t-1}[j] = W[i, j] σ'(x_{t-1}[j])`, which is `W diag(σ')` in numerator
layout; the denominator layout is its transpose `diag(σ') W^T`. The printed `W^T diag(σ')` is neither (it is
the numerator Jacobian of the map with `W^T`). Its singular values differ from those of `W diag(σ')` in
general, but the bound used for vanishing and exploding gradients, `||W diag(σ')|| <= ||W|| max|σ'|`, holds
for both because `||W^T|| = ||W||`; so the conclusions survive although the formula is not the Jacobian.
""", r"""
- (a) 2 points: the component form with the index of `W_h` right (1), the matrix form (1).
- (b) 1 point: the layout named, the printed expression placed correctly, and the effect on the argument about
  vanishing gradients argued with norms or singular values.
- A different correct route earns the same points as the course's own derivation.
""", 3),
]
