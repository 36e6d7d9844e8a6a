"""Diagrams of the book, drawn with matplotlib when a page is built: one function per diagram.

Every diagram uses the vocabulary of :mod:`diagrams.kit`: a rounded box is a state or an input, a square
box a gate or another computed vector, a circle an element-wise operation, an arrow a flow. Colours name
quantities and are the same in every diagram (:data:`diagrams.kit.COLOURS`): forward values in the blue
of the book's plots, gradients in its orange, forward-mode tangents in its green, the second state of a
two-state cell (the LSTM's cell state) in its purple. Each function returns the figure it drew; a page
shows it with a cell whose input is removed and whose metadata carry the caption and the alt text (drawn
as SVG, see ``book_setup.apply``)::

    ```{code-cell} ipython3
    ---
    tags: [remove-input]
    mystnb:
      image:
        alt: What the diagram shows, in words.
      figure:
        caption: |
          The caption.
        name: fig-lstm-cell
    ---
    diagrams.lstm_cell()
    plt.show()
    ```
"""
from .arrays import batched_jacobians
from .cells import gru_cell, lstm_cell, two_state_cell
from .sequences import forward_mode_tangent, truncation_windows, unrolled_rnn_gradients

__all__ = ["lstm_cell", "gru_cell", "two_state_cell", "unrolled_rnn_gradients", "forward_mode_tangent",
           "truncation_windows", "batched_jacobians"]
