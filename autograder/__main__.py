"""``python -m autograder <command> ...``: a small dispatcher, one module per command.

A command module ``autograder/cli_<name>.py`` provides ``HELP`` (one line), ``add_arguments(parser)``
and ``main(args) -> int``. The commands are found by name, so adding one is adding a module to
:data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: command name -> module (relative to this package)
COMMANDS = {
    "grade": ".cli_grade",
    "report": ".cli_report",
    "demo": ".cli_demo",
}


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


def main(argv: list[str] | None = None) -> int:
    _never_crash_on_text()
    mods = {name: importlib.import_module(module, __package__) for name, module in COMMANDS.items()}
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade the course's problem sets with the trusted autograder.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, mod in mods.items():
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
    args = parser.parse_args(argv)
    return int(mods[args.command].main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
