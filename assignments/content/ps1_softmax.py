"""Content of problem set 1 (softmax and cross-entropy); assembled by build_notebooks.py."""
from build_notebooks import Derivation, Function

TITLE = "Problem set 1: softmax, its Jacobian, and the cross-entropy gradient"

#: the book pages this set follows (names as in _toc.yml)
CHAPTERS = ["softmax", "cross_entropy"]

INTRO = r"""
This set follows the chapter on the softmax. You write each function in plain numpy (no autograd, no course
package). Rows are examples: `logits` has shape `(N, C)` for a batch of `N` rows over `C` classes.

After each function, run the cell below it: `check(...)` tries your function on the *visible* cases and
prints one line per case, naming the mistake when it recognises one. Your grade also uses hidden cases
(other shapes, including `N = 1` and `C = 1`, and logits as large as `1e4`), so make your code general.
Use `load_case(name, case)` to get the inputs of a visible case and experiment.

Correct answers of any style get full marks: loops or vectorised code, helper functions, float32 or float64.
"""

ITEMS = [
    Function("softmax", r"""
## 1. A softmax that never overflows (2 points)

Write `softmax(logits)` returning `s` with `s[n, i] = exp(z[n, i]) / sum_j exp(z[n, j])`. It must return finite
values for logits as large as `1e4` in absolute value. (Hint: what happens to `s` when you add the same number
to every logit of a row?)
""", r'''
def softmax(logits):
    """Row-wise softmax.

    Args:
        logits: float array (N, C).

    Returns:
        s: float array (N, C); every row is non-negative and sums to 1.
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
    ### END SOLUTION
'''),
    Function("softmax_jacobian", r"""
## 2. The softmax Jacobian (3 points)

Return the Jacobian of every row's softmax in numerator layout: `J[n, i, j] = d s[n, i] / d z[n, j]`.
""", r'''
def softmax_jacobian(logits):
    """Jacobian of the softmax of each row.

    Args:
        logits: float array (N, C).

    Returns:
        J: float array (N, C, C) with J[n, i, j] = d s[n, i] / d logits[n, j].
    """
    ### BEGIN SOLUTION
    N, C = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    J = np.zeros((N, C, C))
    for n in range(N):
        J[n] = np.diag(s[n]) - np.outer(s[n], s[n])
    return J
    ### END SOLUTION
'''),
    Function("softmax_vjp", r"""
## 3. Backward through the softmax without the Jacobian (3 points)

Given `v = dL/ds` (one row per example), return `dL/dz`, i.e. `v^T J` for every row, **without** building the
`(C, C)` matrix. Your code should cost `O(N C)`.
""", r'''
def softmax_vjp(logits, v):
    """Vector-Jacobian product of the softmax, row by row.

    Args:
        logits: float array (N, C).
        v: float array (N, C), the gradient dL/ds of some loss with respect to the softmax output.

    Returns:
        float array (N, C): dL/dlogits.
    """
    ### BEGIN SOLUTION
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z)
    s = s / s.sum(axis=1, keepdims=True)
    inner = (v * s).sum(axis=1, keepdims=True)
    return s * (v - inner)
    ### END SOLUTION
'''),
    Function("cross_entropy_grad", r"""
## 4. Gradient of the cross-entropy (3 points)

The loss is the **mean over the batch** of `-log s[n, y_n]`, where `labels[n] = y_n` is the index of the right
class. Return its gradient with respect to the logits. It must be finite for logits of size `1e4`.
""", r'''
def cross_entropy_grad(logits, labels):
    """Gradient of L = mean_n -log softmax(logits[n])[labels[n]] with respect to the logits.

    Args:
        logits: float array (N, C).
        labels: int array (N,), entries in [0, C).

    Returns:
        float array (N, C): dL/dlogits.
    """
    ### BEGIN SOLUTION
    N, C = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(N), labels] -= 1.0
    return p / N
    ### END SOLUTION
'''),
    Function("smoothed_cross_entropy_grad", r"""
## 5. Beyond the chapter: label smoothing (4 points)

With label smoothing the target of row `n` is no longer one-hot but
`q[n] = (1 - epsilon) * onehot(y_n) + epsilon / C` (every class gets `epsilon / C`). The loss is the mean over
the batch of `-sum_c q[n, c] log s[n, c]`. Derive its gradient with respect to the logits and implement it.
(Does the simplification you used in question 4 still apply? Check what `q[n]` sums to.)
""", r'''
def smoothed_cross_entropy_grad(logits, labels, epsilon):
    """Gradient of the label-smoothed cross-entropy (mean over the batch) with respect to the logits.

    Args:
        logits: float array (N, C).
        labels: int array (N,), entries in [0, C).
        epsilon: float in [0, 1], the smoothing weight.

    Returns:
        float array (N, C): dL/dlogits.
    """
    ### BEGIN SOLUTION
    N, C = logits.shape
    q = np.full((N, C), epsilon / C)
    q[np.arange(N), labels] += 1.0 - epsilon
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return (s * q.sum(axis=1, keepdims=True) - q) / N
    ### END SOLUTION
'''),
    Derivation(1, r"""
## 6. Derivation (5 points, graded by hand)

(a) Derive `d s_i / d z_j` for the softmax of one vector `z` with the quotient rule, for `i = j` and `i != j`,
and write the Jacobian as a matrix expression in `s`.

(b) For a target vector `y` whose entries are non-negative but do **not** necessarily sum to one, show that the
gradient of `-sum_c y_c log s_c` with respect to `z` is `s * sum(y) - y`. When does it reduce to `s - y`?

(c) Explain in two sentences why subtracting the row maximum makes the softmax safe for logits of `1e4`, and
why it does not change the result.
""", r"""
**Model answer.** (a) With `S = sum_k exp(z_k)`, `s_i = exp(z_i) / S`. For `i = j`:
`(exp(z_i) S - exp(z_i) exp(z_i)) / S^2 = s_i (1 - s_i)`. For `i != j` the numerator does not depend on `z_j`,
so the derivative is `-exp(z_i) exp(z_j) / S^2 = -s_i s_j`. Together `J = diag(s) - s s^T` (symmetric).

(b) `L = -sum_c y_c (z_c - log S)`, so `dL/dz_j = -y_j + (sum_c y_c) s_j`, i.e. `s sum(y) - y`. It equals
`s - y` exactly when the targets sum to one (one-hot or a probability vector, e.g. label smoothing).

(c) `softmax(z + a) = softmax(z)` for any constant `a`, because `exp(a)` cancels between numerator and
denominator. With `a = -max z` every exponent is at most 0, so nothing overflows and the largest term is
`exp(0) = 1`, so the denominator is at least 1 and never zero.
""", r"""
- (a) 2 points: both cases derived (1), the Jacobian written as one matrix expression in `s` (1).
- (b) 2 points: the gradient derived for targets of any sum (1), the condition for `s - y` stated and
  justified (1).
- (c) 1 point: why the result is unchanged, and why no exponent can overflow after the shift.
- A different correct route earns the same points as the course's own derivation.
""", 5),
]
