"""Red-team entries for issue area 'honest' (see corpus.py for the Entry format).

Honest Python that runs in Jupyter earns every point: functions bound in any way Python allows (under
``if``/``try``/``with``, tuple and annotated assignment, decorators, lambdas, callable objects, through
``globals()``), IPython syntax (transformed by IPython's own transformer inside the sandbox), and the
notebook's own helpers (``load_case``, ``check``) or the released fixtures used before the ``def``.
Each must get full marks and, unless said otherwise, no flag.
"""
from __future__ import annotations

from .corpus import CORRECT, FUNCTIONS, Entry


def _indent(code: str, by: str = "    ") -> str:
    return "".join(by + line + "\n" if line else "\n" for line in code.splitlines())


ENTRIES: list[Entry] = [
    Entry("honest_def_under_if", "every answer defined inside an if block (a check of the numpy version)",
          answers={fn: "if np.__version__ >= '1':\n" + _indent(CORRECT[fn]) for fn in FUNCTIONS},
          clean=True),
    Entry("honest_def_in_try", "answers defined inside try/except/else, one of them after a failed import",
          answers={"softmax": "try:\n    from scipy.special import softmax as _scipy_softmax\n"
                              "except ImportError:\n" + _indent(CORRECT["softmax"]),
                   "softmax_vjp": "try:\n    pass\nexcept Exception:\n    raise\nelse:\n"
                                  + _indent(CORRECT["softmax_vjp"])},
          clean=True),
    Entry("honest_tuple_assignment", "softmax and its VJP bound together by one tuple assignment",
          answers={"softmax_vjp": CORRECT["softmax"].replace("def softmax(", "def _a(")
                   + CORRECT["softmax_vjp"].replace("def softmax_vjp(", "def _b(").replace("softmax(", "_a(")
                   + "softmax, softmax_vjp = _a, _b\n"},
          clean=True),
    Entry("honest_annotated_assignment", "functions bound by annotated assignments",
          answers={"cross_entropy_grad": "from typing import Callable\n"
                   + CORRECT["cross_entropy_grad"].replace("def cross_entropy_grad(", "def _ce(")
                   + "cross_entropy_grad: Callable = _ce\n",
                   "softmax_jacobian": CORRECT["softmax_jacobian"].replace("def softmax_jacobian(", "def _jac(")
                   + "softmax_jacobian: 'Callable[[np.ndarray], np.ndarray]' = _jac\n"},
          clean=True),
    Entry("honest_decorators", "answers wrapped by a decorator of the student's own (functools.wraps)",
          before=["import functools\n\ndef checks_2d(fn):\n    @functools.wraps(fn)\n"
                  "    def inner(logits, *args, **kwargs):\n"
                  "        assert np.ndim(logits) == 2, 'logits must be (N, C)'\n"
                  "        return fn(logits, *args, **kwargs)\n    return inner\n"],
          answers={fn: "@checks_2d\n" + CORRECT[fn] for fn in ("softmax_jacobian", "cross_entropy_grad")},
          clean=True),
    Entry("honest_lambda", "the smoothed gradient and the VJP written as lambdas",
          answers={"smoothed_cross_entropy_grad":
                   "smoothed_cross_entropy_grad = lambda logits, labels, epsilon: (softmax(logits) - (\n"
                   "    (1.0 - epsilon) * np.eye(logits.shape[1])[labels] + epsilon / logits.shape[1])\n"
                   ") / logits.shape[0]\n",
                   "softmax_vjp": "softmax_vjp = lambda logits, v: softmax(logits) * (\n"
                                  "    v - np.sum(v * softmax(logits), axis=-1, keepdims=True))\n"},
          clean=True),
    Entry("honest_callable_object", "the cross-entropy gradient as an instance of a class with __call__",
          answers={"cross_entropy_grad": "class CrossEntropyGrad:\n    def __init__(self, scale=1.0):\n"
                   "        self.scale = scale\n\n    def __call__(self, logits, labels):\n"
                   + _indent(CORRECT["cross_entropy_grad"], "        ")
                   + "        return self.scale * cross_entropy_grad(logits, labels)\n\n"
                   "cross_entropy_grad = CrossEntropyGrad()\n"},
          clean=True),
    Entry("honest_globals_registry", "answers registered by name through globals() in a helper",
          answers={"smoothed_cross_entropy_grad":
                   "def register(name):\n    def put(fn):\n        globals()[name] = fn\n        return fn\n"
                   "    return put\n\n@register('smoothed_cross_entropy_grad')\n"
                   + CORRECT["smoothed_cross_entropy_grad"].replace("def smoothed_cross_entropy_grad(",
                                                                    "def _smoothed(")},
          flags=["dynamic_code"]),      # globals() is flagged for a look; the points are earned
    Entry("honest_continuation_lines", "continuation lines that start with != and % (not IPython syntax)",
          answers={"softmax_jacobian": '''def softmax_jacobian(logits):
    s = softmax(logits)
    C = (s.shape[-1]
% 10**9)
    off = np.array([[1.0 if (i
!= j) else 0.0 for j in range(C)] for i in range(C)])
    return s[:, :, None] * (1.0 - off) - s[:, :, None] * s[:, None, :]
'''}, clean=True),
    Entry("honest_cell_magics", "%%time and %%capture cells around defs; %time, !shell, x = !cmd and help",
          answers={"softmax": "%%time\n" + CORRECT["softmax"] + "%time _ = softmax(np.zeros((1, 2)))\n",
                   "softmax_vjp": "%%capture captured\n!echo building\nfiles = !ls\nsoftmax?\nnp.sum??\n"
                                  + CORRECT["softmax_vjp"]},
          before=["%matplotlib inline\n%load_ext autoreload\n%autoreload 2\n"],
          after=["%%timeit\nsoftmax(np.ones((4, 3)))\n", "%%bash\necho 'not python at all'\n"],
          clean=True),
    Entry("honest_notebook_helpers", "load_case, case_names and check called before and after the defs",
          answers={"softmax": "args, kwargs = load_case('softmax', case_names('softmax')[0])\n"
                              "print(args[0].shape)\n" + CORRECT["softmax"]
                              + "earned = check('softmax', softmax)\nassert earned > 0\n",
                   "cross_entropy_grad": "logits, labels = load_case('cross_entropy_grad', "
                                         "case_names('cross_entropy_grad')[0])[0]\n"
                                         + CORRECT["cross_entropy_grad"]
                                         + "print(cross_entropy_grad(logits, labels).sum(axis=1))\n"},
          clean=True),
    Entry("honest_reads_fixtures", "reads the released fixtures with np.load (relative path) before the def",
          answers={"softmax_vjp": "fixtures = np.load('fixtures_ps1_softmax.npz')\n"
                                  "names = sorted(fixtures.files)\nassert 'manifest' in names\n"
                                  "import json\nmanifest = json.loads(str(fixtures['manifest']))\n"
                                  + CORRECT["softmax_vjp"]},
          clean=True),
    Entry("honest_main_guard_and_with", "a def under `if __name__ == '__main__'` and one under `with`",
          answers={"softmax": "if __name__ == '__main__':\n" + _indent(CORRECT["softmax"]),
                   "smoothed_cross_entropy_grad": "with np.errstate(over='raise'):\n"
                   + _indent(CORRECT["smoothed_cross_entropy_grad"])},
          clean=True),
]
