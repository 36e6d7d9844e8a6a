"""Argument checks shared by the gated cells (LSTM, GRU), their Jacobians and their torch counterparts.

Two things the plain :class:`Dims` letters cannot say:

* stacked gate blocks: ``W_x`` is (D, 4H) for the LSTM and (D, 3H) for the GRU. The letter ``"4H"`` (or
  ``"3H"``) is bound to ``4 * H`` as soon as ``H`` is known, so a message reads
  ``W_x: expected shape (D, 4H) with D=3 (from xs), 4H=16 (from h0), got (3, 17)``;
* time-major sequences: a batch-major ``xs`` (N, T, D) passes the check of ``xs`` itself and would only
  fail later, on the initial state, with a message blaming ``h0``. :func:`checked_state` recognises the
  pattern (the state's rows match the first axis of ``xs``, not its second) and blames ``xs``.

Every check goes through a ``check(dims, name, value, letters)`` callable, ``Dims.float_array``-like, so
that the numpy references and the torch counterparts (which keep tensors on their device) share them.
"""
from __future__ import annotations

import numpy as np

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


def _shape_of(value):
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    try:
        return np.shape(value)
    except Exception:  # noqa: BLE001 - a ragged list: no shape to report
        return None


def checked_state(check, dims: Dims, name: str, value, xs_name: str, xs_value):
    """``check`` of an (N, H) state that follows a time-major sequence; a batch-major sequence is blamed.

    If the state's rows disagree with the batch size N read from the sequence's second axis but equal the
    sequence's first axis, the sequence was most likely given batch-major (N, T, D): the error then names
    the sequence first (and the state as the other possibility). With T == N the two layouts cannot be told
    apart by shape.
    """
    try:
        return check(dims, name, value, ("N", "H"))
    except ShapeError:
        state, seq = _shape_of(value), _shape_of(xs_value)
        if state is not None and seq is not None and len(state) == 2 and len(seq) == 3 \
                and state[0] == seq[0] != seq[1]:
            raise ShapeError(
                f"{xs_name}: expected a time-major sequence (T, N, D) whose batch size N is the {state[0]} rows "
                f"of {name}, got {seq}: its first axis has {name}'s batch size, so it looks batch-major "
                f"(N, T, D); pass {xs_name}.transpose(1, 0, 2) (or, if {xs_name} is time-major, {name} has the "
                f"wrong number of rows, shape {state})") from None
        raise


def checked_sequence(check, dims: Dims, name: str, value, letters):
    """``check`` of a (T, N, ...) sequence; one whose first axes are (N, T) of earlier arguments is called batch-major.

    For a sequence checked after T and N are bound (e.g. ``xs`` after ``dhs``).
    """
    try:
        return check(dims, name, value, letters)
    except ShapeError:
        shape = _shape_of(value)
        T, N = dims.sizes.get("T"), dims.sizes.get("N")
        if shape is not None and len(shape) == len(letters) and T is not None and N is not None and T != N \
                and tuple(shape[:2]) == (N, T):
            raise ShapeError(
                f"{name}: expected a time-major sequence ({', '.join(map(str, letters))}) with T={T} "
                f"(from {dims.origin['T']}), N={N} (from {dims.origin['N']}), got {shape}, which is batch-major "
                f"(N, T, ...); pass {name}.transpose(1, 0, 2)") from None
        raise


def checked_variant(variant) -> str:
    """``variant`` if it is one of :data:`GRU_VARIANTS`, else a named error."""
    check_choice("variant", variant, GRU_VARIANTS)
    return variant
