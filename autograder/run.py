"""Step 5 of the pipeline: call every graded function on every case in the sandbox and judge each value here."""
from __future__ import annotations

import json

from .answer_code import CodeUnit, defined_names, loader_source
from .specs import CaseResult

#: After this many calls of one function that ended the worker, its other cases are not run.
CRASHES_PER_FUNCTION = 2

def run_cases(course, units: list[CodeUnit], seed: int, make_sandbox, result) -> None:
    """Call every graded function on every case in the sandbox; judge each value here.

    The sandbox restarts a crashed or timed-out worker by itself (reloading the code); after a
    timeout (or CRASHES_PER_FUNCTION crashes) the remaining cases of that function are not run,
    so one endless loop costs one time limit, and the worker's restarts are kept for the other
    functions.
    """
    own = defined_names([u for u in units if u.from_student])
    with make_sandbox(loader_source(units)) as sb:
        _collect_load_errors(sb, result)
        for spec in course.specs:
            outcomes: list[CaseResult] = []
            skip = None
            if sb.load_error:
                skip = ("not run: your code could not be loaded (see the problems above)", "load_failed")
            elif spec.function not in own:
                skip = (f"{spec.function} is not defined in your answer cells", "missing_function")
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


def _worker_stopped(sb) -> bool:
    """True when the last call ended the worker (crash, limit, rejected reply)."""
    return not sb.alive


def _first_line(text: str | None) -> str:
    return (text or "no message").strip().splitlines()[0][:200] if (text or "").strip() else "no message"


def _collect_load_errors(sb, result) -> None:
    """Errors of the student's own cells while loading (they ran before any case was sent)."""
    if sb.load_error:
        result.errors.append(f"loading your code failed: {_first_line(sb.load_error)}")
        return
    report = sb.call("_grader_report", [], {})
    if report.ok and isinstance(report.value, str):
        try:
            errors = json.loads(report.value)
        except ValueError:
            errors = []
        if isinstance(errors, list):
            result.notes.extend(f"this cell raised an error when run: {str(e)[:240]}" for e in errors[:20])
