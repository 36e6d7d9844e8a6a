"""torch counterparts of the rnngrad quantities, for checking.

Everything here is written from primitive torch ops (``@``, ``torch.tanh``, ...), not
``torch.nn.RNN``, so that ``torch.func`` transforms (``vmap``, ``jacrev``, ``jacfwd``,
``jvp``, ``vjp``) apply. Functions accept numpy arrays or tensors, compute in float64 on
``default_device()`` (CUDA when present) unless told otherwise, and return numpy float64
arrays so that results compare directly with the numpy references.
"""
from ._common import default_device, to_numpy, to_tensor

__all__ = ["default_device", "to_tensor", "to_numpy"]
