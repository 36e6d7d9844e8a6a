"""The public-API contract of rnngrad, checked by introspection so that a function added later must meet it.

1. Docstrings: every public function and class of ``rnngrad`` (the flat namespace and the
   ``__all__`` of each topic module) and of ``rnngrad.torch_ref`` has an ``Args:`` section that
   names every parameter (and gives the shape of every array argument), a ``Returns:`` section
   and an ``Example:`` whose doctest ends with a checked value (an expected output or an
   ``assert``). Dataclasses describe their fields under ``Attributes:``.
2. Bad input: for every public function, the table ``CALLS`` below builds valid arguments
   and declares the shape letters of every array argument. For each float-array argument in turn
   the test passes it as an integer array and as an object array, puts a NaN and an infinity into
   it, gives it an extra axis and changes each size it shares with another argument; every one of
   these must raise a subclass of ``RnngradInputError`` that names the argument (its message
   starts with the name, or, for a size bound by an earlier argument, names that argument as the
   origin). Integer-array arguments are passed as floats, dicts of arrays as lists, number
   arguments as NaN, fractions or strings, option arguments (``activation``, ``reduction``, ...)
   as an unknown option, and every size is set to 0 in turn (a result or a named error, never an
   IndexError or a division by zero).
3. Purity and precision: a valid call leaves every input array (and dict of arrays) unchanged,
   and every float array in the result is float64, also when the inputs are float32.
4. The torch counterparts in ``rnngrad.torch_ref`` have entries in ``CALLS`` too (the checks of 2
   and 3 apply to them as they are), and the same arguments given as tensors on the default
   device give the same results, while integer tensors, NaN in a tensor or a tensor with an extra
   axis get the named errors. Only the conversion helpers and the tensor building block listed in
   ``TORCH_UNCHECKED`` (each with its reason) are without an entry.

A public function without an entry in ``CALLS`` fails ``test_every_public_function_has_an_entry``;
a new topic module not listed in ``TOPIC_MODULES`` fails ``test_every_topic_module_is_listed``.
"""
from __future__ import annotations

import copy
import dataclasses
import doctest
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import rnngrad
import rnngrad.torch_ref
from rnngrad import DTypeError, NonFiniteError, RnngradInputError, ShapeError

# ----------------------------------------------------------------------------- what is public

TOPIC_MODULES = ("activations", "softmax", "cross_entropy", "layout", "gradcheck", "rnn", "char_lm", "optim",
                 "truncation", "hidden_jacobians", "two_state_cell", "init", "forward_mode", "extras")
TORCH_MODULES = ("_common", "softmax", "rnn", "jacobians", "forward")
TOPIC_MODULES += ("lstm", "gru", "gated_torch_weights", "gated_jacobians")     # the gated cells
TOPIC_MODULES += ("rtrl", "checkpointing", "teacher_forcing")   # RTRL, checkpoints, fed-back outputs
TOPIC_MODULES += ("memory_task",)     # the adding problem: data, loss and gradient, training
TORCH_MODULES += ("gated_lstm", "gated_gru")


def _public(package, module_names):
    """{name: object} of the callables in the package's ``__all__`` and in each listed module's ``__all__``."""
    found = {}
    modules = [package] + [importlib.import_module(f"{package.__name__}.{m}") for m in module_names]
    for mod in modules:
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj):
                assert found.get(name, obj) is obj, f"two different public objects are called {name}"
                found[name] = obj
    return found


PUBLIC = _public(rnngrad, TOPIC_MODULES)
PUBLIC_TORCH = _public(rnngrad.torch_ref, TORCH_MODULES)

#: public torch_ref functions that take no array to check, each with the reason
TORCH_UNCHECKED = {
    "default_device": "takes no argument",
    "to_tensor": "the conversion itself, applied to values already checked (it must pass NaN through)",
    "to_numpy": "the conversion back to numpy of results, which may hold anything",
    "rnn_forward_tensor": "a tensor building block called inside torch.func transforms on single rows "
                          "(xs (T, D), h0 (H,)), where neither the batch letters nor a data-dependent check apply",
}
TORCH_UNCHECKED.update({
    "lstm_forward_tensor": "the LSTM's tensor building block: keeps its inputs' device and dtype (float32 too) and "
                           "runs inside torch.func transforms, where a data-dependent check does not apply",
    "gru_forward_tensor": "the GRU's tensor building block, for the same reasons as lstm_forward_tensor",
})
#: every public function whose inputs are checked: the numpy references and their torch counterparts
FUNCTIONS = {k: v for k, v in {**PUBLIC, **PUBLIC_TORCH}.items()
             if inspect.isfunction(v) and k not in TORCH_UNCHECKED}


def test_every_topic_module_is_listed():
    """A new topic module must be added to TOPIC_MODULES (so that its functions are checked)."""
    on_disk = {m.name for m in pkgutil.iter_modules(rnngrad.__path__) if not m.name.startswith("_")}
    assert on_disk - {"torch_ref"} == set(TOPIC_MODULES)
    on_disk = {m.name for m in pkgutil.iter_modules(rnngrad.torch_ref.__path__)}
    assert on_disk == set(TORCH_MODULES)


def test_flat_namespace_exports_every_topic_function():
    """Every public name of a topic module is also available flat (the two modules named after their
    main function keep the module at the top level)."""
    for m in TOPIC_MODULES:
        mod = importlib.import_module(f"rnngrad.{m}")
        for name in mod.__all__:
            if name == m:
                assert inspect.ismodule(getattr(rnngrad, name))
            else:
                assert name in rnngrad.__all__, f"rnngrad.{m}.{name} is not exported from rnngrad"


# ----------------------------------------------------------------------------- 1. docstrings

def _section(doc: str, header: str) -> str | None:
    m = re.search(rf"^{header}:[ \t]*\n(.*?)(?=^\S[^\n]*:[ \t]*$|\Z)", doc, re.M | re.S)
    return m.group(1) if m else None


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def _doc_problems(obj) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    problems = []
    if not doc.strip():
        return ["no docstring"]
    first = doc.strip().splitlines()[0]
    if len(first) < 20:
        problems.append(f"first line too short to state the math: {first!r}")
    is_exception = inspect.isclass(obj) and issubclass(obj, BaseException)
    if inspect.isclass(obj):
        if dataclasses.is_dataclass(obj):
            attrs = _section(doc, "Attributes")
            if attrs is None:
                problems.append("no Attributes: section")
            else:
                problems += [f"field {f.name} not described under Attributes"
                             for f in dataclasses.fields(obj) if not _mentions(attrs, f.name)]
        elif not is_exception:
            problems.append("public class that is neither a dataclass nor an exception: add a rule here")
    else:
        params = [p for p in inspect.signature(obj).parameters]
        if params:
            args = _section(doc, "Args")
            if args is None:
                problems.append("no Args: section")
            else:
                problems += [f"parameter {p} not described under Args" for p in params if not _mentions(args, p)]
        if _section(doc, "Returns") is None:
            problems.append("no Returns: section")
    example = _section(doc, "Example")
    if example is None or ">>>" not in example:
        problems.append("no Example: section with a doctest")
    else:
        examples = doctest.DocTestParser().get_examples(example)
        last = examples[-1] if examples else None
        if last is None or not (last.want.strip() or last.source.lstrip().startswith("assert")):
            problems.append("the example does not end with a checked value (expected output or assert)")
    return problems


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_rnngrad(name):
    assert _doc_problems(PUBLIC[name]) == []


@pytest.mark.parametrize("name", sorted(PUBLIC_TORCH))
def test_docstring_torch_ref(name):
    assert _doc_problems(PUBLIC_TORCH[name]) == []


def _arg_description(args: str, name: str) -> str | None:
    """The text that describes ``name`` in an Args section (entries may share a line: ``a: (N,); b: (H,)``)."""
    m = re.search(rf"(?:^|[;,]\s|\s)(?:\w+, )*{re.escape(name)}(?:, \w+)*:\s(.*?)"
                  rf"(?=;\s\w+(?:, \w+)*:|\n\S|\n {{0,8}}\w+(?:, \w+)*:|\Z)", args, re.S)
    return m.group(1) if m else None


