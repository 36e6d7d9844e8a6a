"""The program the sandbox loads for one submission. Never imported: ``answer_code.loader_source`` reads this
file as text and puts one line before it, ``_grader_data = '<JSON>'``, which carries the cells as data
(``{"cells": [[label, text, from_student], ...], "functions": [name, ...]}``); no student text is ever
pasted into code.

It runs inside the sandboxed worker, in the submission's own namespace (so every name here starts with
``_grader_``), and does what Jupyter would do with the notebook:

* each cell is transformed by IPython's own ``TransformerManager`` (loaded once by the fork server; without
  it a cell runs as it is; its token transforms only for a cell that is not plain Python, see
  ``_grader_compile``), then compiled and run on its own, in order, so a cell that fails does not stop
  the others; the cells run with ``__name__ == "__main__"``;
* the transformed code calls ``get_ipython()``: a stand-in shell (:class:`_GraderShell`) runs the code of
  ``%time``, ``%%time``, ``%%capture`` and ``%%prun`` in the namespace, as IPython does, and does nothing
  for every other magic, shell command (``!cmd``) or help request (``obj?``);
* ``_grader_report()``, called by the grader after loading, says which cells raised and, for each graded
  function, whether the namespace holds something callable under its name.
"""
import json as _grader_json
import sys as _grader_sys

#: Cell magics whose body IPython runs in the notebook's namespace (its names survive): run here too.
#: ``%%timeit`` is not among them: IPython runs its body inside a function, so nothing it binds survives.
_GRADER_CELL_MAGICS_THAT_RUN = frozenset({"time", "capture", "prun"})
#: Line magics whose statement IPython runs in the namespace (``%time x = f()`` binds ``x``).
_GRADER_LINE_MAGICS_THAT_RUN = frozenset({"time"})
_GRADER_MAX_ERRORS = 20


def _grader_compile(text, label):
    """The cell compiled as IPython would run it; the text as it is where the transformer is missing or gives up.

    IPython's ``transform_cell`` in two steps: the line transforms (blank lines and indentation before the
    first line, prompts, a cell magic) always; the token transforms (magics, shell commands and help requests
    inside the cell) only when the result of the first step is not Python yet. They rewrite only escapes that
    Python's grammar has no place for, so on code that compiles they change nothing, and tokenizing the
    cell (most of IPython's time) is skipped for the usual cell."""
    module = _grader_sys.modules.get("_grader_inputtransformer2")
    name = "<" + label + ">"
    if module is None:
        return compile(text, name, "exec", dont_inherit=True)
    try:
        manager = module.TransformerManager()
        lines = (text if text.endswith("\n") else text + "\n").splitlines(keepends=True)
        for transform in manager.cleanup_transforms + manager.line_transforms:
            lines = transform(lines)
    except Exception:  # compiling the text says what is wrong
        return compile(text, name, "exec", dont_inherit=True)
    try:
        return compile("".join(lines), name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        pass
    try:
        code = "".join(manager.do_token_transforms(lines))
    except Exception:  # e.g. more than 500 IPython escapes in one cell: compiling the text says what is wrong
        code = text
    return compile(code, name, "exec", dont_inherit=True)


def _grader_run(text, label, namespace):
    exec(_grader_compile(text, label), namespace)


class _GraderShell:
    """What ``get_ipython()`` returns while the cells run (the sandbox has no IPython shell).

    Magics that run Python code in the namespace in Jupyter run it here; every other magic, shell command
    and help request does nothing and returns None (``x = !cmd`` gives an empty list).
    """

    def __init__(self, namespace, label):
        self._namespace = namespace
        self._label = label

    def run_line_magic(self, magic_name, line, _stack_depth=1):
        if magic_name in _GRADER_LINE_MAGICS_THAT_RUN:
            _grader_run(line, self._label + " %" + magic_name, self._namespace)
        return None

    def run_cell_magic(self, magic_name, line, cell):
        if magic_name in _GRADER_CELL_MAGICS_THAT_RUN:
            _grader_run(cell, self._label + " %%" + magic_name, self._namespace)
        return None

    def magic(self, arg_s):
        name, _, line = str(arg_s).lstrip("%").partition(" ")
        return self.run_line_magic(name, line)

    def system(self, cmd):
        return None

    def getoutput(self, cmd, split=True, depth=0):
        return []

    def set_next_input(self, s, replace=False):
        return None


def _grader_load(data, namespace):
    """Run every cell in ``namespace``; returns the errors of the student's own cells as [label, message]."""
    errors = []
    namespace["__name__"] = "__main__"
    shell = _GraderShell(namespace, "")
    namespace["get_ipython"] = lambda: shell
    for label, text, own in data["cells"]:
        shell._label = label
        try:
            _grader_run(text, label, namespace)
        except BaseException as exc:  # one failing cell must not hide the others
            if own and len(errors) < _GRADER_MAX_ERRORS:
                try:
                    message = str(exc)
                except BaseException:
                    message = "<message could not be shown>"
                errors.append([label, type(exc).__name__ + ": " + message[:200]])
    return errors


def _grader_found(namespace, names):
    """name -> ["found" | "missing" | "not_callable", detail] for each graded function."""
    out = {}
    for name in names:
        if name not in namespace:
            out[name] = ["missing", ""]
        elif callable(namespace[name]):
            out[name] = ["found", ""]
        else:
            out[name] = ["not_callable", type(namespace[name]).__name__[:100]]
    return out


def _grader_make_report(data, errors, namespace):
    functions = _grader_found(namespace, data["functions"])
    transformer = "_grader_inputtransformer2" in _grader_sys.modules
    text = _grader_json.dumps({"errors": errors, "functions": functions, "ipython": transformer})

    def _grader_report():
        return text
    return _grader_report


if "_grader_data" in globals():
    _grader_data = _grader_json.loads(_grader_data)
    _grader_errors = _grader_load(_grader_data, globals())
    _grader_report = _grader_make_report(_grader_data, _grader_errors, globals())
