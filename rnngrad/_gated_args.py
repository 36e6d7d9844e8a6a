"""Argument checks shared by the gated cells (LSTM, GRU), their Jacobians and their torch counterparts.

Two things the plain :class:`Dims` letters cannot say:

* stacked gate blocks: ``W_x`` is (D, 4H) for the LSTM and (D, 3H) for the GRU. The letter ``"4H"`` (or
  ``"3H"``) is bound to ``4 * H`` as soon as ``H`` is known, so a message reads
  ``W_x: expected shape (D, 4H) with D=3 (from xs), 4H=16 (from h0), got (3, 17)``;
* time-major sequences: :func:`rnngrad._sequences.checked_state` and
  :func:`rnngrad._sequences.checked_sequence` (shared with the tanh RNN) blame a batch-major ``xs``.

Every check goes through a ``check(dims, name, value, letters)`` callable, ``Dims.float_array``-like, so
that the numpy references and the torch counterparts (which keep tensors on their device) share them.
"""
from __future__ import annotations

from ._sequences import _shape_of, checked_sequence, checked_state
from ._validate import Dims, ShapeError, check_choice

__all__ = ["numpy_check", "gate_letter", "checked_gated", "checked_sequence", "checked_state", "checked_variant",
           "GRU_VARIANTS"]

#: the two placements of the GRU's reset gate (see :mod:`rnngrad.gru`)
GRU_VARIANTS = ("torch", "cho")


def numpy_check(dims: Dims, name: str, value, letters):
    """The numpy check: :meth:`Dims.float_array`."""
    return dims.float_array(name, value, letters)


def gate_letter(k: int) -> str:
    """The shape letter of ``k`` stacked gate blocks of H units, e.g. ``"4H"``."""
    return f"{k}H"


def _bind_gates(dims: Dims, k: int) -> None:
    letter = gate_letter(k)
    if "H" in dims.sizes and letter not in dims.sizes:
        dims.sizes[letter] = k * dims.sizes["H"]
        dims.origin[letter] = dims.origin["H"]


def checked_gated(check, dims: Dims, name: str, value, letters, k: int):
    """``check`` of one argument whose letters may hold ``"kH"``; the two letters are kept consistent.

    When ``H`` is bound before the argument, ``"kH"`` is bound to ``k * H`` (same origin); when the
    argument binds both itself (e.g. torch's ``weight_hh_l0`` (4H, H)), their sizes are compared after.
    """
    _bind_gates(dims, k)
    out = check(dims, name, value, letters)
    letter = gate_letter(k)
    if "H" in dims.sizes and letter in dims.sizes and dims[letter] != k * dims["H"]:
        raise ShapeError(f"{name}: expected shape ({', '.join(map(str, letters))}) with {letter} = {k} x H "
                         f"(H={dims['H']} from {dims.origin['H']}, {letter}={dims[letter]} from "
                         f"{dims.origin[letter]}), got {_shape_of(value)}")
    if letter in dims.sizes and "H" not in dims.sizes:      # no (N, H) argument: H is read off the gate axis
        if dims[letter] % k:
            raise ShapeError(f"{name}: expected shape ({', '.join(map(str, letters))}) with {letter} a multiple "
                             f"of {k} ({k} gate blocks of H units), got {_shape_of(value)}")
        dims.sizes["H"] = dims[letter] // k
        dims.origin["H"] = dims.origin[letter]
    _bind_gates(dims, k)
    return out


def checked_variant(variant) -> str:
    """``variant`` if it is one of :data:`GRU_VARIANTS`, else a named error."""
    check_choice("variant", variant, GRU_VARIANTS)
    return variant
