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

Every public function is available flat (``rnngrad.softmax_jacobian``) and from its
topic module (``rnngrad.softmax.softmax_jacobian``). The two modules whose main
function bears their own name keep the module at the top level: use
``rnngrad.softmax.softmax`` and ``rnngrad.cross_entropy.cross_entropy``.

Bad input raises :class:`RnngradInputError` (a ``ValueError``) naming the argument,
what was expected and what came.

One scheme for every function (tests/test_api_scheme.py checks it over all of them):

* Arguments: arrays first, in the order data, state, weights (``xs, [targets,] h0, [c0,]
  W_x, W_h, b, [W_y, b_y]``: the targets of a loss are data and come right after the
  inputs), each weight its own argument, then options as keywords. A dict of
  weights whose keys are these names unpacks straight into a call:
  ``sequence_slope(xs, h0, **params, dxs_dt=rates)``. Only the training-loop functions
  (``char_lm_*``, the optimisers, ``train_*``) take a ``params`` dict.
* Randomness: one argument, ``rng``, an int seed (the same numbers at every call) or a
  ``numpy.random.Generator`` (used and advanced). None is refused everywhere: nothing in
  rnngrad is drawn unseeded (pass ``np.random.default_rng()`` to ask for fresh entropy).
  It defaults to 0 where randomness only sets up an experiment (``init_rnn_params``,
  ``train_char_lm``, ``glorot_jacobian_variance``) and has no default where the draw
  is the point (``sample``, ``glorot_uniform``, ``randomized_truncation_grad``).
* Activation: where it is an option, the default is ``"tanh"``.
* Gradients: a dict whose keys are the names of the arguments they are the gradient of,
  each of that argument's shape: ``"x"``, ``"h_prev"`` for a step, ``"xs"``, ``"h0"``
  for a sequence, ``"W_x"``, ``"W_h"``, ``"b"``, ... for the weights (or the keys of the
  ``params`` dict).
* Loss and gradient together: ``(loss, grads, h_last)`` from a function that starts from
  an initial state ``h0`` (``h_last`` starts the next chunk), ``(loss, grads)`` from one
  that does not.
* Sequences are time-major, (T, N, ...). A batch-major (N, T, ...) array is caught and
  named, except when T == N, where the two read the same: transpose batch-major data
  explicitly (``x.transpose(1, 0, 2)``) and try new code with T != N.
* A backward pass that reads an activation's slope off its stored output (tanh:
  ``1 - h**2``) refuses values outside that activation's range; ``|h| == 1`` is
  accepted, since ``tanh(a)`` is exactly 1.0 in float64 for ``a`` above about 19.