def test_docstrings_give_the_shape_of_every_array_argument():
    """An array argument's description has a shape ``(N, H)``, says "shape"/"any"/"same", or refers to
    the function whose arguments it shares ("as in ...")."""
    missing = []
    for name, calls in CALLS.items():
        args = _section(inspect.getdoc(FUNCTIONS[name]), "Args") or ""
        for path in {p.partition(".")[0] for call in calls for p in call.arrays}:
            desc = _arg_description(args, path)
            if desc is None or not re.search(r"\([^()]*\)|shape|any|same|as in", desc):
                missing.append(f"{name}: {path}: {desc!r}")
    assert missing == []


def test_docstring_rule_can_fail():
    def undocumented(x):
        """Returns twice x."""
        return 2 * x

    def no_check(x, y):
        """The sum ``x + y`` of two arrays of one shape.

        Args:
            x: float array.

        Returns:
            float array.

        Example:
            >>> s = no_check(1.0, 2.0)
        """

    assert len(_doc_problems(undocumented)) >= 3
    args = "x: (N, D) inputs; h0: (N, H) state.\nW_x, W_h: weights.\nb: bias\n"
    assert _arg_description(args, "h0") == "(N, H) state."
    assert _arg_description(args, "W_h") == "weights."
    assert _arg_description(args, "h") is None
    assert sorted(_doc_problems(no_check)) == ["parameter y not described under Args",
                                               "the example does not end with a checked value (expected output "
                                               "or assert)"]


# ----------------------------------------------------------------------------- 2. the call table

N, T, D, H, C, V = 2, 3, 4, 5, 6, 4


@dataclass
class Arr:
    """An array argument: its kind, shape letters (None: any shape) and whether its number of axes is free."""
    kind: str                       # "float", "int" or "bool"
    letters: tuple | None = None
    any_ndim: bool = False


def F(*letters, any_ndim=False):
    return Arr("float", tuple(letters) if letters else None, any_ndim)


def I(*letters):
    return Arr("int", tuple(letters) if letters else None)


def B(*letters):
    return Arr("bool", tuple(letters))


@dataclass
class Call:
    """Valid keyword arguments (from a seeded generator) and the array arguments among them.

    Keys of ``arrays`` are argument names, or ``"arg.key"`` for an entry of a dict argument.
    """
    make: Callable[[np.random.Generator], dict]
    arrays: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)   # number arguments: name -> "float" or "int"
    nan_allowed: tuple = ()          # float arguments whose docstring allows NaN
    int_results: tuple = ()          # places in the result that hold indices (int64) by design


def _n(rng, *shape):
    return rng.standard_normal(shape)


def _rnn_args(rng):
    return dict(xs=_n(rng, T, N, D), h0=_n(rng, N, H), W_x=_n(rng, D, H) / 2, W_h=_n(rng, H, H) / 3, b=_n(rng, H))


RNN_ARRAYS = dict(xs=F("T", "N", "D"), h0=F("N", "H"), W_x=F("D", "H"), W_h=F("H", "H"), b=F("H"))


def _lm_params(rng):
    return {"W_x": _n(rng, V, H) / 2, "W_h": _n(rng, H, H) / 3, "b": _n(rng, H), "W_y": _n(rng, H, V) / 2,
            "b_y": _n(rng, V)}


def _lm_args(rng):
    return dict(params=_lm_params(rng), inputs=rng.integers(0, V, (T, N)), targets=rng.integers(0, V, (T, N)),
                h0=_n(rng, N, H))


LM_ARRAYS = {"params.W_x": F("V", "H"), "params.W_h": F("H", "H"), "params.b": F("H"), "params.W_y": F("H", "V"),
             "params.b_y": F("V"), "inputs": I("T", "N"), "targets": I("T", "N"), "h0": F("N", "H")}


def _slope_params(rng, rows=D):
    return {"W_x": _n(rng, rows, H) / 2, "W_h": _n(rng, H, H) / 3, "b": _n(rng, H), "W_y": _n(rng, H, C),
            "b_y": _n(rng, C)}


SLOPE_ARRAYS = {"xs": F("T", "N", "D"), "h0": F("N", "H"), "W_x": F("D", "H"), "W_h": F("H", "H"),
                "b": F("H"), "W_y": F("H", "C"), "b_y": F("C")}


def _two_state_args(rng):
    return dict(x=_n(rng, N, D), h_prev=_n(rng, N, H), c_prev=_n(rng, N, H), W_h=_n(rng, H, H) / 3, b=_n(rng, H),
                W_o=_n(rng, D, H))


TWO_STATE_ARRAYS = dict(x=F("N", "D"), h_prev=F("N", "H"), c_prev=F("N", "H"), W_h=F("H", "H"), b=F("H"),
                        W_o=F("D", "H"))


def _scalar_f(z):
    return float(np.sin(z).sum())


def _elementwise_f(z):
    return np.sin(z) * 2.0


