"""Checks of time-major sequences shared by every recurrent model (tanh RNN, LSTM, GRU).

A batch-major ``xs`` (N, T, D) passes the check of ``xs`` itself and would only fail later, on the initial
state, with a message blaming ``h0``. :func:`checked_state` recognises the pattern (the state's rows match
the first axis of ``xs``, not its second) and blames ``xs``; :func:`checked_sequence` does the same for a
sequence checked after T and N are known. When T == N the two layouts cannot be told apart by shape: keep
sequences time-major, as every function of rnngrad documents.

Every check goes through a ``check(dims, name, value, letters)`` callable, ``Dims.float_array``-like, so
that the numpy references and the torch counterparts (which keep tensors on their device) share them.
"""
from __future__ import annotations

import numpy as np

from ._validate import Dims, ShapeError

__all__ = ["checked_sequence", "checked_state"]


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
