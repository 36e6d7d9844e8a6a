"""Reusable hypothesis strategies and an array comparison for the rnngrad tests.

Arrays are drawn from a seed rather than element by element: hypothesis then
shrinks a failure to a small shape and a single integer, which is enough to
reproduce it, and drawing stays fast for the Jacobian-sized inputs the tests use.

Typical use::

    from hypothesis import given
    from strategies import dims, float_arrays, assert_close

    @given(x=float_arrays((3, 4)), n=dims())
    def test_something(x, n): ...
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np
from hypothesis import strategies as st

__all__ = [
    "seeds", "dims", "shapes", "rngs", "float_arrays", "logits_arrays", "int_labels", "soft_labels",
    "masks", "assert_close", "LOGIT_SCALES",
]

#: seeds for ``np.random.default_rng``
seeds = st.integers(min_value=0, max_value=2**32 - 1)

#: scales used for logits: ordinary, large, and the ±1e4 range where a naive softmax overflows
LOGIT_SCALES = (1.0, 30.0, 1e4)

ShapeLike = Union[Sequence[int], st.SearchStrategy]


def dims(min_value: int = 1, max_value: int = 5) -> st.SearchStrategy[int]:
    """A size for one axis; the default range includes 1, the size that exposes broadcasting bugs."""
    return st.integers(min_value=min_value, max_value=max_value)


def shapes(min_ndim: int = 1, max_ndim: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[tuple]:
    """A shape tuple with ``min_ndim``..``max_ndim`` axes of size ``min_side``..``max_side``."""
    return st.lists(dims(min_side, max_side), min_size=min_ndim, max_size=max_ndim).map(tuple)


def rngs() -> st.SearchStrategy[np.random.Generator]:
    """A seeded numpy Generator (shrinks to seed 0)."""
    return seeds.map(np.random.default_rng)


def _shape_strategy(shape: ShapeLike) -> st.SearchStrategy[tuple]:
    if isinstance(shape, st.SearchStrategy):
        return shape.map(tuple)
    return st.just(tuple(int(s) for s in shape))


def float_arrays(shape: ShapeLike, scale: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` (a tuple or a strategy of tuples) with N(0, scale^2) entries."""
    return st.builds(lambda shp, seed: np.random.default_rng(seed).standard_normal(shp) * scale,
                     _shape_strategy(shape), seeds)


@st.composite
def logits_arrays(draw, shape: ShapeLike, scales: Sequence[float] = LOGIT_SCALES, mixed: bool = True):
    """Logits of ``shape`` at a drawn scale from ``scales``.

    With ``mixed=True`` some draws put huge (±1e4) and ordinary entries in the same
    row, the case where subtracting the row maximum matters most.
    """
    shp = draw(_shape_strategy(shape))
    scale = draw(st.sampled_from(tuple(scales)))
    rng = np.random.default_rng(draw(seeds))
    z = rng.standard_normal(shp) * scale
    if mixed and draw(st.booleans()):
        huge = rng.random(shp) < 0.5
        z = np.where(huge, np.sign(z) * 1e4 + z, z / max(scale, 1.0))
    return z


def int_labels(shape: ShapeLike, C: int) -> st.SearchStrategy[np.ndarray]:
    """int64 class indices in [0, C) of ``shape``."""
    return st.builds(lambda shp, seed: np.random.default_rng(seed).integers(0, C, size=shp),
                     _shape_strategy(shape), seeds)


def soft_labels(shape: ShapeLike, normalised: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Non-negative float labels of ``shape`` (last axis = classes); rows sum to one when ``normalised``."""
    def make(shp, seed):
        y = np.random.default_rng(seed).random(shp)
        return y / y.sum(axis=-1, keepdims=True) if normalised else 2.0 * y
    return st.builds(make, _shape_strategy(shape), seeds)


def masks(shape: ShapeLike, p_true: float = 0.7) -> st.SearchStrategy[np.ndarray]:
    """Boolean masks of ``shape``, True with probability ``p_true`` (may be all False)."""
    return st.builds(lambda shp, seed: np.random.default_rng(seed).random(shp) < p_true,
                     _shape_strategy(shape), seeds)


def assert_close(actual, expected, rtol: float = 1e-7, atol: float = 1e-9, name: str = "value") -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` elementwise, with a readable message.

    The message gives both shapes, the worst entry (index, both values, its error)
    and the largest absolute and relative errors, which is usually enough to tell a
    transposed result from a sign error from round-off.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{name}: shape {a.shape} != expected shape {e.shape}")
    if a.size == 0:
        return
    finite_a, finite_e = np.isfinite(a), np.isfinite(e)
    if not (finite_a == finite_e).all() or not (a[~finite_a] == e[~finite_e]).all():
        raise AssertionError(f"{name}: non-finite entries differ: actual has {(~finite_a).sum()}, "
                             f"expected has {(~finite_e).sum()}")
    err = np.where(finite_a & finite_e, np.abs(a - e), 0.0)
    allowed = atol + rtol * np.where(finite_e, np.abs(e), 0.0)
    excess = err - allowed
    if (excess > 0).any():
        idx = np.unravel_index(int(np.argmax(excess)), a.shape)
        rel = err / np.maximum(np.abs(e), np.finfo(float).tiny)
        raise AssertionError(
            f"{name}: {(excess > 0).sum()} of {a.size} entries differ beyond atol={atol:g}, rtol={rtol:g}; "
            f"worst at index {tuple(int(i) for i in idx)}: actual {a[idx]!r}, expected {e[idx]!r}, "
            f"|diff| {err[idx]:.3g}; max |diff| {err.max():.3g}, max rel {rel.max():.3g} (shape {a.shape})"
        )
