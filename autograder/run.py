"""Step 5 of the pipeline: call every graded function on every case in the sandbox and judge each value here."""
from __future__ import annotations

import ast
import json
import re

from . import loading_rules
from .answer_code import CodeUnit, loader_source
from .specs import CaseResult
from .specs._diagnosis_budget import DiagnosisBudget

#: After this many calls of one function that ended the worker, its other cases are not run.
CRASHES_PER_FUNCTION = 2
#: The loader's report is a few kB; a longer one is not read (the functions are then called regardless).
MAX_REPORT_CHARS = 200_000


def run_cases(course, units: list[CodeUnit], seed: int, make_sandbox, result) -> None:
    """Call every graded function on every case in the sandbox; judge each value here.

    The sandbox restarts a crashed or timed-out worker by itself (reloading the code); after a
    timeout (or CRASHES_PER_FUNCTION crashes) the remaining cases of that function are not run,
    so one endless loop costs one time limit, and the worker's restarts are kept for the other
    functions.

    Whether a graded function exists is decided by the loaded code itself: after every cell ran,
    the namespace is asked for something callable under its name (a ``def`` inside ``if`` or
    ``try``, a tuple assignment, a decorator, a lambda or a callable object all count).
    """
    functions = [spec.function for spec in course.specs]
    with make_sandbox(loader_source(units, functions)) as sb:
        report = _collect_load_report(sb, result)
        stopped = _stopped_cells(units, report)
        result.errors.extend(f"{u.label}: {sentence}" for u in units if u.from_student and u.cell is not None
                             for sentence in loading_rules.magic_faults(u.cell))
        if report is not None and not report["ipython"] and any(u.cell is not None for u in units):
            result.notes.append("IPython syntax (magics, shell lines) was run as plain Python: the grader's "
                                "sandbox has no IPython transformer")
        for spec in course.specs:
            outcomes: list[CaseResult] = []
            skip = None
            if sb.load_error:
                skip = ("not run: your code could not be loaded (see the problems above)", "load_failed")
            elif report is not None:
                skip = _missing(spec.function, report, stopped)
            crashes = 0
            budget = DiagnosisBudget()      # bounds the search for a known mistake over this function's cases
            for case in spec.cases(seed, hidden=True):
                if skip is not None:
                    outcomes.append(CaseResult(case.name, 0.0, case.points, False, *skip))
                    continue
                call = sb.call(spec.function, list(case.args), dict(case.kwargs))
                if not call.sandboxed:
                    raise RuntimeError("a result came from an unsandboxed worker; it cannot be recorded")
                try:
                    outcome = spec.evaluate(case, call, budget)
                except Exception as exc:  # a value the comparison cannot handle: no points, say so
                    outcome = CaseResult(case.name, 0.0, case.points, False,
                                         f"the returned value could not be judged ({type(exc).__name__})",
                                         "unjudgeable")
                outcome = _explain_call_error(spec.function, case, call, outcome, stopped)
                outcome = _judge_inputs(spec, case, call, outcome)
                if not call.ok and not call.timed_out and _worker_stopped(sb):
                    # the error text comes from the trusted side (how the worker ended), safe to show
                    outcome = CaseResult(case.name, 0.0, case.points, False,
                                         f"the worker stopped: {_first_line(call.error)}", "worker_crash")
                    # (how it ended is shown only for a visible case: an exit status could carry data)
                    note = (f"{spec.function}: the worker stopped during a hidden case" if case.hidden else
                            f"{spec.function}: the worker stopped ({_first_line(call.error)})")
                    if note not in result.errors:
                        result.errors.append(note)
                    crashes += 1
                    if crashes >= CRASHES_PER_FUNCTION:   # keep the worker's restarts for the other functions
                        skip = ("not run: the worker stopped in earlier cases of this function", "worker_crash")
                outcomes.append(outcome)
                if call.timed_out:
                    skip = ("not run: an earlier case of this function ran out of time", "timeout")
                    result.errors.append(f"{spec.function}: a call ran out of time")
            result.cases[spec.grade_id] = outcomes
        # what the sandbox saw the code do (a flag for the instructor; it never changes a score)
        result.flags.extend(f"behaviour: {line}" for line in getattr(sb, "observed", ()))


