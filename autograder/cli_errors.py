"""What the grader's command line says when it stops early: one line on stderr with the fix, and an exit code.

:data:`EXIT_CODES` is the documented table (``--help`` prints it; ``assignments/README.md`` lists it);
:func:`explain` turns an exception into ``(exit code, line)``, or None for an unexpected one (a bug in the
grader, which keeps Python's traceback and exits 1).
"""
from __future__ import annotations

from .course import CourseError, NothingGraded, NotACourse, SetNotReleased, UnknownSet

#: exit status -> what it means
EXIT_CODES = {
    0: "done",
    1: "an unexpected error in the grader (Python's traceback follows; please report it)",
    2: "a wrong command line: an unknown command, option, problem set or student",
    3: "not an nbgrader course directory (no nbgrader_config.py here or above; see --course)",
    4: "the problem set is not released yet (nbgrader generate_assignment)",
    5: "nothing graded yet: the report needs the grade command first",
    6: "the sandbox cannot start (bubblewrap missing, or user namespaces disabled)",
    130: "interrupted (Ctrl-C); run the same command again to resume",
}

#: the longest line printed for an error (a sandbox's start-up output can be long)
MAX_LINE = 600

BUBBLEWRAP_MISSING = ("the sandbox cannot start: bubblewrap (bwrap) is not installed, and student code runs only in "
                      "its sandbox; install it (sudo apt-get install bubblewrap, or bash setup.sh in the repository)")
USERNS_DISABLED = ("the sandbox cannot start: this kernel refuses an ordinary user the user namespaces bubblewrap "
                   "needs; enable them (sudo sysctl -w kernel.unprivileged_userns_clone=1 where that setting exists, "
                   "user.max_user_namespaces > 0, and on Ubuntu 24.04 or later "
                   "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap), or run the "
                   "grader as root")


def epilog() -> str:
    """The exit codes as shown at the end of ``--help``."""
    return "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items())


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line (runs of white space become one space), cut at ``limit`` characters.

    >>> one_line("a\\n  b")
    'a b'
    """
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def _sandbox_line(exc) -> str:
    """The sandbox's refusal with what to install or enable."""
    from .sandbox.sandbox import BubblewrapMissing, UserNamespacesUnavailable

    if isinstance(exc, BubblewrapMissing):
        return BUBBLEWRAP_MISSING
    if isinstance(exc, UserNamespacesUnavailable):
        return USERNS_DISABLED
    return "the sandbox cannot start: " + one_line(exc)


def explain(exc: BaseException) -> tuple[int, str] | None:
    """``(exit code, one line for stderr)`` for an error the user can fix, else None.

    >>> explain(UnknownSet("no problem set 'ps9'; the sets are: ps1_softmax"))
    (2, "error: no problem set 'ps9'; the sets are: ps1_softmax")
    """
    from .sandbox import SandboxUnavailable

    if isinstance(exc, KeyboardInterrupt):
        done, total = getattr(exc, "done", None), getattr(exc, "total", None)
        if done is not None:      # a grading batch: what is stored stays, the rest is graded next time
            return 130, f"interrupted after {done} of {total}; run the same command again to resume"
        said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
        return 130, one_line(said) if said.startswith("interrupted") else "interrupted"
    if isinstance(exc, SandboxUnavailable):
        return 6, "error: " + _sandbox_line(exc)
    codes = ((NotACourse, 3), (SetNotReleased, 4), (NothingGraded, 5), (UnknownSet, 2), (CourseError, 2))
    for kind, code in codes:
        if isinstance(exc, kind):
            return code, "error: " + one_line(exc)
    return None