CALLS: dict[str, list[Call]] = {
    # activations and softmax
    "activation": [Call(lambda r: dict(name="tanh", x=_n(r, 3, 2)), dict(x=F()))],
    "activation_derivative": [Call(lambda r: dict(name="sigmoid", x=_n(r, 3, 2)), dict(x=F()))],
    "activation_derivative_from_output": [Call(lambda r: dict(name="tanh", h=np.tanh(_n(r, 3, 2))), dict(h=F()))],
    "softmax": [Call(lambda r: dict(logits=_n(r, N, C), axis=0), dict(logits=F()), dict(axis="int"))],
    "log_softmax": [Call(lambda r: dict(logits=_n(r, N, C), axis=-1), dict(logits=F()), dict(axis="int"))],
    "softmax_jacobian": [Call(lambda r: dict(logits=_n(r, N, C)), dict(logits=F("N", "C")))],
    "softmax_vjp": [Call(lambda r: dict(logits=_n(r, N, C), v=_n(r, N, C)),
                         dict(logits=F("N", "C", any_ndim=True), v=F("N", "C")))],
    "cross_entropy": [
        Call(lambda r: dict(logits=_n(r, T, N, C), labels=r.random((T, N, C)), mask=r.random((T, N)) < 0.7,
                            reduction="sum"),
             dict(logits=F("T", "N", "C", any_ndim=True), labels=F("T", "N", "C"), mask=B("T", "N"))),
        Call(lambda r: dict(logits=_n(r, N, C), labels=r.integers(0, C, N), mask=np.array([True, False])),
             dict(logits=F("N", "C", any_ndim=True), labels=I("N"), mask=B("N"))),
    ],
    "cross_entropy_grad": [
        Call(lambda r: dict(logits=_n(r, T, N, C), labels=r.random((T, N, C)), mask=r.random((T, N)) < 0.7,
                            reduction="sum"),
             dict(logits=F("T", "N", "C", any_ndim=True), labels=F("T", "N", "C"), mask=B("T", "N"))),
        Call(lambda r: dict(logits=_n(r, N, C), labels=r.integers(0, C, N)),
             dict(logits=F("N", "C", any_ndim=True), labels=I("N"))),
    ],
    # layout
    "to_denominator_layout": [Call(lambda r: dict(J=_n(r, 2, 3, 4), out_ndim=1, batch_ndim=1), dict(J=F()),
                                   dict(out_ndim="int", batch_ndim="int"))],
    "linear_map_jacobian": [Call(lambda r: dict(W=_n(r, C, H), pre=_n(r, N, H), activation="sigmoid"),
                                 dict(W=F("C", "H"), pre=F("N", "H")))],
    "pascanu_step_matrix": [Call(lambda r: dict(W=_n(r, H, H), x_prev=_n(r, N, H), activation="tanh"),
                                 dict(W=F("H", "H"), x_prev=F("N", "H")))],
    "layout_of": [Call(lambda r: dict(M=_n(r, 3, 2), J=_n(r, 2, 3), out_ndim=1, batch_ndim=0, rtol=1e-6, atol=1e-9),
                       dict(M=F(), J=F()), dict(out_ndim="int", batch_ndim="int", rtol="float", atol="float"))],
    "batched_matmul_jacobian": [Call(lambda r: dict(h=_n(r, N, H), W=_n(r, H, C)), dict(h=F("N", "H"), W=F("H", "C")))],
    "batched_matmul_jacobian_wrt_W": [Call(lambda r: dict(h=_n(r, N, H), W=_n(r, H, C)),
                                           dict(h=F("N", "H"), W=F("H", "C")))],
    "batch_diagonal_blocks": [Call(lambda r: dict(J=_n(r, N, C, N, H), atol=1e-9), dict(J=F("N", "C", "N", "H")),
                                   dict(atol="float"))],
    "vjp_from_jacobian": [Call(lambda r: dict(J=_n(r, 3, 2, 4), v=_n(r, 3, 2)),
                               dict(J=F("A", "B", "E"), v=F("A", "B")))],
    # finite differences
    "numerical_gradient": [Call(lambda r: dict(f=_scalar_f, x=_n(r, 3, 2), eps=1e-5), dict(x=F()),
                                dict(eps="float"))],
    "numerical_jacobian": [Call(lambda r: dict(f=_elementwise_f, x=_n(r, 3, 2), eps=1e-5), dict(x=F()),
                                dict(eps="float"))],
    "numerical_jvp": [Call(lambda r: dict(f=_elementwise_f, x=_n(r, 3, 2), v=_n(r, 3, 2), eps=1e-5),
                           dict(x=F("A", "B", any_ndim=True), v=F("A", "B")), dict(eps="float"))],
    "numerical_vjp": [Call(lambda r: dict(f=_elementwise_f, x=_n(r, 3, 2), u=_n(r, 3, 2), eps=1e-5),
                           dict(x=F("A", "B", any_ndim=True), u=F("A", "B")), dict(eps="float"))],
    "relative_error": [Call(lambda r: dict(a=_n(r, 3, 2), b=_n(r, 3, 2), floor=1e-9),
                            dict(a=F("A", "B", any_ndim=True), b=F("A", "B")), dict(floor="float"))],
    "check_gradient": [Call(lambda r: dict(f=_scalar_f, x=_n(r, 3, 2), analytic=_n(r, 3, 2), tol=1e-6, eps=1e-5),
                            dict(x=F("A", "B", any_ndim=True), analytic=F("A", "B")),
                            dict(tol="float", eps="float"))],
    # the tanh RNN
    "rnn_step_forward": [Call(lambda r: dict(x=_n(r, N, D), h_prev=_n(r, N, H), W_x=_n(r, D, H), W_h=_n(r, H, H),
                                             b=_n(r, H)),
                              dict(x=F("N", "D"), h_prev=F("N", "H"), W_x=F("D", "H"), W_h=F("H", "H"), b=F("H")))],
    "rnn_forward": [Call(_rnn_args, RNN_ARRAYS)],
    "rnn_step_backward": [Call(lambda r: dict(dh=_n(r, N, H), x=_n(r, N, D), h_prev=_n(r, N, H),
                                              h=np.tanh(_n(r, N, H)), W_x=_n(r, D, H), W_h=_n(r, H, H)),
                               dict(dh=F("N", "H"), x=F("N", "D"), h_prev=F("N", "H"), h=F("N", "H"),
                                    W_x=F("D", "H"), W_h=F("H", "H")))],
    "rnn_backward": [Call(lambda r: dict(dhs=_n(r, T, N, H), xs=_n(r, T, N, D), h0=_n(r, N, H),
                                         hs=np.tanh(_n(r, T, N, H)), W_x=_n(r, D, H), W_h=_n(r, H, H)),
                          dict(dhs=F("T", "N", "H"), xs=F("T", "N", "D"), h0=F("N", "H"), hs=F("T", "N", "H"),
                               W_x=F("D", "H"), W_h=F("H", "H")))],
    "init_rnn_params": [Call(lambda r: dict(D=D, H=H, C=C, rng=3, scale=0.5), {},
                             dict(D="int", H="int", C="int", rng="int", scale="float"))],
    # character model, optimisation, truncation
    "one_hot": [Call(lambda r: dict(indices=r.integers(0, V, (T, N)), V=V), dict(indices=I()), dict(V="int"))],
    "char_lm_loss": [Call(_lm_args, LM_ARRAYS, int_results=("result[1]['inputs']", "result[1]['targets']"))],
    "char_lm_grad": [Call(_lm_args, LM_ARRAYS)],
    "char_lm_truncated_grad": [Call(lambda r: dict(_lm_args(r), k=2), LM_ARRAYS, dict(k="int"))],
    "char_lm_chunked_grad": [Call(lambda r: dict(_lm_args(r), k=2), LM_ARRAYS, dict(k="int"))],
    "randomized_truncation_grad": [Call(lambda r: dict(_lm_args(r), rng=np.random.default_rng(0),
                                                       p=np.array([0.1, 0.5, 0.2])),
                                        dict(LM_ARRAYS, p=F("T"))),
                                   Call(lambda r: dict(_lm_args(r), rng=np.random.default_rng(0), p=0.3), LM_ARRAYS,
                                        dict(p="float"))],
    "train_char_lm": [Call(lambda r: dict(text="abcab" * 3, hidden_size=3, seq_len=4, steps=3, lr=0.2, rng=1,
                                          clip="global_norm", clip_value=2.0, scale=0.3), {},
                           dict(hidden_size="int", seq_len="int", steps="int", lr="float", rng="int",
                                clip_value="float", scale="float"))],
    "sample": [Call(lambda r: dict(params=_lm_params(r), h=_n(r, 1, H), first_idx=1, n=3,
                                   rng=np.random.default_rng(0)),
                    {**{k: v for k, v in LM_ARRAYS.items() if k.startswith("params.")}, "h": F(1, "H")},
                    dict(first_idx="int", n="int", temperature="float"), int_results=("result",))],
    "clip_elementwise": [Call(lambda r: dict(grads={"a": _n(r, 3, 2), "b": _n(r, 4)}, threshold=0.5),
                              {"grads.a": F(), "grads.b": F()}, dict(threshold="float"))],
    "clip_global_norm": [Call(lambda r: dict(grads={"a": _n(r, 3, 2), "b": _n(r, 4)}, max_norm=0.5),
                              {"grads.a": F(), "grads.b": F()}, dict(max_norm="float"))],
    "adagrad_update": [Call(lambda r: dict(params={"a": _n(r, 3, 2), "b": _n(r, 4)},
                                           grads={"a": _n(r, 3, 2), "b": _n(r, 4)},
                                           memory={"a": r.random((3, 2)), "b": r.random(4)}, lr=0.1, eps=1e-7),
                            {"params.a": F("A", "B", any_ndim=True), "params.b": F("E", any_ndim=True),
                             "grads.a": F("A", "B"), "grads.b": F("E"), "memory.a": F("A", "B"),
                             "memory.b": F("E")}, dict(lr="float", eps="float"))],
    # hidden-state Jacobians
    "rnn_step_jacobian": [Call(lambda r: dict(h=np.tanh(_n(r, N, H)), W_h=_n(r, H, H)),
                               dict(h=F("N", "H"), W_h=F("H", "H")))],
    "rnn_step_jacobians": [Call(lambda r: dict(hs=np.tanh(_n(r, T, N, H)), W_h=_n(r, H, H)),
                                dict(hs=F("T", "N", "H"), W_h=F("H", "H")))],
    "hidden_state_jacobians": [Call(_rnn_args, RNN_ARRAYS)],
    "jacobian_products": [Call(lambda r: dict(step_jacobians=_n(r, T, N, H, H)),
                               dict(step_jacobians=F("T", "N", "H", "H")))],
    "rnn_jacobian_products": [Call(lambda r: dict(hs=np.tanh(_n(r, T, N, H)), W_h=_n(r, H, H)),
                                   dict(hs=F("T", "N", "H"), W_h=F("H", "H")))],
    "jacobians_from_start": [Call(lambda r: dict(step_jacobians=_n(r, T, N, H, H)),
                                  dict(step_jacobians=F("T", "N", "H", "H")))],
    "rnn_jacobians_from_start": [Call(lambda r: dict(hs=np.tanh(_n(r, T, N, H)), W_h=_n(r, H, H)),
                                      dict(hs=F("T", "N", "H"), W_h=F("H", "H")))],
    "singular_values_over_time": [Call(lambda r: dict(step_jacobians=_n(r, T, N, H, H)),
                                       dict(step_jacobians=F("T", "N", "H", "H")))],
    # the two-state cell and Glorot initialisation
    "two_state_step": [Call(lambda r: dict(_two_state_args(r), activation="tanh", variant="after"),
                            TWO_STATE_ARRAYS)],
    "two_state_forward": [Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H), c0=_n(r, N, H),
                                              W_h=_n(r, H, H) / 3, b=_n(r, H), W_o=_n(r, D, H), activation="identity",
                                              variant="inside"),
                               dict(xs=F("T", "N", "D"), h0=F("N", "H"), c0=F("N", "H"), W_h=F("H", "H"), b=F("H"),
                                    W_o=F("D", "H")))],
    "two_state_state_jacobian": [Call(lambda r: dict(h_prev=_n(r, N, H), W_h=_n(r, H, H), activation="sigmoid"),
                                      dict(h_prev=F("N", "H"), W_h=F("H", "H")))],
    "two_state_output_jacobian": [Call(lambda r: dict(_two_state_args(r), activation="sigmoid", variant="inside"),
                                       TWO_STATE_ARRAYS)],
    "two_state_input_jacobian": [Call(lambda r: dict(_two_state_args(r), activation="relu", variant="inside"),
                                      TWO_STATE_ARRAYS)],
    "glorot_uniform": [Call(lambda r: dict(fan_in=3, fan_out=4, rng=np.random.default_rng(0)), {},
                            dict(fan_in="int", fan_out="int"))],
    "glorot_limit": [Call(lambda r: dict(fan_in=3, fan_out=4), {}, dict(fan_in="int", fan_out="int"))],
    "glorot_jacobian_variance": [Call(lambda r: dict(H=6, activation="tanh", trials=2, rng=1, N=2, state_std=0.5), {},
                                      dict(H="int", trials="int", rng="int", N="int", state_std="float"))],
    "activation_derivative_moments": [Call(lambda r: dict(activation="sigmoid", state_std=0.5), {},
                                           dict(state_std="float"))],
    # forward mode
    "rnn_jvp": [Call(lambda r: dict(_rnn_args(r), dxs=_n(r, T, N, D), dh0=_n(r, N, H)),
                     dict(RNN_ARRAYS, dxs=F("T", "N", "D"), dh0=F("N", "H")))],
    "sequence_slope": [Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H), **_slope_params(r),
                                           dxs_dt=_n(r, T, N, D), activation="sigmoid", output="sigmoid",
                                           dh0_dt=_n(r, N, H)),
                            dict(SLOPE_ARRAYS, dxs_dt=F("T", "N", "D"), dh0_dt=F("N", "H")))],
    "output_jacobian_at_step": [Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H), **_slope_params(r),
                                                    activation="tanh", output="sigmoid"), SLOPE_ARRAYS)],
    "slope_by_prefix_differentiation": [Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H),
                                                            **_slope_params(r), dxs_dt=_n(r, T, N, D),
                                                            activation="sigmoid", output="sigmoid", dh0_dt=_n(r, N, H)),
                                             dict(SLOPE_ARRAYS, dxs_dt=F("T", "N", "D"), dh0_dt=F("N", "H")))],
    "sequence_slope_feedback": [
        Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H), y_init=_n(r, N, C), **_slope_params(r, D + C),
                            dxs_dt=_n(r, T, N, D), feedback="observed", ys_observed=_n(r, T, N, C),
                            dys_observed_dt=_n(r, T, N, C), dy_init_dt=_n(r, N, C), dh0_dt=_n(r, N, H),
                            activation="tanh", output="sigmoid"),
             dict(SLOPE_ARRAYS, W_x=F("D+C", "H"), y_init=F("N", "C"), dxs_dt=F("T", "N", "D"),
                  ys_observed=F("T", "N", "C"), dys_observed_dt=F("T", "N", "C"), dy_init_dt=F("N", "C"),
                  dh0_dt=F("N", "H"))),
        Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H), y_init=_n(r, N, C), **_slope_params(r, D + C),
                            dxs_dt=_n(r, T, N, D), feedback="predicted", dy_init_dt=_n(r, N, C)),
             dict(SLOPE_ARRAYS, W_x=F("D+C", "H"), y_init=F("N", "C"), dxs_dt=F("T", "N", "D"),
                  dy_init_dt=F("N", "C"))),
    ],
    # extras
    "cell_step_backward": [Call(lambda r: dict(dh=_n(r, N, H), x=_n(r, N, D), h_prev=_n(r, N, H),
                                               h=r.random((N, H)), W_x=_n(r, D, H), W_h=_n(r, H, H),
                                               activation="sigmoid"),
                                dict(dh=F("N", "H"), x=F("N", "D"), h_prev=F("N", "H"), h=F("N", "H"),
                                     W_x=F("D", "H"), W_h=F("H", "H")))],
    "leaky_rnn_forward": [Call(lambda r: dict(_rnn_args(r), alpha=0.3), RNN_ARRAYS, dict(alpha="float"))],
    "leaky_step_jacobians": [Call(lambda r: dict(hs=np.tanh(_n(r, T, N, H)), h0=_n(r, N, H), W_h=_n(r, H, H),
                                                 alpha=0.5),
                                  dict(hs=F("T", "N", "H"), h0=F("N", "H"), W_h=F("H", "H")), dict(alpha="float"))],
    "squared_error_rnn_grad": [Call(lambda r: dict(_rnn_args(r), W_y=_n(r, H, C), b_y=_n(r, C),
                                                   targets=_n(r, T, N, C)),
                                    dict(RNN_ARRAYS, W_y=F("H", "C"), b_y=F("C"), targets=F("T", "N", "C")))],
    "rnn_param_jvp": [Call(lambda r: dict(_rnn_args(r), dW_x=_n(r, D, H), dW_h=_n(r, H, H), db=_n(r, H)),
                           dict(RNN_ARRAYS, dW_x=F("D", "H"), dW_h=F("H", "H"), db=F("H")))],
}

