"""Diagrams of a recurrent network along a sequence: gradients in reverse, tangents forward, truncation."""
from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from .kit import COLOURS, arrow, box, canvas, columns, ellipsis, key, route


def unrolled_rnn_gradients():
    """The RNN unrolled over three steps, with the forward flow and the two gradient paths into ``h_t``.

    Returns:
        The figure: ``x_s -> h_s -> L_s`` and ``h_{s-1} -> h_s`` in the forward colour; into ``h_t`` the
        direct term ``d_t = ∂L_t/∂h_t`` from the loss above it and the recurrent term ``g_{t+1} J_{t+1}``
        from the next step, in the gradient colour; their sum is ``g_t``.

    Example:
        >>> fig = unrolled_rnn_gradients()
        >>> len(fig.axes)
        1
    """
    fwd, grad, loss = COLOURS["forward"], COLOURS["gradient"], COLOURS["loss"]
    fig, ax = canvas(6.6, (-0.3, 11.3), (-1.25, 5.1))
    cols = [2.3, 5.5, 8.7]
    names = ["t-1", "t", "t+1"]
    xs_ = columns(ax, cols, names, 0.0, "$x_{{{}}}$", fwd)
    hs = columns(ax, cols, names, 2.2, "$h_{{{}}}$", fwd, w=1.0, h=0.55)
    Ls = columns(ax, cols, names, 4.6, "$L_{{{}}}$", loss)
    lo, hi = 0.2, 0.14          # offsets of the two parallel tracks
    for x_box, h_box, L_box in zip(xs_, hs, Ls):
        arrow(ax, x_box, h_box, fwd)
        route(ax, [(h_box.x - lo, 2.2 + 0.275), (L_box.x - lo, 4.6 - 0.25)], fwd)
        route(ax, [(L_box.x + lo, 4.6 - 0.25), (h_box.x + lo, 2.2 + 0.275)], grad)
    for a, b in zip(hs[:-1], hs[1:]):
        route(ax, [(a.x + 0.5, 2.2 + hi), (b.x - 0.5, 2.2 + hi)], fwd)
        route(ax, [(b.x - 0.5, 2.2 - hi), (a.x + 0.5, 2.2 - hi)], grad)
    route(ax, [(0.3, 2.2 + hi), (hs[0].x - 0.5, 2.2 + hi)], fwd)
    route(ax, [(hs[0].x - 0.5, 2.2 - hi), (0.3, 2.2 - hi)], grad)
    route(ax, [(hs[-1].x + 0.5, 2.2 + hi), (10.7, 2.2 + hi)], fwd)
    route(ax, [(10.7, 2.2 - hi), (hs[-1].x + 0.5, 2.2 - hi)], grad)
    ellipsis(ax, 0.0, 2.2)
    ellipsis(ax, 11.0, 2.2)
    t = hs[1]
    # the two paths into h_t, emphasised and named
    route(ax, [(Ls[1].x + lo, 4.6 - 0.25), (t.x + lo, 2.2 + 0.275)], grad, lw=2.6)
    route(ax, [(hs[2].x - 0.5, 2.2 - hi), (t.x + 0.5, 2.2 - hi)], grad, lw=2.6)
    ax.text(t.x + 0.35, 3.45, r"$d_t = \partial L_t / \partial h_t$", ha="left", va="center",
            fontsize=10, color=grad)
    ax.text((t.x + hs[2].x) / 2, 1.75, r"$g_{t+1}\, J_{t+1}$", ha="center", va="top", fontsize=10,
            color=grad)
    ax.text((hs[0].x + t.x) / 2, 1.75, r"$g_t\, J_t$", ha="center", va="top", fontsize=10, color=grad)
    ax.text((t.x + hs[2].x) / 2, 0.95, r"$g_t = d_t + g_{t+1}\, J_{t+1}$", ha="center", va="center",
            fontsize=10, color=grad,
            bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor=grad, lw=0.8))
    key(ax, [(fwd, "forward values"), (grad, "gradients"), (loss, "loss terms")], loc="lower center",
        ncol=3)
    return fig


def forward_mode_tangent():
    """Forward mode along a sequence: the tangent ``ḣ_t`` is pushed forward step by step beside ``h_t``.

    Returns:
        The figure: the states ``h_0 -> h_1 -> h_2 -> ...`` in the forward colour; below them the tangents
        ``ḣ_0 = 0 -> ḣ_1 -> ḣ_2 -> ...`` in the tangent colour, each step adding ``J_x(t) ẋ_t`` to
        ``J_h(t) ḣ_{t-1}`` and reading off ``ẏ_t = ḣ_t W_y``; the Jacobians of step t are evaluated at
        the state that step has just computed.

    Example:
        >>> fig = forward_mode_tangent()
        >>> len(fig.axes)
        1
    """
    fwd, tan = COLOURS["forward"], COLOURS["tangent"]
    fig, ax = canvas(6.6, (-0.4, 11.4), (-1.3, 6.0))
    cols = [0.6, 3.6, 6.9, 10.2]
    names = ["0", "1", "2", "3"]
    xs_ = columns(ax, cols[1:], names[1:], 5.5, "$x_{}$", fwd)
    hs = columns(ax, cols, names, 4.0, "$h_{}$", fwd)
    dhs = columns(ax, cols, names, 1.6, r"$\dot h_{}$", tan)
    dxs = [box(ax, x - 1.35, 0.1, rf"$\dot x_{n}$", tan) for x, n in zip(cols[1:], names[1:])]
    dys = columns(ax, cols[1:], names[1:], 0.1, r"$\dot y_{}$", tan, w=0.7)
    ax.text(cols[0], 1.05, r"$\dot h_0 = 0$", ha="center", va="top", fontsize=9, color=tan)
    for a, b in zip(hs[:-1], hs[1:]):
        arrow(ax, a, b, fwd)
    for t in range(1, len(cols)):
        h_box, a, b = hs[t], dhs[t - 1], dhs[t]
        arrow(ax, xs_[t - 1], h_box, fwd)
        arrow(ax, a, b, tan, label=f"$J_h({t})$", label_xy=((a.x + b.x) / 2, 1.8), label_va="bottom")
        arrow(ax, dxs[t - 1], b, tan)
        ax.text(b.x - 0.85, 0.9, f"$J_x({t})$", ha="right", va="center", fontsize=9, color=tan)
        arrow(ax, b, dys[t - 1], tan)
        ax.text(b.x + 0.1, 0.75, "$W_y$", ha="left", va="center", fontsize=9, color=tan)
        # the Jacobians of step t use the state just computed: a dotted link from h_t
        route(ax, [(b.x + 0.2, 3.75), (b.x + 0.2, 1.85)], "0.55", ls=":", lw=1.1)
    ax.text(cols[2] + 0.3, 2.8, r"$\sigma'(a_2)$", ha="left", va="center", fontsize=9, color="0.4")
    ellipsis(ax, 11.15, 4.0)
    ellipsis(ax, 11.15, 1.6, tan)
    key(ax, [(fwd, r"values $x_t, h_t$"), (tan, r"tangents $\dot x_t, \dot h_t, \dot y_t$")],
         loc="lower center", ncol=2)
    return fig


