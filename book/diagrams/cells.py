"""Diagrams of one step of a recurrent cell: the LSTM, the GRU and the two-state cell."""
from __future__ import annotations

from .kit import COLOURS, arrow, box, canvas, junction, key, op, point, route


def lstm_cell():
    """One LSTM step as torch computes it: four gates from one affine map, then the cell and the output.

    Returns:
        The figure: gates ``i, f, g, o`` from ``a = x_t W_x + h_{t-1} W_h + b``, the cell path
        ``c_t = f ⊙ c_{t-1} + i ⊙ g`` along the top and the output ``h_t = o ⊙ tanh(c_t)``.

    Example:
        >>> fig = lstm_cell()
        >>> len(fig.axes)
        1
    """
    fwd, cell, gate = COLOURS["forward"], COLOURS["cell"], COLOURS["gate"]
    fig, ax = canvas(6.6, (-0.1, 11.1), (-0.75, 5.2))
    c_prev = box(ax, 0.5, 4.6, "$c_{t-1}$", cell)
    c_next = box(ax, 10.5, 4.6, "$c_t$", cell)
    h_prev = box(ax, 0.5, 0.7, "$h_{t-1}$", fwd)
    x_t = box(ax, 2.2, -0.4, "$x_t$", fwd)
    h_next = box(ax, 10.5, 1.9, "$h_t$", fwd)
    affine = box(ax, 4.6, 0.7, r"$a = x_t W_x + h_{t-1} W_h + b$", gate, w=5.2, h=0.55,
                 rounded=False)
    gates = {}
    for name, act, gx in [("f", r"\sigma", 2.8), ("i", r"\sigma", 4.0), ("g", r"\tanh", 5.3),
                          ("o", r"\sigma", 6.6)]:
        gates[name] = box(ax, gx, 1.9, f"${name} = {act}$", gate, w=1.25 if name == "g" else 1.05,
                          h=0.5, rounded=False)
        arrow(ax, point(gx, affine.y), gates[name], gate)
    arrow(ax, h_prev, affine, fwd)
    arrow(ax, x_t, point(x_t.x, affine.y - 0.27), fwd)
    forget = op(ax, 2.8, 4.6, "⊙")
    plus = op(ax, 4.6, 4.6, "+")
    write = op(ax, 4.6, 3.2, "⊙")
    squash = box(ax, 8.0, 3.6, r"$\tanh$", gate, w=0.8, h=0.45, rounded=False)
    out = op(ax, 8.0, 1.9, "⊙")
    arrow(ax, c_prev, forget, cell)
    arrow(ax, forget, plus, cell, label=r"$f \odot c_{t-1}$", label_xy=(3.7, 4.95))
    arrow(ax, plus, c_next, cell)
    arrow(ax, gates["f"], forget, gate, label="$f$", label_xy=(2.6, 3.2), label_ha="right")
    route(ax, [(gates["i"].x, 2.15), (gates["i"].x, write.y), (write.x - 0.2, write.y)], gate)
    route(ax, [(gates["g"].x, 2.15), (gates["g"].x, write.y), (write.x + 0.2, write.y)], gate)
    arrow(ax, write, plus, gate, label=r"$i \odot g$", label_xy=(4.8, 3.9), label_ha="left")
    arrow(ax, point(8.0, 4.6), squash, cell)
    junction(ax, 8.0, 4.6, cell)
    arrow(ax, squash, out, gate)
    arrow(ax, gates["o"], out, gate)
    arrow(ax, out, h_next, fwd)
    ax.text(9.3, 2.15, r"$o \odot \tanh(c_t)$", ha="center", va="bottom", fontsize=9, color=fwd)
    key(ax, [(cell, "cell state $c$"), (fwd, "hidden state $h$, input $x$"),
             (gate, "gates, intermediates")], loc="lower right")
    return fig


