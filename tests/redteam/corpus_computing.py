"""Red-team entries for issue area 'computing': points without computing (see corpus.py for the Entry format).

The published cases carry no points, fresh draws of the same makers do: a table of the published answers
earns nothing and is flagged; zeros, ones, constants and echoed inputs earn nothing; finite differences earn
their points and are flagged for the instructor; honest float32 code is neither penalised nor flagged.

The lookup tables are built here, when the corpus is made, from the release fixtures in the repository
(plain literals in the submitted code, keyed by the bytes of the inputs), so the attack does not depend on
what files the sandbox lets the code read.
"""
from __future__ import annotations

import json
import os

import numpy as np

from .corpus import FUNCTIONS, Entry, t

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "assignments", "source", "ps1_softmax", "fixtures_ps1_softmax.npz")

#: how the submitted code keys a call: the bytes of every argument, as float64 or int64
_KEY = '''def _key(*args):
    parts = []
    for a in args:
        a = np.asarray(a)
        parts.append(np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float64).tobytes())
    return b"|".join(parts).hex()
'''


def _decode(node, data):
    if node["k"] in ("array", "float"):
        return data[node["key"]]
    if node["k"] == "value":
        return node["value"]
    raise ValueError(f"unexpected fixture node {node['k']}")


def _key(*args) -> str:
    parts = []
    for a in args:
        a = np.asarray(a)
        parts.append(np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float64).tobytes())
    return b"|".join(parts).hex()


def published_table(function: str) -> dict[str, np.ndarray]:
    """Input key -> published answer of every case of ``function`` in the release fixtures."""
    with np.load(FIXTURES, allow_pickle=False) as data:
        manifest = json.loads(str(data["manifest"]))
        table = {}
        for case in manifest["functions"][function]["cases"]:
            args = [_decode(a, data) for a in case["args"]]
            table[_key(*args)] = np.array(_decode(case["expected"], data))
    return table


def _literal(x: np.ndarray) -> str:
    return f"np.array({[float(v) for v in x.ravel()]!r}).reshape({tuple(x.shape)!r})"


def lookup_code(function: str, fallback: str) -> str:
    """An answer cell that looks ``function``'s published answers up; ``fallback`` is the code otherwise run."""
    rows = ",\n".join(f"    {k!r}: {_literal(v)}" for k, v in published_table(function).items())
    params = _params(function)
    return (_KEY + f"\n_TABLE_{function} = {{\n{rows}\n}}\n\n"
            f"def {function}({params}):\n"
            f"    key = _key({params})\n"
            f"    if key in _TABLE_{function}:\n"
            f"        return _TABLE_{function}[key].copy()\n"
            f"    {fallback}\n")


def _params(fn):
    return {"softmax": "logits", "softmax_jacobian": "logits", "softmax_vjp": "logits, v",
            "cross_entropy_grad": "logits, labels", "smoothed_cross_entropy_grad": "logits, labels, epsilon"}[fn]


def _out_shape(fn):
    return "logits.shape + (logits.shape[1],)" if fn == "softmax_jacobian" else "logits.shape"


FILE_LOOKUP = '''import glob, os
_PUBLISHED = {}
try:
    _path = sorted(glob.glob(os.path.join(os.getcwd(), "fixtures_*.npz")))[0]
    with np.load(_path, allow_pickle=False) as _data:
        import json
        _manifest = json.loads(str(_data["manifest"]))
        for _fn, _spec in _manifest["functions"].items():
            for _case in _spec["cases"]:
                _args = [_data[a["key"]] if a["k"] in ("array", "float") else a["value"] for a in _case["args"]]
                _PUBLISHED[(_fn, _key(*_args))] = _data[_case["expected"]["key"]]
except Exception:
    pass
'''

FINITE_DIFFERENCES = {
    "softmax_jacobian": '''def softmax_jacobian(logits, eps=1e-5):
    N, C = logits.shape
    J = np.zeros((N, C, C))
    for j in range(C):
        up, down = logits.copy(), logits.copy()
        up[:, j] += eps
        down[:, j] -= eps
        J[:, :, j] = (softmax(up) - softmax(down)) / (2 * eps)
    return J
''',
    "softmax_vjp": '''def softmax_vjp(logits, v, eps=1e-5):
    g = np.zeros(logits.shape)
    for i in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (np.sum(v * softmax(up)) - np.sum(v * softmax(down))) / (2 * eps)
    return g
''',
    "cross_entropy_grad": '''def _mean_ce(z, targets):
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(targets * logp) / z.shape[0]

def _numeric_grad(loss, z, eps=1e-5):
    g = np.zeros(z.shape)
    for i in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (loss(up) - loss(down)) / (2 * eps)
    return g

def cross_entropy_grad(logits, labels):
    onehot = np.eye(logits.shape[1])[labels]
    return _numeric_grad(lambda z: _mean_ce(z, onehot), logits)
''',
    "smoothed_cross_entropy_grad": '''def smoothed_cross_entropy_grad(logits, labels, epsilon):
    C = logits.shape[1]
    q = (1.0 - epsilon) * np.eye(C)[labels] + epsilon / C
    return _numeric_grad(lambda z: _mean_ce(z, q), logits)
''',
}
DERIVED = ["softmax_jacobian", "softmax_vjp", "cross_entropy_grad", "smoothed_cross_entropy_grad"]

