"""Settings shared by the pages of the book; each page's hidden first cell calls :func:`apply`.

Printed arrays wrap at the width of the text column (76 characters of the code font at a
desktop width), and figures are drawn as SVG, which stays sharp on any screen density.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib_inline.backend_inline import set_matplotlib_formats

TEXT_COLUMN_CHARS = 76


def apply() -> None:
    """Set numpy's print options and matplotlib's output format for a page of the book.

    Example:
        >>> apply()
        >>> np.get_printoptions()["linewidth"]
        76
    """
    np.set_printoptions(precision=4, suppress=True, linewidth=TEXT_COLUMN_CHARS)
    set_matplotlib_formats("svg")
    plt.rcParams.update({
        "font.size": 10,
        "svg.hashsalt": "rnngrad-book",   # the same figure gives the same file in every build
        "legend.fontsize": 9,
    })
