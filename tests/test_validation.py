"""The bad-input contract: wrong shapes, dtypes, values and choices raise a named RnngradInputError.

Every message starts with the argument's name, then says what was expected and what came.
"""
import re

import numpy as np
import pytest

from rnngrad._validate import (Dims, DTypeError, NonFiniteError, RnngradInputError, ShapeError, check_choice,
                               positive_int)
from rnngrad.activations import activation, activation_derivative
from rnngrad.cross_entropy import cross_entropy, cross_entropy_grad
from rnngrad.layout import (batch_diagonal_blocks, batched_matmul_jacobian, batched_matmul_jacobian_wrt_W,
                            layout_of, linear_map_jacobian, pascanu_step_matrix, to_denominator_layout,
                            vjp_from_jacobian)
from rnngrad.softmax import log_softmax, softmax, softmax_jacobian, softmax_vjp

Z = np.zeros((2, 3))            # logits (N, C)
Y = np.array([0, 2])            # labels (N,)
NAN = np.array([[0.0, np.nan, 1.0], [0.0, 0.0, 0.0]])
INF = np.array([[0.0, np.inf, 1.0], [0.0, 0.0, 0.0]])
RAGGED = [[1.0, 2.0], [3.0]]

CASES = {
    # softmax family
    "softmax scalar": (lambda: softmax(np.float64(1.0)), ShapeError, "logits", "at least 1 axis"),
    "softmax ints": (lambda: softmax(np.arange(3)), DTypeError, "logits", "int64"),
    "softmax objects": (lambda: softmax(np.array([1.0, "a"], dtype=object)), DTypeError, "logits", "object"),
    "softmax ragged": (lambda: softmax(RAGGED), DTypeError, "logits", "array-like"),
    "softmax nan": (lambda: softmax(NAN), NonFiniteError, "logits", "1 NaN"),
    "softmax inf": (lambda: softmax(INF), NonFiniteError, "logits", "infinite"),
    "softmax no classes": (lambda: softmax(np.zeros((2, 0))), ShapeError, "logits", "one class"),
    "log_softmax nan": (lambda: log_softmax(NAN), NonFiniteError, "logits", "NaN"),
    "log_softmax axis": (lambda: log_softmax(Z, axis=5), RnngradInputError, "axis", "got 5"),
    "jacobian 3 axes": (lambda: softmax_jacobian(np.zeros((2, 2, 3))), ShapeError, "logits", "got 3 axes"),
    "jacobian bools": (lambda: softmax_jacobian(np.ones(3, dtype=bool)), DTypeError, "logits", "bool"),
    "vjp shape": (lambda: softmax_vjp(Z, np.zeros((2, 4))), ShapeError, "v", r"\(2, 3\).*\(2, 4\)"),
    "vjp ints": (lambda: softmax_vjp(Z, np.zeros((2, 3), dtype=int)), DTypeError, "v", "int"),
    "vjp inf": (lambda: softmax_vjp(Z, INF), NonFiniteError, "v", "infinite"),
    # cross-entropy
    "ce label too big": (lambda: cross_entropy(Z, np.array([0, 3])), RnngradInputError, "labels", "< 3, got 3"),
    "ce label negative": (lambda: cross_entropy_grad(Z, np.array([-1, 0])), RnngradInputError, "labels",
                          ">= 0, got -1"),
    "ce label count": (lambda: cross_entropy(Z, np.array([0, 1, 2])), ShapeError, "labels", r"N=2 \(from logits\)"),
    "ce label axes": (lambda: cross_entropy(Z, np.zeros((2, 1), dtype=int)), ShapeError, "labels", "1 axes"),
    "ce float indices": (lambda: cross_entropy(Z, np.array([0.0, 2.0])), DTypeError, "labels", "integer class"),
    "ce bool labels": (lambda: cross_entropy(Z, np.ones((2, 3), dtype=bool)), DTypeError, "labels", "bool"),
    "ce object labels": (lambda: cross_entropy(Z, np.array([0, None], dtype=object)), DTypeError, "labels",
                         "object"),
    "ce soft classes": (lambda: cross_entropy(Z, np.ones((2, 4))), ShapeError, "labels", r"C=3 \(from logits\)"),
    "ce soft negative": (lambda: cross_entropy(Z, -np.ones((2, 3))), RnngradInputError, "labels", "non-negative"),
    "ce soft nan": (lambda: cross_entropy_grad(Z, NAN), NonFiniteError, "labels", "NaN"),
    "ce logits nan": (lambda: cross_entropy(NAN, Y), NonFiniteError, "logits", "NaN"),
    "ce logits ints": (lambda: cross_entropy(np.zeros((2, 3), dtype=int), Y), DTypeError, "logits", "int"),
    "ce logits scalar": (lambda: cross_entropy(np.float64(0.0), Y), ShapeError, "logits", r"\(\.\.\., C\)"),
    "ce mask shape": (lambda: cross_entropy(Z, Y, mask=np.ones(3, dtype=bool)), ShapeError, "mask", "N=2"),
    "ce mask values": (lambda: cross_entropy(Z, Y, mask=np.array([0, 2])), DTypeError, "mask", "0/1"),
    "ce reduction": (lambda: cross_entropy(Z, Y, reduction="avg"), RnngradInputError, "reduction", "'avg'"),
    "ce grad reduction": (lambda: cross_entropy_grad(Z, Y, reduction=None), RnngradInputError, "reduction",
                          "None"),
    "ce all masked": (lambda: cross_entropy(Z, Y, mask=np.zeros(2, dtype=bool)), RnngradInputError, "mask",
                      "reduction='sum'"),
    "keras linear": (lambda: activation("linear", np.ones(2)), RnngradInputError, "name",
                     r"got 'linear' \(rnngrad calls it 'identity'\)"),
    "logistic": (lambda: activation_derivative("logistic", np.ones(2)), RnngradInputError, "name",
                 "calls it 'sigmoid'"),
    # layout
    "denominator ints": (lambda: to_denominator_layout(np.zeros((2, 2), dtype=int)), DTypeError, "J", "int"),
    "denominator odd": (lambda: to_denominator_layout(np.zeros((2, 2, 2))), ShapeError, "J", "out_ndim"),
    "denominator out_ndim": (lambda: to_denominator_layout(np.zeros((2, 2)), out_ndim=3), RnngradInputError,
                             "out_ndim", "got 3"),
    "denominator batch": (lambda: to_denominator_layout(np.zeros((2, 2)), batch_ndim=-1), RnngradInputError,
                          "batch_ndim", "got -1"),
    "linear map H": (lambda: linear_map_jacobian(np.ones((2, 3)), np.ones(4)), ShapeError, "pre",
                     r"H=3 \(from W\)"),
    "linear map axes": (lambda: linear_map_jacobian(np.ones((2, 3)), np.ones((1, 1, 3))), ShapeError, "pre",
                        r"\(H,\) or \(N, H\)"),
    "linear map activation": (lambda: linear_map_jacobian(np.ones((2, 3)), np.ones(3), "softplus"),
                              RnngradInputError, "activation", "'softplus'"),
    "linear map nan": (lambda: linear_map_jacobian(np.ones((2, 3)), np.array([0.0, np.nan, 0.0])),
                       NonFiniteError, "pre", "NaN"),
    "pascanu square": (lambda: pascanu_step_matrix(np.ones((2, 3)), np.ones(3)), ShapeError, "W", r"\(H, H\)"),
    "pascanu x_prev": (lambda: pascanu_step_matrix(np.ones((3, 3)), np.ones((2, 2))), ShapeError, "x_prev", "H=3"),
    "layout_of ints": (lambda: layout_of(np.eye(2, dtype=int), np.eye(2)), DTypeError, "M", "int"),
    "matmul H": (lambda: batched_matmul_jacobian(np.ones((2, 3)), np.ones((4, 5))), ShapeError, "W",
                 r"H=3 \(from h\)"),
    "matmul h axes": (lambda: batched_matmul_jacobian(np.ones(3), np.ones((3, 5))), ShapeError, "h", r"\(N, H\)"),
    "matmul W ints": (lambda: batched_matmul_jacobian_wrt_W(np.ones((2, 3)), np.ones((3, 5), dtype=int)),
                      DTypeError, "W", "int"),
    "matmul wrt W H": (lambda: batched_matmul_jacobian_wrt_W(np.ones((2, 3)), np.ones((2, 5))), ShapeError, "W",
                       "H=3"),
    "blocks N": (lambda: batch_diagonal_blocks(np.zeros((2, 3, 4, 5))), ShapeError, "J",
               r"\(N, K, N, H\) with N=2, K=3, got \(2, 3, 4, 5\)$"),
    "vjp J prefix": (lambda: vjp_from_jacobian(np.zeros((2, 3, 4)), np.zeros((3, 2))), ShapeError, "v",
                     "prefix"),
    "vjp J inf": (lambda: vjp_from_jacobian(np.full((2, 2), np.inf), np.zeros(2)), NonFiniteError, "J",
                  "4 NaN or infinite entries"),
    # activations
    "activation name": (lambda: activation("gelu", np.zeros(2)), RnngradInputError, "name", "'gelu'"),
    "activation ints": (lambda: activation("tanh", np.arange(2)), DTypeError, "x", "int"),
    "derivative nan": (lambda: activation_derivative("relu", np.array([np.nan])), NonFiniteError, "x", "NaN"),
    "derivative name": (lambda: activation_derivative("Tanh", np.zeros(2)), RnngradInputError, "name", "'Tanh'"),
    # _validate itself
    "dims mismatch": (lambda: _two_args((2, 3), (4, 5)), ShapeError, "W_x", r"D=3 \(from x\), got \(4, 5\)"),
    "dims axes": (lambda: Dims().float_array("x", np.ones(3), ("N", "D")), ShapeError, "x", "2 axes"),
    "dims fixed size": (lambda: Dims().float_array("b", np.ones(3), (4,)), ShapeError, "b", r"\(4,\)"),
    "dims known": (lambda: Dims(H=4).float_array("b", np.ones(3), ("H",)), ShapeError, "b", "H=4"),
    "float bools": (lambda: Dims().float_array("x", np.ones(2, dtype=bool), None), DTypeError, "x", "bool"),
    "int floats": (lambda: Dims().int_array("k", np.ones(2), ("N",)), DTypeError, "k", "float64"),
    "int high": (lambda: Dims().int_array("k", np.array([5]), ("N",), high=5), RnngradInputError, "k", "< 5"),
    "bool values": (lambda: Dims().bool_array("mask", np.array([0.5]), ("N",)), DTypeError, "mask", "0/1"),
    "choice": (lambda: check_choice("mode", "x", ("a", "b")), RnngradInputError, "mode", "'a', 'b'"),
    "positive zero": (lambda: positive_int("T", 0), RnngradInputError, "T", "positive"),
    "positive bool": (lambda: positive_int("T", True), RnngradInputError, "T", "True"),
    "positive float": (lambda: positive_int("T", 2.0), RnngradInputError, "T", "2.0"),
}


def _two_args(x_shape, w_shape):
    dims = Dims()
    dims.float_array("x", np.ones(x_shape), ("N", "D"))
    dims.float_array("W_x", np.ones(w_shape), ("D", "H"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_a_named_error(case):
    call, error, name, detail = CASES[case]
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, RnngradInputError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    assert re.search(detail, message), f"{detail!r} not in {message!r}"


def test_dtype_errors_are_also_type_errors():
    with pytest.raises(TypeError):
        softmax(np.arange(3))


def test_good_input_passes_through_without_copies():
    x = np.ones((2, 3))
    assert Dims().float_array("x", x, ("N", "D")) is x
    mask = Dims().bool_array("mask", np.array([0, 1]), ("N",))
    assert mask.dtype == bool and mask.tolist() == [False, True]
    assert Dims().float_array("x", [1.0, 2.0], ("N",)).dtype == np.float64
    assert positive_int("T", np.int64(3)) == 3
