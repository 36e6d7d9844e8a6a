"""The book's diagrams (``book/diagrams``): each draws quickly, without overlapping labels, in the shared
colours, and each is shown on the page that discusses it, with a caption and alt text.

Diagrams are drawn by the build (matplotlib), never committed as image files.
"""
import doctest
import importlib
import io
import itertools
import pathlib
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
sys.path.insert(0, str(BOOK))
diagrams = importlib.import_module("diagrams")
kit = importlib.import_module("diagrams.kit")

# where each diagram is shown: the page that derives what it draws
SHOWN_ON = {
    "unrolled_rnn_gradients": "bptt.md",
    "truncation_windows": "bptt.md",
    "batched_jacobians": "notation.md",
    "two_state_cell": "hidden_jacobians.md",
    "forward_mode_tangent": "sequence_slope.md",
    "lstm_cell": "gated_cells.md",
    "gru_cell": "gated_cells.md",
}
# figures of the chapters whose colours and labels were reworked; they carry alt text as well
PLOTS_WITH_ALT = {"bptt.md": ["fig-bptt-clipping"], "softmax.md": ["fig-softmax-jacobians"],
                  "matrix_calculus.md": ["fig-pascanu-bound"]}
CELL = re.compile(r"```\{code-cell\}[^\n]*\n---\n(.*?)\n---\n(.*?)^```", re.S | re.M)


def figure_cells(page: str) -> list[tuple[dict, str]]:
    """(metadata, source) of every code cell of ``page`` that has a YAML metadata block."""
    text = (BOOK / page).read_text()
    return [(yaml.safe_load(meta), source) for meta, source in CELL.findall(text)]


def text_boxes(fig) -> list[tuple[str, object]]:
    """(text, window extent) of every visible, non-empty text of ``fig``: labels, ticks, titles, legends."""
    fig.canvas.draw()       # legends and tight layouts place their texts when drawn
    renderer = fig.canvas.get_renderer()
    out = []
    for artist in fig.findobj(matplotlib.text.Text):
        if artist.get_visible() and artist.get_text().strip() and artist.get_figure(root=True) is fig:
            if isinstance(artist, matplotlib.text.Text) and artist.axes is not None:
                # tick labels outside the axes' view are not drawn
                if not artist.get_window_extent(renderer).overlaps(fig.bbox):
                    continue
            out.append((artist.get_text(), artist.get_window_extent(renderer)))
    return out


