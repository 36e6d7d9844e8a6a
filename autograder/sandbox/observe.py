"""Behaviour seen inside the sandbox while a submission's code runs, reported as it happens.

Bound read-only into the sandbox beside ``worker.py``; imports only the standard library. The serving process
calls :func:`install` once, right before the loader program runs: from then on a PEP 578 audit hook (which
cannot be removed) turns the interpreter's audit events into short lines such as ``opened /etc/passwd (not in
the sandbox)`` and writes each one at once to a pipe whose other end the trusted grader holds, so that nothing
the code does afterwards can take it back. The grader turns them into flags; a flag never changes a score.

What is reported: opening or listing paths outside the submission's ``/tmp`` and the read-only files it is
given (``/sandbox``: the interpreter, numpy, the released files), changing files outside ``/tmp``, the worker's
own descriptors opened as files, importing a system module from the submission's code (by ``import`` or
``__import__``; a module reached otherwise, as an attribute or through ``importlib``, is seen when it is used),
creating processes or threads, running programs, sending signals, sockets,
``ctypes`` (the way to raw system calls, e.g. those the seccomp filter refuses), ``mmap``, changing resource
limits, audit hooks and the garbage collector's object lists.

Only events caused by the submission count: those raised while a frame of its code (code compiled from text,
such as a ``<cell ...>``, or a file it wrote under ``/tmp``) is on the stack and no module is being imported
between that frame and the event, or on a stack without any frame of the worker (a thread the code started).
The module-level code of the libraries it imports (numpy's lazy imports and file reads, ``rnncheck``) is
therefore not reported, nor is anything the fork server did before; imports are judged by the importing frame
alone. Each distinct line is written once, at most ``MAX_EVENTS`` per worker.
"""

from __future__ import annotations

import os
import signal
import sys

#: Distinct events written per worker; later ones are dropped (the grader also caps what it keeps).
MAX_EVENTS = 64
#: Longest line written (a path is cut to fit).
MAX_TEXT = 160
#: Modules whose import by the submission's code is reported.
SYSTEM_MODULES = frozenset({
    "os", "posix", "subprocess", "_posixsubprocess", "ctypes", "_ctypes", "socket", "_socket", "ssl", "signal",
    "_signal", "pty", "fcntl", "mmap", "resource", "multiprocessing", "_multiprocessing", "shutil", "_thread",
    "gc",
})
#: Paths the submission may read (its own /tmp and /dev/shm, what is bound read-only for it) and write.
READABLE = ("/tmp", "/dev/shm", "/sandbox", "/dev/null", "/dev/zero", "/dev/urandom")
WRITABLE = ("/tmp", "/dev/shm", "/dev/null")
_CHANGES = {"os.remove": "removed", "os.rename": "renamed", "os.rmdir": "removed", "os.mkdir": "created",
            "os.chmod": "changed the mode of", "os.chown": "changed the owner of", "os.link": "linked",
            "os.symlink": "linked", "os.truncate": "truncated", "os.utime": "changed the time of",
            "shutil.rmtree": "removed", "shutil.copyfile": "copied to", "shutil.move": "moved"}
_PROCESS = {"os.fork": "created a process (fork)", "os.forkpty": "created a process (forkpty)",
            "os.system": "ran a shell command (os.system)", "pty.spawn": "started a program (pty.spawn)",
            "os.posix_spawn": "started a program (posix_spawn)", "os.spawn": "started a program (os.spawn)",
            "os.exec": "replaced its program (exec)", "subprocess.Popen": "started a program (subprocess)",
            "_thread.start_new_thread": "started a thread", "mmap.__new__": "mapped memory with mmap",
            "resource.setrlimit": "changed its resource limits", "resource.prlimit": "changed its resource limits",
            "sys.addaudithook": "installed an audit hook", "gc.get_objects": "listed the interpreter's objects",
            "gc.get_referrers": "inspected the interpreter's objects (gc.get_referrers)",
            "gc.get_referents": "inspected the interpreter's objects (gc.get_referents)"}