# real-time recurrent learning and checkpointed back-propagation through time
_SENS_ARRAYS = {"sens_prev.W_x": F("N", "H", "D", "H"), "sens_prev.W_h": F("N", "H", "H", "H"),
                "sens_prev.b": F("N", "H", "H")}
_STEP_ARRAYS = dict(x=F("N", "D"), h_prev=F("N", "H"), W_x=F("D", "H"), W_h=F("H", "H"), b=F("H"))
CALLS.update({
    "rtrl_step": [Call(lambda r: dict(x=_n(r, N, D), h_prev=_n(r, N, H),
                                      sens_prev={"W_x": _n(r, N, H, D, H), "W_h": _n(r, N, H, H, H),
                                                 "b": _n(r, N, H, H)},
                                      W_x=_n(r, D, H), W_h=_n(r, H, H) / 3, b=_n(r, H)),
                       dict(_STEP_ARRAYS, **_SENS_ARRAYS)),
                  Call(lambda r: dict(x=_n(r, N, D), h_prev=_n(r, N, H), sens_prev=None, W_x=_n(r, D, H),
                                      W_h=_n(r, H, H) / 3, b=_n(r, H)), _STEP_ARRAYS)],
    "rtrl_grad": [Call(lambda r: dict(_rnn_args(r), dhs=_n(r, T, N, H)), dict(RNN_ARRAYS, dhs=F("T", "N", "H")))],
    "checkpointed_rnn_backward": [Call(lambda r: dict(_rnn_args(r), dhs=_n(r, T, N, H), k=2),
                                       dict(RNN_ARRAYS, dhs=F("T", "N", "H")), dict(k="int"))],
    "closed_loop_weights": [Call(lambda r: dict(W_x=_n(r, D + C, H), W_h=_n(r, H, H), b=_n(r, H), W_y=_n(r, H, C),
                                                b_y=_n(r, C)),
                                 # W_x has D + C rows; D is read from W_x itself, so its rows are a free letter
                                 dict(W_x=F("R", "H"), W_h=F("H", "H"), b=F("H"), W_y=F("H", "C"), b_y=F("C")))],
    "free_running_grad": [Call(lambda r: dict(xs=_n(r, T, N, D), h0=_n(r, N, H), W_x=_n(r, D + C, H) / 2,
                                              W_h=_n(r, H, H) / 3, b=_n(r, H), W_y=_n(r, H, C) / 2, b_y=_n(r, C),
                                              targets=_n(r, T, N, C)),
                               dict(xs=F("T", "N", "D"), h0=F("N", "H"), W_x=F("D+C", "H"), W_h=F("H", "H"),
                                    b=F("H"), W_y=F("H", "C"), b_y=F("C"), targets=F("T", "N", "C")))],
})

