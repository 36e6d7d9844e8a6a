"""torch counterparts of the rnngrad quantities, for checking.

Everything here is written from primitive torch ops (``@``, ``torch.tanh``, ...), not
``torch.nn.RNN``, so that ``torch.func`` transforms (``vmap``, ``jacrev``, ``jacfwd``,
``jvp``, ``vjp``) apply. Functions accept numpy arrays or tensors, compute in float64 on
``default_device()`` (CUDA when present) unless told otherwise, and return numpy float64
arrays so that results compare directly with the numpy references.
"""
from ._common import default_device, to_numpy, to_tensor
from .softmax import (t_softmax, t_log_softmax, t_softmax_jacobian, t_softmax_vjp, t_cross_entropy, t_linear_map_jacobian, t_batched_matmul_jacobian, t_batched_matmul_jacobian_wrt_W)
from .rnn import (rnn_forward_tensor, t_rnn_forward, t_rnn_step_backward, t_rnn_backward, t_char_lm_loss, t_char_lm_grad, t_char_lm_truncated_grad, t_char_lm_chunked_grad)
from .jacobians import (T_ACTIVATIONS, t_rnn_states, t_step_jacobian, t_step_jacobians, t_jacobian_products, t_jacobians_from_start, t_singular_values_over_time, t_two_state_step, t_two_state_forward, t_two_state_state_jacobian, t_two_state_output_jacobian, t_two_state_input_jacobian)
from .forward import (t_rnn_jvp, t_sequence_slope, t_output_jacobian_at_step, t_sequence_slope_feedback)
from .gated_lstm import (lstm_forward_tensor, t_lstm_forward, t_lstm_step_backward, t_lstm_backward, t_lstm_state_jacobian)
from .gated_gru import (gru_forward_tensor, t_gru_forward, t_gru_step_backward, t_gru_backward)

__all__ = [
    "default_device",
    "to_tensor",
    "to_numpy",
    "t_softmax",
    "t_log_softmax",
    "t_softmax_jacobian",
    "t_softmax_vjp",
    "t_cross_entropy",
    "t_linear_map_jacobian",
    "t_batched_matmul_jacobian",
    "t_batched_matmul_jacobian_wrt_W",
    "rnn_forward_tensor",
    "t_rnn_forward",
    "t_rnn_step_backward",
    "t_rnn_backward",
    "t_char_lm_loss",
    "t_char_lm_grad",
    "t_char_lm_truncated_grad",
    "t_char_lm_chunked_grad",
    "T_ACTIVATIONS",
    "t_rnn_states",
    "t_step_jacobian",
    "t_step_jacobians",
    "t_jacobian_products",
    "t_jacobians_from_start",
    "t_singular_values_over_time",
    "t_two_state_step",
    "t_two_state_forward",
    "t_two_state_state_jacobian",
    "t_two_state_output_jacobian",
    "t_two_state_input_jacobian",
    "t_rnn_jvp",
    "t_sequence_slope",
    "t_output_jacobian_at_step",
    "t_sequence_slope_feedback",
    "lstm_forward_tensor",
    "gru_forward_tensor",
    "t_lstm_forward",
    "t_lstm_step_backward",
    "t_lstm_backward",
    "t_lstm_state_jacobian",
    "t_gru_forward",
    "t_gru_step_backward",
    "t_gru_backward",
]
