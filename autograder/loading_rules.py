"""The rules the grader applies when it loads a notebook's code, and the sentences that explain a broken one.

One source for both sides: the official run (:mod:`autograder.run` turns a load error into these sentences,
and the sandbox makes exactly :data:`SANDBOX_PACKAGES` importable), the student's ``check()`` (the shipped
``rnncheck.py`` embeds this file, see :mod:`autograder.fixtures`) and the notebooks' introduction
(:func:`allowed_imports_text`). Standard library only.

The rules, as the sandbox applies them (``answer_code.py``, ``loader_program.py``, ``sandbox/worker.py``):

1. Only the Python standard library, :data:`SANDBOX_PACKAGES` and the released modules (``rnncheck``) can be
   imported; any other import raises ``ModuleNotFoundError`` (files of the student's own are not there either).
2. Each cell runs on its own, in notebook order: a cell that raises stops at that line (what it would have
   defined after it is missing), and the other cells still run.
3. There is no Jupyter: :data:`JUPYTER_ONLY_NAMES` are not defined, and magics other than ``%time``,
   ``%%time``, ``%%capture`` and ``%%prun`` do nothing (``%run``, ``%load``, ``!pip``).
4. Only the notebook's answer cells and the code cells the student added run (the check cells do not); a
   graded function must be something callable under its own name once every cell has run.
5. Each call gets fresh copies of its inputs, and a function must not change them (:func:`changed_argument`).
"""
from __future__ import annotations

import re
import sys

#: Packages the sandbox makes importable besides the standard library (``sandbox.DEFAULT_IMPORTS``).
SANDBOX_PACKAGES = ("numpy",)
#: Modules the release puts next to the notebook (importable when grading).
RELEASED_MODULES = ("rnncheck",)
#: Names Jupyter defines and plain Python (the grader's) does not.
JUPYTER_ONLY_NAMES = ("display", "In", "Out", "exit", "quit", "help")

#: What every graded function's docstring says about its inputs (the checks enforce it).
UNCHANGED_ARGUMENTS = "It leaves its arguments unchanged: work on copies, never modify an input in place."

_MISSING_MODULE = re.compile(r"^(?:ModuleNotFoundError|ImportError): No module named '([A-Za-z_][\w.]{0,99})'")
_MISSING_NAME = re.compile(r"^NameError: name '([A-Za-z_]\w{0,99})' is not defined")


def allowed_imports_text() -> str:
    """The sentence the notebooks' introduction shows about imports.

    Returns:
        Markdown text, e.g. "Your code may import only numpy, rnncheck and the Python standard library; ...".
    """
    names = ", ".join(f"`{n}`" for n in SANDBOX_PACKAGES + RELEASED_MODULES)
    jupyter = ", ".join(f"`{n}`" for n in JUPYTER_ONLY_NAMES)
    return (f"**Imports.** Your code is graded in plain Python that can import only {names} and the Python "
            "standard library. Any other import (`scipy`, `torch`, `matplotlib`, `IPython`, a file of your own) "
            "stops its cell when grading, and what the cell defines after it is missing. Jupyter's own names "
            f"({jupyter}) do not exist there either, and magics other than `%time`, `%%time`, `%%capture` and "
            "`%%prun` do nothing (`%run`, `!pip install`). `check()` warns about each such import and name, and "
            "runs your function as the grader will.")


def import_allowed(module: str) -> bool:
    """True when ``module`` (e.g. ``"numpy.linalg"``) can be imported when grading.

    Example:
        >>> import_allowed("numpy.linalg"), import_allowed("matplotlib.pyplot")
        (True, False)
    """
    top = str(module).split(".")[0]
    return (top in SANDBOX_PACKAGES or top in RELEASED_MODULES or top == "__future__"
            or top in sys.stdlib_module_names)


def unavailable_import(module: str) -> str:
    """The sentence for an import the grader cannot satisfy.

    Example:
        >>> unavailable_import("matplotlib.pyplot")
        'matplotlib is not available when grading: remove the import'
    """
    return f"{str(module).split('.')[0]} is not available when grading: remove the import"


def jupyter_only(name: str) -> str:
    """The sentence for a name only Jupyter defines.

    Example:
        >>> jupyter_only("display")
        'display is defined by Jupyter only and does not exist when grading: remove it'
    """
    return f"{name} is defined by Jupyter only and does not exist when grading: remove it"