# the memory task (rnngrad.memory_task): D = 2 input channels of the adding problem
def _memory_params(r, cell):
    k = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    p = {"W_x": _n(r, 2, k * H) / 2, "W_h": _n(r, H, k * H) / 3, "b": _n(r, k * H)}
    if cell == "gru":
        p["b_hn"] = _n(r, H)
    return dict(p, W_y=_n(r, H, 1), b_y=_n(r, 1))


def _memory_arrays(cell):
    gate = {"rnn": "H", "lstm": "4H", "gru": "3H"}[cell]
    arrays = {"params.W_x": F("D", gate), "params.W_h": F("H", gate), "params.b": F(gate),
              "params.W_y": F("H", 1), "params.b_y": F(1)}
    return dict(arrays, **({"params.b_hn": F("H")} if cell == "gru" else {}))


CALLS.update({
    "adding_problem": [Call(lambda r: dict(T=4, N=3, rng=np.random.default_rng(0)), {}, dict(T="int", N="int"))],
    "init_memory_params": [Call(lambda r, c=c: dict(cell=c, D=2, H=H, rng=np.random.default_rng(0),
                                                    forget_bias=1.0 if c == "lstm" else 0.0), {},
                                dict(D="int", H="int", forget_bias="float"))
                           for c in ("rnn", "lstm", "gru")],
    "memory_task_loss_grad": [Call(lambda r, c=c: dict(cell=c, xs=_n(r, T, N, 2), targets=_n(r, N),
                                                       params=_memory_params(r, c)),
                                   dict(_memory_arrays(c), xs=F("T", "N", "D"), targets=F("N")))
                              for c in ("rnn", "lstm", "gru")],
    "train_memory_task": [Call(lambda r, c=c: dict(cell=c, params=_memory_params(r, c), T=4, steps=2, N=3,
                                                   lr=0.01, rng=np.random.default_rng(0)),
                               _memory_arrays(c), dict(T="int", steps="int", N="int", lr="float"))
                          for c in ("rnn", "lstm", "gru")],
})

# the torch counterparts take the arguments of their numpy reference, checked with the same letters
CALLS.update({
    "t_softmax": [Call(lambda r: dict(logits=_n(r, N, C), axis=0), dict(logits=F()), dict(axis="int"))],
    "t_log_softmax": [Call(lambda r: dict(logits=_n(r, N, C), axis=-1), dict(logits=F()), dict(axis="int"))],
    "t_softmax_jacobian": CALLS["softmax_jacobian"],
    "t_softmax_vjp": CALLS["softmax_vjp"],
    "t_cross_entropy": CALLS["cross_entropy"],
    "t_linear_map_jacobian": CALLS["linear_map_jacobian"],
    "t_batched_matmul_jacobian": CALLS["batched_matmul_jacobian"],
    "t_batched_matmul_jacobian_wrt_W": CALLS["batched_matmul_jacobian_wrt_W"],
    "t_rnn_forward": [Call(_rnn_args, RNN_ARRAYS)],
    "t_rnn_step_backward": [Call(lambda r: dict(dh=_n(r, N, H), x=_n(r, N, D), h_prev=_n(r, N, H), W_x=_n(r, D, H),
                                                W_h=_n(r, H, H), b=_n(r, H)),
                                 dict(dh=F("N", "H"), x=F("N", "D"), h_prev=F("N", "H"), W_x=F("D", "H"),
                                      W_h=F("H", "H"), b=F("H")))],
    "t_rnn_backward": [Call(lambda r: dict(_rnn_args(r), dhs=_n(r, T, N, H)), dict(RNN_ARRAYS, dhs=F("T", "N", "H")))],
    "t_char_lm_loss": [Call(_lm_args, LM_ARRAYS)],
    "t_char_lm_grad": [Call(_lm_args, LM_ARRAYS)],
    "t_char_lm_truncated_grad": [Call(lambda r: dict(_lm_args(r), k=2), LM_ARRAYS, dict(k="int"))],
    "t_char_lm_chunked_grad": [Call(lambda r: dict(_lm_args(r), k=2), LM_ARRAYS, dict(k="int"))],
    "t_rnn_states": [Call(_rnn_args, RNN_ARRAYS)],
    "t_step_jacobian": [Call(lambda r: dict(x=_n(r, N, D), h_prev=_n(r, N, H), W_x=_n(r, D, H), W_h=_n(r, H, H),
                                            b=_n(r, H)),
                             dict(x=F("N", "D"), h_prev=F("N", "H"), W_x=F("D", "H"), W_h=F("H", "H"), b=F("H")))],
    "t_step_jacobians": [Call(_rnn_args, RNN_ARRAYS)],
    "t_jacobian_products": [Call(_rnn_args, RNN_ARRAYS)],
    "t_jacobians_from_start": [Call(_rnn_args, RNN_ARRAYS)],
    "t_singular_values_over_time": [Call(_rnn_args, RNN_ARRAYS)],
    "t_two_state_step": CALLS["two_state_step"],
    "t_two_state_forward": CALLS["two_state_forward"],
    "t_two_state_state_jacobian": [Call(lambda r: dict(_two_state_args(r), activation="sigmoid", variant="after"),
                                        TWO_STATE_ARRAYS)],
    "t_two_state_output_jacobian": CALLS["two_state_output_jacobian"],
    "t_two_state_input_jacobian": CALLS["two_state_input_jacobian"],
    "t_rnn_jvp": CALLS["rnn_jvp"],
    "t_sequence_slope": CALLS["sequence_slope"],
    "t_output_jacobian_at_step": CALLS["output_jacobian_at_step"],
    "t_sequence_slope_feedback": CALLS["sequence_slope_feedback"],
})


# the gated cells (rnngrad.lstm, rnngrad.gru, rnngrad.gated_torch_weights, rnngrad.gated_jacobians) and their
# torch counterparts; "4H" and "3H" are the stacked gate axes (4 and 3 blocks of H units)
def _lstm_seq(r):
    return dict(xs=_n(r, T, N, D), h0=_n(r, N, H), c0=_n(r, N, H), W_x=_n(r, D, 4 * H) / 2,
                W_h=_n(r, H, 4 * H) / 3, b=_n(r, 4 * H))


def _lstm_one(r):
    return dict(x=_n(r, N, D), h_prev=_n(r, N, H), c_prev=_n(r, N, H), W_x=_n(r, D, 4 * H) / 2,
                W_h=_n(r, H, 4 * H) / 3, b=_n(r, 4 * H))


def _gru_seq(r, variant):
    return dict(xs=_n(r, T, N, D), h0=_n(r, N, H), W_x=_n(r, D, 3 * H) / 2, W_h=_n(r, H, 3 * H) / 3,
                b=_n(r, 3 * H), b_hn=_n(r, H), variant=variant)


def _gru_one(r, variant):
    return dict(x=_n(r, N, D), h_prev=_n(r, N, H), W_x=_n(r, D, 3 * H) / 2, W_h=_n(r, H, 3 * H) / 3,
                b=_n(r, 3 * H), b_hn=_n(r, H), variant=variant)


def _gates(r, *lead, k=4):
    return r.random(lead + (k * H,))


LSTM_SEQ = dict(xs=F("T", "N", "D"), h0=F("N", "H"), c0=F("N", "H"), W_x=F("D", "4H"), W_h=F("H", "4H"),
                b=F("4H"))
LSTM_ONE = dict(x=F("N", "D"), h_prev=F("N", "H"), c_prev=F("N", "H"), W_x=F("D", "4H"), W_h=F("H", "4H"),
                b=F("4H"))
GRU_SEQ = dict(xs=F("T", "N", "D"), h0=F("N", "H"), W_x=F("D", "3H"), W_h=F("H", "3H"), b=F("3H"), b_hn=F("H"))
GRU_ONE = dict(x=F("N", "D"), h_prev=F("N", "H"), W_x=F("D", "3H"), W_h=F("H", "3H"), b=F("3H"), b_hn=F("H"))