FLOAT32_INSIDE = {
    "softmax": '''def softmax(logits):
    z = logits.astype(np.float32)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
''',
    "softmax_jacobian": '''def softmax_jacobian(logits):
    s = softmax(logits)
    return (s[:, :, None] * np.eye(s.shape[1], dtype=np.float32) - s[:, :, None] * s[:, None, :]).astype(np.float32)
''',
    "softmax_vjp": '''def softmax_vjp(logits, v):
    s = softmax(logits)
    v = v.astype(np.float32)
    return s * (v - np.sum(v * s, axis=-1, keepdims=True))
''',
    "cross_entropy_grad": '''def cross_entropy_grad(logits, labels):
    g = softmax(logits)
    g[np.arange(len(labels)), labels] -= np.float32(1.0)
    return g / np.float32(len(labels))
''',
    "smoothed_cross_entropy_grad": '''def smoothed_cross_entropy_grad(logits, labels, epsilon):
    N, C = logits.shape
    q = ((1.0 - epsilon) * np.eye(C)[labels] + epsilon / C).astype(np.float32)
    return (softmax(logits) - q) / np.float32(N)
''',
}


def _entries() -> list[Entry]:
    zero_all = {t(fn): "zero" for fn in FUNCTIONS}
    return [
        Entry("lookup_published_literals", "answers from a table of the published fixtures keyed by the input "
              "bytes, written into the code; raises on anything else", base="wrong",
              answers={fn: lookup_code(fn, "raise KeyError('not a published case')") for fn in FUNCTIONS},
              expect=zero_all, flags=[f"published_answers_only: {fn} matches" for fn in FUNCTIONS],
              diagnoses={t(fn): "exception" for fn in FUNCTIONS}),
        Entry("lookup_published_or_zeros", "a table of the published answers, zeros of the right shape otherwise",
              base="wrong",
              answers={fn: lookup_code(fn, f"return np.zeros({_out_shape(fn)})") for fn in FUNCTIONS},
              expect=zero_all, flags=[f"published_answers_only: {fn} matches" for fn in FUNCTIONS],
              diagnoses={t(fn): "zero" for fn in FUNCTIONS}),
        Entry("lookup_fixtures_file", "reads the fixtures file beside the notebook at load time and answers from it",
              base="wrong", before=[_KEY + FILE_LOOKUP],
              answers={fn: f"def {fn}({_params(fn)}):\n"
                           f"    found = _PUBLISHED.get(({fn!r}, _key({_params(fn)})))\n"
                           f"    return found.copy() if found is not None else np.zeros({_out_shape(fn)})\n"
                       for fn in FUNCTIONS},
              expect=zero_all),
        Entry("returns_zeros", "every function returns zeros of the right shape", base="wrong",
              answers={fn: f"def {fn}({_params(fn)}):\n    return np.zeros({_out_shape(fn)})\n" for fn in FUNCTIONS},
              expect=zero_all, diagnoses={t(fn): "zero" for fn in FUNCTIONS}, clean=True),
        Entry("returns_ones", "every function returns ones of the right shape", base="wrong",
              answers={fn: f"def {fn}({_params(fn)}):\n    return np.ones({_out_shape(fn)})\n" for fn in FUNCTIONS},
              expect=zero_all, clean=True),
        Entry("returns_uniform", "a constant answer: the uniform distribution 1/C, its Jacobian and zeros",
              base="wrong",
              answers={"softmax": "def softmax(logits):\n    return np.full(logits.shape, 1.0 / logits.shape[1])\n",
                       "softmax_jacobian": "def softmax_jacobian(logits):\n    N, C = logits.shape\n"
                                           "    return np.broadcast_to(np.eye(C) / C - 1.0 / C ** 2, (N, C, C)).copy()\n",
                       "softmax_vjp": "def softmax_vjp(logits, v):\n"
                                      "    return (v - v.mean(axis=1, keepdims=True)) / v.shape[1]\n"},
              expect=zero_all, clean=True),
        Entry("echoes_inputs", "returns an input (or its negation) whenever the shapes allow", base="wrong",
              answers={"softmax": "def softmax(logits):\n    return logits.copy()\n",
                       "softmax_jacobian": "def softmax_jacobian(logits):\n    N, C = logits.shape\n"
                                           "    return np.broadcast_to(np.eye(C), (N, C, C)).copy()\n",
                       "softmax_vjp": "def softmax_vjp(logits, v):\n    return v.copy()\n",
                       "cross_entropy_grad": "def cross_entropy_grad(logits, labels):\n    return -logits.copy()\n",
                       "smoothed_cross_entropy_grad": "def smoothed_cross_entropy_grad(logits, labels, epsilon):\n"
                                                      "    return np.full(logits.shape, epsilon)\n"},
              expect=zero_all, clean=True),
        Entry("finite_differences", "central differences (step 1e-5) instead of the four derived gradients",
              answers=dict(FINITE_DIFFERENCES),
              flags=[f"finite_differences: {fn} is off by" for fn in DERIVED]),
        Entry("honest_float32_inside", "computes in float32 throughout and returns float32 arrays",
              answers=dict(FLOAT32_INSIDE), clean=True),
    ]


ENTRIES: list[Entry] = _entries()
