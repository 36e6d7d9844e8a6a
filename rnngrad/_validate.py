"""Input checks shared by every rnngrad function.

Every public function turns its array arguments into float64 arrays through a
:class:`Dims` object. The object binds the shape letters (N, T, D, H, C, ...) the
first time it sees them and checks every later argument against them, so a
mismatch is reported with both argument names::

    >>> import numpy as np
    >>> dims = Dims()
    >>> x = dims.float_array("x", np.ones((2, 3)), ("N", "D"))
    >>> W_x = dims.float_array("W_x", np.ones((4, 5)), ("D", "H"))
    Traceback (most recent call last):
    ...
    rnngrad._validate.ShapeError: W_x: expected shape (D, H) with D=3 (from x), got (4, 5)

Nothing here copies data that is already float64, and nothing writes into the
arrays it is given.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence, Union

import numpy as np

__all__ = ["RnngradInputError", "ShapeError", "DTypeError", "NonFiniteError", "Dims", "check_choice",
           "generator", "activation_output"]

Letter = Union[str, int]


class RnngradInputError(ValueError):
    """Base class of every bad-input error raised by rnngrad (a ValueError).

    The message starts with the argument's name, then says what was expected and what came.

    Example:
        >>> import numpy as np
        >>> from rnngrad import softmax_jacobian
        >>> try:
        ...     softmax_jacobian(np.zeros((2, 2, 3)))
        ... except RnngradInputError as exc:
        ...     print(str(exc))
        logits: expected 2 axes (N, C), got 3 axes with shape (2, 2, 3)
    """


class ShapeError(RnngradInputError):
    """An argument has the wrong number of axes or a size that disagrees with another argument.

    Example:
        >>> import numpy as np
        >>> dims = Dims(H=4)
        >>> try:
        ...     dims.float_array("b", np.zeros(3), ("H",))
        ... except ShapeError as exc:
        ...     print(str(exc))
        b: expected shape (H,) with H=4 (from the call), got (3,)
    """


class DTypeError(RnngradInputError, TypeError):
    """An argument has a dtype that cannot hold the values asked for (e.g. integers where floats are needed).

    It is also a ``TypeError``, so code that catches either keeps working.

    Example:
        >>> import numpy as np
        >>> try:
        ...     Dims().float_array("x", np.arange(3), None)
        ... except TypeError as exc:
        ...     print(type(exc).__name__, str(exc))
        DTypeError x: expected a floating-point array, got dtype int64
    """


class NonFiniteError(RnngradInputError):
    """An argument contains NaN or infinity, so no derivative computed from it would mean anything.

    Example:
        >>> import numpy as np
        >>> try:
        ...     Dims().float_array("W_h", np.array([[1.0, np.nan]]), ("H", 2))
        ... except NonFiniteError as exc:
        ...     print(str(exc))
        W_h: expected finite values, got 1 NaN or infinite entry
    """


def _shape_text(letters: Sequence[Letter]) -> str:
    inner = ", ".join(str(l) for l in letters)
    return f"({inner},)" if len(letters) == 1 else f"({inner})"


def _as_array(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise DTypeError(f"{name}: expected an array-like of numbers, got {type(value).__name__} ({exc})") from None


class Dims:
    """Binds shape letters to sizes across the arguments of one call.

    ``Dims(H=4)`` starts with H known; letters not yet seen are bound by the first
    argument that has them. An int in a shape spec is a fixed size.
    """

    def __init__(self, **known: int):
        self.sizes: dict[str, int] = dict(known)
        self.origin: dict[str, str] = {k: "the call" for k in known}

    def __getitem__(self, letter: str) -> int:
        return self.sizes[letter]

    def _check_shape(self, name: str, arr: np.ndarray, letters: Sequence[Letter]) -> None:
        if arr.ndim != len(letters):
            raise ShapeError(
                f"{name}: expected {len(letters)} axes {_shape_text(letters)}, got {arr.ndim} axes with shape {arr.shape}"
            )
        new: dict[str, int] = {}
        for letter, size in zip(letters, arr.shape):
            if isinstance(letter, int):
                if size != letter:
                    raise ShapeError(f"{name}: expected shape {_shape_text(letters)}, got {arr.shape}")
                continue
            want = self.sizes.get(letter, new.get(letter))
            if want is None:
                new[letter] = size
            elif want != size:
                seen = list(dict.fromkeys(l for l in letters if isinstance(l, str)))  # a letter may repeat
                bound = [f"{l}={self.sizes[l]} (from {self.origin[l]})" for l in seen if l in self.sizes]
                bound += [f"{l}={new[l]}" for l in seen if l in new and l not in self.sizes]
                raise ShapeError(
                    f"{name}: expected shape {_shape_text(letters)} with {', '.join(bound)}, got {arr.shape}"
                )
        for letter, size in new.items():
            self.sizes[letter] = size
            self.origin[letter] = name

    def nonempty(self, *letters: str) -> None:
        """Raise a ShapeError, naming the argument that bound it, if one of ``letters`` is 0.

        For computations that need at least one entry along an axis (a mean over the batch,
        a product over time steps).
        """
        for letter in letters:
            if self.sizes.get(letter) == 0:
                raise ShapeError(f"{self.origin[letter]}: expected at least one entry along {letter}, "
                                 f"got {letter}=0")

    def float_array(self, name: str, value, letters: Sequence[Letter] | None, *, finite: bool = True) -> np.ndarray:
        """Return ``value`` as a float64 array of shape ``letters`` (None: any shape); raise a named error otherwise.

        Python floats and lists of floats are accepted; integer, boolean and object arrays are not.
        """
        arr = _as_array(name, value)
        if arr.dtype == object or arr.dtype.kind not in "f":
            raise DTypeError(f"{name}: expected a floating-point array, got dtype {arr.dtype}")
        if letters is not None:
            self._check_shape(name, arr, letters)
        arr = arr.astype(np.float64, copy=False)
        if finite and not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise NonFiniteError(f"{name}: expected finite values, got {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}")
        return arr

    def int_array(self, name: str, value, letters: Sequence[Letter], *, low: int | None = None,
                  high: int | None = None) -> np.ndarray:
        """Return ``value`` as an int64 array of shape ``letters`` with entries in [low, high)."""
        arr = _as_array(name, value)
        if arr.dtype == object or arr.dtype.kind not in "iu":
            raise DTypeError(f"{name}: expected an integer array, got dtype {arr.dtype}")
        self._check_shape(name, arr, letters)
        arr = arr.astype(np.int64, copy=False)
        if arr.size and low is not None and arr.min() < low:
            raise RnngradInputError(f"{name}: expected entries >= {low}, got {arr.min()}")
        if arr.size and high is not None and arr.max() >= high:
            raise RnngradInputError(f"{name}: expected entries < {high}, got {arr.max()}")
        return arr

    def bool_array(self, name: str, value, letters: Sequence[Letter]) -> np.ndarray:
        """Return ``value`` as a bool array of shape ``letters`` (0/1 integers are accepted)."""
        arr = _as_array(name, value)
        if arr.dtype.kind == "b":
            pass
        elif arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
            arr = arr.astype(bool)
        else:
            raise DTypeError(f"{name}: expected a boolean mask (or 0/1 values), got dtype {arr.dtype}")
        self._check_shape(name, arr, letters)
        return arr


#: names other libraries use for a choice rnngrad spells differently (Keras's "linear", scikit-learn's "logistic")
OTHER_NAMES = {"linear": "identity", "logistic": "sigmoid", "expit": "sigmoid"}


def check_choice(name: str, value, choices: Iterable) -> None:
    """Raise a named error unless ``value`` is one of ``choices``; a name another library uses for one of them
    (:data:`OTHER_NAMES`) is pointed to rnngrad's.

    Example:
        >>> check_choice("activation", "linear", ("tanh", "identity"))
        Traceback (most recent call last):
        ...
        rnngrad._validate.RnngradInputError: activation: expected one of 'tanh', 'identity', got 'linear' (rnngrad calls it 'identity')
    """
    choices = tuple(choices)
    if value not in choices:
        other = OTHER_NAMES.get(value.lower()) if isinstance(value, str) else None
        hint = f" (rnngrad calls it {other!r})" if other is not None and other in choices else ""
        raise RnngradInputError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}{hint}")


def positive_number(name: str, value, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float > 0 (finite unless ``allow_inf``), or raise a named error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not (0 < value <= math.inf if allow_inf else 0 < value < math.inf):
        what = "a positive number (inf allowed)" if allow_inf else "a positive finite number"
        raise RnngradInputError(f"{name}: expected {what}, got {value!r}")
    return float(value)


def positive_int(name: str, value) -> int:
    """Return ``value`` as an int >= 1, or raise a named error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RnngradInputError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def generator(value, name: str = "rng") -> np.random.Generator:
    """The one reading of an ``rng`` argument in rnngrad: an int seed >= 0 or a ``numpy.random.Generator``.

    An int gives a fresh ``np.random.default_rng(seed)`` (the same numbers at every call); a Generator is used
    as it is and advanced. None is refused: rnngrad draws nothing from an unseeded source, so every result
    can be reproduced (pass ``np.random.default_rng()`` to ask for fresh entropy explicitly).

    Example:
        >>> seeded = np.random.default_rng(3).random()
        >>> float(generator(3).random()) == float(seeded)
        True
        >>> generator(None)
        Traceback (most recent call last):
        ...
        rnngrad._validate.RnngradInputError: rng: expected an int seed >= 0 or a numpy.random.Generator, got None (rnngrad draws nothing unseeded: pass np.random.default_rng() for fresh entropy)
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 0:
        return np.random.default_rng(int(value))
    hint = " (rnngrad draws nothing unseeded: pass np.random.default_rng() for fresh entropy)" if value is None else ""
    raise RnngradInputError(f"{name}: expected an int seed >= 0 or a numpy.random.Generator, got {value!r}{hint}")


#: the values an activation's output can take, for the functions that read σ' from the output
OUTPUT_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, math.inf)}


def activation_output(name: str, arr: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """Return the validated float64 ``arr`` if it can be an output of ``activation``; raise a named error otherwise.

    A function that reads ``σ'`` off a stored output (tanh: ``1 - h**2``) returns wrong numbers, silently,
    when given anything else (a pre-activation, say). The ends of the range are allowed: in float64
    ``tanh(a)`` rounds to exactly 1 for ``a`` above about 19.06, where ``1 - h**2 = 0`` is the true derivative
    (below 1e-16) to float64 precision.

    Example:
        >>> activation_output("h", np.array([0.5, 1.0, -1.0])).tolist()
        [0.5, 1.0, -1.0]
        >>> activation_output("h", np.array([[0.5, 2.5]]))
        Traceback (most recent call last):
        ...
        rnngrad._validate.RnngradInputError: h: expected tanh outputs, in [-1, 1], got 1 entry outside (2.5 at (0, 1)); pass the states the forward pass returned, not pre-activations
    """
    low, high = OUTPUT_RANGES.get(activation, (-math.inf, math.inf))
    outside = (arr < low) | (arr > high)
    if outside.any():
        bad = int(outside.sum())
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        interval = f"[{low:g}, {high:g}]" if high < math.inf else f"[{low:g}, inf)"
        raise RnngradInputError(
            f"{name}: expected {activation} outputs, in {interval}, got {bad} entr{'y' if bad == 1 else 'ies'} "
            f"outside ({arr[where]:g} at {where if len(where) != 1 else where[0]}); pass the states the forward "
            f"pass returned, not pre-activations")
    return arr