def _worker_stopped(sb) -> bool:
    """True when the last call ended the worker (crash, limit, rejected reply)."""
    return not sb.alive


def _first_line(text: str | None) -> str:
    return (text or "no message").strip().splitlines()[0][:200] if (text or "").strip() else "no message"


def _collect_load_report(sb, result) -> dict | None:
    """What the loader program reported after running the cells: the errors of the student's own
    cells and, per graded function, whether it was found. An error that breaks a loading rule (an
    import the sandbox cannot satisfy, a name only Jupyter defines) is a fault that names the rule
    (see :mod:`autograder.loading_rules`); any other error is a note.

    The report comes from the submission's process, so it is checked like any reply: a report that
    is missing or malformed is ignored (returns None: every function is then called, and a missing one
    fails on each case with the worker's NameError). A report that lies can only cost its own points.
    """
    if sb.load_error:
        result.errors.append(f"loading your code failed: {_first_line(sb.load_error)}")
        return None
    reply = sb.call("_grader_report", [], {})
    report = _parse_report(reply.value if reply.ok else None)
    if report is None:
        result.notes.append("the grader could not read which functions your code defines; each was called")
        return None
    for label, message in report["errors"]:
        rule = loading_rules.explain_error(message)
        if rule is not None:
            result.errors.append(f"{label} stopped when grading: {rule}")
        else:
            result.notes.append(f"this cell raised an error when run: {label}: {message}")
    return report


def _parse_report(text) -> dict | None:
    """The loader's JSON report as {"errors": [(label, message)], "functions": {name: (state, detail)},
    "ipython": bool}, or None when it is not exactly that."""
    if not isinstance(text, str) or len(text) > MAX_REPORT_CHARS:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    errors, functions = data.get("errors"), data.get("functions")
    if not isinstance(errors, list) or not isinstance(functions, dict):
        return None
    out_errors = []
    for item in errors[:20]:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            return None
        out_errors.append((item[0][:100], item[1][:240]))
    out_functions = {}
    for name, state in functions.items():
        if not (isinstance(state, list) and len(state) == 2 and all(isinstance(x, str) for x in state)
                and state[0] in ("found", "missing", "not_callable")):
            return None
        detail = "".join(c for c in state[1][:60] if c.isascii() and (c.isalnum() or c in "_."))
        out_functions[name] = (state[0], detail)     # (a type name, made at load time: before any case)
    return {"errors": out_errors, "functions": out_functions, "ipython": data.get("ipython") is True}


def _missing(function: str, report: dict, stopped: dict | None = None) -> tuple[str, str] | None:
    """Why ``function`` cannot be called (message, diagnosis), or None when the code defines it."""
    state, detail = report["functions"].get(function, ("found", ""))
    if state == "found":
        return None
    if state == "not_callable":
        return (f"{function} is a {detail or 'value'}, not a function", "missing_function")
    for label, (rule, names) in (stopped or {}).items():
        if rule is not None and function in names:
            return (f"{function} is not defined when grading: {label} stopped before defining it ({rule})",
                    "missing_function")
    own_cell = f"cell {function}"
    if any(label == own_cell for label, _ in report["errors"]):
        return (f"{function} is not defined: its answer cell raised an error before defining it "
                "(see the problems above)", "missing_function")
    if report["errors"]:
        return (f"{function} is not defined after running your cells (some raised an error, see the "
                "problems above)", "missing_function")
    return (f"{function} is not defined in your answer cells", "missing_function")