def _torch_sd(r, k):
    return {"state_dict": {"weight_ih_l0": _n(r, k * H, D), "weight_hh_l0": _n(r, k * H, H),
                           "bias_ih_l0": _n(r, k * H), "bias_hh_l0": _n(r, k * H)}}


def _sd_arrays(k):
    gates = f"{k}H"
    return {"state_dict.weight_ih_l0": F(gates, "D"), "state_dict.weight_hh_l0": F(gates, "H"),
            "state_dict.bias_ih_l0": F(gates), "state_dict.bias_hh_l0": F(gates)}


CALLS.update({
    "lstm_step_forward": [Call(_lstm_one, LSTM_ONE)],
    "lstm_forward": [Call(_lstm_seq, LSTM_SEQ)],
    "lstm_step_backward": [Call(lambda r: dict(dh=_n(r, N, H), dc=_n(r, N, H), x=_n(r, N, D), h_prev=_n(r, N, H),
                                               c_prev=_n(r, N, H), c=_n(r, N, H), gates=_gates(r, N),
                                               W_x=_n(r, D, 4 * H), W_h=_n(r, H, 4 * H)),
                                dict(dh=F("N", "H"), dc=F("N", "H"), x=F("N", "D"), h_prev=F("N", "H"),
                                     c_prev=F("N", "H"), c=F("N", "H"), gates=F("N", "4H"), W_x=F("D", "4H"),
                                     W_h=F("H", "4H")))],
    "lstm_backward": [Call(lambda r: dict(dhs=_n(r, T, N, H), xs=_n(r, T, N, D), h0=_n(r, N, H), c0=_n(r, N, H),
                                          hs=_n(r, T, N, H), cs=_n(r, T, N, H), gates=_gates(r, T, N),
                                          W_x=_n(r, D, 4 * H), W_h=_n(r, H, 4 * H), dh_T=_n(r, N, H),
                                          dc_T=_n(r, N, H)),
                           dict(dhs=F("T", "N", "H"), xs=F("T", "N", "D"), h0=F("N", "H"), c0=F("N", "H"),
                                hs=F("T", "N", "H"), cs=F("T", "N", "H"), gates=F("T", "N", "4H"),
                                W_x=F("D", "4H"), W_h=F("H", "4H"), dh_T=F("N", "H"), dc_T=F("N", "H")))],
    "gru_step_forward": [Call(lambda r: _gru_one(r, "torch"), GRU_ONE), Call(lambda r: _gru_one(r, "cho"), GRU_ONE)],
    "gru_forward": [Call(lambda r: _gru_seq(r, "torch"), GRU_SEQ), Call(lambda r: _gru_seq(r, "cho"), GRU_SEQ)],
    "gru_step_backward": [Call(lambda r: dict(dh=_n(r, N, H), x=_n(r, N, D), h_prev=_n(r, N, H),
                                              gates=_gates(r, N, k=3), W_x=_n(r, D, 3 * H), W_h=_n(r, H, 3 * H),
                                              b_hn=_n(r, H), variant=variant),
                               dict(dh=F("N", "H"), x=F("N", "D"), h_prev=F("N", "H"), gates=F("N", "3H"),
                                    W_x=F("D", "3H"), W_h=F("H", "3H"), b_hn=F("H")))
                          for variant in ("torch", "cho")],
    "gru_backward": [Call(lambda r: dict(dhs=_n(r, T, N, H), xs=_n(r, T, N, D), h0=_n(r, N, H), hs=_n(r, T, N, H),
                                         gates=_gates(r, T, N, k=3), W_x=_n(r, D, 3 * H), W_h=_n(r, H, 3 * H),
                                         b_hn=_n(r, H), dh_T=_n(r, N, H), variant=variant),
                          dict(dhs=F("T", "N", "H"), xs=F("T", "N", "D"), h0=F("N", "H"), hs=F("T", "N", "H"),
                               gates=F("T", "N", "3H"), W_x=F("D", "3H"), W_h=F("H", "3H"), b_hn=F("H"),
                               dh_T=F("N", "H")))
                     for variant in ("torch", "cho")],
    "lstm_params_from_torch": [Call(lambda r: _torch_sd(r, 4), _sd_arrays(4))],
    "gru_params_from_torch": [Call(lambda r: _torch_sd(r, 3), _sd_arrays(3))],
    "lstm_params_to_torch": [Call(lambda r: dict(params={k: v for k, v in _lstm_seq(r).items() if k[0] in "Wb"}),
                                  {"params.W_x": F("D", "4H"), "params.W_h": F("H", "4H"), "params.b": F("4H")})],
    "gru_params_to_torch": [Call(lambda r: dict(params={k: v for k, v in _gru_seq(r, "torch").items()
                                                        if k[0] in "Wb"}),
                                 {"params.W_x": F("D", "3H"), "params.W_h": F("H", "3H"), "params.b": F("3H"),
                                  "params.b_hn": F("H")})],
    "lstm_state_jacobian": [Call(lambda r: dict(c_prev=_n(r, N, H), c=_n(r, N, H), gates=_gates(r, N),
                                                W_h=_n(r, H, 4 * H)),
                                 dict(c_prev=F("N", "H"), c=F("N", "H"), gates=F("N", "4H"), W_h=F("H", "4H")))],
    "lstm_state_jacobians": [Call(lambda r: dict(c0=_n(r, N, H), cs=_n(r, T, N, H), gates=_gates(r, T, N),
                                                 W_h=_n(r, H, 4 * H)),
                                  dict(c0=F("N", "H"), cs=F("T", "N", "H"), gates=F("T", "N", "4H"),
                                       W_h=F("H", "4H")))],
    "lstm_cell_path_products": [Call(lambda r: dict(gates=_gates(r, T, N)), dict(gates=F("T", "N", "4H")))],
    "cell_path_vs_rnn_norms": [Call(lambda r: dict(gates=_gates(r, T, N), rnn_hs=np.tanh(_n(r, T, N, 3)),
                                                   rnn_W_h=_n(r, 3, 3)),
                                    dict(gates=F("T", "N", "4H"), rnn_hs=F("T", "N", "K"), rnn_W_h=F("K", "K")),
                                    int_results=("result['distance']",))],
    "t_lstm_forward": [Call(_lstm_seq, LSTM_SEQ)],
    "t_lstm_step_backward": [Call(lambda r: dict(_lstm_one(r), dh=_n(r, N, H), dc=_n(r, N, H)),
                                  dict(LSTM_ONE, dh=F("N", "H"), dc=F("N", "H")))],
    "t_lstm_backward": [Call(lambda r: dict(_lstm_seq(r), dhs=_n(r, T, N, H), dh_T=_n(r, N, H), dc_T=_n(r, N, H)),
                             dict(LSTM_SEQ, dhs=F("T", "N", "H"), dh_T=F("N", "H"), dc_T=F("N", "H")))],
    "t_lstm_state_jacobian": [Call(_lstm_one, LSTM_ONE)],
    "t_gru_forward": [Call(lambda r: _gru_seq(r, "torch"), GRU_SEQ), Call(lambda r: _gru_seq(r, "cho"), GRU_SEQ)],
    "t_gru_step_backward": [Call(lambda r: dict(_gru_one(r, "cho"), dh=_n(r, N, H)), dict(GRU_ONE, dh=F("N", "H")))],
    "t_gru_backward": [Call(lambda r: dict(_gru_seq(r, "torch"), dhs=_n(r, T, N, H), dh_T=_n(r, N, H)),
                            dict(GRU_SEQ, dhs=F("T", "N", "H"), dh_T=F("N", "H")))],
})

def test_unchecked_torch_functions_are_public():
    """The exemption list cannot keep a name that is gone or that is not a torch_ref function."""
    assert set(TORCH_UNCHECKED) <= {k for k, v in PUBLIC_TORCH.items() if inspect.isfunction(v)}
    assert not set(TORCH_UNCHECKED) & set(PUBLIC)


def test_every_public_function_has_an_entry():
    assert sorted(set(FUNCTIONS) - set(CALLS)) == [], "add these functions to CALLS"
    assert sorted(set(CALLS) - set(FUNCTIONS)) == [], "CALLS names functions that are not public"


