"""Similarity flags: near copies of another submission or of the reference are flagged, independent work is not."""
from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from autograder import similarity as sim
from autograder.demo import OWN_STYLE
from autograder.specs import spec_for, specs_for

ROOT = Path(__file__).resolve().parents[1]

LOOP_BPTT = '''
import numpy as np

def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    """BPTT, one step at a time."""
    T, N, H = hs.shape
    grads = {"xs": np.zeros_like(xs), "W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros(H)}
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        da = (dhs[t] + dh_next) * (1.0 - hs[t] ** 2)   # through tanh
        grads["xs"][t] = da @ W_x.T
        grads["W_x"] += xs[t].T @ da
        grads["W_h"] += h_prev.T @ da
        grads["b"] += da.sum(axis=0)
        dh_next = da @ W_h.T
    grads["h0"] = dh_next
    return grads
'''

# the same function after a copier's work: other names, a helper, comments, docstring, prints, layout
DISGUISED_BPTT = '''
import numpy as numpy_lib


def _zeros_like_params(inputs_seq, Wx, Wh, hidden):
    return {"xs": numpy_lib.zeros_like(inputs_seq), "W_x": numpy_lib.zeros_like(Wx),
            "W_h": numpy_lib.zeros_like(Wh), "b": numpy_lib.zeros(hidden)}


def rnn_backward(dhs, xs, h0, hs, W_x, W_h):
    # My own implementation of backprop through time!!
    print("starting backward")
    steps, batch, hidden = hs.shape
    out = {"xs": numpy_lib.zeros_like(xs), "W_x": numpy_lib.zeros_like(W_x), "W_h": numpy_lib.zeros_like(W_h),
           "b": numpy_lib.zeros(hidden)}
    carry = numpy_lib.zeros((batch, hidden))
    for step in reversed(range(steps)):
        previous = (hs[step - 1]
                    if step > 0 else h0)
        # gradient of the pre-activation
        delta = (dhs[step] + carry) * (1.0 - hs[step] ** 2)
        out["xs"][step] = delta @ W_x.T
        out["W_x"] += xs[step].T @ delta
        out["W_h"] += previous.T @ delta
        out["b"] += delta.sum(axis=0)
        carry = delta @ W_h.T
    out["h0"] = carry
    return out
'''

SHORT_A = ("def softmax(logits):\n    e = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
           "    return e / e.sum(axis=1, keepdims=True)\n")
SHORT_B = ("def softmax(z):\n    # stable\n    ex = np.exp(z - z.max(axis=1, keepdims=True))\n"
           "    return ex / ex.sum(axis=1, keepdims=True)\n")


