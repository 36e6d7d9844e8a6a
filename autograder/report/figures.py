"""Score distributions as PNG figures (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

import os
import re
from collections import Counter

from ..points import points


def _counts(values, top: float, bins: int = 20) -> tuple[list[float], list[int], float]:
    """(scores, students per score, bar width). Distinct scores (rounded to 0.01), always including 0 and
    ``top``; when they are too many or too close for one bar each, scores are grouped into ``bins`` equal
    intervals of [0, top] (each bar at its interval's left end, which is what the students reached)."""
    c = Counter(round(float(v), 2) for v in values)
    for v in (0.0, round(top, 2)):
        c.setdefault(v, 0)
    xs = sorted(c)
    width = max(top / 25.0, 0.06)
    gaps = [b - a for a, b in zip(xs, xs[1:])]
    if top > 0 and (len(xs) > bins or (gaps and min(gaps) < width)):
        step = top / bins
        grouped = Counter(min(int(float(v) / step + 1e-9), bins) * step for v in values)
        for v in (0.0, bins * step):
            grouped.setdefault(v, 0)
        xs = sorted(grouped)
        return xs, [grouped[x] for x in xs], step * 0.85
    return xs, [c[x] for x in xs], width


def score_figure(values, top: float, title: str, path: str, color: str = "#3b6ea8") -> str:
    """A bar chart: number of students per score, from 0 to ``top``; written to ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    xs, ns, width = _counts(values, top)
    fig, ax = plt.subplots(figsize=(4.6, 2.8), dpi=110)
    try:
        bars = ax.bar(xs, ns, width=width, color=color, edgecolor="#1d3557")
        for bar, n in zip(bars, ns):
            if n:
                ax.annotate(str(n), (bar.get_x() + bar.get_width() / 2, n), ha="center", va="bottom",
                            fontsize=8, xytext=(0, 1), textcoords="offset points")
        ax.set_xlim(-top * 0.06 - width, top * 1.06 + width)
        ax.set_ylim(0, max(ns) * 1.25 + 0.5)
        ax.set_xlabel(f"points (of {points(top)})")
        ax.set_ylabel("students")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(title, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def write_figures(report, folder: str) -> dict[str, str]:
    """One PNG per question (key: grade_id) and one of the totals (key: ``"total"``)."""
    os.makedirs(folder, exist_ok=True)
    out = {"total": score_figure(report.totals.values(), report.max_total,
                                 f"{report.assignment}: autograded total",
                                 os.path.join(folder, "total.png"), color="#2a7f62")}
    for q in report.questions:
        out[q.grade_id] = score_figure(q.scores.values(), q.points, f"{q.function}",
                                       os.path.join(folder, f"{_safe(q.grade_id)}.png"))
    return out