def overlapping_labels(fig, margin: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of texts of ``fig`` whose boxes, shrunk by ``margin`` pixels, intersect."""
    boxes = [(t, b.padded(-margin)) for t, b in text_boxes(fig)]
    return [(s, t) for (s, a), (t, b) in itertools.combinations(boxes, 2) if a.overlaps(b)]


def colours_used(fig) -> set[str]:
    """Hex colours of every line, patch edge and text of ``fig`` (fills excluded: they are faded edges)."""
    found = set()
    for artist in fig.findobj(lambda a: a.get_visible()):
        if isinstance(artist, matplotlib.patches.Patch):
            if artist.get_linewidth() > 0 and artist.get_edgecolor()[3] > 0:
                found.add(to_hex(artist.get_edgecolor()))
        elif isinstance(artist, matplotlib.lines.Line2D):
            found.add(to_hex(artist.get_color()))
        elif isinstance(artist, matplotlib.text.Text) and artist.get_text().strip():
            found.add(to_hex(artist.get_color()))
    return found


@pytest.fixture(params=diagrams.__all__)
def drawn(request):
    """(name, figure, its SVG text) for one diagram, written as a page writes it."""
    fig = getattr(diagrams, request.param)()
    svg = io.StringIO()
    fig.savefig(svg, format="svg", bbox_inches="tight")
    yield request.param, fig, svg.getvalue()
    plt.close(fig)


def test_every_diagram_draws_as_svg(drawn):
    # how long drawing takes is measured by the book's build, not asserted here (tests never assert timings)
    name, fig, svg = drawn
    assert isinstance(fig, matplotlib.figure.Figure), name
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "</svg>" in svg, name


def test_no_two_labels_of_a_diagram_overlap(drawn):
    name, fig, _ = drawn
    assert len(text_boxes(fig)) >= 5, name
    assert overlapping_labels(fig) == [], name


def test_the_overlap_check_sees_an_overlap():
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "$h_t$")
    ax.text(0.505, 0.5, "$c_t$")
    assert overlapping_labels(fig) == [("$h_t$", "$c_t$")]
    plt.close(fig)


def test_diagrams_use_only_the_shared_colours(drawn):
    name, fig, _ = drawn
    allowed = {to_hex(c) for c in kit.COLOURS.values()} | {
        to_hex(c) for c in ("black", "white", "0.2", "0.3", "0.4", "0.5", "0.55", "0.75")}
    assert colours_used(fig) <= allowed, (name, colours_used(fig) - allowed)


def test_each_quantity_keeps_its_colour():
    """Gradients, tangents and the cell state are drawn in the colour the kit gives them, in every diagram."""
    for name, quantity in [("unrolled_rnn_gradients", "gradient"), ("truncation_windows", "gradient"),
                           ("forward_mode_tangent", "tangent"), ("lstm_cell", "cell"),
                           ("two_state_cell", "cell"), ("lstm_cell", "forward"), ("gru_cell", "forward")]:
        fig = getattr(diagrams, name)()
        assert to_hex(kit.COLOURS[quantity]) in colours_used(fig), (name, quantity)
        plt.close(fig)
    assert len(set(kit.COLOURS.values())) == len(kit.COLOURS), "two quantities share a colour"


@pytest.mark.parametrize("name", sorted(SHOWN_ON))
def test_each_diagram_is_shown_with_a_caption_and_alt_text(name):
    page = SHOWN_ON[name]
    cells = [(meta, src) for meta, src in figure_cells(page) if f"diagrams.{name}(" in src]
    assert len(cells) == 1, f"{page} should show diagrams.{name} once, shows it {len(cells)} times"
    meta, source = cells[0]
    assert "remove-input" in meta.get("tags", []), name
    assert "plt.show()" in source and "import diagrams" in (BOOK / page).read_text(), name
    mystnb = meta.get("mystnb", {})
    alt = mystnb.get("image", {}).get("alt", "")
    assert len(alt.split()) >= 25, f"{name}: the alt text should describe the diagram in words"
    assert "$" not in alt, f"{name}: alt text is read aloud, not typeset"
    figure = mystnb.get("figure", {})
    assert figure.get("caption", "").strip() and figure.get("name", "").startswith("fig-"), name


def test_every_diagram_function_is_shown_somewhere():
    assert set(diagrams.__all__) == set(SHOWN_ON)


@pytest.mark.parametrize("page,name", [(p, n) for p, names in PLOTS_WITH_ALT.items() for n in names])
def test_reworked_plots_have_alt_text(page, name):
    metas = [m for m, _ in figure_cells(page) if m.get("mystnb", {}).get("figure", {}).get("name") == name]
    assert len(metas) == 1, (page, name)
    assert len(metas[0]["mystnb"].get("image", {}).get("alt", "").split()) >= 25, (page, name)


def test_diagrams_are_not_committed_as_images():
    """The sources hold the code that draws each figure, never its picture."""
    listed = subprocess.run(["git", "ls-files", "book"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    images = [f for f in listed if re.search(r"\.(png|svg|jpe?g|gif|pdf)$", f, re.I)]
    assert images == [], images
    package = BOOK / "diagrams"
    assert {p.suffix for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts} == {".py"}


def test_pages_run_again_when_a_diagram_changes():
    """The execution cache keys the pages on the diagrams' code too (book/_ext/execution_dependencies.py)."""
    config = (REPO / "_config.yml").read_text()
    listed = re.search(r"execution_dependencies:\s*\[([^\]]*)\]", config)
    assert listed and "book/diagrams" in {e.strip(" \"'") for e in listed.group(1).split(",")}


@pytest.mark.parametrize("module", ["diagrams.kit", "diagrams.cells", "diagrams.sequences", "diagrams.arrays"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 or module == "diagrams.kit", module
    assert result.failed == 0, module
    plt.close("all")


def reached_by_rnngrad(gradient, t: int) -> int:
    """The earliest state the gradient of ``L_t`` reaches in ``gradient(inputs, targets)`` of rnngrad.

    Every step reads its own character (one-hot row s of ``W_x`` belongs to step s alone), and the
    truncations are causal, so the rows of ``dL/dW_x`` that change when the sequence grows from t - 1 to t
    steps are the states ``L_t`` reaches; ``dL/dh0`` changes when it reaches ``h_0``.
    """
    inputs, targets = np.arange(t)[:, None], np.zeros((t, 1), dtype=int)
    now = gradient(inputs, targets)
    before = gradient(inputs[:-1], targets[:-1]) if t > 1 else {
        "W_x": np.zeros_like(now["W_x"]), "h0": np.zeros_like(now["h0"])}
    if np.any(now["h0"] != before["h0"]):
        return 0
    changed = np.flatnonzero(np.any(now["W_x"] != before["W_x"], axis=1))
    return int(changed.min()) + 1


def test_the_truncation_windows_are_those_of_rnngrad():
    from rnngrad.rnn import init_rnn_params
    from rnngrad.truncation import (char_lm_chunked_grad, char_lm_truncated_grad,
                                    randomized_truncation_grad)

    sequences = importlib.import_module("diagrams.sequences")
    T, k = 10, 3
    params = init_rnn_params(T, 4, C=T, rng=0)
    cut = np.random.default_rng(10).random(T) < 0.3
    certain = np.where(cut, 1 - 2.0 ** -52, 0.0)      # cut exactly the links marked in ``cut``
    gradients = {
        "k-step": lambda x, y: char_lm_truncated_grad(params, x, y, k=k)[1],
        "chunked": lambda x, y: char_lm_chunked_grad(params, x, y, k=k)[1],
        "randomized": lambda x, y: randomized_truncation_grad(
            params, x, y, rng=np.random.default_rng(0), p=certain[:len(x)])[1],
    }
    for kind, gradient in gradients.items():
        drawn = [sequences.first_reached_state(kind, t, k=k, cut=cut) for t in range(1, T + 1)]
        computed = [reached_by_rnngrad(gradient, t) for t in range(1, T + 1)]
        assert drawn == computed, kind
