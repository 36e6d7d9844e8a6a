"""Central finite differences, for checking analytic derivatives.

Every routine perturbs a fresh copy of ``x`` for each evaluation of ``f``, so neither
the caller's array nor an earlier perturbation can leak into a later one (even when
``f`` keeps or modifies its argument). The central difference
``(f(x + eps e) - f(x - eps e)) / (2 eps)`` has truncation error O(eps^2) and round-off
error O(ulp(f) / eps); for float64 and values of order one, ``eps = 1e-6`` gives about
1e-10 absolute error.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._validate import Dims, NonFiniteError, RnngradInputError, ShapeError, positive_number

__all__ = ["numerical_gradient", "numerical_jacobian", "numerical_jvp", "numerical_vjp", "relative_error",
           "check_gradient"]


def _check_f(f) -> None:
    if not callable(f):
        raise RnngradInputError(f"f: expected a callable taking an array, got {type(f).__name__}")


def _evaluate(f: Callable, x: np.ndarray, where: str) -> np.ndarray:
    """``f`` at a private copy of x, as a float64 array (a float becomes shape ())."""
    result = f(x.copy())
    try:
        out = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RnngradInputError(f"f: expected a float or a float array as result, got {type(result).__name__} "
                                f"({exc})") from None
    if not np.isfinite(out).all():
        raise NonFiniteError(f"f: returned NaN or infinite values at {where}")
    return out


def _differences(f: Callable, x: np.ndarray, eps: float, directions) -> list[np.ndarray]:
    """Central differences of f at x along each direction (arrays of x's shape)."""
    slopes = []
    for k, d in directions:
        plus = _evaluate(f, x + eps * d, f"x + eps * {k}")
        minus = _evaluate(f, x - eps * d, f"x - eps * {k}")
        if plus.shape != minus.shape:
            raise ShapeError(f"f: returned shapes {plus.shape} and {minus.shape} at two nearby points")
        slopes.append((plus - minus) / (2.0 * eps))
    return slopes


def _basis(x: np.ndarray):
    for flat in range(x.size):
        e = np.zeros(x.shape)
        e.flat[flat] = 1.0
        yield f"e_{np.unravel_index(flat, x.shape) if x.ndim else ()}", e


def numerical_jacobian(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """The numerator-layout Jacobian ``J[out..., in...] = d f(x)[out] / d x[in]`` by central differences.

    Args:
        f: callable taking an array of the shape of ``x`` and returning a float or a float array.
        x: float array (any shape, including ()); not modified.
        eps: step size.

    Returns:
        float64 array ``f(x).shape + x.shape``.

    Example:
        >>> import numpy as np
        >>> A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> J = numerical_jacobian(lambda v: A @ v, np.ones(3))
        >>> J.shape, bool(np.allclose(J, A))
        ((2, 3), True)
    """
    _check_f(f)
    x = Dims().float_array("x", x, None)
    eps = positive_number("eps", eps)
    out_shape = _evaluate(f, x, "x").shape
    slopes = _differences(f, x, eps, _basis(x))
    for s in slopes:
        if s.shape != out_shape:
            raise ShapeError(f"f: returned shape {s.shape} near x but {out_shape} at x")
    if not slopes:
        return np.zeros(out_shape + x.shape)
    # slopes[k] is column k (input entry k); stack them on a new last axis
    return np.stack(slopes, axis=-1).reshape(out_shape + x.shape)


def numerical_gradient(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """The gradient ``df/dx`` of a scalar function by central differences (the shape of x).

    Args:
        f: callable returning a float (or an array with a single entry).
        x: float array (any shape); not modified.
        eps: step size.

    Returns:
        float64 array of the shape of ``x``.

    Example:
        >>> import numpy as np
        >>> g = numerical_gradient(lambda v: float((v ** 2).sum()),
        ...                        np.array([1.0, -2.0]))
        >>> np.round(g, 6).tolist()
        [2.0, -4.0]
    """
    _check_f(f)
    x = Dims().float_array("x", x, None)
    eps = positive_number("eps", eps)
    value = _evaluate(f, x, "x")
    if value.size != 1:
        raise ShapeError(f"f: expected a scalar result for a gradient, got shape {value.shape}; "
                         "use numerical_jacobian for array-valued functions")
    slopes = _differences(f, x, eps, _basis(x))
    return np.array([s.reshape(()) for s in slopes], dtype=np.float64).reshape(x.shape)


def numerical_jvp(f: Callable, x, v, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian-vector product ``J v = (f(x + eps v) - f(x - eps v)) / (2 eps)`` (two evaluations of f).

    Args:
        f: callable returning a float or float array.
        x: float array of any shape; not modified.
        v: float array of the shape of ``x`` (the tangent).
        eps: step size.

    Returns:
        float64 array of the shape of ``f(x)``.

    Example:
        >>> import numpy as np
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> np.round(numerical_jvp(lambda z: A @ z, np.zeros(2),
        ...                        np.array([1.0, 1.0])), 6).tolist()
        [3.0, 7.0]
    """
    _check_f(f)
    dims = Dims()
    x = dims.float_array("x", x, None)
    v = dims.float_array("v", v, None)
    if v.shape != x.shape:
        raise ShapeError(f"v: expected the shape of x {x.shape}, got {v.shape}")
    eps = positive_number("eps", eps)
    return _differences(f, x, eps, [("v", v)])[0]


def numerical_vjp(f: Callable, x, u, eps: float = 1e-6) -> np.ndarray:
    """The vector-Jacobian product ``u^T J``, i.e. the gradient of ``<u, f(x)>``, by central differences.

    Args:
        f: callable returning a float or float array.
        x: float array of any shape; not modified.
        u: float array of the shape of ``f(x)`` (the cotangent).
        eps: step size.

    Returns:
        float64 array of the shape of ``x``.

    Example:
        >>> import numpy as np
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> np.round(numerical_vjp(lambda z: A @ z, np.zeros(2),
        ...                        np.array([1.0, 1.0])), 6).tolist()
        [4.0, 6.0]
    """
    _check_f(f)
    x = Dims().float_array("x", x, None)
    u = Dims().float_array("u", u, None)
    out_shape = _evaluate(f, x, "x").shape
    if u.shape != out_shape:
        raise ShapeError(f"u: expected the shape of f(x) {out_shape}, got {u.shape}")
    return numerical_gradient(lambda z: float((u * np.asarray(f(z), dtype=np.float64)).sum()), x, eps)


def relative_error(a, b, floor: float = 1e-12) -> float:
    """The scale-aware relative error ``max_i |a_i - b_i| / max(max_i (|a_i| + |b_i|), floor)``.

    The denominator is the size of the arrays as a whole, not entry by entry, so an
    entry that is zero in one array and 1e-13 in the other does not count as a 100 %
    error when the other entries are of order one. The result lies in [0, 1] (since
    ``|a - b| <= |a| + |b|``), is symmetric in a and b, is 1 when a = -b != 0, and is 0
    for equal arrays (including all zero). ``floor`` acts as an absolute scale: two
    arrays both smaller than it are compared by ``max |a - b| / floor``.

    Args:
        a, b: float arrays (or floats) of the same shape.
        floor: positive lower bound of the denominator.

    Returns:
        A Python float in [0, 1].

    Example:
        >>> import numpy as np
        >>> relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-13])) < 1e-12
        True
        >>> relative_error(np.array([2.0]), np.array([-2.0]))
        1.0
    """
    a = Dims().float_array("a", a, None)
    b = Dims().float_array("b", b, None)
    if a.shape != b.shape:
        raise ShapeError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    floor = positive_number("floor", floor)
    if a.size == 0:
        return 0.0
    scale = max(float((np.abs(a) + np.abs(b)).max()), floor)
    return float(np.abs(a - b).max() / scale)


def check_gradient(f: Callable, x, analytic, tol: float = 1e-6, eps: float = 1e-6) -> tuple[bool, float]:
    """Compare an analytic derivative with central differences: ``(relative_error <= tol, relative_error)``.

    For a scalar ``f`` the analytic value is the gradient (shape of x); for an
    array-valued ``f`` it is the numerator-layout Jacobian ``f(x).shape + x.shape``.

    Args:
        f: callable returning a float or float array.
        x: float array of any shape; not modified.
        analytic: float array, the derivative to check: shape of x for a scalar f, else f(x).shape + x.shape.
        tol: largest accepted :func:`relative_error`.
        eps: finite-difference step.

    Returns:
        ``(ok, error)``: a bool and the relative error (a float).

    Example:
        >>> import numpy as np
        >>> x = np.array([0.3, -1.2])
        >>> ok, err = check_gradient(lambda v: float(np.sin(v).sum()), x,
        ...                          np.cos(x))
        >>> ok, err < 1e-8
        (True, True)
        >>> check_gradient(lambda v: float(np.sin(v).sum()), x, -np.cos(x))[0]
        False
    """
    _check_f(f)
    x = Dims().float_array("x", x, None)
    analytic = Dims().float_array("analytic", analytic, None)
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.integer, np.floating)) \
            or not tol >= 0:
        raise RnngradInputError(f"tol: expected a non-negative number, got {tol!r}")
    out_shape = _evaluate(f, x, "x").shape
    if out_shape in ((), (1,)) and analytic.shape == x.shape:
        numeric = numerical_gradient(f, x, eps)
    else:
        numeric = numerical_jacobian(f, x, eps)
    if numeric.shape != analytic.shape:
        raise ShapeError(f"analytic: expected shape {numeric.shape} (f(x).shape + x.shape), got {analytic.shape}")
    err = relative_error(analytic, numeric)
    return err <= tol, err
