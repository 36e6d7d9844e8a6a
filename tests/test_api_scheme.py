"""The one API scheme of rnngrad (stated in rnngrad/__init__.py), checked over every public function.

Each test walks the public functions of rnngrad and rnngrad.torch_ref (the table of valid calls in
test_public_api.py has an entry for every one of them), so a function added later is held to the same rules:

* gradients come back in a dict whose keys are names of the arguments they are the gradient of (of the
  function itself, of an entry of one of its dict arguments, or of the forward function it differentiates);
  a ``*_backward`` function returns exactly one gradient per array argument of its forward function;
* a loss-and-gradient function (``*_grad`` returning a tuple) returns ``(loss, grads, h_last)`` when it takes
  an initial state ``h0`` and ``(loss, grads)`` otherwise;
* randomness comes in through one argument, ``rng``: an int seed or a ``numpy.random.Generator``, never None,
  and no argument is called ``seed``;
* where an activation is an option its default is ``"tanh"``.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import rnngrad
from rnngrad import RnngradInputError
from test_public_api import CALLS, FUNCTIONS

#: backward functions without a forward function of the same name, and the forward function they differentiate
FORWARD_OF = {"cell_step_backward": "rnn_step_forward"}


def _forward_of(name: str):
    forward = FORWARD_OF.get(name, name.replace("backward", "forward"))
    return FUNCTIONS.get(forward) if forward != name else None


def _array_parameters(function) -> set:
    """Parameters that hold arrays: every parameter but the options (those with a str or bool default)."""
    return {p.name for p in inspect.signature(function).parameters.values()
            if p.name != "device" and not isinstance(p.default, (str, bool))}


def _gradient_dict(name: str, result):
    """The gradient dict in the result of a backward or gradient function (None when it returns arrays)."""
    if isinstance(result, dict):
        return result
    if isinstance(result, tuple):
        if name.endswith("_grad") and len(result) > 1 and isinstance(result[1], dict):
            return result[1]
        return next((r for r in result if isinstance(r, dict)), None)
    return None


GRADIENT_FUNCTIONS = sorted(n for n in FUNCTIONS if "backward" in n or n.endswith("_grad"))


def _first_result(name: str):
    kwargs = CALLS[name][0].make(np.random.default_rng(0))
    return kwargs, FUNCTIONS[name](**kwargs)


def test_the_scheme_covers_the_gradient_functions():
    # every backward of the tanh RNN, LSTM and GRU, numpy and torch, and the loss-and-gradient functions
    for expected in ("rnn_step_backward", "rnn_backward", "lstm_backward", "gru_step_backward", "t_rnn_backward",
                     "char_lm_grad", "squared_error_rnn_grad", "randomized_truncation_grad", "t_char_lm_grad"):
        assert expected in GRADIENT_FUNCTIONS


@pytest.mark.parametrize("name", GRADIENT_FUNCTIONS)
def test_gradient_keys_are_the_names_of_the_arguments(name):
    kwargs, result = _first_result(name)
    grads = _gradient_dict(name, result)
    if grads is None:                      # a gradient with respect to one argument, as an array
        assert isinstance(result, np.ndarray), name
        return
    allowed = set(inspect.signature(FUNCTIONS[name]).parameters)
    allowed |= {k for v in kwargs.values() if isinstance(v, dict) for k in v}     # entries of a params dict
    forward = _forward_of(name)
    if forward is not None:
        allowed |= _array_parameters(forward)
    assert set(grads) <= allowed, f"{name}: keys {sorted(set(grads) - allowed)} name no argument"
    if "backward" in name and forward is not None:
        assert set(grads) == _array_parameters(forward), f"{name}: one gradient per argument of {forward.__name__}"
    for key, g in grads.items():           # each gradient has the shape of its argument
        for source in (kwargs, *(v for v in kwargs.values() if isinstance(v, dict))):
            if key in source and isinstance(source[key], np.ndarray):
                assert np.shape(g) == source[key].shape, f"{name}: {key}"


def test_step_and_sequence_keys():
    # the same rule gives x, h_prev for a step and xs, h0 for a sequence
    _, step = _first_result("rnn_step_backward")
    _, seq = _first_result("rnn_backward")
    assert set(step) == {"x", "h_prev", "W_x", "W_h", "b"} and set(seq) == {"xs", "h0", "W_x", "W_h", "b"}


def test_the_key_rule_can_fail():
    grads = {"dx": 0, "W_x": 0}
    allowed = _array_parameters(rnngrad.rnn_step_forward)
    assert not set(grads) <= allowed


LOSS_GRAD_FUNCTIONS = [n for n in GRADIENT_FUNCTIONS if n.endswith("_grad") and isinstance(_first_result(n)[1], tuple)]


@pytest.mark.parametrize("name", LOSS_GRAD_FUNCTIONS)
def test_loss_and_gradient_functions_return_one_shape(name):
    kwargs, result = _first_result(name)
    takes_h0 = "h0" in inspect.signature(FUNCTIONS[name]).parameters
    assert len(result) == (3 if takes_h0 else 2), f"{name}: (loss, grads{', h_last' if takes_h0 else ''})"
    assert isinstance(result[0], float) and isinstance(result[1], dict)
    if takes_h0:
        h0 = kwargs.get("h0")
        assert isinstance(result[2], np.ndarray) and result[2].ndim == 2
        if h0 is not None:
            assert result[2].shape == np.shape(h0)


#: the order of the arrays: data (inputs, then the targets of a loss), state, weights
ARRAY_ORDER = ("xs", "inputs", "targets", "h0", "c0", "W_x", "W_h", "b", "W_y", "b_y")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_arrays_come_in_the_order_data_state_weights(name):
    names = [p for p in inspect.signature(FUNCTIONS[name]).parameters if p in ARRAY_ORDER]
    assert names == sorted(names, key=ARRAY_ORDER.index), f"{name}: {names}"


def test_the_order_rule_covers_the_losses_with_targets():
    with_targets = {n for n in FUNCTIONS if "targets" in inspect.signature(FUNCTIONS[n]).parameters}
    assert {"squared_error_rnn_grad", "free_running_grad", "char_lm_grad"} <= with_targets


def test_loss_and_gradient_functions_are_found():
    assert {"char_lm_grad", "squared_error_rnn_grad", "char_lm_truncated_grad"} <= set(LOSS_GRAD_FUNCTIONS)


RNG_FUNCTIONS = sorted(n for n in FUNCTIONS if "rng" in inspect.signature(FUNCTIONS[n]).parameters)


def test_no_argument_is_called_seed():
    for name, function in FUNCTIONS.items():
        assert not [p for p in inspect.signature(function).parameters if "seed" in p], name
    assert {"init_rnn_params", "train_char_lm", "glorot_jacobian_variance", "glorot_uniform", "sample",
            "randomized_truncation_grad"} <= set(RNG_FUNCTIONS)


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dataclass_fields__"):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


@pytest.mark.parametrize("name", RNG_FUNCTIONS)
def test_rng_is_an_int_seed_or_a_generator_and_never_none(name):
    kwargs = CALLS[name][0].make(np.random.default_rng(0))
    function = FUNCTIONS[name]
    by_seed = function(**dict(kwargs, rng=5))
    assert _same(by_seed, function(**dict(kwargs, rng=5))), "an int seed gives the same result every time"
    assert _same(by_seed, function(**dict(kwargs, rng=np.random.default_rng(5)))), "the seed's Generator"
    for bad in (None, -1, 2.5, "0"):
        with pytest.raises(RnngradInputError, match=r"^rng: expected an int seed >= 0 or a numpy.random.Generator"):
            function(**dict(kwargs, rng=bad))


ACTIVATION_OPTIONS = sorted(n for n in FUNCTIONS if "activation" in inspect.signature(FUNCTIONS[n]).parameters)


@pytest.mark.parametrize("name", ACTIVATION_OPTIONS)
def test_default_activation_is_tanh(name):
    parameter = inspect.signature(FUNCTIONS[name]).parameters["activation"]
    # activation_derivative_moments is about one activation, which must be named
    assert parameter.default == "tanh" or (parameter.default is inspect.Parameter.empty
                                           and name == "activation_derivative_moments"), name


def test_activation_options_are_found():
    assert {"two_state_step", "cell_step_backward", "glorot_jacobian_variance", "sequence_slope",
            "sequence_slope_feedback", "t_two_state_forward", "linear_map_jacobian"} <= set(ACTIVATION_OPTIONS)


def test_the_weights_of_the_slope_functions_are_separate_arguments():
    # arrays first, data then state then weights, options as keywords; the same as rnn_jvp
    for name in ("sequence_slope", "slope_by_prefix_differentiation", "t_sequence_slope"):
        assert list(inspect.signature(FUNCTIONS[name]).parameters)[:8] == [
            "xs", "h0", "W_x", "W_h", "b", "W_y", "b_y", "dxs_dt"], name
    assert list(inspect.signature(rnngrad.sequence_slope_feedback).parameters)[:9] == [
        "xs", "h0", "y_init", "W_x", "W_h", "b", "W_y", "b_y", "dxs_dt"]
    for name in ("sequence_slope", "output_jacobian_at_step", "sequence_slope_feedback"):
        kinds = {p.name: p.kind for p in inspect.signature(FUNCTIONS[name]).parameters.values()}
        assert kinds["activation"] == inspect.Parameter.KEYWORD_ONLY, name