def truncation_windows(T: int = 9, k: int = 3, p: float = 0.3, rng: int = 10):
    """The states each loss term's gradient reaches under the three truncations of ``rnngrad.truncation``.

    Args:
        T: number of steps drawn.
        k: the truncation length (k-step) and the chunk length (chunked).
        p: the cut probability of every link (randomized).
        rng: seed of the one draw of cuts shown for the randomized truncation.

    Returns:
        The figure, three panels with one row per loss term ``L_t`` and one column per state ``h_0..h_T``:
        k-step truncation (``L_t`` reaches ``h_t .. h_{t-k+1}``), chunked truncation (back to the start
        of its chunk) and one draw of randomized truncation (back to the first cut link).

    Example:
        >>> fig = truncation_windows()
        >>> len(fig.axes)
        3
    """
    grad = COLOURS["gradient"]
    cut = np.random.default_rng(rng).random(T) < p      # cut[s]: link from step s+1 back to s (0-based s)
    steps = range(1, T + 1)
    reach = {f"$k$-step, $k = {k}$": [first_reached_state("k-step", t, k=k) for t in steps],
             f"chunked, $k = {k}$": [first_reached_state("chunked", t, k=k) for t in steps],
             f"randomized, $p = {p}$": [first_reached_state("randomized", t, cut=cut) for t in steps]}
    fig, axes = plt.subplots(1, 3, figsize=(6.6, 2.9), sharey=True)
    for ax, (title, first) in zip(axes, reach.items()):
        for t, start in zip(steps, first):
            ax.plot([start, t], [t, t], color=grad, lw=5, solid_capstyle="round", alpha=0.35)
            ax.plot(range(start, t + 1), [t] * (t - start + 1), "o", ms=3.2, color=grad)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(0, T + 1, 3), [f"$h_{{{s}}}$" for s in range(0, T + 1, 3)])
        ax.set_xlim(-0.6, T + 0.6)
        ax.set_ylim(T + 0.7, 0.3)
        ax.tick_params(length=2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].set_yticks(range(1, T + 1, 2), [f"$L_{{{t}}}$" for t in range(1, T + 1, 2)])
    axes[0].set_ylabel("loss term")
    for s in range(k, T, k):
        axes[1].axvline(s + 0.5, color="0.5", lw=0.9, ls="--")
    for s in np.flatnonzero(cut):
        axes[2].axvline(s + 0.5, color="0.5", lw=0.9, ls="--")
    axes[1].set_xlabel("states the gradient of $L_t$ reaches")
    handles = [plt.Line2D([], [], color=grad, marker="o", ms=3.2, lw=5, alpha=0.6,
                          label="states reached by $L_t$"),
               plt.Line2D([], [], color="0.5", lw=0.9, ls="--", label="cut link")]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False)
    fig.subplots_adjust(left=0.1, right=0.99, top=0.9, bottom=0.3, wspace=0.12)   # no extra draw
    return fig


def first_reached_state(kind: str, t: int, *, k: int = 1, cut=None) -> int:
    """The earliest state ``h_s`` that the gradient of ``L_t`` reaches under a truncation of rnngrad.

    Args:
        kind: "k-step" (``L_t`` reaches ``h_t .. h_{t-k+1}``), "chunked" (chunks of k steps; the link
            into each chunk's first step is cut, except the first chunk's link to ``h_0``) or
            "randomized" (back to the first cut link).
        t: the loss term, 1-based.
        k: the truncation or chunk length.
        cut: (T,) bools for "randomized", ``cut[s]`` the link from step s (0-based) to its predecessor.

    Returns:
        s, between 0 and t.

    Example:
        >>> [first_reached_state("chunked", t, k=3) for t in range(1, 8)]
        [0, 0, 0, 4, 4, 4, 7]
    """
    if kind == "k-step":
        return max(t - k + 1, 0)
    if kind == "chunked":
        return 0 if t <= k else ((t - 1) // k) * k + 1
    if kind == "randomized":
        s = t
        while s > 0 and not cut[s - 1]:
            s -= 1
        return s
    raise ValueError(f"kind: expected 'k-step', 'chunked' or 'randomized', got {kind!r}")
