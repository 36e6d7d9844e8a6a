"""Problem set 2: Jacobian layouts and the RNN cell.

Graded functions:

* ``map_jacobian(W, x, activation)`` Jacobian of ``y = W σ(x)`` (column vectors) in numerator layout, (M, H);
* ``rnn_step_jacobian(h, W_h)`` ``d h_t / d h_{t-1}`` of the row-convention tanh cell, (N, H, H);
* ``batched_matmul_jacobian(h, W)`` the 4th-order Jacobian of ``U = h W`` wrt h, (N, K, N, H);
* ``rnn_step_backward(dh, x, h_prev, h, W_x, W_h)`` one tanh step backward, a dict of gradients;
* ``sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h)`` the same for a sigmoid cell (beyond the chapter).
"""
from __future__ import annotations

import numpy as np

from ._classes import LAYOUTS, LOCAL, ROW, from_variant, hint, output_classes, scaled, section, with_argument_classes, with_examples
from ._classes import KnownMistake as ClassMistake
from ._conditioning import float32_reachable
from ._core import CaseMaker, KnownMistake, Spec
from ._gen import normal, weights
from ._variants import OTHER_ACTIVATION, WRONG_SLOPES, slope_ratio

ASSIGNMENT = "ps2_layout_cell"


def _ref_map_jacobian(W, x, activation):
    from rnngrad.layout import linear_map_jacobian
    return linear_map_jacobian(W, x, activation)


def _pascanu(a, k, ref):
    W, x, activation = a
    if W.shape[0] != W.shape[1]:
        return None
    from rnngrad.layout import pascanu_step_matrix
    return pascanu_step_matrix(W, x, activation)


def _ref_step_jacobian(h, W_h):
    from rnngrad.hidden_jacobians import rnn_step_jacobian
    return rnn_step_jacobian(h, W_h)


def _ref_bmm_jacobian(h, W):
    from rnngrad.layout import batched_matmul_jacobian
    return batched_matmul_jacobian(h, W)


def _denominator(a, k, ref):
    from rnngrad.layout import to_denominator_layout
    return to_denominator_layout(ref, out_ndim=2)


def _ref_step_backward(dh, x, h_prev, h, W_x, W_h):
    from rnngrad.rnn import rnn_step_backward
    return rnn_step_backward(dh, x, h_prev, h, W_x, W_h)


def _ref_sigmoid_backward(dh, x, h_prev, h, W_x, W_h):
    # rnngrad's step past its checks: the mistake "negated input" asks for the answer at -h, outside sigmoid's
    # range, which the public cell_step_backward refuses
    from rnngrad.activations import _derivative_from_output
    from rnngrad.rnn import _step_backward
    return _step_backward(dh, x, h_prev, _derivative_from_output("sigmoid", h), W_x, W_h)


def _map_case(M, H, activation, scale=1.0):
    return lambda rng: ((normal(rng, M, H), normal(rng, H, scale=scale), activation), {})


def _bmm_case(N, H, K):
    return lambda rng: ((normal(rng, N, H), normal(rng, H, K)), {})


def _state_case(N, H, gain=1.5):
    def make(rng):
        from rnngrad.rnn import rnn_step_forward
        x, h_prev = normal(rng, N, 3), np.tanh(normal(rng, N, H))
        W_x, W_h = weights(rng, 3, H, gain), weights(rng, H, H, gain)
        return (rnn_step_forward(x, h_prev, W_x, W_h, normal(rng, H)), W_h), {}
    return make


def _step_case(N, D, H, activation="tanh", gain=1.5):
    def make(rng):
        from rnngrad.activations import activation as act
        x, h_prev = normal(rng, N, D), np.tanh(normal(rng, N, H))
        W_x, W_h, b = weights(rng, D, H, gain), weights(rng, H, H, gain), normal(rng, H)
        h = act(activation, x @ W_x + h_prev @ W_h + b)
        return (normal(rng, N, H), x, h_prev, h, W_x, W_h), {}
    # an answer a float32 computation cannot reach (cancelling rows, a saturated lone unit) is drawn again
    return float32_reachable(make, _ref_step_backward if activation == "tanh" else _ref_sigmoid_backward)



def _slope_ratio(activation, out, mutation, pre=None):
    """σ' of a mutation divided by the right σ' (both written with the output ``out``), 0 where σ' is 0."""
    from rnngrad.activations import _derivative_from_output as d  # unchecked: a mistake reads a pre-activation
    right = d(activation, out)
    if mutation in WRONG_SLOPES:
        return slope_ratio(activation, out, mutation)
    if mutation == "swapped_derivative":
        wrong = d(OTHER_ACTIVATION[activation], out)
    elif mutation == "preactivation_derivative":
        wrong = d(activation, pre)
    else:  # missing_diag
        wrong = np.ones_like(out)
    return np.divide(wrong, right, out=np.zeros_like(right), where=right != 0)