def run_file(path: str) -> str:
    """The sentence for code a notebook takes from a file with ``%run`` (the grader runs no magic but ``%time``).

    Example:
        >>> run_file("helpers.py")
        '%run helpers.py does nothing when grading: put the code of helpers.py in a cell of the notebook'
    """
    name = "".join(c for c in str(path).replace("\\", "/").split("/")[-1][:80] if c.isalnum() or c in "._-")
    return f"%run {name} does nothing when grading: put the code of {name} in a cell of the notebook"


def magic_faults(text: str) -> list[str]:
    """The sentences for the lines of a cell that bring in code from a file (``%run file``, ``%load file``).

    Example:
        >>> magic_faults("%run helpers.py\\nx = 1")
        ['%run helpers.py does nothing when grading: put the code of helpers.py in a cell of the notebook']
    """
    found = re.findall(r"^[ \t]*%(?:run|load)[ \t]+(?:-\w+[ \t]+)*([^\s;]+)", str(text)[:100_000], flags=re.M)
    return [run_file(path) for path in found[:5]]


def explain_error(message: str) -> str | None:
    """The rule a load or call error breaks, as its sentence; None when it breaks none of them.

    Args:
        message: ``"ExceptionType: text"``, as the sandbox reports an exception.

    Example:
        >>> explain_error("ModuleNotFoundError: No module named 'matplotlib'")
        'matplotlib is not available when grading: remove the import'
        >>> explain_error("ValueError: oops") is None
        True
    """
    text = str(message or "")
    found = _MISSING_MODULE.match(text)
    if found and not import_allowed(found.group(1)):
        return unavailable_import(found.group(1))
    found = _MISSING_NAME.match(text)
    if found and found.group(1) in JUPYTER_ONLY_NAMES:
        return jupyter_only(found.group(1))
    return None


def parameter_names(signature: str) -> list[str]:
    """The parameter names of a spec's signature text.

    Example:
        >>> parameter_names("rnn_backward(dhs, xs, h0, hs, W_x, W_h) -> dict")
        ['dhs', 'xs', 'h0', 'hs', 'W_x', 'W_h']
    """
    inside = str(signature).partition("(")[2].partition(")")[0]
    return [p.split("=")[0].strip().lstrip("*") for p in inside.split(",") if p.strip()]


def argument_label(path: list, parameters: list[str]) -> str:
    """How a changed input is named: ``path`` is ``[position or keyword, key, ...]``.

    Example:
        >>> argument_label([1, "W_h"], ["grads", "params"])
        "params['W_h']"
    """
    head, rest = path[0], path[1:]
    name = parameters[head] if isinstance(head, int) and 0 <= head < len(parameters) else (
        f"#{head + 1}" if isinstance(head, int) else str(head))
    return name + "".join(f"[{k!r}]" for k in rest)


def changed_argument(function: str, argument: str) -> str:
    """The sentence for a function that changed one of its inputs.

    Example:
        >>> changed_argument("softmax_jacobian", "z")
        "softmax_jacobian changed its argument 'z' in place: work on a copy"
    """
    return f"{function} changed its argument '{argument}' in place: work on a copy"


def changed_inputs(before, after, path=None) -> list[list]:
    """Paths of the inputs that differ between a pristine copy ``before`` and ``after`` a call.

    Args:
        before: the inputs as sent, ``(args list, kwargs dict)`` or any nesting of arrays, dicts, lists, tuples.
        after: the same objects after the call.

    Returns:
        One path per changed argument (``[position or keyword, key, ...]``), the first change of each argument.

    Example:
        >>> import numpy as np
        >>> x = np.zeros(2); y = x.copy(); x[0] = 1.0
        >>> changed_inputs(([y], {}), ([x], {}))
        [[0]]
    """
    if path is None:
        (args0, kwargs0), (args1, kwargs1) = before, after
        out = []
        for i, (a, b) in enumerate(zip(args0, args1)):
            out += changed_inputs(a, b, [i])[:1]
        for k in kwargs0:
            out += changed_inputs(kwargs0[k], kwargs1.get(k), [k])[:1]
        return out
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(before) != set(after):
            return [path]
        return [p for k in before for p in changed_inputs(before[k], after[k], path + [k])][:1]
    if isinstance(before, (list, tuple)):
        if type(after) is not type(before) or len(after) != len(before):
            return [path]
        return [p for a, b in zip(before, after) for p in changed_inputs(a, b, path)][:1]
    if hasattr(before, "tobytes") and hasattr(before, "dtype"):
        same = (type(after) is type(before) and after.shape == before.shape and after.dtype == before.dtype
                and after.tobytes() == before.tobytes())
        return [] if same else [path]
    return []