def test_table_declares_every_array_argument():
    """Every ndarray among the valid arguments (and in their dicts) is declared, with matching shape letters."""
    for name, calls in CALLS.items():
        params = inspect.signature(FUNCTIONS[name]).parameters
        for call in calls:
            kwargs = call.make(np.random.default_rng(0))
            assert set(kwargs) <= set(params), name
            found = {}
            for arg, value in kwargs.items():
                if isinstance(value, np.ndarray):
                    found[arg] = value
                elif isinstance(value, dict):
                    found.update({f"{arg}.{k}": v for k, v in value.items() if isinstance(v, np.ndarray)})
            assert set(found) == set(call.arrays), f"{name}: declared {sorted(call.arrays)}, made {sorted(found)}"
            sizes = {}
            for path, spec in call.arrays.items():
                kind = {"f": "float", "i": "int", "b": "bool"}[found[path].dtype.kind]
                assert kind == spec.kind, f"{name}: {path} is {kind}, declared {spec.kind}"
                if spec.letters is not None:
                    assert found[path].ndim == len(spec.letters), f"{name}: {path}"
                    for letter, size in zip(spec.letters, found[path].shape):
                        if isinstance(letter, str):
                            assert sizes.setdefault(letter, size) == size, f"{name}: {path} letter {letter}"


CASES = [(name, i) for name in sorted(CALLS) for i in range(len(CALLS[name]))]
CASE_IDS = [f"{name}[{i}]" for name, i in CASES]
SCALAR_CASES = [(name, i) for name, i in CASES if CALLS[name][i].scalars]
FLOAT_CASES = [(name, i) for name, i in CASES if any(s.kind == "float" for s in CALLS[name][i].arrays.values())]


# ----------------------------------------------------------------------------- helpers for the bad-input checks

def _get(kwargs: dict, path: str):
    arg, _, key = path.partition(".")
    return kwargs[arg][key] if key else kwargs[arg]


def _with(kwargs: dict, path: str, value) -> dict:
    """A deep copy of kwargs with the array at ``path`` replaced."""
    new = copy.deepcopy(kwargs)
    arg, _, key = path.partition(".")
    if key:
        new[arg][key] = value
    else:
        new[arg] = value
    return new


def _spellings(path: str) -> list[str]:
    arg, _, key = path.partition(".")
    return [f"{arg}['{key}']", f'{arg}["{key}"]'] if key else [arg]


def _starts_with_name(message: str, path: str) -> bool:
    return any(message.startswith(s + ":") for s in _spellings(path))


def _names(message: str, path: str) -> bool:
    return any(_mentions(message, s) for s in _spellings(path))


def _call_raising(name: str, kwargs: dict) -> RnngradInputError:
    try:
        FUNCTIONS[name](**kwargs)
    except RnngradInputError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - any other exception breaks the contract
        pytest.fail(f"{name}: raised {type(exc).__name__}: {exc} (expected a named RnngradInputError)")
    pytest.fail(f"{name}: accepted the bad input silently")


def _float_paths(call: Call) -> list[str]:
    return [p for p, spec in call.arrays.items() if spec.kind == "float"]


def _bound_axes(call: Call, path: str) -> list[int]:
    """Axes of ``path`` whose size must agree with another axis (of this or another array argument)."""
    spec = call.arrays[path]
    if spec.letters is None:
        return []
    counts: dict = {}
    for other in call.arrays.values():
        for letter in other.letters or ():
            counts[letter] = counts.get(letter, 0) + 1
    return [i for i, letter in enumerate(spec.letters)
            if isinstance(letter, int) or "+" in letter or counts[letter] > 1]


def _assert_unchanged(before, after, where: str):
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray) and before.dtype == after.dtype and before.shape == after.shape \
            and np.array_equal(before, after), f"{where} was modified"
    elif isinstance(before, dict):
        assert isinstance(after, dict) and list(before) == list(after), f"{where}: keys changed"
        for k in before:
            _assert_unchanged(before[k], after[k], f"{where}['{k}']")


def _float_results(obj, where="result"):
    """(where, dtype) of every float array or float scalar in a result."""
    if isinstance(obj, np.ndarray):
        yield where, obj.dtype
    elif isinstance(obj, (np.floating, np.integer)):
        yield where, obj.dtype
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _float_results(v, f"{where}[{k!r}]")
    elif isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            yield from _float_results(v, f"{where}[{i}]")
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _float_results(getattr(obj, f.name), f"{where}.{f.name}")


def _check_result_dtypes(name: str, call: Call, result):
    for where, dtype in _float_results(result):
        if where in call.int_results and dtype == np.int64:
            continue
        assert dtype == np.float64, f"{name}: {where} has dtype {dtype}, expected float64"


# ----------------------------------------------------------------------------- 2. bad input

@pytest.mark.parametrize("name,i", CASES, ids=CASE_IDS)
def test_integer_and_object_arrays_are_refused_by_name(name, i):
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(1))
    for path in _float_paths(call):
        value = _get(kwargs, path)
        for bad in (np.round(value * 3).astype(np.int64), value.astype(object)):
            exc = _call_raising(name, _with(kwargs, path, bad))
            assert isinstance(exc, DTypeError), f"{name}, {path} as {bad.dtype}: {type(exc).__name__}: {exc}"
            assert _starts_with_name(str(exc), path), f"{name}, {path} as {bad.dtype}: {exc}"


@pytest.mark.parametrize("name,i", CASES, ids=CASE_IDS)
def test_float_arrays_are_refused_where_integers_are_needed(name, i):
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(2))
    for path, spec in call.arrays.items():
        if spec.kind == "int":
            exc = _call_raising(name, _with(kwargs, path, _get(kwargs, path).astype(np.float64) + 0.5))
            assert _starts_with_name(str(exc), path), f"{name}, {path} as float: {exc}"


@pytest.mark.parametrize("name,i", CASES, ids=CASE_IDS)
def test_nan_and_inf_are_refused_by_name(name, i):
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(3))
    for path in _float_paths(call):
        if path in call.nan_allowed:
            continue
        for bad_value in (np.nan, -np.inf):
            bad = _get(kwargs, path).copy()
            bad.flat[bad.size // 2] = bad_value
            exc = _call_raising(name, _with(kwargs, path, bad))
            assert isinstance(exc, NonFiniteError), f"{name}, {path} with {bad_value}: {type(exc).__name__}: {exc}"
            assert _starts_with_name(str(exc), path), f"{name}, {path} with {bad_value}: {exc}"


@pytest.mark.parametrize("name,i", CASES, ids=CASE_IDS)
def test_wrong_shapes_are_refused_by_name(name, i):
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(4))
    arg_names = [re.escape(s) for p in call.arrays for s in _spellings(p)]
    starts_with_some_argument = re.compile(rf"^({'|'.join(arg_names)}):") if arg_names else None
    for path, spec in call.arrays.items():
        value = _get(kwargs, path)
        bad_shapes = []
        if spec.letters is not None and not spec.any_ndim:
            bad_shapes.append(((2,) + value.shape, "an extra axis"))
        for axis in _bound_axes(call, path):
            shape = list(value.shape)
            shape[axis] += 1
            bad_shapes.append((tuple(shape), f"axis {axis} one longer"))
        for shape, what in bad_shapes:
            bad = np.resize(value, shape)       # same dtype, entries recycled
            exc = _call_raising(name, _with(kwargs, path, bad))
            where = f"{name}, {path} with {what} {shape}"
            assert isinstance(exc, ShapeError), f"{where}: {type(exc).__name__}: {exc}"
            assert starts_with_some_argument.match(str(exc)), f"{where}: message does not start with an argument: {exc}"
            assert _names(str(exc), path), f"{where}: message does not name {path}: {exc}"


@pytest.mark.parametrize("name,i", SCALAR_CASES, ids=[f"{name}[{i}]" for name, i in SCALAR_CASES])
def test_bad_numbers_are_refused_by_name(name, i):
    """A NaN or a string where a float is needed, a fraction or a string where an integer is needed."""
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(7))
    for arg, kind in call.scalars.items():
        for bad in ((np.nan, "0.5") if kind == "float" else (1.5, "2")):
            exc = _call_raising(name, dict(kwargs, **{arg: bad}))
            assert _starts_with_name(str(exc), arg), f"{name}, {arg}={bad!r}: {exc}"


