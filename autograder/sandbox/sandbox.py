"""Trusted side of the sandbox: start the bubblewrap fork server, run submissions in it, talk to them.

The grader process never runs student code. It starts one bubblewrap sandbox per :class:`WorkerPool` in which a
small fork server (``worker.py``) has imported numpy; each :class:`Sandbox` asks that server for a fresh
process with its own namespaces, uid and resource limits, sends it the student's source once, then sends
"call f with these arrays" requests over a private socket (JSON header + npz payload, see ``protocol.py``).
Every reply is decoded strictly and the wall-clock limits are enforced here, on the trusted side.

The isolation mode is chosen automatically: a grader running as root starts bubblewrap without a user
namespace and gives every submission its own host uid ("root" mode); an ordinary user starts bubblewrap with
a user namespace and every submission gets a user namespace of its own with no capabilities ("userns" mode).
If neither is possible :class:`SandboxUnavailable` says why. See ``autograder/SECURITY.md`` for the threat
model and what differs between the two modes.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import json
import os
import random
import shutil
import site
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from ..loading_rules import SANDBOX_PACKAGES
from . import protocol, public

_HERE = os.path.dirname(os.path.abspath(__file__))
# The checkout that holds this package (and rnngrad, the specs, the course): never visible in the sandbox.
_PROJECT_ROOT = os.path.dirname(os.path.dirname(_HERE))
_FORBIDDEN_IMPORTS = ("rnngrad", "autograder")
# Each submission runs as its own uid/gid drawn from this range (no account needs to exist for it).
UID_BASE, UID_SPAN = 1_000_000, 1_000_000
DEFAULT_IMPORTS = SANDBOX_PACKAGES  # the one list, which the notebooks and the student's check() state too
# A reply header carries the printed output (bounded by Limits.max_output_chars) and the value's tree.
MAX_REPLY_HEADER = 8 << 20
# Behaviour reports (see observe.py): bytes read per submission, distinct lines kept, characters per line.
MAX_EVENT_BYTES = 64 << 10
MAX_OBSERVED = 20
MAX_OBSERVED_CHARS = 160


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create the sandbox; nothing is run unsandboxed unless asked."""


class BubblewrapMissing(SandboxUnavailable):
    """bubblewrap (``bwrap``) is not on the PATH."""


class UserNamespacesUnavailable(SandboxUnavailable):
    """The grader is an ordinary user and the kernel does not let bubblewrap create a user namespace."""


class SandboxError(RuntimeError):
    """The fork server stopped answering (the pool cannot start more submissions)."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits for one submission (each restarted worker gets them afresh).

    ``cpu_seconds``: CPU time of the serving process (RLIMIT_CPU; SIGXCPU, then SIGKILL one second later),
    a backstop above ``wall_seconds_per_call`` so that a call that never ends is reported as timed out
    (with the two equal, which of them stopped it was a race).
    ``wall_seconds_per_call``: wall clock for loading the code and for each call (enforced by the grader).
    ``wall_seconds_total``: wall clock summed over the load and every call of the submission.
    ``memory_bytes``: address space the student's code may add on top of the worker's own (RLIMIT_AS).
    ``max_processes``: processes and threads of the submission's uid, worker included (RLIMIT_NPROC).
    ``max_file_bytes``: largest file it may write (RLIMIT_FSIZE); ``tmp_bytes``: size of its private /tmp;
    ``shm_bytes``: size of its private /dev/shm (both tmpfs, counted in ``total_memory_bytes``).
    ``max_output_chars``: printed characters kept per call and stream; ``max_result_bytes``: array bytes
    of one returned value; ``max_request_bytes``: largest request accepted by the worker.
    ``max_restarts``: fresh workers started after a crash or a timeout so that later calls still run.
    ``total_memory_bytes``: the memory of all the submission's processes together, shared memory included
    (anonymous and shared resident memory of each, plus the files of its /tmp and /dev/shm), checked by
    the fork server every 40 ms (a fork bomb of memory hogs); None means ``2 * memory_bytes``.
    """

    cpu_seconds: int = 15
    wall_seconds_per_call: float = 10.0
    wall_seconds_total: float = 60.0
    memory_bytes: int = 1 << 30
    max_processes: int = 16
    max_file_bytes: int = 1 << 20
    tmp_bytes: int = 16 << 20
    shm_bytes: int = 16 << 20
    max_open_files: int = 64
    max_output_chars: int = 20_000
    max_result_bytes: int = 64 << 20
    max_request_bytes: int = 256 << 20
    max_restarts: int = 8
    total_memory_bytes: int | None = None

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "total_memory_bytes":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                    value == 0 and field.name != "max_restarts"):
                raise ValueError(f"Limits.{field.name} must be a positive number, got {value!r}")


