"""rnngrad: reference derivatives of recurrent neural networks.

Every function is a pure numpy function computing in float64; ``rnngrad.torch_ref``
holds the same quantities written with torch, for checking.

Shapes (fixed everywhere in the project):

=========  ==========================================
letter     meaning
=========  ==========================================
N          batch size (rows of a batch)
T          number of time steps
D          input features per step
H          hidden units
C          classes / outputs
V          vocabulary size (character models: D = C = V)
=========  ==========================================

Sequences are time-major: ``xs`` is (T, N, D), ``hs`` is (T, N, H), ``logits`` is
(T, N, C). Vectors are rows: one step of the tanh RNN is
``h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b)`` with ``W_x`` (D, H), ``W_h`` (H, H),
``b`` (H,); the output layer is ``logits_t = h_t @ W_y + b_y`` with ``W_y`` (H, C).

Jacobians are in numerator layout: ``J[i, j] = d out_i / d in_j`` (rows are outputs,
as ``torch.func.jacrev``); a batch of them is (N, out, in). A gradient of a scalar has
the shape of the thing it is taken with respect to.

Bad input raises :class:`RnngradInputError` (a ``ValueError``) naming the argument,
what was expected and what came.
"""
from ._validate import DTypeError, NonFiniteError, RnngradInputError, ShapeError

__all__ = ["RnngradInputError", "ShapeError", "DTypeError", "NonFiniteError"]
