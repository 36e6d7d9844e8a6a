"""The vocabulary every diagram of the book is drawn with: boxes, circles, arrows and one colour per quantity.

A rounded box is a state or an input (a value that lives between operations), a square box a gate or another
computed vector, a circle an element-wise operation, an arrow a flow, a dot a flow that splits. Positions are
in data units of an axes with equal scales in x and y, so a diagram is laid out on squared paper.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path

COLOURS = {
    "forward": "C0",     # values computed by the forward pass: x_t, h_t, outputs
    "gradient": "C1",    # adjoints: dL/dh_t and every path that carries one
    "tangent": "C2",     # forward-mode tangents: dh_t/d(theta) pushed along the sequence
    "cell": "C4",        # the second state of a two-state cell (LSTM's c_t)
    "gate": "0.45",      # gates and other intermediate vectors
    "loss": "C3",        # losses L_t
}

FACE_ALPHA = 0.14      # a box's fill is its edge colour, faded
ARROW_STYLE = "-|>"


@dataclass
class Node:
    """A drawn shape: its centre, and its half width and half height (a circle: both its radius)."""

    x: float
    y: float
    half_w: float = 0.0
    half_h: float = 0.0
    round: bool = False

    def edge(self, towards: "Node") -> tuple[float, float]:
        """The point where the line from this node's centre to ``towards``' centre leaves the shape."""
        dx, dy = towards.x - self.x, towards.y - self.y
        if self.half_w == 0 or (dx == 0 and dy == 0):
            return self.x, self.y
        if self.round:
            scale = self.half_w / math.hypot(dx, dy)
        else:
            scale = min(self.half_w / abs(dx) if dx else math.inf, self.half_h / abs(dy) if dy else math.inf)
        return self.x + scale * dx, self.y + scale * dy


def canvas(width: float, xlim: tuple[float, float], ylim: tuple[float, float]):
    """A figure ``width`` inches wide, one axis-free axes over the limits, equal units in x and y."""
    height = width * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    return fig, ax


def box(ax, x: float, y: float, text: str, colour: str, *, w: float = 0.9, h: float = 0.5,
         rounded: bool = True, fontsize: float = 10) -> Node:
    """A box of ``w`` x ``h`` centred at (x, y): rounded for a state or input, square for a gate."""
    style = "round,pad=0,rounding_size=0.15" if rounded else "square,pad=0"
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, linewidth=1.3,
                           edgecolor=colour, facecolor=faded(colour), zorder=3)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)
    return Node(x, y, w / 2, h / 2)


def op(ax, x: float, y: float, symbol: str, *, r: float = 0.2) -> Node:
    """A circle of radius ``r`` at (x, y) for an element-wise operation such as "⊙", "+" or "−"."""
    patch = Circle((x, y), r, linewidth=1.1, edgecolor="0.2", facecolor="white", zorder=3)
    ax.add_patch(patch)
    ax.text(x, y, symbol, ha="center", va="center", fontsize=10, zorder=4)
    return Node(x, y, r, r, round=True)


def point(x: float, y: float) -> Node:
    """An invisible node: where an arrow starts or ends without a box."""
    return Node(x, y)


def arrow(ax, a: Node, b: Node, colour: str, *, ls: str = "-", lw: float = 1.4, head: bool = True,
          label: str | None = None, label_xy: tuple[float, float] | None = None, label_ha: str = "center",
          label_va: str = "center", fontsize: float = 10) -> FancyArrowPatch:
    """A straight arrow from the edge of ``a`` to the edge of ``b``, labelled at ``label_xy`` if given."""
    drawn = route(ax, [a.edge(b), b.edge(a)], colour, head=head, lw=lw, ls=ls)
    if label is not None:
        lx, ly = label_xy if label_xy is not None else ((a.x + b.x) / 2, (a.y + b.y) / 2)
        ax.text(lx, ly, label, ha=label_ha, va=label_va, fontsize=fontsize, color=colour, zorder=5)
    return drawn


def route(ax, points: list[tuple[float, float]], colour: str, *, head: bool = True,
          lw: float = 1.4, ls: str = "-") -> FancyArrowPatch:
    """A polyline through ``points`` (data coordinates), with an arrowhead at the last one."""
    drawn = FancyArrowPatch(path=Path(points), arrowstyle=ARROW_STYLE if head else "-", mutation_scale=11,
                            color=colour, linewidth=lw, linestyle=ls, shrinkA=0, shrinkB=0,
                            joinstyle="miter", zorder=2)
    ax.add_patch(drawn)
    return drawn


def junction(ax, x: float, y: float, colour: str) -> None:
    """A dot where one flow splits into two."""
    ax.add_patch(Circle((x, y), 0.06, color=colour, zorder=3))


def faded(colour: str):
    """``colour`` blended towards white: the fill of a box with that edge colour."""
    r, g, b = to_rgb(colour)
    return tuple(1 - FACE_ALPHA * (1 - c) for c in (r, g, b))


def key(ax, entries: list[tuple[str, str]], *, loc: str = "lower right", ncol: int = 1) -> None:
    """A legend naming what each colour stands for: ``entries`` are (colour, text) pairs."""
    handles = [Patch(facecolor=faded(c), edgecolor=c, label=t) for c, t in entries]
    ax.legend(handles=handles, loc=loc, ncol=ncol, frameon=False, handlelength=1.4,
              borderaxespad=0.2, columnspacing=1.2)


def columns(ax, xs: list[float], labels: list[str], y: float, text: str, colour: str, **style) -> list:
    """One box per column at height ``y``; ``text`` is formatted with each label ("{}" -> the label)."""
    return [box(ax, x, y, text.format(lab), colour, **style) for x, lab in zip(xs, labels)]


def ellipsis(ax, x: float, y: float, colour: str = "0.3") -> None:
    """Three dots: the sequence goes on."""
    ax.text(x, y, "⋯", ha="center", va="center", fontsize=12, color=colour)


def grid(ax, x0: float, y0: float, rows: int, cols: int, size: float, colour: str, *,
         filled: bool = True) -> None:
    """A ``rows`` x ``cols`` grid of square cells of side ``size`` with its lower left corner at (x0, y0)."""
    face = faded(colour) if filled else "white"
    for i in range(rows):
        for j in range(cols):
            ax.add_patch(plt.Rectangle((x0 + j * size, y0 + i * size), size, size, facecolor=face,
                                       edgecolor=colour, linewidth=0.8, zorder=3))