@dataclasses.dataclass
class CallResult:
    """What one call of a student function produced, decoded on the trusted side.

    ``value`` holds only ndarrays of numeric dtypes, numpy scalars, float/int/bool/None/str and tuples, lists
    and dicts of these; ``error`` is "ExceptionType: message" (or the grader's reason: timeout, limit, ...);
    ``traceback`` lists only the lines of the submission. ``sandboxed`` is False only for results produced
    with ``allow_unsandboxed=True`` (development without bubblewrap); such results must not be recorded.
    """

    ok: bool
    value: Any = None
    error: str | None = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    traceback: str = ""
    seconds: float = 0.0
    sandboxed: bool = True
    modified: Any = None  # the worker's report of inputs changed in place (untrusted; read by autograder.run)


# ------------------------------------------------------------------------------------------ layout
def _package_dirs(name: str) -> list[tuple[str, str]]:
    if name.split(".")[0] in _FORBIDDEN_IMPORTS or "." in name or not name.isidentifier():
        raise ValueError(f"allowed_imports: {name!r} cannot be made importable inside the sandbox")
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"allowed_imports: {name!r} is not an installed package in the grader's environment")
    pkg_dir = os.path.realpath(list(spec.submodule_search_locations)[0])
    pairs = [(pkg_dir, f"/sandbox/site/{name}")]
    libs = os.path.join(os.path.dirname(pkg_dir), f"{name}.libs")  # wheels' vendored shared libraries
    if os.path.isdir(libs):
        pairs.append((os.path.realpath(libs), f"/sandbox/site/{name}.libs"))
    site_dirs = [os.path.realpath(p) for p in site.getsitepackages()]
    for src, _ in pairs:
        installed = any(os.path.commonpath([src, d]) == d for d in site_dirs)
        if os.path.commonpath([src, _PROJECT_ROOT]) == _PROJECT_ROOT and not installed:
            raise ValueError(f"allowed_imports: {name!r} lives inside the project checkout ({src})")
    return pairs


def isolation_mode() -> str:
    """The mode a new :class:`WorkerPool` uses here: "root" when the grader runs as root, else "userns"."""
    return "root" if os.geteuid() == 0 else "userns"


