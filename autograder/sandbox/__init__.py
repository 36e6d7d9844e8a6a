"""Running untrusted student code: an isolated worker that loads a submission once and answers calls.

``Sandbox`` (one submission), ``WorkerPool`` (a warm fork server for many), ``Limits``, ``CallResult``, and
``static_flags`` (reasons to look at a submission, found without running it). See ``autograder/SECURITY.md``.
"""

from .flags import Flag, static_flags
from .protocol import ProtocolError
from .sandbox import (CallResult, Limits, Sandbox, SandboxError, SandboxUnavailable, WorkerPool, bwrap_command,
                      isolation_mode)

__all__ = [
    "CallResult",
    "Flag",
    "Limits",
    "ProtocolError",
    "Sandbox",
    "SandboxError",
    "SandboxUnavailable",
    "WorkerPool",
    "bwrap_command",
    "isolation_mode",
    "static_flags",
]
