"""The grader's command line: ``rnngrad-grader <command> ...`` (the same as ``python -m autograder <command> ...``).

A small dispatcher, one module per command. A command module ``autograder/cli_<name>.py`` provides ``HELP``
(one line), ``add_arguments(parser)`` and ``main(args) -> int``. The commands are found by name, so adding
one is adding a module to :data:`COMMANDS`. An error the user can fix (a folder that is not a course, a set
not released, no sandbox, Ctrl-C, ...) ends the command with one line on stderr that says what to do, and
an exit code of :data:`autograder.cli_errors.EXIT_CODES`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .cli_errors import epilog, explain

#: command name -> module (relative to this package)
COMMANDS = {
    "grade": ".cli_grade",
    "report": ".cli_report",
    "demo": ".cli_demo",
    "export": ".cli_export",
}
#: the name of the console script that setup installs (pyproject.toml, [project.scripts])
SCRIPT = "rnngrad-grader"


def _never_crash_on_text() -> None:
    """Output streams that show a character they cannot encode as an escape instead of raising: the
    commands print student-derived text only through :mod:`autograder.inert`, and this keeps any other
    string from stopping a command."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _prog() -> str:
    """How the user called the grader, for usage lines."""
    return SCRIPT if os.path.basename(sys.argv[0] or "") == SCRIPT else "python -m autograder"


def parser() -> argparse.ArgumentParser:
    """The argument parser of every command (their exit codes in the epilog)."""
    mods = {name: importlib.import_module(module, __package__) for name, module in COMMANDS.items()}
    top = argparse.ArgumentParser(prog=_prog(), epilog=epilog(), formatter_class=argparse.RawDescriptionHelpFormatter,
                                  description="Grade the course's problem sets with the trusted autograder.\n"
                                              "Run it inside the nbgrader course directory, or pass --course.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, mod in mods.items():
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP, epilog=epilog(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(run=mod.main)
    return top


def main(argv: list[str] | None = None) -> int:
    _never_crash_on_text()
    try:
        args = parser().parse_args(argv)
        return int(args.run(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:
        known = explain(exc)
        if known is None:
            raise
        code, line = known
        sys.stdout.flush()
        if isinstance(exc, KeyboardInterrupt) and sys.stderr.isatty():
            sys.stderr.write("\n")       # after the ^C that the terminal printed mid-line
        print(line, file=sys.stderr)
        return code


def script() -> None:
    """Entry point of the ``rnngrad-grader`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