def _map_variant(a, k, mutation):
    """linear_map_jacobian with its column scales (σ'(x_j)) replaced by a mutated derivative."""
    from rnngrad.activations import activation as act
    W, x, activation = a
    return _ref_map_jacobian(W, x, activation) * _slope_ratio(activation, act(activation, x), mutation, x)[None, :]


def _step_jacobian_variant(a, k, mutation):
    h, W_h = a
    if mutation == "missing_transpose":
        return _ref_step_jacobian(h, W_h.T)
    if mutation == "slope_wrong_side":  # the slope scales the columns: the layout swap of the other orientation
        return np.swapaxes(_ref_step_jacobian(h, W_h.T), -1, -2)
    return _ref_step_jacobian(h, W_h) * _slope_ratio("tanh", h, mutation)[:, :, None]


def _step_variant(activation):
    """rnngrad's step backward with one mutation; square arguments may be transposed (missing_transpose)."""
    def variant(a, k, mutation):
        from rnngrad.activations import _derivative_from_output
        from rnngrad.rnn import _step_backward

        def cell_step_backward(dh, x, h_prev, h, W_x, W_h, activation):  # unchecked: a mistake may read h wrong
            return _step_backward(dh, x, h_prev, _derivative_from_output(activation, h), W_x, W_h)
        dh, x, h_prev, h, W_x, W_h = a
        if mutation == "missing_transpose":
            out = cell_step_backward(dh, x, h_prev, h, W_x, W_h, activation)
            for i, arg in ((1, x), (2, h_prev), (4, W_x), (5, W_h)):
                if arg.shape[0] == arg.shape[1]:
                    args = list(a)
                    args[i] = arg.T
                    wrong = cell_step_backward(*args, activation)
                    out.update({key: v for key, v in wrong.items() if not np.allclose(v, out[key])})
            return out
        if mutation == "off_by_one":
            return cell_step_backward(dh, x, h, h, W_x, W_h, activation)
        if mutation == "swapped_derivative":
            return cell_step_backward(dh, x, h_prev, h, W_x, W_h, OTHER_ACTIVATION[activation])
        if mutation in WRONG_SLOPES:
            return cell_step_backward(dh * slope_ratio(activation, h, mutation), x, h_prev, h, W_x, W_h, activation)
        if mutation == "missing_diag":
            return cell_step_backward(dh, x, h_prev, np.zeros_like(h), W_x, W_h, "tanh")
        if mutation == "missing_upstream":  # the incoming gradient left out: the local derivatives alone
            return cell_step_backward(np.ones_like(dh), x, h_prev, h, W_x, W_h, activation)
        raise ValueError(mutation)
    return variant


def _batch(a):
    return a[0].shape[0]


BMM_SECTION = section("rnn_cell", "Why the batched Jacobian and not the fourth-order array")

#: generated mistake classes shown with a worked mutant solution (tests/mutants), per function
EXAMPLES = {
    "map_jacobian": ("missing_diag", "transposed"),
    "rnn_step_jacobian": ("missing_diag", "transposed"),
    "rnn_step_backward": ("missing_diag", "missing_transpose"),
    "sigmoid_step_backward": ("missing_diag", "missing_transpose"),
}