def gru_cell():
    """One GRU step in torch's convention: the reset gate scales ``h_{t-1} W_hn + b_hn``, z keeps h_{t-1}.

    Returns:
        The figure: ``r = σ(x W_xr + h W_hr + b_r)``, ``z = σ(x W_xz + h W_hz + b_z)``,
        ``n = tanh(x W_xn + b_n + r ⊙ (h W_hn + b_hn))`` and ``h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}``.

    Example:
        >>> fig = gru_cell()
        >>> len(fig.axes)
        1
    """
    fwd, gate = COLOURS["forward"], COLOURS["gate"]
    fig, ax = canvas(6.6, (-0.1, 11.35), (-0.75, 5.2))
    h_prev = box(ax, 0.5, 4.6, "$h_{t-1}$", fwd)
    h_next = box(ax, 10.8, 4.6, "$h_t$", fwd)
    box(ax, 0.5, -0.3, "$x_t$", fwd)      # x_t: read by r, z and n along the bottom
    r = box(ax, 1.9, 2.0, r"$r = \sigma$", gate, w=1.0, rounded=False)
    box(ax, 7.0, 2.0, r"$z = \sigma$", gate, w=1.0, rounded=False)
    u = box(ax, 4.3, 3.3, r"$u = h_{t-1} W_{hn} + b_{hn}$", gate, w=2.8, rounded=False)
    reset = op(ax, 4.3, 2.0, "⊙")
    box(ax, 4.3, 0.8, r"$n = \tanh(x_t W_{xn} + b_n + r \odot u)$", gate, w=4.0, rounded=False)
    one_minus = box(ax, 8.75, 2.0, "$1 - z$", gate, w=0.85, h=0.45, rounded=False)
    keep = op(ax, 7.9, 4.6, "⊙")
    take = op(ax, 9.8, 2.0, "⊙")
    mix = op(ax, 9.8, 4.6, "+")
    # h_{t-1} along the top: kept by z, and read by r, z and the candidate's u
    arrow(ax, h_prev, keep, fwd)
    for tap_x, bottom in [(2.2, 2.25), (4.3, 3.55), (7.2, 2.25)]:
        route(ax, [(tap_x, 4.6), (tap_x, bottom)], fwd)
        junction(ax, tap_x, 4.6, fwd)
    # x_t along the bottom: read by r, the candidate and z
    route(ax, [(0.95, -0.3), (6.8, -0.3)], fwd, head=False)
    for tap_x, top in [(1.6, 1.75), (3.0, 0.55), (6.8, 1.75)]:
        route(ax, [(tap_x, -0.3), (tap_x, top)], fwd)
        if tap_x < 6.8:
            junction(ax, tap_x, -0.3, fwd)
    # the reset gate scales u inside the candidate
    arrow(ax, r, reset, gate, label="$r$", label_xy=(3.2, 2.2))
    arrow(ax, u, reset, gate)
    route(ax, [(4.3, 1.8), (4.3, 1.05)], gate)
    # z mixes the old state and the candidate
    route(ax, [(7.5, 2.0), (7.9, 2.0), (7.9, 4.4)], gate)
    junction(ax, 7.9, 2.0, gate)
    route(ax, [(7.9, 2.0), (8.325, 2.0)], gate)
    ax.text(7.8, 3.2, "$z$", ha="right", va="center", fontsize=10, color=gate)
    arrow(ax, one_minus, take, gate)
    route(ax, [(6.3, 0.8), (9.8, 0.8), (9.8, 1.8)], gate)
    ax.text(9.95, 1.2, "$n$", ha="left", va="center", fontsize=10, color=gate)
    arrow(ax, keep, mix, fwd, label=r"$z \odot h_{t-1}$", label_xy=(8.85, 4.95))
    arrow(ax, take, mix, gate, label=r"$(1 - z) \odot n$", label_xy=(9.65, 3.3), label_ha="right")
    arrow(ax, mix, h_next, fwd)
    key(ax, [(fwd, "hidden state $h$, input $x$"), (gate, "gates, intermediates")],
         loc="lower right")
    return fig


def two_state_cell():
    """The two-state cell: ``h_t = σ(h_{t-1}) W_h + b``, ``c_t = c_{t-1} − h_{t-1} + h_t``, and its output.

    Returns:
        The figure: the hidden state through the activation and the affine map, the second state adding
        ``h_t − h_{t-1}``, and the input reaching only the output ``o_t = sigmoid(x_t W_o) + c_t``.

    Example:
        >>> fig = two_state_cell()
        >>> len(fig.axes)
        1
    """
    fwd, cell, gate = COLOURS["forward"], COLOURS["cell"], COLOURS["gate"]
    fig, ax = canvas(6.6, (-0.2, 11.8), (-0.9, 5.0))
    h_prev = box(ax, 0.5, 1.0, "$h_{t-1}$", fwd)
    c_prev = box(ax, 0.5, 3.4, "$c_{t-1}$", cell)
    act = box(ax, 2.9, 1.0, r"$\sigma$", gate, w=0.6, rounded=False)
    affine = box(ax, 5.0, 1.0, r"$\cdot\, W_h + b$", gate, w=1.5, rounded=False)
    h_next = box(ax, 8.0, 1.0, "$h_t$", fwd)
    minus = op(ax, 2.9, 3.4, "−")
    plus = op(ax, 6.5, 3.4, "+")
    c_next = box(ax, 8.0, 3.4, "$c_t$", cell)
    box(ax, 8.0, -0.45, "$x_t$", fwd)
    squash = box(ax, 9.9, 0.75, r"$\mathrm{sigmoid}(x_t W_o)$", gate, w=2.0, rounded=False)
    add = op(ax, 9.9, 2.2, "+")
    out = box(ax, 11.3, 2.2, r"$o_t$", fwd, w=0.7)
    arrow(ax, h_prev, act, fwd)
    arrow(ax, act, affine, gate)
    arrow(ax, affine, h_next, fwd)
    arrow(ax, c_prev, minus, cell)
    route(ax, [(1.9, 1.0), (1.9, 2.5), (2.9, 2.5), (2.9, 3.2)], fwd)
    junction(ax, 1.9, 1.0, fwd)
    ax.text(2.0, 2.6, "$h_{t-1}$", ha="left", va="bottom", fontsize=9, color=fwd)
    arrow(ax, minus, plus, cell, label=r"$c_{t-1} - h_{t-1}$", label_xy=(4.7, 3.75))
    route(ax, [(6.5, 1.0), (6.5, 3.2)], fwd)
    junction(ax, 6.5, 1.0, fwd)
    arrow(ax, plus, c_next, cell)
    route(ax, [(8.45, 3.4), (9.9, 3.4), (9.9, 2.4)], cell)
    route(ax, [(8.45, -0.45), (9.9, -0.45), (9.9, 0.5)], fwd)
    arrow(ax, squash, add, gate)
    arrow(ax, add, out, fwd)
    key(ax, [(cell, "second state $c$"), (fwd, "state $h$, input $x$, output $o$"),
              (gate, "operations")], loc="upper right")
    return fig
