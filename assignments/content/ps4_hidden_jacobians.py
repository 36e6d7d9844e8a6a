"""Content of problem set 4 (hidden-state Jacobians); assembled by build_notebooks.py."""
from build_notebooks import Derivation, Function

TITLE = "Problem set 4: hidden-state Jacobians, vanishing and exploding gradients"

#: the book pages this set follows (names as in _toc.yml)
CHAPTERS = ["hidden_jacobians"]

INTRO = r"""
This set follows the chapter on hidden-state Jacobians. States are numbered `h_0` (the initial state) to
`h_T`; the step Jacobians of a sequence are stored as `J[t - 1] = d h_t / d h_{t-1}` (numerator layout), one
`(H, H)` matrix per row of the batch, so `J` has shape `(T, N, H, H)`.

Question 2 uses the two-state cell of a blog post on derivatives with respect to hidden states (row convention):
`h_t = σ(h_{t-1}) @ W_h + b`, `c_t = c_{t-1} - h_{t-1} + h_t`, with `σ` = relu, sigmoid or identity.

Write plain numpy; run the `check(...)` cell after each function.
"""

ITEMS = [
    Function("jacobian_products", r"""
## 1. Products of step Jacobians (5 points)

Return `P` with `P[k] = d h_T / d h_k` for `k = 0, ..., T-1` (so `P[0]` is the Jacobian with respect to the
initial state and `P[T-1] = J[T-1]`). Use one backward sweep of `(H, H)` products, not a fresh product for
every `k`.
""", r'''
def jacobian_products(step_jacobians):
    """Jacobians of the last state with respect to every earlier state.

    Args:
        step_jacobians: float array (T, N, H, H), step_jacobians[t - 1] = d h_t / d h_{t-1}.

    Returns:
        P: float array (T, N, H, H) with P[k] = d h_T / d h_k.
    """
    ### BEGIN SOLUTION
    J = step_jacobians
    T = J.shape[0]
    P = np.empty_like(J)
    P[T - 1] = J[T - 1]
    for k in range(T - 2, -1, -1):
        P[k] = np.einsum("nij,njk->nik", P[k + 1], J[k])
    return P
    ### END SOLUTION
'''),
    Function("two_state_state_jacobian", r"""
## 2. The state Jacobian of the two-state cell (5 points)

Stack the two states as `s_t = (h_t, c_t)` (length `2H`). Return `d s_t / d s_{t-1}` for every row of the
batch, shape `(N, 2H, 2H)`: rows `[:H]` are `h_t`, rows `[H:]` are `c_t`, columns `[:H]` are `h_{t-1}`,
columns `[H:]` are `c_{t-1}`. `activation` is `"relu"` (take `relu'(0) = 0`), `"sigmoid"` or `"identity"`.
""", r'''
def two_state_state_jacobian(h_prev, W_h, activation):
    """Jacobian of (h_t, c_t) with respect to (h_{t-1}, c_{t-1}) for the two-state cell.

    Args:
        h_prev: float array (N, H), the previous first state h_{t-1}.
        W_h: float array (H, H).
        activation: "relu", "sigmoid" or "identity".

    Returns:
        float array (N, 2H, 2H).
    """
    ### BEGIN SOLUTION
    N, H = h_prev.shape
    if activation == "relu":
        d = (h_prev > 0).astype(float)
    elif activation == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-h_prev))
        d = s * (1.0 - s)
    else:
        d = np.ones_like(h_prev)
    A = W_h.T[None, :, :] * d[:, None, :]
    J = np.zeros((N, 2 * H, 2 * H))
    J[:, :H, :H] = A
    J[:, H:, :H] = A - np.eye(H)
    J[:, H:, H:] = np.eye(H)
    return J
    ### END SOLUTION
'''),
    Function("leaky_step_jacobians", r"""
## 3. Beyond the chapter: the leaky cell (5 points)

The leaky cell keeps part of its state: `h_t = (1 - α) h_{t-1} + α tanh(x_t @ W_x + h_{t-1} @ W_h + b)` with
`0 < α <= 1`. Given the states `hs` (shape `(T, N, H)`), `h0`, `W_h` and `α`, return all step Jacobians
`J[t - 1] = d h_t / d h_{t-1}`, shape `(T, N, H, H)`. (You are not given the inputs: recover what you need from
consecutive states.) What happens to the gradient over long spans when `α` is small?
""", r'''
def leaky_step_jacobians(hs, h0, W_h, alpha):
    """Step Jacobians of the leaky tanh cell.

    Args:
        hs: float array (T, N, H), states h_1..h_T.
        h0: float array (N, H).
        W_h: float array (H, H).
        alpha: float in (0, 1].

    Returns:
        J: float array (T, N, H, H), J[t - 1] = d h_t / d h_{t-1}.
    """
    ### BEGIN SOLUTION
    T, N, H = hs.shape
    J = np.zeros((T, N, H, H))
    prev = h0
    for t in range(T):
        u = (hs[t] - (1 - alpha) * prev) / alpha
        for n in range(N):
            J[t, n] = (1 - alpha) * np.eye(H) + alpha * np.diag(1 - u[n] ** 2) @ W_h.T
        prev = hs[t]
    return J
    ### END SOLUTION
'''),
    Derivation(1, r"""
## 4. Derivation: vanishing and exploding gradients (4 points, graded by hand)

For the tanh RNN, bound `||d h_T / d h_k||` (spectral norm) in terms of `||W_h||` and `T - k`. Conclude a
sufficient condition on the largest singular value of `W_h` for the gradient to vanish, and explain why the
opposite inequality is necessary (but not sufficient) for it to explode. How does the leaky cell of question 3
change the picture?
""", r"""
**Model answer.** `d h_T / d h_k = prod_{t=k+1..T} diag(1 - h_t^2) W_h^T`, and `||diag(1 - h_t^2)|| <= 1`, so
`||d h_T / d h_k|| <= ||W_h||^(T-k)`. If the largest singular value of `W_h` is below 1 the bound decays
geometrically: the gradient vanishes. If the norm grows, `||W_h|| > 1` is needed (otherwise the bound caps
it), but saturated units (`1 - h^2` near 0) can still shrink it, so the condition is not sufficient. In the
leaky cell each factor is `(1 - α) I + α diag(1 - u^2) W_h^T`; with small `α` it is close to the identity, whose
products neither vanish nor explode quickly, so information and gradients survive over spans of about `1/α`.
""", r"""
- 2 points: the product form of the Jacobian and a norm bound for it, each factor bounded with a reason.
- 1 point: the sufficient condition for vanishing, and why its opposite is necessary but not sufficient for
  exploding.
- 1 point: the leaky cell's step Jacobian and what it does to the bound.
- A different correct route earns the same points as the course's own derivation.
""", 4),
    Derivation(2, r"""
## 5. Derivation: the variance of the two-state Jacobian under Glorot initialisation (1 point, graded by hand)

The blog post finds `H * var(d h_t / d h_{t-1}) ≈ 0.5` for relu and `≈ 1.0` for the identity when `W_h` is
drawn with Glorot-uniform initialisation (variance `2 / (fan_in + fan_out) = 1 / H`). Explain both numbers from
`A = W_h^T diag(σ'(h_{t-1}))`, assuming `h_{t-1}` has a symmetric distribution around 0.
""", r"""
**Model answer.** Entry `A[i, j] = W_h[j, i] σ'(h_{t-1}[j])`. The weights have mean 0 and variance `1/H`,
independent of the state, so `var(A[i, j]) = E[W^2] E[σ'^2] = (1/H) E[σ'^2]`. For the identity `σ' = 1`:
`H var = 1`. For relu `σ'` is 1 on the positive half and 0 on the other, so `E[σ'^2] = 1/2`: `H var = 0.5`.
""", r"""
- 1 point: the variance of the product of a weight and a derivative, with the second moment of the
  derivative worked out for both activations.
- A different correct route earns the same points as the course's own derivation.
""", 1),
]