SPECS = with_examples(with_argument_classes([
    Spec(ASSIGNMENT, "map_jacobian", 3, _ref_map_jacobian, [
        CaseMaker("square_tanh", _map_case(3, 3, "tanh")),
        CaseMaker("wide_tanh", _map_case(2, 4, "tanh")),
        CaseMaker("square_sigmoid", _map_case(4, 4, "sigmoid")),
        CaseMaker("scalar", _map_case(1, 1, "tanh"), hidden=True),
        CaseMaker("tall_sigmoid", _map_case(5, 2, "sigmoid", 2.0), hidden=True),
        CaseMaker("square_hidden", _map_case(5, 5, "tanh", 1.5), hidden=True),
        CaseMaker("sigmoid_hidden", _map_case(6, 6, "sigmoid", 3.0), hidden=True),
    ], [
        KnownMistake("pascanu_transpose",
                     "This is the matrix printed in Pascanu et al. (2013): the weight is transposed. Work out a "
                     "2 x 2 case entry by entry: output i reads input j through one entry of W, and that entry "
                     "sits in row i. " + section("matrix_calculus",
                                                  "The paper's $W^\\top \\operatorname{diag}(\\sigma')$ is in "
                                                  "neither layout"), _pascanu),
        *from_variant(_map_variant, ["missing_diag", "swapped_derivative", "preactivation_derivative",
                                     *WRONG_SLOPES]),
        *output_classes(jacobian_out_ndim=1),
    ], signature="map_jacobian(W, x, activation) -> (M, H)", derivative=True),

    Spec(ASSIGNMENT, "rnn_step_jacobian", 3, _ref_step_jacobian, [
        CaseMaker("batch_of_states", _state_case(3, 4)),
        CaseMaker("single_row", _state_case(1, 3)),
        CaseMaker("one_unit", _state_case(2, 1), hidden=True),
        CaseMaker("wide_state", _state_case(4, 7), hidden=True),
        CaseMaker("saturated", _state_case(3, 5, gain=4.0), hidden=True),
    ], [
        KnownMistake("missing_transpose",
                     "You used W_h in its forward orientation. In the row convention a unit of the new state "
                     "reads the previous state through a column of W_h, so the Jacobian's rows come from W_h's "
                     "columns. " + ROW, lambda a, k, ref: _step_jacobian_variant(a, k, "missing_transpose")),
        *from_variant(_step_jacobian_variant, ["missing_diag", "swapped_derivative", "slope_wrong_side",
                                               *WRONG_SLOPES]),
        *output_classes(jacobian_out_ndim="last_two"),
    ], signature="rnn_step_jacobian(h, W_h) -> (N, H, H)", derivative=True),

    Spec(ASSIGNMENT, "batched_matmul_jacobian", 3, _ref_bmm_jacobian, [
        CaseMaker("rectangular", _bmm_case(3, 2, 4)),
        CaseMaker("square", _bmm_case(2, 3, 3)),
        CaseMaker("single_row", _bmm_case(1, 3, 2), hidden=True),
        CaseMaker("square_hidden", _bmm_case(4, 2, 2), hidden=True),
        CaseMaker("wide", _bmm_case(3, 5, 2), hidden=True),
    ], [
        KnownMistake("missing_batch_delta",
                     "Row i of U depends only on row i of h, so every block that pairs two different rows is "
                     "zero. Your tensor also fills those blocks. " + BMM_SECTION,
                     lambda a, k, ref: np.broadcast_to(a[1].T[None, :, None, :], ref.shape).copy()),
        KnownMistake("denominator_layout",
                     "Your tensor is in denominator layout (the input's axes first). The course uses numerator "
                     "layout: the axes of U come first, then the axes of h. " + LAYOUTS, _denominator),
        ClassMistake("missing_transpose", hint("missing_transpose"),
                     lambda a, k, ref: _ref_bmm_jacobian(a[0], a[1].T) if a[1].shape[0] == a[1].shape[1] else None),
        *output_classes(),
    ], signature="batched_matmul_jacobian(h, W) -> (N, K, N, H)", derivative=True),

    Spec(ASSIGNMENT, "rnn_step_backward", 4, _ref_step_backward, [
        CaseMaker("batch", _step_case(3, 2, 4)),
        CaseMaker("single_row", _step_case(1, 3, 3)),
        CaseMaker("one_unit", _step_case(2, 2, 1), hidden=True),
        CaseMaker("wide", _step_case(5, 4, 6), hidden=True),
        CaseMaker("saturated", _step_case(3, 3, 4, gain=4.0), hidden=True),
    ], [
        *from_variant(_step_variant("tanh"), ["missing_diag", "missing_transpose", "swapped_derivative",
                                               "off_by_one", "missing_upstream", *WRONG_SLOPES]),
        scaled("mean_vs_sum", lambda a: 1.0 / _batch(a)),
        *output_classes(square_parts=True),
    ], signature="rnn_step_backward(dh, x, h_prev, h, W_x, W_h) -> dict", derivative=True),

    Spec(ASSIGNMENT, "sigmoid_step_backward", 4, _ref_sigmoid_backward, [
        CaseMaker("batch", _step_case(3, 2, 4, "sigmoid")),
        CaseMaker("single_row", _step_case(1, 3, 2, "sigmoid")),
        CaseMaker("one_unit", _step_case(2, 3, 1, "sigmoid"), hidden=True),
        CaseMaker("wide", _step_case(4, 2, 6, "sigmoid"), hidden=True),
        CaseMaker("saturated", _step_case(3, 2, 3, "sigmoid", gain=4.0), hidden=True),
    ], [
        KnownMistake("tanh_derivative",
                     "You used the derivative of tanh. The sigmoid's derivative, written with its output, is a "
                     "different expression. " + LOCAL,
                     lambda a, k, ref: _ref_step_backward(*a)),
        *from_variant(_step_variant("sigmoid"), ["missing_diag", "missing_transpose", "off_by_one",
                                                  "missing_upstream", *WRONG_SLOPES]),
        scaled("mean_vs_sum", lambda a: 1.0 / _batch(a)),
        *output_classes(square_parts=True),
    ], signature="sigmoid_step_backward(dh, x, h_prev, h, W_x, W_h) -> dict", derivative=True),
]), EXAMPLES)