def bwrap_command(ctl_fd: int, allowed_imports: Iterable[str] = DEFAULT_IMPORTS, *,
                  mode: str | None = None, public_files: Iterable[str] = ()) -> list[str]:
    """The bubblewrap command line that starts the fork server with control socket ``ctl_fd``.

    ``public_files``: released files (``rnncheck.py``, fixtures) bound read-only at ``/sandbox/release``;
    IPython's input transformer is bound at ``/sandbox/ipython`` (see :mod:`.public`).

    ``mode`` is "root" or "userns" (default: :func:`isolation_mode`). In "userns" mode bubblewrap creates a
    user namespace in which the fork server is uid 0, and the capabilities it keeps are those of that
    namespace only (they act on the namespaces and mounts it makes, never on the host).
    """
    mode = isolation_mode() if mode is None else mode
    if mode not in ("root", "userns"):
        raise ValueError(f"mode must be 'root' or 'userns', got {mode!r}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise BubblewrapMissing("bubblewrap (bwrap) is not installed; install the 'bubblewrap' package")
    base = os.path.realpath(sys.base_prefix)
    exe = os.path.realpath(sys.executable)
    if os.path.commonpath([exe, base]) != base:
        raise SandboxUnavailable(f"the interpreter {exe} is not inside its prefix {base}")
    inner_exe = "/sandbox/python/" + os.path.relpath(exe, base)
    args = [bwrap]
    if mode == "userns":
        # The caller's uid and gid become 0 of a new user namespace (the only ids mapped there).
        args += ["--unshare-user", "--uid", "0", "--gid", "0"]
    args += [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "sandbox",
        "--die-with-parent", "--new-session",
        # The fork server needs only these (namespaces, mounts, uid drop, chown of /tmp, killing children).
        "--cap-drop", "ALL",
        "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
        "--cap-add", "CAP_CHOWN", "--cap-add", "CAP_KILL",
    ]
    if mode == "userns":
        # The kernel lets a new user namespace map its parent's uid 0 only if its creator holds CAP_SETFCAP.
        args += ["--cap-add", "CAP_SETFCAP"]
    args += [
        "--clearenv",
        "--setenv", "LANG", "C.UTF-8", "--setenv", "LC_ALL", "C.UTF-8",
        "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
        "--setenv", "PATH", "/sandbox/python/bin",
        "--setenv", "LD_LIBRARY_PATH", "/sandbox/python/lib",
        "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
        "--setenv", "MKL_NUM_THREADS", "1",
    ]
    # Directories that bwrap would otherwise create as root-only parents of the mount points.
    for path in ("/sandbox", "/sandbox/site", "/sandbox/lib", "/usr", "/etc", "/dev", "/dev/shm"):
        args += ["--perms", "0755", "--dir", path]
    args += ["--ro-bind", base, "/sandbox/python"]
    # Hide every package directory of the base interpreter (the venv's is never bound at all).
    hidden = set(glob.glob(os.path.join(base, "lib", "python3*", "*-packages")))
    hidden.add(sysconfig.get_path("purelib", vars={"base": base, "platbase": base}))
    for path in sorted(hidden):
        if os.path.isdir(path) and os.path.commonpath([path, base]) == base:
            inner = "/sandbox/python/" + os.path.relpath(path, base)
            args += ["--tmpfs", inner, "--remount-ro", inner]
    for top in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # The system Python's own libraries and packages are of no use to the sandbox's interpreter.
    for path in sorted(glob.glob("/usr/lib/python3*")):
        if os.path.isdir(path) and not os.path.islink(path):
            args += ["--tmpfs", path, "--remount-ro", path]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for name in allowed_imports:
        for src, dst in _package_dirs(name):
            args += ["--ro-bind", src, dst]
    args += public.bind_args(public_files, allowed_imports)
    args += [
        "--ro-bind", os.path.join(_HERE, "worker.py"), "/sandbox/lib/worker.py",
        "--ro-bind", os.path.join(_HERE, "protocol.py"), "/sandbox/lib/protocol.py",
        "--ro-bind", os.path.join(_HERE, "npzread.py"), "/sandbox/lib/npzread.py",
        "--ro-bind", os.path.join(_HERE, "observe.py"), "/sandbox/lib/observe.py",
        "--proc", "/proc",
        "--dev-bind", "/dev/null", "/dev/null", "--dev-bind", "/dev/zero", "/dev/zero",
        "--dev-bind", "/dev/urandom", "/dev/urandom",
        "--tmpfs", "/tmp",
        "--remount-ro", "/",
        "--chdir", "/tmp",
        inner_exe, "-I", "-S", "-B", "/sandbox/lib/worker.py", "zygote", str(ctl_fd),
        "/sandbox/site", mode,
    ]
    return args


def _describe_status(status: int | None, reason: str | None, limits: Limits) -> str:
    """Plain words for how a submission's worker ended (init exits with 128 + signal of the server)."""
    if reason and reason.startswith("memory"):
        return f"the worker was killed: memory limit exceeded ({reason.split(': ', 1)[-1]})"
    if status is None:
        return "the worker stopped"
    if os.WIFSIGNALED(status):
        code = 128 + os.WTERMSIG(status)
    elif os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
    else:
        code = 1
    if code > 128:
        sig = code - 128
        if sig == signal.SIGXCPU or sig == signal.SIGKILL:
            return (f"the worker was killed ({signal.Signals(sig).name}): CPU time limit of "
                    f"{limits.cpu_seconds} s or memory limit exceeded")
        if sig == signal.SIGXFSZ:
            return f"the worker was killed (SIGXFSZ): file size limit of {limits.max_file_bytes} bytes exceeded"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the worker was killed by {name}"
    if code == 70:
        return "the worker could not apply its limits or drop its privileges"
    if code == 75:
        return "the worker's channel was closed or broken by the code"
    if code in (71, 72):
        return ("the sandbox could not set up the submission's process (namespaces, mounts or dropping "
                "privileges failed)")
    return f"the worker exited with status {code} (the code ended its own process)"


# ------------------------------------------------------------------------------------------ pool
class WorkerPool:
    """A warm fork server inside one bubblewrap sandbox; every submission gets a fresh, isolated process.

    Args:
        workers: how many submissions :meth:`map` grades at once (threads on the trusted side).
        allowed_imports: top-level packages made importable inside (default: numpy only).
        allow_unsandboxed: development only: if bubblewrap cannot start, run the fork server as a plain
            process instead (rlimits only, no isolation) and mark every result ``sandboxed=False``.
        limits: default :class:`Limits` for :meth:`sandbox`.
        public_files: the problem set's released files (``rnncheck.py``, fixtures; never a submission's),
            bound read-only: importable by name and linked into every submission's working directory.

    After :meth:`start`, ``mode`` tells how submissions are isolated: "root" (the grader is root; each
    submission has its own host uid), "userns" (the grader is an ordinary user; each submission has its own
    user namespace, but on the host every submission runs as the grader's uid) or "unsandboxed".
    """

    def __init__(self, workers: int = 2, *, allowed_imports: Iterable[str] | None = None,
                 allow_unsandboxed: bool = False, limits: Limits = Limits(), start_timeout: float = 60.0,
                 public_files: Iterable[str] = ()):
        self.workers = max(1, int(workers))
        self.allowed_imports = tuple(DEFAULT_IMPORTS if allowed_imports is None else allowed_imports)
        self.public_files = tuple(public_files)   # released files bound read-only (see bwrap_command)
        self.allow_unsandboxed = allow_unsandboxed
        self.limits = limits
        self.start_timeout = start_timeout
        self.sandboxed = True
        self.mode: str | None = None
        self.proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._uids: set[int] = set()
        self._rng = random.SystemRandom()
        self._self_testing = False  # while the start-up check runs (under _start_lock): no restart on failure

    # -- life cycle
    def start(self) -> "WorkerPool":
        with self._start_lock:
            if self.proc is None:
                self._start_locked()
        return self

    def _start_locked(self) -> None:
        try:
            self._launch(isolation_mode())
        except SandboxUnavailable:
            if not self.allow_unsandboxed:
                raise
            self._launch("unsandboxed")

    def _launch(self, mode: str) -> None:
        sandboxed = mode != "unsandboxed"
        if mode == "userns" and _kernel_version() < (5, 14):
            # Before 5.14 RLIMIT_NPROC counted every process of the host uid: in this mode that is the grader's
            # own, so the per-submission process limit would be wrong.
            raise SandboxUnavailable(
                f"the sandbox needs Linux 5.14 or later to run as an ordinary user (this is "
                f"{os.uname().release}: the process limit of a submission would count the grader's own "
                "processes); run the grader as root")
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        errlog = tempfile.TemporaryFile()
        try:
            if sandboxed:
                cmd = bwrap_command(child.fileno(), self.allowed_imports, mode=mode,
                                    public_files=self.public_files)
            else:
                self._site = tempfile.TemporaryDirectory(prefix="sandbox-site-")
                site = os.path.join(self._site.name, "site")   # release/ and ipython/ beside it, as inside
                os.mkdir(site)
                for name in self.allowed_imports:
                    for src, dst in _package_dirs(name):
                        os.symlink(src, os.path.join(site, os.path.basename(dst)))
                public.link_unsandboxed(self._site.name, self.public_files, self.allowed_imports)
                cmd = [sys.executable, "-I", "-S", "-B", os.path.join(_HERE, "worker.py"), "zygote",
                       str(child.fileno()), site, "unsandboxed"]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog,
                                    pass_fds=(child.fileno(),), start_new_session=True, close_fds=True,
                                    cwd=None if sandboxed else os.path.join(self._site.name, "release"),
                                    env=None if sandboxed else _unsandboxed_env())
        finally:
            child.close()
        parent.settimeout(self.start_timeout)
        try:
            hello = parent.recv(1 << 16)
        except OSError:
            hello = b""
        if not hello:
            _kill_group(proc)
            errlog.seek(0)
            detail = errlog.read().decode(errors="replace").strip()[-2000:]
            parent.close()
            if mode == "userns":
                raise UserNamespacesUnavailable(
                    "the sandbox did not start as an ordinary user (the grader is not root, so bubblewrap "
                    f"must create an unprivileged user namespace): {detail or 'no output'}. Allow them "
                    "(sysctl user.max_user_namespaces > 0; kernel.unprivileged_userns_clone=1 where that "
                    "setting exists; on Ubuntu 24.04 and later an AppArmor profile that lets bwrap use "
                    "them, or kernel.apparmor_restrict_unprivileged_userns=0), or run the grader as root")
            raise SandboxUnavailable(f"the sandbox did not start: {detail or 'no output'}")
        self.proc, self._ctl, self.sandboxed, self.errlog = proc, parent, sandboxed, errlog
        self.mode = mode
        self.zygote_info = json.loads(hello)
        if sandboxed:
            self._self_test()

    def _self_test(self) -> None:
        """Run one trivial submission right away. A machine where the fork server starts but submissions
        cannot (e.g. no user namespace left for them, a setting that forbids mounts) must refuse here, with
        the reason, rather than grade every submission as code that failed to load."""
        sb = Sandbox("def probe():\n    return 41 + 1\n", pool=self,
                     limits=Limits(wall_seconds_per_call=20, wall_seconds_total=40, max_restarts=0))
        problem = None
        self._self_testing = True
        try:
            sb.uid = self._new_uid()
            failure = sb._start()
            if failure is not None:
                problem = failure.error
            else:
                result = sb.call("probe", [], {})
                if not (result.ok and result.value == 42):
                    problem = result.error or f"the probe returned {result.value!r}"
        except SandboxError as exc:
            problem = str(exc)
        finally:
            sb.close()
            self._self_testing = False
        if problem is not None:
            detail = self.diagnostics().strip()[-2000:]
            mode = self.mode
            self.close()
            raise SandboxUnavailable(f"the sandbox started but cannot run a submission ({mode} mode): {problem}"
                                     + (f"\n{detail}" if detail else ""))

    def close(self) -> None:
        """Kill the fork server and, with it, every process of every submission it started."""
        if self._ctl is not None and self.proc is not None and self.proc.poll() is None:
            try:
                # Sandboxed, killing bubblewrap below would suffice (PID namespaces); unsandboxed it would not.
                self._request({"op": "kill_all"})
            except SandboxError:
                pass
        proc, self.proc = self.proc, None
        if getattr(self, "errlog", None) is not None:
            self.errlog.close()
            self.errlog = None
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        if proc is not None:
            _kill_group(proc)
        if getattr(self, "_site", None) is not None:
            self._site.cleanup()
            self._site = None

    def __enter__(self) -> "WorkerPool":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def diagnostics(self) -> str:
        """What the fork server wrote to its stderr (setup failures of submission processes)."""
        if getattr(self, "errlog", None) is None:
            return ""
        self.errlog.seek(0)
        return self.errlog.read().decode(errors="replace")[-20000:]

    # -- fork server requests
    def _request(self, message: dict, fds: tuple[int, ...] = ()) -> dict:
        if self._ctl is None:
            raise SandboxError("the worker pool is not running")
        with self._lock:
            try:
                self._ctl.settimeout(30.0)
                if fds:
                    socket.send_fds(self._ctl, [json.dumps(message).encode()], list(fds))
                else:
                    self._ctl.send(json.dumps(message).encode())
                reply = self._ctl.recv(1 << 16)
            except OSError as exc:
                raise SandboxError(f"the fork server did not answer ({exc})") from None
        if not reply:
            raise SandboxError("the fork server has stopped")
        data = json.loads(reply)
        if not data.get("ok"):
            raise SandboxError(f"the fork server refused: {data.get('error')}")
        return data

    def _new_uid(self) -> int:
        with self._lock:
            while True:
                uid = UID_BASE + self._rng.randrange(UID_SPAN)
                if uid not in self._uids:
                    self._uids.add(uid)
                    return uid

    def _release_uid(self, uid: int) -> None:
        with self._lock:
            self._uids.discard(uid)

    def spawn(self, limits: Limits, uid: int) -> tuple[int, socket.socket, int]:
        """Start a fresh submission process; returns (its id in the fork server, our end of its channel, the
        read end of its event pipe, non-blocking: what it was seen doing, see ``observe.py``)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        events_r, events_w = os.pipe()
        os.set_blocking(events_r, False)
        config = dataclasses.asdict(limits)
        config.update(uid=uid, gid=uid, total_memory_bytes=limits.total_memory_bytes or 2 * limits.memory_bytes)
        try:
            try:
                reply = self._request({"op": "spawn", "config": config}, (theirs.fileno(), events_w))
            except SandboxError:
                if self.proc is None or self.proc.poll() is None or self._self_testing:
                    raise
                # The fork server itself died (e.g. killed by the machine's OOM killer): start a new one.
                with self._start_lock:
                    if self.proc is not None and self.proc.poll() is not None:
                        self.close()
                        self._start_locked()
                reply = self._request({"op": "spawn", "config": config}, (theirs.fileno(), events_w))
        except BaseException:
            ours.close()
            os.close(events_r)
            raise
        finally:
            theirs.close()
            os.close(events_w)
        return int(reply["pid"]), ours, events_r

    def kill(self, pid: int, grace: float = 0.0) -> tuple[int | None, str | None]:
        """Kill a submission (its whole PID namespace); returns its wait status and, if the fork server
        had killed it already, why (e.g. its total memory).

        ``grace``: seconds to wait first for a worker that is already exiting, so that its own status
        (exit code, limit signal) is reported rather than our SIGKILL.
        """
        reply = self._request({"op": "kill", "pid": pid, "grace": grace})
        return reply.get("status"), reply.get("reason")

    # -- convenience
    def sandbox(self, source: str, *, limits: Limits | None = None) -> "Sandbox":
        return Sandbox(source, limits=limits or self.limits, pool=self)

    def map(self, fn: Callable[["Sandbox", Any], Any], items: Iterable[tuple[str, Any]]) -> list:
        """Run ``fn(sandbox, item)`` for each ``(source, item)``, ``workers`` submissions at a time.

        The results keep the order of ``items``; each sandbox is closed (its processes killed) after ``fn``.
        """
        self.start()

        def one(pair):
            source, item = pair
            with self.sandbox(source) as sb:
                return fn(sb, item)

        with ThreadPoolExecutor(max_workers=self.workers) as ex:
            return list(ex.map(one, list(items)))


def _kernel_version() -> tuple[int, int]:
    parts = os.uname().release.split(".")
    try:
        return int(parts[0]), int("".join(c for c in parts[1].split("-")[0] if c.isdigit()) or 0)
    except (IndexError, ValueError):
        return (0, 0)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _unsandboxed_env() -> dict:
    env = {"LANG": "C.UTF-8", "HOME": tempfile.gettempdir(), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "PATH": os.path.dirname(sys.executable)}
    return env


# ------------------------------------------------------------------------------------------ sandbox
class Sandbox:
    """One student's code, loaded once in an isolated worker, answering calls.

    Usage: ``with Sandbox(source) as sb: result = sb.call("softmax", [logits], {})``; ``result.value`` is the
    decoded return value when ``result.ok``.

    Args:
        source: the student's Python source (the answer cells joined).
        limits: :class:`Limits` for this submission.
        allowed_imports: packages importable inside (default numpy); only when no ``pool`` is given.
        pool: a running :class:`WorkerPool` to fork from (fast); without one, a private pool is started
            (one bubblewrap sandbox for this submission alone) and closed on exit.
        allow_unsandboxed: see :class:`WorkerPool`; for tests and development only.
        public_files: see :class:`WorkerPool`; only when no ``pool`` is given.
    """

    def __init__(self, source: str, *, limits: Limits = Limits(), allowed_imports=None,
                 pool: WorkerPool | None = None, allow_unsandboxed: bool = False, public_files=()):
        if not isinstance(source, str):
            raise TypeError(f"source must be str, got {type(source).__name__}")
        self.source = source
        self.limits = limits
        if pool is not None and allowed_imports is not None and tuple(allowed_imports) != pool.allowed_imports:
            raise ValueError("allowed_imports is fixed by the pool; create the pool with these imports")
        self._own_pool = pool is None
        self.pool = pool or WorkerPool(1, allowed_imports=allowed_imports, allow_unsandboxed=allow_unsandboxed,
                                       public_files=public_files)
        self.load_error: str | None = None
        self.load_stdout = ""
        self.load_stderr = ""
        self.restarts = 0
        self.seconds_used = 0.0
        self.uid: int | None = None
        self._pid: int | None = None
        self._chan: socket.socket | None = None
        self._events: int | None = None
        self._event_bytes = 0
        self._event_tail = b""
        self._observed: list[str] = []
        self._seen: set[str] = set()
        self._observed_more = 0
        self._seq = 0
        self._stopped: str | None = None

    @property
    def sandboxed(self) -> bool:
        """False only when running without bubblewrap (``allow_unsandboxed=True``)."""
        return self.pool.sandboxed

    @property
    def mode(self) -> str | None:
        """How the submission is isolated: "root", "userns" or "unsandboxed" (see :class:`WorkerPool`)."""
        return self.pool.mode

    @property
    def observed(self) -> list[str]:
        """What the submission's code was seen doing inside the sandbox (short lines such as
        ``opened /etc/passwd (not in the sandbox)``), deduplicated, at most ``MAX_OBSERVED`` (then a count of
        the others). Only events after its code started count (see ``observe.py``). Never a verdict."""
        self._drain_events()
        out = list(self._observed)
        if self._observed_more:
            out.append(f"... and {self._observed_more} more")
        return out

    def _note(self, line: str) -> None:
        line = "".join(c if " " <= c <= "~" else "?" for c in line)[:MAX_OBSERVED_CHARS].strip()
        if not line or line in self._seen:
            return
        self._seen.add(line)
        if len(self._observed) < MAX_OBSERVED:
            self._observed.append(line)
        else:
            self._observed_more += 1

    def _drain_events(self, alive: bool = False) -> None:
        """Read what the worker reported so far (non-blocking, at most ``MAX_EVENT_BYTES`` in all).

        ``alive``: the worker is known to be running; if its pipe is closed nonetheless, the code closed it."""
        if self._events is None:
            return
        while self._event_bytes < MAX_EVENT_BYTES:
            try:
                chunk = os.read(self._events, min(4096, MAX_EVENT_BYTES - self._event_bytes))
            except BlockingIOError:
                return
            except OSError:
                break
            if not chunk:
                if alive:
                    self._note("closed or replaced the grader's event pipe")
                break
            self._event_bytes += len(chunk)
            *lines, self._event_tail = (self._event_tail + chunk).split(b"\n")
            self._event_tail = self._event_tail[-MAX_OBSERVED_CHARS:]
            for line in lines:
                self._note(line.decode("ascii", "replace"))
        else:
            return  # over the budget: stop reading (the worker's further reports are dropped, it is not hurt)
        os.close(self._events)
        self._events = None

    @property
    def alive(self) -> bool:
        """Whether a worker is running now (False after a crash, timeout or rejected reply, until the next
        call restarts one)."""
        return self._pid is not None

    # -- life cycle
    def __enter__(self) -> "Sandbox":
        try:
            self.pool.start()
            self.uid = self.pool._new_uid()
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        if self.uid is not None:
            self.pool._release_uid(self.uid)
            self.uid = None
        if self._own_pool:
            self.pool.close()

    def _kill(self, grace: float = 0.0) -> tuple[int | None, str | None]:
        status = reason = None
        if self._pid is not None:
            try:
                status, reason = self.pool.kill(self._pid, grace)
            except SandboxError:
                pass
            self._pid = None
        if self._chan is not None:
            self._chan.close()
            self._chan = None
        self._drain_events()
        if self._events is not None:
            os.close(self._events)
            self._events = None
        return status, reason

    def _start(self) -> CallResult | None:
        """Fork a fresh worker and load the source; returns None, or why loading failed.

        Only the first load sets ``load_error``; a reload after a crash that fails is reported per call.
        """
        first = self.restarts == 0
        self._drain_events()
        if self._events is not None:
            os.close(self._events)
        self._pid, self._chan, self._events = self.pool.spawn(self.limits, self.uid)
        reply, _, failure = self._exchange({"op": "load", "source": self.source}, b"")
        if failure is None and first:
            self.load_stdout, self.load_stderr = _text(reply.get("stdout")), _text(reply.get("stderr"))
        if failure is None and not reply.get("ok"):
            error, tb = _text(reply.get("error")) or "the code could not be loaded", _text(reply.get("traceback"))
            failure = CallResult(False, error=error + (f"\n{tb}" if tb else ""), sandboxed=self.sandboxed)
            self._kill()
        if failure is not None:
            if first:
                self.load_error = failure.error
            self._stopped = failure.error
        return failure

    # -- one exchange with the worker (deadline, size caps, strict decode)
    def _exchange(self, header: dict, payload: bytes, decode: bool = False):
        """Send a request and read its reply; returns (reply header, payload, None) or (None, None, failure).

        ``decode``: also decode the reply's value (for a successful call) before the deadline, so that decoding
        counts against the submission's time like the call itself; the value is then the second item, and a
        value that does not decode makes the reply's ``ok`` False with ``rejected`` holding the reason, and
        the worker is killed (the next call starts a fresh one).
        """
        budget = self.limits.wall_seconds_total - self.seconds_used
        if budget <= 0:
            return None, None, CallResult(False, error=f"the submission used up its total time of "
                                          f"{self.limits.wall_seconds_total:g} s", timed_out=True,
                                          sandboxed=self.sandboxed)
        allowed = min(self.limits.wall_seconds_per_call, budget)
        self._seq += 1
        header = dict(header, seq=self._seq)
        start = time.monotonic()
        deadline = start + allowed
        failure = None
        try:
            self._chan.settimeout(allowed)
            self._chan.sendall(protocol.encode_frame(header, payload))
            reply, data = protocol.read_frame(self._chan.fileno(), max_header=MAX_REPLY_HEADER,
                                              max_payload=self.limits.max_result_bytes + (1 << 20),
                                              deadline=deadline)
            if reply.get("seq") != self._seq:
                raise protocol.ProtocolError("malformed reply (out of sequence): the channel was written to "
                                             "by something else")
            if decode and reply.get("ok"):
                try:
                    data = protocol.unpack_value(reply.get("value"), data, deadline=deadline)
                except protocol.ChannelTimeout:
                    raise
                except protocol.ProtocolError as exc:
                    # the worker's own encoder never makes such a value: the channel was written to by the code
                    reply, data = dict(reply, ok=False, rejected=str(exc)), None
                    self._kill()
        except (protocol.ChannelTimeout, socket.timeout):
            what = "loading the code" if header["op"] == "load" else f"the call of {header.get('function')!r}"
            self._kill()
            failure = CallResult(False, error=f"timed out: {what} did not finish within {allowed:g} s",
                                 timed_out=True)
        except (protocol.ChannelClosed, BrokenPipeError, ConnectionError):
            failure = CallResult(False, error=_describe_status(*self._kill(grace=1.0), self.limits))
        except protocol.ProtocolError as exc:
            self._kill()
            failure = CallResult(False, error=f"the worker's reply was rejected: {exc}")
        finally:
            self.seconds_used += time.monotonic() - start
        self._drain_events(alive=failure is None and self._pid is not None)
        if failure is not None:
            failure.seconds = time.monotonic() - start
            failure.sandboxed = self.sandboxed
            return None, None, failure
        return reply, data, None

    # -- public call
    def call(self, function: str, args: list | tuple = (), kwargs: dict | None = None) -> CallResult:
        """Call ``function(*args, **kwargs)`` in the student's worker and return the decoded result.

        Arguments may be ndarrays of numeric dtypes, numpy scalars, float, int, bool, None, str and nested
        tuples/lists/dicts of these. A crash or timeout kills that worker; the next call starts a fresh one
        (the source is loaded again) while the submission's total time lasts.
        """
        if self.uid is None:
            raise RuntimeError("use the Sandbox as a context manager (with Sandbox(source) as sb: ...)")
        if self.load_error is not None:
            return CallResult(False, error=f"the code could not be loaded: {self.load_error.splitlines()[0]}",
                              sandboxed=self.sandboxed)
        try:
            tree, payload = protocol.pack_value((list(args), dict(kwargs or {})))
        except protocol.ProtocolError as exc:
            raise TypeError(f"arguments cannot be sent to the sandbox: {exc}") from None
        if self._pid is None:
            if self.restarts >= self.limits.max_restarts:
                return CallResult(False, error=f"no more restarts after: {self._stopped}", sandboxed=self.sandboxed)
            self.restarts += 1
            failure = self._start()
            if failure is not None:
                failure.error = f"the worker could not be restarted: {failure.error}"
                return failure
        start = time.monotonic()
        reply, value, failure = self._exchange({"op": "call", "function": str(function), "args": tree}, payload,
                                               decode=True)
        if failure is not None:
            self._stopped = failure.error
            return failure
        result = CallResult(ok=bool(reply.get("ok")), error=_text(reply.get("error")) or None,
                            stdout=_text(reply.get("stdout")), stderr=_text(reply.get("stderr")),
                            traceback=_text(reply.get("traceback")), seconds=time.monotonic() - start,
                            sandboxed=self.sandboxed)
        if result.ok:
            result.value = value
            result.modified = reply.get("modified")
        elif reply.get("rejected"):
            result.error = f"the returned value was rejected: {_text(reply['rejected'])}"
        elif result.error is None:
            result.error = "the call failed"
        return result


def _text(value, limit: int = 100_000) -> str:
    if value is None:
        return ""
    return str(value)[:limit]
