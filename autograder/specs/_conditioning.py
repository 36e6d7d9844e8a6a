"""Cases whose answer a correct float32 computation can reach: a maker that draws again on ill-conditioned inputs.

The comparison accepts answers returned in float32 at ``FLOAT32_TOL`` relative to each leaf's scale. A correct
float32 computation rounds its inputs (and every step) at about 6e-8 relative, and an ill-conditioned case
magnifies that: a sum of terms that nearly cancel (a one-unit gradient summed over two rows of opposite signs)
or a saturated unit whose slope ``1 - h**2`` is left from rounded ``h``. On such a case an honest float32 answer
misses the tolerance through no fault of its own. :func:`float32_reachable` measures the case's condition the
way a float32 student meets it, by evaluating the reference on inputs perturbed at float32 rounding, and draws
again while that alone moves the answer by more than a twentieth of the tolerance.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import compare as _compare
from ._core import normalize

__all__ = ["CONDITION_SHARE", "MAX_DRAWS", "float32_sensitivity", "float32_reachable"]

#: largest share of FLOAT32_TOL that float32 rounding of the inputs alone may move a case's answer by
CONDITION_SHARE = 1 / 20
#: draws tried before giving up (a maker that needs more is itself ill-made)
MAX_DRAWS = 200
#: relative size of one float32 rounding (unit roundoff, 2**-24)
_F32_UNIT = 2.0 ** -24


def _perturbed(x, how):
    """``x`` with every float array rounded to float32 (``how`` None) or scaled by ``1 + how`` entry-wise."""
    if isinstance(x, dict):
        return {k: _perturbed(v, how) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_perturbed(v, how) for v in x)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        if how is None:
            return x.astype(np.float32).astype(np.float64)
        return x * (1.0 + how.standard_normal(x.shape) * _F32_UNIT)
    return x


def float32_sensitivity(reference: Callable, args: tuple, kwargs: dict) -> float:
    """Largest leaf error (relative to the leaf's scale) that float32-sized input errors make in the answer.

    Args:
        reference: the spec's reference, called as ``reference(*args, **kwargs)``.
        args, kwargs: the case's inputs (float arrays are perturbed, everything else passed as is).
    Returns:
        the largest :func:`autograder.compare.leaf_errors` value over three perturbations: rounding every float
        input to float32, and two fixed random relative perturbations of one float32 unit; infinite when
        the reference refuses a perturbed input (rounding took it out of the function's domain).
    Example:
        >>> float32_sensitivity(np.sum, (np.array([1.0, -1.0 + 1e-5]),), {}) > 1e-3   # terms that cancel
        True
        >>> float32_sensitivity(np.sum, (np.array([1.0, 1.0 + 1e-5]),), {}) < 1e-7
        True
    """
    want = normalize(reference(*args, **kwargs))
    worst = 0.0
    for how in (None, np.random.default_rng(1), np.random.default_rng(2)):
        try:
            with np.errstate(all="ignore"):
                got = normalize(reference(*_perturbed(args, how), **_perturbed(kwargs, how)))
        except (ValueError, ArithmeticError):   # rounding took an input out of the reference's domain
            return float("inf")
        worst = max([worst] + [err for _, err, _ in _compare.leaf_errors(got, want)])
    return worst


def float32_reachable(make: Callable, reference: Callable) -> Callable:
    """A maker drawing like ``make`` but again while the case is too ill-conditioned for a float32 answer.

    The first draw is ``make``'s own, so a case that was well-conditioned is unchanged (published fixtures
    stay the same). At most :data:`MAX_DRAWS` draws, then RuntimeError.

    Example:
        >>> maker = float32_reachable(lambda rng: ((rng.standard_normal(3),), {}), np.sum)
        >>> args, kwargs = maker(np.random.default_rng(0))
    """
    def draw(rng: np.random.Generator):
        for _ in range(MAX_DRAWS):
            args, kwargs = make(rng)
            if float32_sensitivity(reference, args, kwargs) <= CONDITION_SHARE * _compare.FLOAT32_TOL:
                return args, kwargs
        raise RuntimeError(f"no well-conditioned case in {MAX_DRAWS} draws")
    return draw
