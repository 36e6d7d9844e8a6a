"""Diagrams of the shapes of derivative arrays."""
from __future__ import annotations

from .kit import COLOURS, canvas, grid, route


def batched_jacobians(N: int = 4, n_out: int = 3, n_in: int = 2):
    """Per-row Jacobians ``(N, out, in)`` next to the Jacobian of the batched map ``(N, out, N, in)``.

    Args:
        N: number of rows of the batch.
        n_out: size of each row's output.
        n_in: size of each row's input.

    Returns:
        The figure: left, N separate out x in matrices; right, the (N·out) x (N·in) flattening of the
        four-index array, whose diagonal blocks are those matrices and whose other blocks are zero.

    Example:
        >>> fig = batched_jacobians(N=3)
        >>> len(fig.axes)
        1
    """
    jac, zero = COLOURS["forward"], "0.75"
    cell = 0.42
    width = N * n_in * cell
    fig, ax = canvas(4.6, (-0.4, 3.7 + width + 0.3), (-0.9, N * n_out * cell + 0.75))
    top = N * n_out * cell
    # left: the batch of N small Jacobians, one under the other
    gap = (top - N * n_out * cell * 0.8) / max(N - 1, 1)
    small = cell * 0.8
    for n in range(N):
        y0 = top - (n + 1) * n_out * small - n * gap
        grid(ax, 0.4, y0, n_out, n_in, small, jac)
        ax.text(0.25, y0 + n_out * small / 2, f"$J[{n}]$", ha="right", va="center", fontsize=9)
    ax.text(0.4 + n_in * small / 2, -0.45, r"$(N, \mathrm{out}, \mathrm{in})$", ha="center",
            va="center", fontsize=10)
    # right: the four-index array flattened, rows (n, i) and columns (p, q)
    x0 = 3.7
    for n in range(N):
        for p in range(N):
            y0 = top - (n + 1) * n_out * cell
            colour = jac if n == p else None
            grid(ax, x0 + p * n_in * cell, y0, n_out, n_in, cell, colour or zero, filled=n == p)
            if n != p:
                ax.text(x0 + (p + 0.5) * n_in * cell, y0 + n_out * cell / 2, "$0$", ha="center",
                        va="center", fontsize=9, color="0.45")
    for k in range(1, N):
        ax.plot([x0 + k * n_in * cell] * 2, [0, top], color="k", lw=0.9, zorder=4)
        ax.plot([x0, x0 + width], [top - k * n_out * cell] * 2, color="k", lw=0.9, zorder=4)
    ax.text(x0 + width / 2, -0.45, r"$(N, \mathrm{out}, N, \mathrm{in})$", ha="center", va="center",
            fontsize=10)
    route(ax, [(1.55, top / 2), (x0 - 0.25, top / 2)], "0.3")
    ax.text((1.55 + x0 - 0.25) / 2, top / 2 + 0.12, "the diagonal\nblocks", ha="center", va="bottom",
            fontsize=9, color="0.3")
    ax.text(x0 + width / 2, top + 0.35, r"$\partial y[n, i] / \partial x[p, q]$", ha="center",
            va="center", fontsize=10)
    ax.text(0.4 + n_in * small / 2, top + 0.35, r"$\partial y[n] / \partial x[n]$", ha="center",
            va="center", fontsize=10)
    return fig
