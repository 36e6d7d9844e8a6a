"""The student-side checker: runs a graded function on the visible cases stored in the release fixtures.

``python -m autograder.fixtures`` writes ``rnncheck.py`` next to each notebook as the source of
:mod:`autograder.compare` followed by this file (lines marked ``# not shipped`` are dropped), so the
verdicts a student sees are computed by the same comparison as the official grade. Nothing here knows a
reference implementation: the expected outputs and the known wrong answers come precomputed in
``fixtures_<set>.npz``.

In a notebook::

    from rnncheck import check
    check("softmax", softmax)     # prints one line per visible case; evaluates to the points earned

``check`` returns the cell's points times the fraction of visible cases passed, so nbgrader's own
validate/autograde give a meaningful partial credit; the official grade also runs hidden cases.
"""
import glob
import json
import os
import sys
import traceback

import numpy as np

from autograder.compare import Mistake, compare  # not shipped

__all__ = ["check", "load_case", "case_names"]

_FIXTURES = None


def _fixtures_path():
    here = os.path.dirname(os.path.abspath(__file__))
    found = sorted(glob.glob(os.path.join(here, "fixtures_*.npz")))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one fixtures_<set>.npz next to rnncheck.py, found {len(found)}")
    return found[0]


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


def check(name, func, verbose=True):
    """Run ``func`` on every visible case of graded function ``name``; print a verdict per case.

    Returns the points earned: the cell's points times the fraction of the visible cases passed.
    """
    manifest, arrays = _load()
    if name not in manifest["functions"]:
        raise KeyError(f"no graded function {name!r} in this problem set")
    spec = manifest["functions"][name]
    earned = total = 0.0
    lines = []
    for c in spec["cases"]:
        args = [_decode(a, arrays) for a in c["args"]]
        kwargs = {k: _decode(v, arrays) for k, v in c["kwargs"].items()}
        total += c["points"]
        try:
            value = func(*args, **kwargs)
        except NotImplementedError:
            lines.append(f"  {c['name']}: not implemented yet")
            continue
        except Exception as exc:  # the student's error, shown with its last frame
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            lines.append(f"  {c['name']}: raised {type(exc).__name__}: {exc} (line {frame.lineno})")
            continue
        expected = _decode(c["expected"], arrays)
        mistakes = [Mistake(m["id"], _decode(m["answer"], arrays), m["message"]) for m in c["mistakes"]]
        verdict = compare(value, expected, mistakes, tuple(spec["nonfinite"]) if spec["nonfinite"] else None)
        if verdict.passed:
            earned += c["points"]
            lines.append(f"  {c['name']}: correct")
        else:
            tag = f" [{verdict.diagnosis}]" if verdict.diagnosis else ""
            lines.append(f"  {c['name']}: {verdict.message}{tag}")
    score = round(spec["points"] * earned / total, 4) if total else 0.0
    if verbose:
        passed = sum(1 for line in lines if line.endswith(": correct"))
        print(f"{name}: {passed} of {len(lines)} visible cases correct ({score:g} of {spec['points']:g} points; "
              f"hidden cases are graded later)")
        print("\n".join(lines))
        sys.stdout.flush()
    return score