def _stopped_cells(units: list[CodeUnit], report: dict | None) -> dict[str, tuple[str | None, set[str]]]:
    """label -> (the loading rule it broke or None, the names its top level binds) for each student cell
    that raised when loaded: what such a cell binds may be missing. Read from the cells' text (the
    instructor's side of the analysis), never from what the code reported beyond the cell's label."""
    if report is None:
        return {}
    texts = {u.label: u.source for u in units if u.from_student}
    out = {}
    for label, message in report["errors"]:
        if label in texts:
            out[label] = (loading_rules.explain_error(message), _top_level_names(texts[label]))
    return out


def _top_level_names(source: str) -> set[str]:
    """Names bound by a cell's top-level statements (also inside top-level if/for/while/try/with)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()
    todo = list(tree.body)
    while todo and len(names) < 10_000:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.For, ast.While, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody"):
                todo.extend(getattr(node, field, []))
            todo.extend(s for h in getattr(node, "handlers", []) for s in h.body)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [i.optional_vars for i in node.items if i.optional_vars] if isinstance(node, ast.With)
                else [node.target])
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _explain_call_error(function: str, case, call, outcome: CaseResult, stopped: dict) -> CaseResult:
    """A call that failed on a name which a stopped cell would have bound: say so. The name and the cell
    are shown for a visible case; a hidden case gets a fixed sentence (the name the code's error chose is
    never shown for it)."""
    if call.ok or outcome.passed or not call.error:
        return outcome
    rule = loading_rules.explain_error(call.error)
    if rule is not None and not case.hidden:      # an import or a Jupyter name, made while the function ran
        return CaseResult(outcome.case, 0.0, outcome.max_points, False, f"{outcome.message}: {rule}",
                          outcome.diagnosis, outcome.error)
    found = re.match(r"NameError: name '(\w+)' is not defined", call.error)
    if found is None or not stopped:
        return outcome
    culprit = next(((label, rule) for label, (rule, names) in stopped.items() if found.group(1) in names), None)
    if culprit is None:
        return outcome
    label, rule = culprit
    if case.hidden:
        message = (f"{function} uses a name that one of your cells did not define because it stopped when "
                   "grading (see the problems above)")
    else:
        message = (f"the function raised NameError: name '{found.group(1)}' is not defined: {label} stopped "
                   f"before defining it ({rule or 'it raised an error, see the problems above'})")
    return CaseResult(outcome.case, 0.0, outcome.max_points, False, message, "load_failed")


def _judge_inputs(spec, case, call, outcome: CaseResult) -> CaseResult:
    """A call that changed one of its inputs in place fails with its own diagnosis, ``modified_input``, when
    its value is right; with a wrong value the value's verdict stands and the sentence is added to it.

    The paths come from the submission's process: only paths of inputs the case really has are read."""
    if not call.ok:
        return outcome
    labels = _changed_labels(getattr(call, "modified", None), case,
                             loading_rules.parameter_names(spec.signature))
    if not labels:
        return outcome
    sentence = loading_rules.changed_argument(spec.function, labels[0])
    if outcome.passed:
        return CaseResult(outcome.case, 0.0, outcome.max_points, False, sentence, "modified_input", outcome.error)
    return CaseResult(outcome.case, outcome.points, outcome.max_points, False,
                      f"{outcome.message}; also, {sentence}", outcome.diagnosis, outcome.error)


def _changed_labels(paths, case, parameters: list[str]) -> list[str]:
    """Names of the changed inputs (``params['W_h']``) for the paths the worker reported that exist in the
    case's inputs; anything else in the report is ignored."""
    if not isinstance(paths, list):
        return []
    labels = []
    for path in paths[:16]:
        if not (isinstance(path, list) and 1 <= len(path) <= 8):
            continue
        head = path[0]
        if isinstance(head, int) and not isinstance(head, bool) and 0 <= head < len(case.args):
            node = case.args[head]
        elif isinstance(head, str) and head in case.kwargs:
            node = case.kwargs[head]
        else:
            continue
        for key in path[1:]:
            if not (isinstance(node, dict) and isinstance(key, str) and key in node):
                break
            node = node[key]
        else:
            label = loading_rules.argument_label(path, parameters)
            if label not in labels:
                labels.append(label)
    return labels
