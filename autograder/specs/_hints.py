"""The hints of the mutation classes: one sentence per class, naming the idea and the book section that teaches it.

A hint never states the expression to write (``tests/test_hints.py`` checks every one); a mutation that is an
instance of a wider class is shown with that class's id and hint (:data:`CLASS_OF`).

    >>> hint("zero").startswith("This part is zero everywhere")
    True
"""
from __future__ import annotations

__all__ = ["section", "HINTS", "CLASS_OF", "hint"]


def section(page: str, title: str) -> str:
    """A reference to a book section: ``(book: <page>, section "<title>")``; the test checks that it exists."""
    return f'(book: {page}, section "{title}")'


VJP = section("matrix_calculus", 'Where "$W^\\top$" really comes from: the vector-Jacobian product')
ROW = section("matrix_calculus", "The row convention: derivatives of $h W$")
LAYOUTS = section("matrix_calculus", "Jacobians and their two layouts")
LOCAL = section("rnn_cell", "Local derivatives, side by side")
CELL_VJP = section("rnn_cell", "Every gradient by the vector-Jacobian product")
SUMS = section("bptt", "Why the parameter gradients add up over time")
HIDDEN = section("bptt", "The gradient with respect to the hidden states")
UNROLLED = section("bptt", "The unrolled model")
MEAN_SUM = section("cross_entropy", "Sequences, masks, and mean versus sum")
TOTAL = section("sequence_slope", "The total derivative along the sequence")
PRODUCTS = section("hidden_jacobians", "Products along the sequence")
ONE_STEP = section("hidden_jacobians", "The Jacobian of one step")