def _clean(text: str) -> str:
    text = "".join(c if " " <= c <= "~" else "?" for c in str(text))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def _path(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    try:
        return os.path.realpath(os.path.join(os.getcwd(), value))
    except (OSError, ValueError):
        return os.path.normpath(value)


def _where(path: str) -> str:
    return "not in the sandbox" if not os.path.lexists(path) else "outside the submission's files"


def _submission_file(name: str) -> bool:
    """Whether code from file ``name`` is the submission's: compiled from text, or a file under /tmp."""
    return (name.startswith("<") and not name.startswith("<frozen")) or name.startswith("/tmp/")


def install(fd: int, own_files: tuple[str, ...], own_fds: tuple[int, ...]) -> None:
    """Start reporting (for the rest of this process and its children).

    Args:
        fd: the write end of the grader's event pipe (made non-blocking here; a full pipe drops events).
        own_files: the worker's own source files (their frames are the worker's, not the submission's).
        own_fds: descriptors of the worker (its channel, this pipe): opening them as files is reported.
    """
    os.set_blocking(fd, False)
    own_files = frozenset(own_files)
    seen: set[str] = set()
    getframe, write = sys._getframe, os.write

    def from_submission(frame, innermost_only: bool) -> bool:
        own = importing = False
        for _ in range(256):
            if frame is None:
                break
            name = frame.f_code.co_filename
            if name in own_files:
                own = True
            elif name.startswith("<frozen importlib"):
                importing = True
            elif _submission_file(name):
                return not importing
            elif innermost_only:
                return False
            frame = frame.f_back
        return not own and not innermost_only and not importing

    def emit(text: str) -> None:
        text = _clean(text)
        if text in seen or len(seen) >= MAX_EVENTS:
            return
        seen.add(text)
        try:
            write(fd, (text + "\n").encode("ascii"))
        except OSError:
            pass

    def describe(event: str, args) -> tuple[str | None, bool]:
        """(line, whether only the innermost frame decides) for an event worth reporting, else (None, _)."""
        if event == "open":
            target, mode, flags = (list(args) + [None, None, None])[:3]
            if isinstance(target, int):
                return (f"opened the worker's own descriptor {target}" if target in own_fds else None), False
            path = _path(target)
            if path is None:
                return None, False
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
            if writing and not _under(path, WRITABLE):
                return f"opened {path} for writing (denied: read-only)", False
            if not _under(path, READABLE):
                return f"opened {path} ({_where(path)})", False
            return None, False
        if event in ("os.listdir", "os.scandir"):
            path = _path(args[0] if args else ".")
            if path is not None and not _under(path, READABLE):
                return f"listed {path} ({_where(path)})", False
            return None, False
        if event in _CHANGES:
            path = _path(args[0]) if args else None
            if path is not None and not _under(path, WRITABLE):
                return f"{_CHANGES[event]} {path} (denied: read-only)", False
            return None, False
        if event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            pid, sig = (list(args) + [None, None])[:2]
            target = "itself" if pid == os.getpid() else f"process {pid}"
            try:
                sig = signal.Signals(sig).name
            except (ValueError, TypeError):
                pass
            return f"sent signal {sig} to {target}", False
        if event in _PROCESS:
            return _PROCESS[event], False
        if event.startswith("socket."):
            return f"used a socket ({event})", False
        if event.startswith("ctypes."):
            detail = ""
            if event == "ctypes.dlopen" and args and isinstance(args[0], str):
                detail = f": {args[0]}"
            elif event == "ctypes.dlsym" and len(args) > 1 and isinstance(args[1], (str, int)):
                detail = f": {args[1]}"  # the C function looked up (e.g. mount, ptrace)
            return f"used ctypes ({event}{detail})", False
        if event in ("import", "sandbox.import"):
            name = str(args[0]) if args else ""
            if name.split(".")[0] in SYSTEM_MODULES:
                return f"imported {name.split('.')[0]}", True
            return None, False
        return None, False

    def hook(event, args):
        if event in ("sys._getframe", "exec", "compile", "object.__getattr__", "object.__setattr__"):
            return
        try:
            text, innermost = describe(event, args)
            if text is None:
                return
            frame = getframe(1)
            if innermost:
                while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                             or "/importlib/" in frame.f_code.co_filename
                                             or frame.f_code.co_filename in own_files):
                    frame = frame.f_back
            if from_submission(frame, innermost):
                emit(text)
        except Exception:  # noqa: BLE001 - observing must never break the code
            pass

    sys.addaudithook(hook)

    import builtins

    original, audit = builtins.__import__, sys.audit

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A001
        if not level and isinstance(name, str) and name.split(".")[0] in SYSTEM_MODULES:
            audit("sandbox.import", name)
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = __import__

    # Python 3.11 raises no audit event when a thread starts (3.13 does): the function that starts one
    # raises it here; the threading module keeps its own reference, which is replaced as well.
    import _thread

    start = _thread.start_new_thread

    def start_new_thread(function, args, kwargs=None):
        audit("_thread.start_new_thread", function, args, kwargs)
        return start(function, args, {} if kwargs is None else kwargs)

    if sys.version_info < (3, 13):
        _thread.start_new_thread = start_new_thread
        threading = sys.modules.get("threading")
        if threading is not None and getattr(threading, "_start_new_thread", None) is start:
            threading._start_new_thread = start_new_thread