"""
from ._validate import DTypeError, NonFiniteError, RnngradInputError, ShapeError
from .activations import (ACTIVATIONS, activation, activation_derivative)
from . import cross_entropy, softmax  # modules: their main functions share their names
from .softmax import (log_softmax, softmax_jacobian, softmax_vjp)
from .cross_entropy import (cross_entropy_grad)
from .layout import (to_denominator_layout, linear_map_jacobian, pascanu_step_matrix, layout_of, batched_matmul_jacobian, batched_matmul_jacobian_wrt_W, batch_diagonal_blocks, vjp_from_jacobian)
from .gradcheck import (numerical_gradient, numerical_jacobian, numerical_jvp, numerical_vjp, relative_error, check_gradient)
from .rnn import (rnn_step_forward, rnn_forward, rnn_step_backward, rnn_backward, init_rnn_params)
from .char_lm import (PARAM_KEYS, one_hot, char_lm_loss, char_lm_grad, train_char_lm, sample, TrainResult)
from .optim import (clip_elementwise, clip_global_norm, adagrad_update)
from .truncation import (char_lm_truncated_grad, char_lm_chunked_grad, randomized_truncation_grad)
from .hidden_jacobians import (rnn_step_jacobian, rnn_step_jacobians, hidden_state_jacobians, jacobian_products, rnn_jacobian_products, jacobians_from_start, rnn_jacobians_from_start, singular_values_over_time)
from .two_state_cell import (TWO_STATE_ACTIVATIONS, TWO_STATE_VARIANTS, two_state_step, two_state_forward, two_state_state_jacobian, two_state_output_jacobian, two_state_input_jacobian)
from .init import (glorot_uniform, glorot_limit, GlorotJacobianVariance, glorot_jacobian_variance, activation_derivative_moments)
from .forward_mode import (SLOPE_ACTIVATIONS, SLOPE_OUTPUTS, rnn_jvp, sequence_slope, output_jacobian_at_step, slope_by_prefix_differentiation, sequence_slope_feedback)
from .extras import (activation_derivative_from_output, cell_step_backward, leaky_rnn_forward, leaky_step_jacobians, squared_error_rnn_grad, rnn_param_jvp)
from .lstm import (lstm_step_forward, lstm_forward, lstm_step_backward, lstm_backward)
from .gru import (gru_step_forward, gru_forward, gru_step_backward, gru_backward)
from .gated_torch_weights import (lstm_params_from_torch, lstm_params_to_torch, gru_params_from_torch, gru_params_to_torch)
from .gated_jacobians import (lstm_state_jacobian, lstm_state_jacobians, lstm_cell_path_products, cell_path_vs_rnn_norms)
from .rtrl import (rtrl_step, rtrl_grad)
from .checkpointing import (CheckpointCounts, checkpointed_rnn_backward)
from .teacher_forcing import (closed_loop_weights, free_running_grad)
from .memory_task import (MEMORY_CELLS, ADDING_CHANCE_MSE, adding_problem, init_memory_params, memory_task_loss_grad, train_memory_task)

__all__ = [
    "RnngradInputError",
    "ShapeError",
    "DTypeError",
    "NonFiniteError",
    "ACTIVATIONS",
    "activation",
    "activation_derivative",
    "log_softmax",
    "softmax_jacobian",
    "softmax_vjp",
    "cross_entropy_grad",
    "to_denominator_layout",
    "linear_map_jacobian",
    "pascanu_step_matrix",
    "layout_of",
    "batched_matmul_jacobian",
    "batched_matmul_jacobian_wrt_W",
    "batch_diagonal_blocks",
    "vjp_from_jacobian",
    "numerical_gradient",
    "numerical_jacobian",
    "numerical_jvp",
    "numerical_vjp",
    "relative_error",
    "check_gradient",
    "rnn_step_forward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_backward",
    "init_rnn_params",
    "PARAM_KEYS",
    "one_hot",
    "char_lm_loss",
    "char_lm_grad",
    "train_char_lm",
    "sample",
    "TrainResult",
    "clip_elementwise",
    "clip_global_norm",
    "adagrad_update",
    "char_lm_truncated_grad",
    "char_lm_chunked_grad",
    "randomized_truncation_grad",
    "rnn_step_jacobian",
    "rnn_step_jacobians",
    "hidden_state_jacobians",
    "jacobian_products",
    "rnn_jacobian_products",
    "jacobians_from_start",
    "rnn_jacobians_from_start",
    "singular_values_over_time",
    "TWO_STATE_ACTIVATIONS",
    "TWO_STATE_VARIANTS",
    "two_state_step",
    "two_state_forward",
    "two_state_state_jacobian",
    "two_state_output_jacobian",
    "two_state_input_jacobian",
    "glorot_uniform",
    "glorot_limit",
    "GlorotJacobianVariance",
    "glorot_jacobian_variance",
    "activation_derivative_moments",
    "SLOPE_ACTIVATIONS",
    "SLOPE_OUTPUTS",
    "rnn_jvp",
    "sequence_slope",
    "output_jacobian_at_step",
    "slope_by_prefix_differentiation",
    "sequence_slope_feedback",
    "activation_derivative_from_output",
    "cell_step_backward",
    "leaky_rnn_forward",
    "leaky_step_jacobians",
    "squared_error_rnn_grad",
    "rnn_param_jvp",
    "lstm_step_forward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_backward",
    "gru_step_forward",
    "gru_forward",
    "gru_step_backward",
    "gru_backward",
    "lstm_params_from_torch",
    "lstm_params_to_torch",
    "gru_params_from_torch",
    "gru_params_to_torch",
    "lstm_state_jacobian",
    "lstm_state_jacobians",
    "lstm_cell_path_products",
    "cell_path_vs_rnn_norms",
    "rtrl_step",
    "rtrl_grad",
    "CheckpointCounts",
    "checkpointed_rnn_backward",
    "closed_loop_weights",
    "free_running_grad",
    "MEMORY_CELLS",
    "ADDING_CHANCE_MSE",
    "adding_problem",
    "init_memory_params",
    "memory_task_loss_grad",
    "train_memory_task",
]
