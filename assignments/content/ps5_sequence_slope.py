"""Content of problem set 5 (forward mode and the slope along a sequence); assembled by build_notebooks.py."""
from build_notebooks import Derivation, Function

TITLE = "Problem set 5: the slope of an RNN along its sequence (forward mode)"

#: the book pages this set follows (names as in _toc.yml)
CHAPTERS = ["sequence_slope"]

INTRO = r"""
This set follows the chapter on forward mode. A user of a forum trained an RNN on a time series and wanted the
slope of its output at one time step; they differentiated one call of the cell with respect to its input and got
a number unrelated to the slope. Here you compute the right quantity.

The tanh RNN is `h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)`, time-major shapes `xs (T, N, D)`, `hs (T, N, H)`.
A *tangent* `dxs` says how every input moves; forward mode carries the matching change of every state along
the sequence in one sweep.

Write plain numpy; run the `check(...)` cell after each function.
"""

ITEMS = [
    Function("rnn_jvp", r"""
## 1. Tangents of all hidden states (5 points)

Given the inputs' tangent `dxs` (shape `(T, N, D)`) and a fixed initial state (`dh_0 = 0`), return the tangent
`dh_t` of every state (the directional derivative of `h_t` in direction `dxs`), shape `(T, N, H)`.
""", r'''
def rnn_jvp(xs, h0, W_x, W_h, b, dxs):
    """Forward-mode tangents of the states of the tanh RNN.

    Args:
        xs: float array (T, N, D); h0: (N, H).
        W_x: (D, H); W_h: (H, H); b: (H,).
        dxs: float array (T, N, D), the tangent of the inputs.

    Returns:
        dhs: float array (T, N, H), dhs[t] = tangent of h_t.
    """
    ### BEGIN SOLUTION
    T = xs.shape[0]
    dhs = np.zeros((T,) + h0.shape)
    h, dh = h0, np.zeros_like(h0)
    for t in range(T):
        h = np.tanh(xs[t] @ W_x + h @ W_h + b)
        dh = (1.0 - h ** 2) * (dxs[t] @ W_x + dh @ W_h)
        dhs[t] = dh
    return dhs
    ### END SOLUTION
'''),
    Function("sequence_slope", r"""
## 2. The slope along the sequence (5 points)

As in the forum question, the cell uses a **sigmoid**: `h_t = sigmoid(x_t @ W_x + h_{t-1} @ W_h + b)`, and the
output is linear, `y_t = h_t @ W_y + b_y` (shape `(N, C)`). Think of the inputs as samples of a curve `x(τ)`
with known rate `dxs_dt[t] = dx/dτ` at step `t`. Return `dy_t/dτ` for every step, shape `(T, N, C)`, with the
initial state held fixed.
""", r'''
def sequence_slope(xs, h0, W_x, W_h, b, W_y, b_y, dxs_dt):
    """Slope of the outputs of a sigmoid RNN along its input sequence.

    Args:
        xs: float array (T, N, D); h0: (N, H).
        W_x: (D, H); W_h: (H, H); b: (H,); W_y: (H, C); b_y: (C,).
        dxs_dt: float array (T, N, D), the rate at which the inputs move.

    Returns:
        dys_dt: float array (T, N, C).
    """
    ### BEGIN SOLUTION
    T = xs.shape[0]
    h = h0
    dh = np.zeros_like(h0)
    out = []
    for t in range(T):
        h = 1.0 / (1.0 + np.exp(-(xs[t] @ W_x + h @ W_h + b)))
        dh = h * (1.0 - h) * (dxs_dt[t] @ W_x + dh @ W_h)
        out.append(dh @ W_y)
    return np.array(out)
    ### END SOLUTION
'''),
    Function("weight_tangent", r"""
## 3. Beyond the chapter: forward mode with respect to a weight (5 points)

Forward mode also works for parameters. Let `W_h` move in direction `dW_h` (the inputs and `h0` stay fixed).
Return the tangent of every state of the tanh RNN, shape `(T, N, H)`.
""", r'''
def weight_tangent(xs, h0, W_x, W_h, b, dW_h):
    """Tangents of the tanh RNN's states when W_h moves in direction dW_h.

    Args:
        xs: float array (T, N, D); h0: (N, H).
        W_x: (D, H); W_h: (H, H); b: (H,).
        dW_h: float array (H, H), the direction.

    Returns:
        dhs: float array (T, N, H).
    """
    ### BEGIN SOLUTION
    T, N, _ = xs.shape
    H = W_h.shape[0]
    dhs = np.empty((T, N, H))
    h_prev, dh_prev = h0, np.zeros((N, H))
    for t in range(T):
        h = np.tanh(xs[t] @ W_x + h_prev @ W_h + b)
        dhs[t] = (1 - h * h) * (h_prev @ dW_h + dh_prev @ W_h)
        h_prev, dh_prev = h, dhs[t]
    return dhs
    ### END SOLUTION
'''),
    Derivation(1, r"""
## 4. Derivation: why one Jacobian is not the slope (5 points, graded by hand)

(a) Write the total derivative of `h_t = f(x_t, h_{t-1})` along the sequence, treating both arguments as
functions of a continuous parameter `τ`, and unroll it for `t = 1, 2, 3`. Which term did the forum user keep,
and which did they drop? At which step does their answer coincide with the right one?

(b) Forward mode costs one sweep per input direction; reverse mode one sweep per output. For the slope of a
scalar output at **every** step with respect to the sequence parameter `τ`, which mode is cheaper, and why?
""", r"""
**Model answer.** (a) `dh_t/dτ = ∂f/∂x (x_t, h_{t-1}) dx_t/dτ + ∂f/∂h (x_t, h_{t-1}) dh_{t-1}/dτ`, with
`dh_0/dτ = 0`. Unrolled: `dh_1 = F_x(1) ẋ_1`; `dh_2 = F_x(2) ẋ_2 + F_h(2) F_x(1) ẋ_1`;
`dh_3 = F_x(3) ẋ_3 + F_h(3) F_x(2) ẋ_2 + F_h(3) F_h(2) F_x(1) ẋ_1`. The user kept only the first term (one
call's Jacobian) and dropped the hidden-state path; the two agree at the first step only (fixed initial state),
and the output's slope is `W_y` times the state's.

(b) There is one input direction (`τ`) and T outputs. One forward sweep gives all T slopes; reverse mode
would need one backward sweep per output, T sweeps. So forward mode.
""", r"""
- (a) 3 points: the recursion (1), the unrolled terms (1), the kept and dropped terms and the step where the
  two answers agree (1).
- (b) 2 points: the cheaper mode (1) with the count of sweeps each mode needs here (1).
- A different correct route earns the same points as the course's own derivation.
""", 5),
]