def _letter_sizes(call: Call, kwargs: dict) -> dict:
    sizes = {}
    for path, spec in call.arrays.items():
        for letter, size in zip(spec.letters or (), _get(kwargs, path).shape):
            if isinstance(letter, str) and "+" not in letter:
                sizes[letter] = size
    return sizes


EMPTY_CASES = [(name, i, letter) for name, i in CASES
               for letter in sorted(_letter_sizes(CALLS[name][i], CALLS[name][i].make(np.random.default_rng(0))))]


@pytest.mark.parametrize("name,i,letter", EMPTY_CASES, ids=[f"{n}[{i}]-{L}=0" for n, i, L in EMPTY_CASES])
def test_empty_axes_give_a_result_or_a_named_error(name, i, letter):
    """With one size set to 0 in every argument that has it, a function either computes (an empty or
    zero result) or raises a named RnngradInputError; never an IndexError or a division by zero."""
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(8))
    sizes = dict(_letter_sizes(call, kwargs), **{letter: 0})
    for path, spec in call.arrays.items():
        if spec.letters is None or not any(letter in str(l).split("+") for l in spec.letters):
            continue
        shape = tuple(l if isinstance(l, int) else sum(sizes[part] for part in l.split("+")) for l in spec.letters)
        kwargs = _with(kwargs, path, np.zeros(shape, _get(kwargs, path).dtype))
    try:
        result = FUNCTIONS[name](**kwargs)
    except RnngradInputError as exc:
        assert re.match(r"^[\w\[\]'\"]+:", str(exc)), f"{name} with {letter}=0: no name in front of: {exc}"
        return
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{name} with {letter}=0: {type(exc).__name__}: {exc}")
    _check_result_dtypes(name, call, result)


DICT_CASES = [(name, i) for name, i in CASES if any("." in p for p in CALLS[name][i].arrays)]


@pytest.mark.parametrize("name,i", DICT_CASES, ids=[f"{name}[{i}]" for name, i in DICT_CASES])
def test_dict_arguments_must_be_dicts(name, i):
    """A dict of arrays (params, grads, ...) passed as a list of its arrays gets a named error."""
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(10))
    for arg in sorted({p.partition(".")[0] for p in call.arrays if "." in p}):
        exc = _call_raising(name, dict(kwargs, **{arg: list(kwargs[arg].values())}))
        assert _starts_with_name(str(exc), arg) and "dict" in str(exc), f"{name}, {arg} as a list: {exc}"


#: string arguments that are data, not a choice among options
FREE_TEXT = {("train_char_lm", "text")}


def test_table_passes_every_option_argument():
    """Every parameter whose default is a string (an option such as activation or reduction) is set
    explicitly in some entry of CALLS, so that the next test tries a wrong value for it."""
    missing = []
    for name, func in FUNCTIONS.items():
        passed = {k for call in CALLS.get(name, []) for k in call.make(np.random.default_rng(0))}
        missing += [f"{name}({p.name})" for p in inspect.signature(func).parameters.values()
                    if isinstance(p.default, str) and p.name not in passed]
    assert missing == []


@pytest.mark.parametrize("name,i", CASES, ids=CASE_IDS)
def test_unknown_options_are_refused_by_name(name, i):
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(9))
    options = [k for k, v in kwargs.items() if isinstance(v, str) and (name, k) not in FREE_TEXT]
    for arg in options:
        exc = _call_raising(name, dict(kwargs, **{arg: "no_such_option"}))
        assert _starts_with_name(str(exc), arg) and "no_such_option" in str(exc), f"{name}, {arg}: {exc}"


# ----------------------------------------------------------------------------- 3. purity and float64

@pytest.mark.parametrize("name,i", CASES, ids=CASE_IDS)
def test_inputs_are_not_modified_and_results_are_float64(name, i):
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(5))
    before = {k: copy.deepcopy(v) for k, v in kwargs.items() if isinstance(v, (np.ndarray, dict))}
    result = FUNCTIONS[name](**kwargs)
    for k, v in before.items():
        _assert_unchanged(v, kwargs[k], f"{name}: argument {k}")
    _check_result_dtypes(name, call, result)


@pytest.mark.parametrize("name,i", FLOAT_CASES, ids=[f"{name}[{i}]" for name, i in FLOAT_CASES])
def test_float32_inputs_give_float64_results(name, i):
    call = CALLS[name][i]
    paths = _float_paths(call)
    kwargs = call.make(np.random.default_rng(6))
    for path in paths:
        kwargs = _with(kwargs, path, _get(kwargs, path).astype(np.float32))
    _check_result_dtypes(name, call, FUNCTIONS[name](**kwargs))


def test_purity_check_can_fail():
    """The comparison used above notices an in-place change, including inside a dict."""
    a = {"w": np.zeros(3)}
    b = copy.deepcopy(a)
    b["w"][1] = 1.0
    with pytest.raises(AssertionError, match=r"\['w'\] was modified"):
        _assert_unchanged(a, b, "params")
    with pytest.raises(AssertionError, match="float32"):
        _check_result_dtypes("f", Call(lambda r: {}), (np.zeros(2), {"g": np.zeros(2, np.float32)}))
    with pytest.raises(AssertionError, match="int64"):
        _check_result_dtypes("f", Call(lambda r: {}, int_results=("result[0]",)), (np.zeros(2, int), np.zeros(1, int)))


# ----------------------------------------------------------------------------- 4. tensors given to torch_ref

TORCH_CASES = [(name, i) for name, i in CASES if name in PUBLIC_TORCH]


def _as_tensors(obj, **kw):
    """``obj`` with every array (also inside dicts) replaced by a tensor of the same dtype and shape."""
    import torch
    if isinstance(obj, np.ndarray):
        return torch.as_tensor(obj.copy(), device=rnngrad.torch_ref.default_device(), **kw)
    if isinstance(obj, dict):
        return {k: _as_tensors(v, **kw) for k, v in obj.items()}
    return obj


def _same_results(a, b, where):
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same_results(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            _same_results(x, y, f"{where}[{k}]")
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b)), where


def test_torch_cases_are_listed():
    assert len(TORCH_CASES) == sum(len(CALLS[k]) for k in FUNCTIONS if k in PUBLIC_TORCH) > 30


@pytest.mark.parametrize("name,i", TORCH_CASES, ids=[f"{name}[{i}]" for name, i in TORCH_CASES])
def test_torch_counterparts_check_tensors_as_they_check_arrays(name, i):
    """Tensor arguments (on the default device, some requiring grad) give the results of the numpy arguments,
    and an integer tensor, a NaN in a tensor or a tensor with an extra axis gets the named error."""
    call = CALLS[name][i]
    kwargs = call.make(np.random.default_rng(11))
    tensors = {k: _as_tensors(v) for k, v in kwargs.items()}
    _same_results(FUNCTIONS[name](**kwargs), FUNCTIONS[name](**tensors), f"{name}: result")
    for path in _float_paths(call):
        value = _get(tensors, path)
        leaf = value.clone().requires_grad_(True)       # accepted as is, and left without a gradient
        _same_results(FUNCTIONS[name](**kwargs), FUNCTIONS[name](**_with(tensors, path, leaf)), f"{name}: {path}")
        assert leaf.grad is None, f"{name}: {path} received a gradient"
        bad_nan = value.clone()
        bad_nan.view(-1)[value.numel() // 2] = float("nan")
        bad_shape = value[None]
        for bad, error in ((value.round().long(), DTypeError), (bad_nan, NonFiniteError), (bad_shape, ShapeError)):
            if error is ShapeError and (call.arrays[path].letters is None or call.arrays[path].any_ndim):
                continue
            exc = _call_raising(name, _with(tensors, path, bad))
            assert isinstance(exc, error), f"{name}, {path}: {type(exc).__name__}: {exc}"
            assert _names(str(exc), path), f"{name}, {path}: {exc}"
    for path, spec in call.arrays.items():
        if spec.kind == "int":                          # integer tensors are accepted where indices are
            ints = _with(kwargs, path, _as_tensors(_get(kwargs, path)))
            _same_results(FUNCTIONS[name](**kwargs), FUNCTIONS[name](**ints), f"{name}: {path} as a tensor")
