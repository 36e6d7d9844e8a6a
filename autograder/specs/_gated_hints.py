"""The hints of the gated cells' mistake classes (problem set 6), and the known mistakes made from their variants.

Like :mod:`autograder.specs._hints`, a hint names the idea and the book section that teaches it, never the
expression to write (``tests/test_hints.py`` checks every one). A class the other sets share (``off_by_one``,
``missing_diag``, ...) keeps its own hint unless the gated cell needs a sentence of its own here.

    >>> gated_hint("gate_order").startswith("The gate blocks are read in another order")
    True
"""
from __future__ import annotations

from typing import Callable

from ._classes import KnownMistake, hint, section

__all__ = ["LSTM_STEP", "LSTM_BACKWARD", "ADDITIVE", "GRU", "GATED_HINTS", "gated_hint", "gated_mistakes"]

LSTM_STEP = section("gated_cells", "The LSTM step")
LSTM_BACKWARD = section("gated_cells", "The LSTM backward, gate by gate")
ADDITIVE = section("gated_cells", "What the forget gate does to the additive path")
GRU = section("gated_cells", "The GRU: an interpolation")

#: class -> hint, for the classes of the gated cells (and the shared classes they word differently)
GATED_HINTS = {
    "forget_without_previous_cell": "The forget gate's gradient misses what the gate multiplies: the forget gate "
                                    "scales the previous cell state, so its gradient reads that state as well "
                                    "as the cell's gradient. " + LSTM_BACKWARD,
    "gate_partner_missing": "A gate's gradient misses what the gate multiplies: in the forward pass each gate "
                            "scales one quantity (the input gate the candidate and the candidate the input gate, "
                            "the forget gate the previous cell state, the output gate the squashed cell state, "
                            "the update gate the gap between the old state and the candidate, the reset gate "
                            "the recurrent part), and the gate's gradient reads that quantity. " + LSTM_BACKWARD,
    "cell_share_incomplete": "The hidden state's share of the cell's gradient is wrong or missing: the cell "
                             "state reaches the hidden state through its squashing and then the output gate, so "
                             "the gradient of the hidden state flows back into the cell through both. "
                             + LSTM_BACKWARD,
    "gate_sign": "One gate's share of the gradient has the opposite sign: check which term of a difference comes "
                 "first where the gate's share is formed (the update gate moves the state from the old value "
                 "toward the candidate). " + GRU,
    "gate_path_missing": "A gate's path is missing: every gate reads the previous hidden state through its own "
                         "block of the recurrent weight, so each gate adds a path to the gradient of that state "
                         "(and its block of every parameter's gradient is filled). " + LSTM_BACKWARD,
    "direct_path_ungated": "The direct path from the previous state is not scaled by the update gate: the new "
                           "state keeps only the gated share of the old one, so the gradient passed straight back "
                           "is gated in the same way. " + GRU,
    "recurrent_part_wrong": "The recurrent part that the reset gate scales is incomplete: it is the previous "
                            "state read through its block of the recurrent weight, plus its own bias, and the "
                            "reset gate's gradient reads all of it. " + GRU,
    "missing_cell_path": "The gradient that reaches the cell state from the next step is missing: a cell state "
                         "feeds the next cell state directly, so its gradient collects what flows back along the "
                         "cells as well as what arrives through the hidden state. " + ADDITIVE,
    "cell_gradient_skips_forget": "What goes back to the previous cell state skips the forget gate: the previous "
                                  "cell state reaches the new one only through that gate, unit by unit, so its "
                                  "gradient is scaled by the gate too. " + ADDITIVE,
    "output_gate_reads_cell": "The output gate's gradient reads the cell state as it is: the output gate "
                              "multiplies the squashed cell state, so its gradient reads the squashed value, as "
                              "the forward pass does. " + LSTM_BACKWARD,
    "swapped_derivative": "A slope belongs to the other activation: the input, forget and output gates (the "
                          "reset and update gates of the GRU) are sigmoids, the candidate and the cell state's "
                          "squashing are tanh, and each slope is written with its own output. " + LSTM_BACKWARD,
    "gate_order": "The gate blocks are read in another order than the one the problem states: the stacked "
                  "pre-activations, weights, biases and gate values all hold the gates in the stated order, and "
                  "every gradient block goes back in that order. " + LSTM_STEP,
    "hidden_path_through_cell_missing": "The path from the previous hidden state to the new one through the "
                                        "cell state is missing: the previous hidden state moves the input, "
                                        "forget and candidate gates, they move the cell state, and the cell "
                                        "state moves the new hidden state. " + LSTM_BACKWARD,
    "missing_direct_path": "The direct path from the previous state is missing: the new state keeps a share of "
                           "the previous state as it is, chosen by the update gate, and that share adds to the "
                           "previous state's gradient besides the paths through the gates. " + GRU,
    "update_gate_convention": "The update gate is used the other way round: here the update gate keeps the old "
                              "state and its complement weighs the candidate (some texts swap the two). " + GRU,
    "reset_placement": "The reset gate sits where the other form of the GRU puts it: check whether it scales "
                       "the previous state before the recurrent product or the finished recurrent part "
                       "(with its bias). " + GRU,
}


def gated_hint(class_id: str) -> str:
    """The hint of a class for the gated cells: its own sentence here, else the shared class's."""
    return GATED_HINTS[class_id].strip() if class_id in GATED_HINTS else hint(class_id)


def gated_mistakes(variant: Callable, mutations: dict[str, str],
                   message: Callable[[str], str] = gated_hint) -> list[KnownMistake]:
    """One generated known mistake per mutation: ``variant(*args, mutation=m, **kwargs)`` is its answer."""
    return [KnownMistake(class_id, message(class_id),
                         (lambda m: lambda a, k, ref: variant(*a, mutation=m, **k))(mutation))
            for mutation, class_id in mutations.items()]