#: mutation class -> the hint shown when an answer (or one part of it) makes that mistake
HINTS = {
    "missing_transpose": "A weight is applied in its forward orientation where the gradient or tangent passes "
                         "back through it the other way round. Write one entry of the derivative with its "
                         "indices to see which index of the weight is summed over. " + VJP,
    "not_accumulated": "This holds the contribution of a single time step. The parameters are shared by every "
                       "step, so their gradient collects the contributions of all steps: each step adds to it "
                       "rather than replacing it. " + SUMS,
    "off_by_one": "A quantity from the wrong time step is used: each step's derivative is built from that "
                  "step's own quantities and from the state that came right before it (the initial state for "
                  "the first step). " + UNROLLED,
    "shifted_index": "Something is read or written at the neighbouring index (one time step or one row "
                     "early): check the index of every quantity inside the loop. " + UNROLLED,
    "negated_input": "This is the answer for one input with its sign flipped: check the sign of every term "
                     "that reads it (a difference taken the wrong way round). ",
    "missing_step": "A time step is missing: the loop stops one step short, so the contribution of one step "
                    "(and everything it passes on) is left out. " + UNROLLED,
    "carry_without_weight": "What is passed from one step to the next skips the recurrent weight: the previous "
                            "state reaches the next pre-activation only through that weight, so whatever travels "
                            "between the steps goes through it too. " + HIDDEN,
    "forward_states": "The forward pass your derivative is built on is wrong: the states are not the model's "
                      "(check every term of the pre-activation, and the orientation of each weight in the row "
                      "convention). " + section("rnn_cell", "One step, two conventions"),
    "preactivation_derivative": "The activation's derivative is evaluated at the wrong place: written with the "
                                "activation's output, it must be fed the output (the state), not the "
                                "pre-activation. " + LOCAL,
    "swapped_derivative": "This uses the derivative of the other activation (tanh and the sigmoid have "
                          "different derivatives, each written with its own output). " + LOCAL,
    "wrong_normaliser": "The softmax inside is computed wrong: each row is divided by the sum of its "
                        "exponentials over the classes (not their mean, not a sum over the batch), so that it sums "
                        "to one. " + section("softmax", "Computing the softmax without overflow"),
    "missing_target": "The target's part is missing: the gradient of the cross-entropy compares the predicted "
                      "probabilities with the target distribution, and the target's share is taken off. "
                      + section("cross_entropy", "The gradient, two ways"),
    "wrong_slope": "The activation's slope is wrong: check the derivative of the activation, written with its "
                   "output, on a point you can work out by hand (its sign and its size at 0). " + LOCAL,
    "missing_diag": "The activation's derivative is missing: every path through the activation is scaled "
                    "elementwise by its local slope. " + LOCAL,
    "missing_hidden_path": "The path through the later (or earlier) states is missing: a state also changes "
                           "every state after it, so the gradient of a state collects what flows back from the "
                           "next step as well as its direct part. " + HIDDEN,
    "wrong_direction": "The steps are visited in the wrong order: what a step passes on must reach the step it "
                       "depends on, so a backward pass runs from the last step to the first. " + HIDDEN,
    "wrong_sign": "This has the opposite sign: check which of the two terms of a difference comes first. ",
    "transposed": "This is the transpose of the answer: the course writes Jacobians in numerator layout, where "
                  "the outputs index the rows (the leading axes) and the inputs the columns. " + LAYOUTS,
    "zero": "This part is zero everywhere: nothing was added into it, or what drives it never enters. Check "
            "that it is filled, and filled from the right quantities. ",
    "sum_vs_mean": "This is N times too large: the loss is a mean over the batch, so each example's share is "
                   "divided by the batch size. " + MEAN_SUM,
    "mean_vs_sum": "This is N times too small: it averages over the batch where the contributions of the "
                   "examples add up (or divides by the batch size twice). " + MEAN_SUM,
    "mean_over_time": "This is T times too small: the loss sums over the time steps; it is a mean over the "
                      "batch only. " + MEAN_SUM,
    "factor_two": "This is twice too large: the factor one half in the loss cancels the two that "
                  "differentiating a square brings down. " + MEAN_SUM,
    "half": "This is half the answer: a factor one half was applied twice, or the two from differentiating a "
            "square was dropped. " + MEAN_SUM,
    "reversed_order": "The product of Jacobians is taken in the wrong order: along the chain rule the latest "
                      "step's Jacobian stands on the left, and matrix products do not commute. " + PRODUCTS,
    "missing_output_layer": "This is the derivative of the hidden state: the output is read from the state "
                            "through the output layer, and the chain rule goes through that layer too. " + TOTAL,
    "forward_logits": "The logits your derivative is built on are wrong: check every term of the output layer "
                      "(the state read through its weight, and its bias), and the shift before exponentiating "
                      "(its sign, and that it is one number per example). "
                      + section("softmax", "Computing the softmax without overflow"),
    "target_overwritten": "At the target class the predicted probability is overwritten with the target instead of "
                          "having the target's share taken off it: the probability stays, and the target is "
                          "subtracted from it. "
                          + section("cross_entropy", "The gradient, two ways"),
    "missing_target_term": "The targets are missing: the gradient of the squared error compares the outputs with "
                           "the targets, and it vanishes where the two agree. ",
    "missing_factor": "A factor is missing from a product: one of the quantities it multiplies (a weight, the "
                      "inputs or the states) was left out, as if it were the identity. " + CELL_VJP,
    "missing_upstream": "The incoming gradient is missing: what arrives at the output (the vector the product is "
                        "taken with) is carried through every local derivative, so the answer changes in "
                        "proportion to it. " + VJP,
    "activation_path": "The path through the activation is incomplete: it goes through the recurrent weight and is "
                       "scaled by the activation's slope (and, in a leaky cell, by the leak rate); one of these "
                       "factors is missing, or the path is left out altogether. " + ONE_STEP,
    "slope_wrong_side": "The activation's slope scales the wrong index of the Jacobian: it belongs to the unit "
                        "whose activation it is, which indexes the rows when the activation comes after the "
                        "weight (and the columns when it comes before). " + LOCAL,
    "block_sign": "One block of this Jacobian (one state with respect to one earlier state) has the opposite "
                  "sign: check which term of a difference comes first in that block. ",
    "transposed_gradient": "This part is transposed: a gradient has the shape and the orientation of the "
                           "quantity it is taken with respect to. Check the order of the two factors of the "
                           "product that makes it. " + CELL_VJP,
    "loop_short": "The last entry along one axis is never filled: a loop stops one short of the end (check the "
                  "bounds of every loop). ",
}


def hint(mistake_id: str) -> str:
    """The hint of one mutation class (a KeyError names the unknown class)."""
    return HINTS[mistake_id].strip()


#: mutations that are instances of a wider class, shown with that class's id and hint
CLASS_OF = {
    "normaliser_mean": "wrong_normaliser",
    "not_normalised": "wrong_normaliser",
    "normaliser_axis": "wrong_normaliser",
    "derivative_previous_state": "off_by_one",
    "slope:negated": "wrong_slope",
    "slope:one_minus_output": "wrong_slope",
    "slope:output": "wrong_slope",
    "slope:output_squared": "wrong_slope",
    "slope:one_plus_output_squared": "wrong_slope",
    "off_by_one_after_first": "off_by_one",
    "derivative_time_shift": "off_by_one",
    "forward_no_bias": "forward_states",
    "forward_no_input": "forward_states",
    "forward_no_recurrence": "forward_states",
    "forward_transposed": "forward_states",
    "forward_unweighted_recurrence": "forward_states",
    "forward_input_shift": "forward_states",
    "forward_bias_only": "forward_states",
    "targets_missing": "missing_target_term",
    "input_time_shift": "off_by_one",
    "previous_state_shift": "off_by_one",
    "logits_time_shift": "off_by_one",
    "readout_previous_state": "off_by_one",
    "logits_no_bias": "forward_logits",
    "logits_no_state": "forward_logits",
    "negated_logits": "forward_logits",
    "logits_column_shift": "forward_logits",
}
