"""The student-side checker: runs a graded function on the visible cases stored in the release fixtures.

``python -m autograder.fixtures`` writes the one ``assignments/rnncheck.py`` as the source of
:mod:`autograder.compare`, :mod:`autograder.loading_rules` and :mod:`autograder.specs._student_namespace`
followed by this file (lines marked ``# not shipped`` are dropped); ``nbgrader generate_assignment`` copies it
next to each released notebook. So the verdicts a student sees are computed by the same comparison, and under
the same loading rules, as the official grade. Nothing here knows a reference implementation: the expected
outputs and the known wrong answers come precomputed in ``fixtures_<set>.npz`` (next to this file, or in the
working directory).

In a notebook::

    from rnncheck import check
    check("softmax", softmax)     # shows "softmax: 3 of 3 visible cases pass (...)"; failures are listed above it

``check`` returns the cell's points times the fraction of visible cases passed (a number nbgrader's own
validate/autograde read as partial credit; the notebook shows it as the one summary line). Before running the
cases it applies the grader's loading rules (:mod:`autograder.loading_rules`): it warns about every import or
Jupyter-only name the grader refuses, and runs the function as the grader will (a function whose cell stops
early is missing, names the grader will not have are missing). A case whose call changes one of its inputs in
place fails, as it does when grading. The official grade also runs hidden cases.
"""
import glob
import html
import json
import os
import sys
import traceback

import numpy as np

from autograder.compare import Mistake, compare, with_returned_parts  # not shipped
from autograder.loading_rules import (argument_label, changed_argument, changed_inputs, explain_error,  # not shipped
                                      parameter_names)  # not shipped
from autograder.specs._student_namespace import GradingView, grading_view  # not shipped

__all__ = ["check", "load_case", "case_names", "use_fixtures", "Points"]

_FIXTURES = None


def _fixtures_path():
    """The one fixtures_<set>.npz next to this file (the release), else in the working directory."""
    for folder in (os.path.dirname(os.path.abspath(__file__)), os.getcwd()):
        found = sorted(glob.glob(os.path.join(folder, "fixtures_*.npz")))
        if len(found) == 1:
            return found[0]
        if found:
            raise FileNotFoundError(f"expected one fixtures_<set>.npz in {folder}, found {len(found)}")
    raise FileNotFoundError("no fixtures_<set>.npz next to rnncheck.py or in the working directory")


def use_fixtures(path):
    """Read the visible cases from ``path`` (a fixtures_<set>.npz) from now on."""
    _load(os.fspath(path))


def _load(path=None):
    global _FIXTURES
    if _FIXTURES is None or path is not None:
        with np.load(path or _fixtures_path(), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        _FIXTURES = (json.loads(str(arrays.pop("manifest"))), arrays)
    return _FIXTURES


def _decode(node, arrays):
    kind = node["k"]
    if kind == "array":
        return arrays[node["key"]].copy()
    if kind == "float":
        return float(arrays[node["key"]])
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in node["items"].items()}
    if kind == "tuple":
        return tuple(_decode(v, arrays) for v in node["items"])
    return node["value"]  # int, str, None, bool


def case_names(name):
    """Names of the visible cases of graded function ``name``."""
    manifest, _ = _load()
    return [c["name"] for c in manifest["functions"][name]["cases"]]


def load_case(name, case):
    """The inputs ``(args, kwargs)`` of one visible case, to experiment with in the notebook."""
    manifest, arrays = _load()
    for c in manifest["functions"][name]["cases"]:
        if c["name"] == case:
            return [_decode(a, arrays) for a in c["args"]], {k: _decode(v, arrays) for k, v in c["kwargs"].items()}
    raise KeyError(f"{name} has no visible case {case!r}; try one of {case_names(name)}")


class Points(float):
    """The points ``check`` earned: a number for nbgrader, one readable line in the notebook."""

    def __new__(cls, value, line):
        obj = super().__new__(cls, value)
        obj.line = line
        return obj

    def _repr_html_(self):
        return f"<pre>{html.escape(self.line)}</pre>"

    def _repr_markdown_(self):
        return self.line


def _case_verdict(func, name, c, arrays, spec, view):
    """(passed, text) of one visible case, judged as the grader judges it."""
    args = [_decode(a, arrays) for a in c["args"]]
    kwargs = {k: _decode(v, arrays) for k, v in c["kwargs"].items()}
    pristine = ([_decode(a, arrays) for a in c["args"]], {k: _decode(v, arrays) for k, v in c["kwargs"].items()})
    try:
        value = func(*args, **kwargs)
    except NotImplementedError:
        return False, "not implemented yet"
    except Exception as exc:  # the student's error, shown with its last frame
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        text = f"raised {type(exc).__name__}: {exc} (line {frame.lineno})"
        missing = getattr(exc, "name", None) if isinstance(exc, NameError) else None
        rule = view.missing.get(missing) or explain_error(f"{type(exc).__name__}: {exc}")
        if rule:
            text += f": {rule}"
        return False, text
    expected = _decode(c["expected"], arrays)
    mistakes = [Mistake(m["id"], _decode(m["answer"], arrays), m["message"]) for m in c["mistakes"]]
    verdict = compare(value, expected, mistakes, tuple(spec["nonfinite"]) if spec["nonfinite"] else None)
    verdict = with_returned_parts(verdict, value, expected, name, spec["signature"])
    changed = changed_inputs(pristine, (args, kwargs))
    sentence = (changed_argument(name, argument_label(changed[0], parameter_names(spec["signature"])))
                if changed else None)
    if verdict.passed and sentence:
        return False, f"{sentence} [modified_input]"
    if verdict.passed:
        return True, "correct"
    tag = f" [{verdict.diagnosis}]" if verdict.diagnosis else ""
    return False, f"{verdict.message}{f'; also, {sentence}' if sentence else ''}{tag}"


def check(name, func, verbose=True):
    """Run ``func`` on every visible case of graded function ``name``, as the grader will run it.

    Prints a warning for every loading rule the notebook breaks and a line for every case that fails.

    Returns:
        :class:`Points`: the cell's points times the fraction of the visible cases passed; a notebook shows
        it as one line, e.g. ``softmax: 3 of 3 visible cases pass (3 of 3 points; hidden cases are graded
        later)``.
    """
    manifest, arrays = _load()
    if name not in manifest["functions"]:
        raise KeyError(f"no graded function {name!r} in this problem set")
    spec = manifest["functions"][name]
    try:
        view = grading_view(name, func)
    except Exception as exc:  # a namespace the reading cannot handle: the cases still run, as they are
        view = GradingView(func, {}, [f"the notebook's code could not be read as the grader reads it "
                                      f"({type(exc).__name__}); the cases ran as they are"])
    earned = total = 0.0
    lines, passed = [f"  warning: {w}" for w in view.warnings], 0
    for c in spec["cases"]:
        total += c["points"]
        if view.function is None:
            ok, text = False, f"{name} is not defined when grading: {view.missing[name]}"
        else:
            ok, text = _case_verdict(view.function, name, c, arrays, spec, view)
        if ok:
            earned += c["points"]
            passed += 1
        else:
            lines.append(f"  {c['name']}: {text}")
    score = round(spec["points"] * earned / total, 4) if total else 0.0
    summary = (f"{name}: {passed} of {len(spec['cases'])} visible cases pass ({score:g} of {spec['points']:g} "
               "points; hidden cases are graded later)")
    if verbose and lines:
        print("\n".join(lines))
        sys.stdout.flush()
    return Points(score, summary)
