"""Step 5 of the pipeline: call every graded function on every case in the sandbox and judge each value here."""
from __future__ import annotations

import json

from .answer_code import CodeUnit, loader_source
from .specs import CaseResult

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
        if report is not None and not report["ipython"] and any(u.cell is not None for u in units):
            result.notes.append("IPython syntax (magics, shell lines) was run as plain Python: the grader's "
                                "sandbox has no IPython transformer")
        for spec in course.specs:
            outcomes: list[CaseResult] = []
            skip = None
            if sb.load_error:
                skip = ("not run: your code could not be loaded (see the problems above)", "load_failed")
            elif report is not None:
                skip = _missing(spec.function, report)
            crashes = 0
            for case in spec.cases(seed, hidden=True):
                if skip is not None:
                    outcomes.append(CaseResult(case.name, 0.0, case.points, False, *skip))
                    continue
                call = sb.call(spec.function, list(case.args), dict(case.kwargs))
                if not call.sandboxed:
                    raise RuntimeError("a result came from an unsandboxed worker; it cannot be recorded")
                try:
                    outcome = spec.evaluate(case, call)
                except Exception as exc:  # a value the comparison cannot handle: no points, say so
                    outcome = CaseResult(case.name, 0.0, case.points, False,
                                         f"the returned value could not be judged ({type(exc).__name__})",
                                         "unjudgeable")
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
    cells (added to the notes) and, per graded function, whether it was found.

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
    result.notes.extend(f"this cell raised an error when run: {label}: {message}"
                        for label, message in report["errors"])
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


def _missing(function: str, report: dict) -> tuple[str, str] | None:
    """Why ``function`` cannot be called (message, diagnosis), or None when the code defines it."""
    state, detail = report["functions"].get(function, ("found", ""))
    if state == "found":
        return None
    if state == "not_callable":
        return (f"{function} is a {detail or 'value'}, not a function", "missing_function")
    own_cell = f"cell {function}"
    if any(label == own_cell for label, _ in report["errors"]):
        return (f"{function} is not defined: its answer cell raised an error before defining it "
                "(see the problems above)", "missing_function")
    if report["errors"]:
        return (f"{function} is not defined after running your cells (some raised an error, see the "
                "problems above)", "missing_function")
    return (f"{function} is not defined in your answer cells", "missing_function")