def _worked(assignment: str, function: str) -> str:
    nb = json.loads((ROOT / "assignments" / "source" / assignment / f"{assignment}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == function:
            return "".join(cell["source"])
    raise LookupError(function)


def test_normalisation_ignores_names_comments_docstrings_prints_and_layout():
    a = sim.function_units(LOOP_BPTT, ["rnn_backward"])["rnn_backward"]
    b = sim.function_units(DISGUISED_BPTT, ["rnn_backward"])["rnn_backward"]
    assert a == b
    assert len(a) >= sim.MIN_TOKENS


def test_disguised_copy_of_another_student_is_flagged_on_both():
    flags = sim.similarity_flags({"ann": LOOP_BPTT, "bob": DISGUISED_BPTT}, [spec_for("ps3_bptt", "rnn_backward")])
    pairs = {(f.student, f.other, f.kind) for f in flags}
    assert pairs == {("ann", "bob", "student"), ("bob", "ann", "student")}
    assert all(f.score == 1.0 for f in flags)  # renaming, reformatting and comments leave no trace
    assert "bob's rnn_backward" in next(f for f in flags if f.student == "ann").reason()


def test_a_copy_with_one_line_changed_is_still_flagged():
    edited = DISGUISED_BPTT.replace("out[\"b\"] += delta.sum(axis=0)", "out[\"b\"] += numpy_lib.sum(delta, axis=0)")
    flags = sim.similarity_flags({"ann": LOOP_BPTT, "bob": edited}, [spec_for("ps3_bptt", "rnn_backward")])
    assert {f.student for f in flags} == {"ann", "bob"}
    assert all(sim.PAIR_THRESHOLD <= f.score < 1.0 for f in flags)


def test_independent_solutions_in_different_styles_are_not_flagged():
    """The loop solution of the source notebook against a vectorised one written separately, for every
    function of every set that has both."""
    for assignment, answers in OWN_STYLE.items():
        specs = specs_for(assignment)
        worked = "\n\n".join(_worked(assignment, s.function) for s in specs)
        own = "\n\n".join(answers.values())
        flags = sim.similarity_flags({"worked": worked, "own": own}, specs)
        assert flags == [], [f.reason() for f in flags]
        for spec in specs:
            a = sim.function_units(worked, [spec.function]).get(spec.function)
            b = sim.function_units(own, [spec.function]).get(spec.function)
            if a and b:
                assert sim.pair_ratio(a, b) < sim.PAIR_THRESHOLD
            # the margin the module's notes quote: no solution long enough to be compared comes near the reference
            # (the highest, 0.58, are the gate-by-gate LSTM and GRU step backwards: a short formula written
            # the one natural way; the flag is at 0.8)
            for unit in (a, b):
                if unit and len(unit) >= sim.REFERENCE_MIN_TOKENS:
                    for name, ref in sim.reference_units(spec):
                        assert sim.containment(sim.abstract_names(unit), sim.abstract_names(ref)) < 0.6, name


def test_short_functions_are_not_flagged_for_being_alike():
    spec = spec_for("ps1_softmax", "softmax")
    units = [sim.function_units(src, ["softmax"])["softmax"] for src in (SHORT_A, SHORT_B)]
    assert units[0] == units[1] and len(units[0]) < sim.MIN_TOKENS
    assert sim.similarity_flags({"a": SHORT_A, "b": SHORT_B}, [spec]) == []
    # the size rule is what keeps them apart
    assert len(sim.similarity_flags({"a": SHORT_A, "b": SHORT_B}, [spec], min_tokens=0)) == 2


def _rnngrad_copy() -> str:
    """rnngrad's rnn_backward with its helpers, as a student would paste it: validation dropped, names
    changed, comments added."""
    from rnngrad import rnn

    src = "\n\n".join(inspect.getsource(f) for f in (rnn._bptt_sweep, rnn._param_grads, rnn.rnn_backward))
    src = re.sub(r'"""(.|\n)*?"""', '"""copied"""', src)
    src = "\n".join(line for line in src.splitlines() if "dims" not in line.lower())
    for old, new in (("das", "pre_grads"), ("dh0", "grad_init"), ("grads", "result"), ("_bptt_sweep", "sweep"),
                     ("_param_grads", "weights_part")):
        src = re.sub(rf"\b{old}\b", new, src)
    return "import numpy as np\n# adapted\n" + src


def test_copy_of_the_reference_is_flagged():
    spec = spec_for("ps3_bptt", "rnn_backward")
    refs = dict(sim.reference_units(spec))
    assert "rnngrad.rnn.rnn_backward" in refs
    flags = sim.similarity_flags({"carl": _rnngrad_copy(), "ann": LOOP_BPTT}, [spec])
    assert [(f.student, f.kind, f.detail) for f in flags] == [("carl", "reference", "rnngrad.rnn.rnn_backward")]
    assert flags[0].score >= sim.REFERENCE_THRESHOLD
    assert "course reference rnngrad.rnn.rnn_backward" in flags[0].reason()


def test_every_spec_finds_its_reference():
    from autograder.specs import all_assignments

    for assignment in all_assignments():
        for spec in specs_for(assignment):
            units = sim.reference_units(spec)
            assert units, spec
            assert all(name.startswith("rnngrad.") and toks for name, toks in units)


def _record(passed: bool, diagnosis=None):
    return {"cases": {"test_rnn_backward": [{"case": "a", "passed": passed, "diagnosis": diagnosis}]}}


def test_behaviour_decides_between_a_copy_and_two_edits_of_one_solution():
    spec = spec_for("ps3_bptt", "rnn_backward")
    sources = {"ann": LOOP_BPTT, "bob": DISGUISED_BPTT}
    same = {"ann": _record(False, "off_by_one"), "bob": _record(False, "off_by_one")}
    differ = {"ann": _record(False, "off_by_one"), "bob": _record(False, "not_accumulated")}
    assert len(sim.similarity_flags(sources, [spec], records=same)) == 2
    assert sim.similarity_flags(sources, [spec], records=differ) == []


def test_known_mistake_solutions_of_one_function_are_near_copies_kept_apart_by_behaviour():
    spec = spec_for("ps3_bptt", "char_lm_grad")
    sources = {p.stem: p.read_text() for p in sorted((ROOT / "tests" / "mutants" / "ps3_bptt").glob("char_lm_grad__*.py"))
               if "__ok_" not in p.stem}
    assert len(sources) >= 3
    assert {f.student for f in sim.similarity_flags(sources, [spec])} == set(sources)
    records = {name: {"cases": {spec.grade_id: [{"case": "a", "passed": False, "diagnosis": name.split("__")[1]}]}}
               for name in sources}
    assert sim.similarity_flags(sources, [spec], records=records) == []


def test_unparsable_cells_do_not_hide_the_others():
    source = "def broken(:\n    pass\n" + sim._CELL_MARK + LOOP_BPTT
    units = sim.function_units(source, ["rnn_backward", "broken"])
    assert list(units) == ["rnn_backward"]
    assert sim.function_units("def (((", ["f"]) == {}


@pytest.mark.parametrize("k", [1, 3, sim.K])
def test_containment_is_a_share_of_the_part(k):
    whole = list("abcdefghij")
    assert sim.containment(whole[2:8], whole, k) == 1.0
    assert sim.containment(list("zzzzzz"), whole, k) == 0.0
    assert 0.0 < sim.containment(list("abcxyz"), whole, 2) < 1.0


def test_reasons_are_grouped_per_source():
    flags = [sim.SimilarityFlag("bob", "f", "ann", 0.9, "student"),
             sim.SimilarityFlag("bob", "g", "ann", 1.0, "student"),
             sim.SimilarityFlag("bob", "h", "reference", 0.95, "reference", "rnngrad.x.h"),
             sim.SimilarityFlag("ann", "f", "bob", 0.9, "student")]
    reasons = sim.grouped_reasons(flags)
    assert reasons["bob"] == [
        "similarity: h is a near copy of the course reference rnngrad.x.h (95% of its code found there, after "
        "renaming and reformatting)",
        "similarity: 2 functions are near copies of ann's code, after renaming and reformatting: g (100%), f (90%)"]
    assert reasons["ann"] == [flags[3].reason()]
