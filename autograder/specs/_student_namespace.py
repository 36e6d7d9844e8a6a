"""The student-side view of the loading rules: what a notebook's namespace holds when the grader loads it.

Shipped inside ``rnncheck.py`` after :mod:`autograder.loading_rules` (see :mod:`autograder.fixtures`). The
grader runs the notebook's cells again in plain Python; ``check()`` cannot do that from inside the student's
kernel, so it reads the cells that defined the checked function and the functions it uses (IPython keeps
each cell's text in ``linecache``) and applies the same rules to the live namespace:

* a cell stops at its first statement that breaks a rule (an import the grader cannot satisfy, a name only
  Jupyter defines): the names its top level binds from there on are missing;
* names bound to modules or objects of packages the grader does not offer are missing;
* Jupyter's own names and the kernel's history (``In``, ``_i3``, ``display``) are missing;
* a function defined in a file beside the notebook (``%run helpers.py``) is missing;
* an import made while the function runs raises as it does when grading.

:func:`grading_view` returns the checked function rebound to that namespace, so the visible cases run as
they will run when grading.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import linecache
import os
import re
import sys
import types

from autograder.loading_rules import (JUPYTER_ONLY_NAMES, import_allowed, jupyter_only,  # not shipped
                                      run_file, unavailable_import)  # not shipped

__all__ = ["GradingView", "grading_view", "cell_faults"]

#: the kernel's history and output caches (``_``, ``__``, ``_i``, ``_ih``, ``_i3``, ``_7``)
_HISTORY = re.compile(r"^(?:_{1,3}|_i{1,3}|_i\d+|_\d+|_ih|_oh|_dh)$")
#: exceptions whose handler makes a failed import harmless
_IMPORT_HANDLERS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


class GradingView:
    """What :func:`grading_view` found: the function as it will run when grading and why things differ.

    Attributes:
        function: the checked function rebound to the grading namespace, or None when it will be missing.
        missing: name -> the sentence saying why the grader will not have it.
        warnings: one line per rule a cell breaks (``"cell line 2: matplotlib is not available ..."``).
    """

    def __init__(self, function, missing: dict, warnings: list):
        self.function = function
        self.missing = missing
        self.warnings = warnings


def _transformed(text: str) -> str:
    """The cell as IPython runs it (IPython's own transformer in a Jupyter kernel, else the text)."""
    if "IPython" not in sys.modules:
        return text
    try:
        module = importlib.import_module("IPython.core.inputtransformer2")
        return module.TransformerManager().transform_cell(text)
    except Exception:  # a cell the transformer gives up on
        return text


def _handles_import_errors(handlers) -> bool:
    for h in handlers:
        if h.type is None:
            return True
        names = [h.type] if not isinstance(h.type, ast.Tuple) else list(h.type.elts)
        if any(isinstance(n, ast.Name) and n.id in _IMPORT_HANDLERS for n in names):
            return True
    return False


def _statement_faults(node, top: bool, guarded: bool):
    """(line, sentence, runs at load time) for each rule a statement and its children break."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        top = False  # its body runs when it is called
    if isinstance(node, ast.Try):
        guarded = guarded or _handles_import_errors(node.handlers)
    if isinstance(node, ast.Import) and not guarded:
        for alias in node.names:
            if not import_allowed(alias.name):
                yield node.lineno, unavailable_import(alias.name), top
    elif isinstance(node, ast.ImportFrom) and not guarded and node.level == 0 and node.module:
        if not import_allowed(node.module):
            yield node.lineno, unavailable_import(node.module), top
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in JUPYTER_ONLY_NAMES:
        yield node.lineno, jupyter_only(node.id), top
    for child in ast.iter_child_nodes(node):
        yield from _statement_faults(child, top, guarded)


def cell_faults(text: str) -> list[tuple[int, str, bool]]:
    """Every rule a cell breaks: ``(line, sentence, at load time)``, in line order.

    Example:
        >>> cell_faults("import matplotlib.pyplot as plt\\ndef f(x):\\n    return x\\n")
        [(1, 'matplotlib is not available when grading: remove the import', True)]
    """
    try:
        tree = ast.parse(_transformed(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    bound = _bound_names(tree.body)
    found = [f for stmt in tree.body for f in _statement_faults(stmt, True, False)]
    # a Jupyter name the cell itself defines is the cell's own
    found = [f for f in found if not any(f[1] == jupyter_only(n) for n in bound)]
    return sorted(set(found))


def _bound_names(statements) -> set:
    names = set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _names_from(text: str, line: int) -> set:
    """Names bound by the cell's top-level statements that end at or after ``line`` (the cell stops there)."""
    try:
        tree = ast.parse(_transformed(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names, todo = set(), [s for s in tree.body if (s.end_lineno or s.lineno) >= line]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)      # its body is not the cell's top level
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif not isinstance(node, ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return names


def _cell_text(code) -> str | None:
    """The text of the notebook cell a code object comes from (IPython caches it), or None for a file."""
    filename = code.co_filename
    lines = linecache.cache.get(filename)
    if lines is None or (not filename.startswith("<") and os.path.isfile(filename)
                         and not os.path.basename(os.path.dirname(filename)).startswith("ipykernel_")):
        return None
    return "".join(lines[2])


def _package(value) -> str | None:
    """Top-level package a module, function, class or object comes from (None when it cannot be told)."""
    try:
        if isinstance(value, types.ModuleType):
            return str(value.__name__).split(".")[0]
        module = getattr(value, "__module__", None) if isinstance(value, (type, types.FunctionType,
                                                                           types.BuiltinFunctionType)) else None
        module = module or getattr(type(value), "__module__", None)
        return module.split(".")[0] if isinstance(module, str) else None
    except Exception:  # an object whose attributes raise: it cannot be told
        return None


def _used_functions(func, namespace: dict) -> list:
    """``func`` and the functions of ``namespace`` it reaches through global names (transitively)."""
    seen, todo, out = set(), [func], []
    while todo and len(out) < 200:
        f = todo.pop()
        code = getattr(f, "__code__", None)
        if code is None or id(f) in seen or getattr(f, "__globals__", None) is not namespace:
            continue
        seen.add(id(f))
        out.append(f)
        codes = [code]
        while codes:
            c = codes.pop()
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
            todo += [namespace[n] for n in c.co_names if isinstance(namespace.get(n), types.FunctionType)]
    return out


def grading_view(name: str, func) -> GradingView:
    """The checked function as the grader will run it, with the reasons for every difference.

    Args:
        name: the graded function's name (the grader looks it up by this name).
        func: the function the notebook passed to ``check()``.

    Returns:
        A :class:`GradingView`. ``function`` is None when the grader will not find ``name``.
    """
    namespace = getattr(func, "__globals__", None)
    if not isinstance(namespace, dict):
        return GradingView(func, {}, [])
    own_module = namespace.get("__name__")
    missing, warnings = {}, []
    for f in _used_functions(func, namespace):
        text = _cell_text(f.__code__)
        if text is None:
            continue
        faults = cell_faults(text)
        for line, sentence, _ in faults:
            note = f"the cell defining {f.__name__}, line {line}: {sentence}"
            if note not in warnings:
                warnings.append(note)
        stop = next((line for line, _, at_load in faults if at_load), None)
        if stop is not None:
            rule = next(s for line, s, at_load in faults if at_load and line == stop)
            for n in _names_from(text, stop):
                missing.setdefault(n, f"the cell defining {f.__name__} stops at line {stop} when grading ({rule})")
    for key, value in namespace.items():
        if key in missing or key.startswith("__") or key == "get_ipython":   # the grader has a stand-in
            continue
        package = _package(value)
        code = getattr(value, "__code__", None)
        if isinstance(value, types.FunctionType) and value.__module__ == own_module and code is not None \
                and _cell_text(code) is None and os.path.isfile(code.co_filename):
            # e.g. %run helpers.py: the file is not part of the notebook
            missing[key] = run_file(code.co_filename)
            if missing[key] not in warnings:
                warnings.append(missing[key])
        elif key in JUPYTER_ONLY_NAMES or _HISTORY.match(key):
            missing[key] = f"{key} is defined by Jupyter only and does not exist when grading"
        elif package and package != own_module and not import_allowed(package) \
                and package not in ("builtins", "__main__"):
            missing[key] = unavailable_import(package)
    graded = {k: v for k, v in namespace.items() if k not in missing}
    graded["__builtins__"] = _grading_builtins()
    for key, value in list(graded.items()):
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            graded[key] = _rebound(value, graded)
    if name in missing and namespace.get(name) is func:
        return GradingView(None, {name: missing[name]}, warnings)
    return GradingView(_rebound(func, graded) if isinstance(func, types.FunctionType) else func, missing, warnings)


def _rebound(f, namespace: dict):
    g = types.FunctionType(f.__code__, namespace, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__, g.__qualname__, g.__doc__ = f.__kwdefaults__, f.__qualname__, f.__doc__
    g.__dict__.update(f.__dict__)
    return g


def _grading_builtins() -> dict:
    """Python's builtins without Jupyter's names, with an ``__import__`` that refuses what the grader does."""
    table = {k: v for k, v in vars(builtins).items() if k not in JUPYTER_ONLY_NAMES}
    real = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and not import_allowed(name):
            raise ModuleNotFoundError(f"No module named '{name.split('.')[0]}'")
        return real(name, globals, locals, fromlist, level)

    table["__import__"] = __import__
    return table
