"""The program that runs inside the sandbox: a fork server ("zygote") and the per-submission worker.

It is bound read-only into the sandbox next to ``protocol.py`` and imports nothing from the project. Started
as ``python -I -S -B worker.py zygote CTL_FD SITE_DIR [MODE]`` where SITE_DIR holds only the packages the
submission may import (numpy) and MODE is ``root`` (the default: the grader is root and bubblewrap runs
without a user namespace), ``userns`` (the grader is an ordinary user: bubblewrap made a user namespace in
which the fork server is uid 0) or ``unsandboxed`` (development only, no isolation). Beside SITE_DIR, the
folder ``release`` (the problem set's released files, read-only: put at the end of ``sys.path``, its Python
modules imported once by the zygote, and linked into each submission's working directory) and ``ipython`` (IPython's input transformer, loaded once by the
zygote) are used when present:

1. The zygote imports numpy once, tells the trusted side it is ready, then serves requests on the control
   socket ``CTL_FD`` (SOCK_SEQPACKET, one JSON object per message): ``spawn`` (with the submission's channel
   descriptor attached), ``kill`` and ``ping``.
2. For ``spawn`` it forks an intermediate process that unshares fresh mount, PID, network, IPC and UTS
   namespaces and forks the submission's *init* (PID 1 of the new PID namespace). Init mounts a private
   tmpfs on /tmp and a /proc for its namespace, forks the *serving* process, drops to the submission's own
   unprivileged uid/gid and reaps orphans. Killing init kills every process of the submission. In ``userns``
   mode init first enters a user namespace of the submission's own, in which the one host uid available (the
   grader's) appears as the submission's uid, and then gives up every capability instead of switching uid.
3. The serving process closes every descriptor but its channel, applies the resource limits, drops to the
   same uid/gid (no capabilities are left), and then loads the student's code and answers ``call`` requests.

Untrusted code only ever runs in step 3, after the privileges are gone.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import resource
import signal
import socket
import sys
import time
import traceback
import types
import warnings

_protocol = None  # protocol.py (bound beside this file), imported by main()
_observe = None  # observe.py (bound beside this file), imported by main()
_OWN_FILES: tuple[str, ...] = ()  # the worker's own source files (their frames are not the submission's)
_public_dir = None  # the released files (read-only, beside SITE_DIR as release/), set by main()

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE = 38, 36, 4
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_SET_SECUREBITS = 24, 47, 4, 28
# SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_KEEP_CAPS_LOCKED, SECBIT_NO_CAP_AMBIENT_RAISE and their locks
SECUREBITS_LOCKED_DOWN = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
LINUX_CAPABILITY_VERSION_3 = 0x20080522
EXIT_SETUP_FAILED, EXIT_CHANNEL_BROKEN = 70, 75  # the serving process's own exit codes
WATCH_PERIOD = 0.04  # seconds between two checks of the submissions' total memory

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


# ------------------------------------------------------------------------------------------ output capture
class BoundedText(io.TextIOBase):
    """A text sink that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters not kept]"
        return out


# ------------------------------------------------------------------------------------------ serving
class Server:
    """Loads one submission and answers calls on the channel descriptor."""

    def __init__(self, fd: int, config: dict, events: int | None = None):
        self.fd = fd
        self.config = config
        self.events = events  # write end of the grader's event pipe (behaviour reports), if any
        self.module: types.ModuleType | None = None

    def _run(self, thunk):
        out = BoundedText(self.config["max_output_chars"])
        err = BoundedText(self.config["max_output_chars"])
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        owner = os.getpid()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                try:
                    value = thunk()
                finally:
                    if os.getpid() != owner:
                        # a process the student's code forked, coming back out of it (by a return or an
                        # exception): only the worker answers on the channel
                        os._exit(0)
            result = {"ok": True}
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything, SystemExit included
            value = None
            result = {"ok": False, "error": _describe(exc), "traceback": _student_traceback(exc)}
        finally:
            sys.stdout, sys.stderr = saved
        result["stdout"], result["stderr"] = out.text(), err.text()
        return result, value

    def load(self, source: str) -> dict:
        module = types.ModuleType("submission")
        module.__file__ = "<submission>"
        sys.modules["submission"] = module
        import linecache

        linecache.cache["<submission>"] = (len(source), None, source.splitlines(True), "<submission>")

        def thunk():
            code = compile(source, "<submission>", "exec", dont_inherit=True)
            if self.events is not None and _observe is not None:
                # from here on, what the code does is reported as it happens (see observe.py)
                _observe.install(self.events, _OWN_FILES, (self.fd, self.events))
                self.events = None
            exec(code, module.__dict__)

        result, _ = self._run(thunk)
        if result["ok"]:
            self.module = module
        return result

    def call(self, header: dict, payload: bytes) -> tuple[dict, bytes]:
        name = header.get("function")
        if self.module is None:
            return {"ok": False, "error": "RuntimeError: the code was not loaded"}, b""
        try:
            args, kwargs = _protocol.unpack_value(header["args"], payload)
        except _protocol.ProtocolError as exc:
            return {"ok": False, "error": f"ProtocolError: {exc}"}, b""
        func = self.module.__dict__.get(name) if isinstance(name, str) else None
        if func is None:
            return {"ok": False, "error": f"NameError: the code defines no function named {name!r}"}, b""
        if not callable(func):
            return {"ok": False, "error": f"TypeError: {name!r} is a {_protocol._type_name(func)}, not a function"}, b""
        result, value = self._run(lambda: func(*args, **kwargs))
        if result["ok"]:
            changed = _changed_inputs(header["args"], payload, args, kwargs)
            if changed:
                result["modified"] = changed
        payload_out = b""
        if result["ok"]:
            try:
                result["value"], payload_out = _protocol.pack_value(value, max_bytes=self.config["max_result_bytes"])
            except _protocol.ProtocolError as exc:
                result = {"ok": False, "error": f"TypeError: {exc}", "stdout": result["stdout"], "stderr": result["stderr"]}
        return result, payload_out

    def serve(self) -> None:
        limit_head = self.config["max_request_bytes"]
        while True:
            try:
                header, payload = _protocol.read_frame(self.fd, max_header=limit_head, max_payload=limit_head)
            except _protocol.ChannelClosed:
                return
            op = header.get("op")
            if op == "load":
                reply, out = self.load(header.get("source", "")), b""
            elif op == "call":
                reply, out = self.call(header, payload)
            else:
                reply, out = {"ok": False, "error": f"ProtocolError: unknown op {op!r}"}, b""
            reply["seq"] = header.get("seq")
            _reap()
            try:
                _protocol.write_frame(self.fd, reply, out)
            except (ValueError, TypeError):
                # A reply that is not JSON-able (should not happen) is reported rather than lost.
                _protocol.write_frame(self.fd, {"ok": False, "error": "ProtocolError: reply not encodable", "seq": reply["seq"]})


def _changed_inputs(tree, payload: bytes, args: list, kwargs: dict) -> list[list]:
    """Paths (``[position or keyword, key, ...]``) of the inputs the call changed in place, found by
    decoding the request again and comparing leaf by leaf; the first change of each argument only. The
    same comparison as ``loading_rules.changed_inputs``, which the student's check() runs."""
    try:
        before_args, before_kwargs = _protocol.unpack_value(tree, payload)
        out = []
        for path, before, after in ([[i], a, b] for i, (a, b) in enumerate(zip(before_args, args))):
            out += _changed_leaves(before, after, path)[:1]
        for key, before in before_kwargs.items():
            out += _changed_leaves(before, kwargs.get(key), [key])[:1]
        return out[:16]
    except BaseException:  # noqa: BLE001 - inputs the code turned into something strange: not judged
        return []


def _changed_leaves(before, after, path: list) -> list[list]:
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(before) != set(after):
            return [path]
        return [p for k in before for p in _changed_leaves(before[k], after[k], path + [k])][:1]
    if isinstance(before, (list, tuple)):
        if type(after) is not type(before) or len(after) != len(before):
            return [path]
        return [p for a, b in zip(before, after) for p in _changed_leaves(a, b, path)][:1]
    if hasattr(before, "tobytes") and hasattr(before, "dtype"):
        same = (type(after) is type(before) and after.shape == before.shape and after.dtype == before.dtype
                and after.tobytes() == before.tobytes())
        return [] if same else [path]
    return []


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        text = "<message could not be shown>"
    if len(text) > 2000:
        text = text[:2000] + " [...]"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _student_traceback(exc: BaseException) -> str:
    """Only the frames of code compiled from text (the submission's cells), not of files such as numpy's."""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<") and not f.filename.startswith("<frozen")]
        lines = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-10:]]
        return "\n".join(lines)[:4000]
    except BaseException:  # noqa: BLE001
        return ""


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


# ------------------------------------------------------------------------------------------ privilege drop
def _apply_limits(cfg: dict) -> None:
    def setlim(which, value):
        value = int(value)
        resource.setrlimit(which, (value, value))

    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_FSIZE, cfg["max_file_bytes"])
    setlim(resource.RLIMIT_NOFILE, cfg["max_open_files"])
    cpu = max(1, int(-(-cfg["cpu_seconds"] // 1)))  # whole seconds, rounded up
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if cfg["memory_bytes"]:
        base = 0
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    base = int(line.split()[1]) * 1024
        setlim(resource.RLIMIT_AS, base + cfg["memory_bytes"])
    if cfg["max_processes"]:
        setlim(resource.RLIMIT_NPROC, cfg["max_processes"])


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to a non-zero uid: every capability is cleared
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if os.geteuid() == 0 or os.getegid() == 0:
        raise OSError("privileges were not dropped")


def _enter_user_namespace(uid: int, gid: int) -> None:
    """Move into a new user namespace in which our one uid/gid of the parent namespace appears as uid/gid.

    Used in ``userns`` mode, where the fork server is uid 0 of bubblewrap's user namespace and that is the
    only id it has (it is the grader's own host uid). The new namespace belongs to this submission alone:
    its processes count against their own RLIMIT_NPROC, and they hold no capability over any namespace or
    mount made before it (all of them belong to the parent user namespace). Supplementary groups cannot be
    changed here (``setgroups`` is denied, as the kernel requires for an unprivileged gid map).
    """
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER), "unshare user namespace")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {outer_uid} 1"), ("gid_map", f"{gid} {outer_gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    if os.getuid() != uid or os.getgid() != gid:
        raise OSError("the user namespace's id maps did not take effect")


def _drop_capabilities() -> None:
    """Give up every capability for good: bounding and ambient sets cleared, securebits locked so that no
    later execve() can restore any, then the effective, permitted and inheritable sets emptied; and
    ``no_new_privs``. Checked afterwards in /proc/self/status."""
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop bounding capability")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    _check(_libc.prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_DOWN, 0, 0, 0), "securebits")
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # two (effective, permitted, inheritable) triples, all zero
    _check(_libc.capset(header, data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/status") as fh:
        fields = dict(line.split(":", 1) for line in fh if line.startswith("Cap"))
    if any(int(fields[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")):
        raise OSError("capabilities were not dropped")
    if os.geteuid() == 0 or os.getegid() == 0:
        raise OSError("the submission would run as uid 0 of its namespace")


# System calls refused to student code (x86_64 numbers): namespaces, mounts, tracing other processes,
# kernel interfaces with a history of privilege-escalation bugs, and io_uring (which bypasses this filter).
_DENIED_SYSCALLS_X86_64 = {
    101: "ptrace", 310: "process_vm_readv", 311: "process_vm_writev", 312: "kcmp", 321: "bpf",
    298: "perf_event_open", 323: "userfaultfd", 248: "add_key", 249: "request_key", 250: "keyctl",
    165: "mount", 166: "umount2", 155: "pivot_root", 161: "chroot", 272: "unshare", 308: "setns",
    246: "kexec_load", 320: "kexec_file_load", 175: "init_module", 313: "finit_module", 176: "delete_module",
    172: "iopl", 173: "ioperm", 167: "swapon", 168: "swapoff", 169: "reboot", 170: "sethostname",
    171: "setdomainname", 163: "acct", 179: "quotactl", 303: "name_to_handle_at", 304: "open_by_handle_at",
    103: "syslog", 153: "vhangup", 425: "io_uring_setup", 426: "io_uring_enter", 427: "io_uring_register",
    428: "open_tree", 429: "move_mount", 430: "fsopen", 431: "fsconfig", 432: "fsmount", 433: "fspick",
    442: "mount_setattr", 438: "pidfd_getfd", 135: "personality",
    # System V IPC: segments and queues hold memory that no process maps and no file shows
    29: "shmget", 30: "shmat", 31: "shmctl", 67: "shmdt", 64: "semget", 65: "semop", 66: "semctl",
    220: "semtimedop", 68: "msgget", 69: "msgsnd", 70: "msgrcv", 71: "msgctl",
}
_SYS_CLONE, _SYS_CLONE3 = 56, 435
_NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | 0x10000000 | 0x02000000


def _install_seccomp() -> bool:
    """Install a seccomp filter that makes the calls above fail with EPERM (x86_64 only).

    clone() with a namespace flag fails with EPERM; clone3() fails with ENOSYS so that the C library falls
    back to clone(), whose flags the filter can read. Returns False where the filter is not available.
    """
    import platform
    import struct

    if platform.machine() != "x86_64":
        return False
    ld_w_abs, jeq_k, jge_k, jset_k, ret_k = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    errno_eperm, errno_enosys = 0x00050000 | 1, 0x00050000 | 38
    prog = [
        (ld_w_abs, 0, 0, 4),  # arch
        (jeq_k, 1, 0, 0xC000003E),  # AUDIT_ARCH_X86_64
        (ret_k, 0, 0, kill),
        (ld_w_abs, 0, 0, 0),  # syscall number
        (jge_k, 0, 1, 0x40000000),  # the x32 ABI: refused
        (ret_k, 0, 0, errno_eperm),
        (jeq_k, 0, 1, _SYS_CLONE3),
        (ret_k, 0, 0, errno_enosys),
    ]
    for nr in sorted(_DENIED_SYSCALLS_X86_64):
        prog += [(jeq_k, 0, 1, nr), (ret_k, 0, 0, errno_eperm)]
    prog += [
        (jeq_k, 0, 3, _SYS_CLONE),
        (ld_w_abs, 0, 0, 16),  # clone flags (low 32 bits of the first argument)
        (jset_k, 0, 1, _NAMESPACE_FLAGS),
        (ret_k, 0, 0, errno_eperm),
        (ret_k, 0, 0, allow),
    ]
    raw = b"".join(struct.pack("=HBBI", code, jt, jf, k) for code, jt, jf, k in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(buf))
    pr_set_seccomp, seccomp_mode_filter = 22, 2
    _check(_libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0), "seccomp")
    return True


def _close_fds(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _private_tmpfs(cfg: dict) -> list[int]:
    """Mount the submission's private, size-capped tmpfs on /tmp (``tmp_bytes``) and /dev/shm (``shm_bytes``)
    in its new mount namespace; returns a descriptor of each, with which the fork server counts what their
    files hold toward the submission's memory (``Zygote.check_memory``)."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    fds = []
    for target, size in (("/tmp", cfg["tmp_bytes"]), ("/dev/shm", cfg.get("shm_bytes", cfg["tmp_bytes"]))):
        _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size)},nr_inodes=4096,mode=0700")
        fds.append(os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    return fds


def _submission_init(chan: int, cfg: dict, mode: str, events: int | None = None) -> None:
    """PID 1 of the submission's namespaces: set up the mounts, fork the server, drop privileges, reap.

    ``mode``: "root", "userns" or "unsandboxed" (see the module's docstring). The private /tmp and /dev/shm
    are already mounted (:func:`_private_tmpfs`). ``events``: the write end of the grader's event pipe,
    kept by the serving process only.
    """
    isolate = mode != "unsandboxed"
    if isolate:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        os.chdir("/tmp")
        _link_public_files()
        if mode == "userns":
            # After the mounts: from inside its own user namespace init could no longer make them. /tmp is
            # owned by our uid, which is what the submission's uid maps to.
            _enter_user_namespace(cfg["uid"], cfg["gid"])
        else:
            os.chown("/tmp", cfg["uid"], cfg["gid"])
            os.chown("/dev/shm", cfg["uid"], cfg["gid"])
        # Not dumpable: the submission's code, which has init's uid, must not read or write init's memory
        # or environment through /proc/1. Set before the fork (the server inherits it, so there is no
        # moment at which init is exposed) and again after init's own uid or capability change below.
        _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")
    devnull = os.open("/dev/null", os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    os.close(devnull)
    server_pid = os.fork()
    if server_pid == 0:
        try:
            _close_fds({chan} | ({events} if events is not None else set()))
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            _apply_limits(cfg)
            if mode == "userns":
                _drop_capabilities()
                _install_seccomp()
            elif isolate:
                _drop_privileges(cfg["uid"], cfg["gid"])
                _install_seccomp()
        except BaseException:  # noqa: BLE001
            os._exit(EXIT_SETUP_FAILED)
        try:
            Server(chan, cfg, events).serve()
        except BaseException:  # noqa: BLE001 - e.g. the code closed or broke the channel
            os._exit(EXIT_CHANNEL_BROKEN)
        os._exit(0)
    os.close(chan)
    if events is not None:
        os.close(events)
    _close_fds(set())
    if mode == "userns":
        _drop_capabilities()
    elif isolate:
        _drop_privileges(cfg["uid"], cfg["gid"])
    if isolate:
        # a uid change resets the flag to fs.suid_dumpable, which need not be 0
        _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")
    # Reap everything; leave with the server's status once it is gone (the kernel then kills the rest).
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == server_pid:
            if os.WIFSIGNALED(status):
                os._exit(128 + os.WTERMSIG(status))
            os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


# ------------------------------------------------------------------------------------------ zygote
def _resident_bytes(pid: int) -> int:
    """Anonymous plus shared-memory resident bytes of one process (0 if it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("RssAnon:", "RssShmem:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return total


def _tmpfs_bytes(fd: int) -> int:
    """Bytes held by the files of the tmpfs that ``fd`` (a directory) is on."""
    try:
        st = os.fstatvfs(fd)
    except OSError:
        return 0
    return (st.f_blocks - st.f_bfree) * st.f_frsize


class Zygote:
    def __init__(self, ctl: socket.socket, mode: str):
        self.ctl = ctl
        self.mode = mode
        self.isolate = mode != "unsandboxed"
        self.children: dict[int, int | None] = {}  # init pid -> wait status (None while running)
        self.watch: dict[int, int] = {}  # init pid -> resident bytes allowed for its processes in total
        self.reasons: dict[int, str] = {}  # init pid -> why the fork server killed it
        self.mounts: dict[int, list[int]] = {}  # init pid -> descriptors of its private /tmp and /dev/shm

    def send(self, message: dict) -> None:
        self.ctl.send(json.dumps(message).encode())

    def spawn(self, cfg: dict, chan: int, events: int | None = None) -> int:
        """Start one submission (see the module's docstring); returns its init's pid.

        ``chan``: its channel; ``events``: the write end of the grader's event pipe (or None). Both are
        closed here. The intermediate process sends back init's pid and descriptors of the submission's
        private tmpfs mounts, which :meth:`check_memory` counts.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        passed = [chan] + ([events] if events is not None else [])
        try:
            mid = os.fork()
        except OSError:
            for fd in passed:
                os.close(fd)
            ours.close()
            theirs.close()
            raise
        if mid == 0:
            try:
                ours.close()
                self.ctl.close()
                mounts = []
                if self.isolate:
                    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                    _check(_libc.unshare(flags), "unshare")
                    mounts = _private_tmpfs(cfg)
                init = os.fork()
                if init == 0:
                    theirs.close()
                    for fd in mounts:
                        os.close(fd)
                    if not self.isolate:
                        os.setsid()
                    try:
                        _submission_init(chan, cfg, self.mode, events)
                    except BaseException:  # noqa: BLE001 - reported on the fork server's stderr
                        traceback.print_exc()
                    finally:
                        os._exit(71)
                socket.send_fds(theirs, [str(init).encode()], mounts)
                os._exit(0)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                os._exit(72)
        theirs.close()
        for fd in passed:
            os.close(fd)
        try:
            data, mounts, _, _ = socket.recv_fds(ours, 64, 4)
        finally:
            ours.close()
            os.waitpid(mid, 0)
        if not data:
            for fd in mounts:
                os.close(fd)
            raise OSError("the submission process could not be started")
        pid = int(data)
        self.children[pid] = None
        self.mounts[pid] = list(mounts)
        if self.isolate and cfg.get("total_memory_bytes"):
            self.watch[pid] = int(cfg["total_memory_bytes"])
        return pid

    def check_memory(self) -> None:
        """Kill any submission whose memory, all counted, is more than allowed.

        Counted: for each of its processes the anonymous resident memory and the resident shared memory
        (``RssAnon + RssShmem`` of /proc/PID/status: private allocations, ``MAP_SHARED|MAP_ANONYMOUS``,
        mapped memfds, /dev/shm and /tmp files; a shared page mapped by several of its processes counts once
        per process), plus what the files of its private /tmp and /dev/shm hold (mapped or not). RLIMIT_AS
        bounds each process; this bounds the sum (a fork bomb of memory hogs, shared memory handed around).
        A submission's processes are its init and init's descendants: in a PID namespace every orphan is
        re-parented to a process of the same namespace, so none leaves init's tree. (Not by uid: in
        ``userns`` mode every submission has the grader's uid.) It runs every few hundredths of a second.
        """
        if not self.watch:
            return
        parent: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
                # the command name (2nd field) may hold spaces and parentheses; the parent pid is 2 after it
                parent[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        owner: dict[int, int | None] = {}

        def init_of(pid: int) -> int | None:
            path = []
            while pid not in owner and pid not in self.watch and pid in parent and pid > 1 and len(path) < 4096:
                path.append(pid)
                pid = parent[pid]
            found = owner.get(pid, pid if pid in self.watch else None)
            for p in path:
                owner[p] = found
            return found

        used: dict[int, int] = {}
        for pid in parent:
            init = init_of(pid)
            if init is None:
                continue
            used[init] = used.get(init, 0) + _resident_bytes(pid)
        for init, fds in self.mounts.items():
            if init in used:
                used[init] += sum(_tmpfs_bytes(fd) for fd in fds)
        for pid, total in used.items():
            allowed = self.watch[pid]
            if total > allowed and self.children.get(pid, 0) is None:
                self.reasons[pid] = f"memory: its processes and its /tmp and /dev/shm files together held {total} bytes, over {allowed}"
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.children:
                self.children[pid] = status

    def kill(self, pid: int, grace: float = 0.0) -> int | None:
        """Wait up to ``grace`` seconds for the submission to end by itself, then SIGKILL its init."""
        if pid not in self.children:
            return None
        deadline = time.monotonic() + grace
        while self.children[pid] is None and time.monotonic() < deadline:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                self.children[pid] = status
            else:
                time.sleep(0.005)
        if self.children[pid] is None:
            try:
                if self.isolate:
                    os.kill(pid, signal.SIGKILL)
                else:
                    os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while self.children[pid] is None:
                try:
                    got, status = os.waitpid(pid, 0)
                except ChildProcessError:
                    self.children[pid] = 0
                    break
                if got == pid:
                    self.children[pid] = status
        self.watch.pop(pid, None)
        for fd in self.mounts.pop(pid, []):
            os.close(fd)
        return self.children.pop(pid)

    def serve(self) -> None:
        import select

        next_check = time.monotonic()
        while True:
            wait = None if not self.watch else max(0.0, next_check - time.monotonic())
            ready, _, _ = select.select([self.ctl], [], [], wait)
            if self.watch and time.monotonic() >= next_check:
                self.reap()
                self.check_memory()
                next_check = time.monotonic() + WATCH_PERIOD
            if not ready:
                continue
            try:
                msg, fds, _, _ = socket.recv_fds(self.ctl, 1 << 16, 4)
            except InterruptedError:
                continue
            if not msg:
                return
            request = json.loads(msg)
            op = request.get("op")
            self.reap()
            try:
                if op == "spawn":
                    if len(fds) not in (1, 2):
                        raise OSError("spawn needs a channel descriptor and at most an event pipe")
                    chan, events = fds[0], (fds[1] if len(fds) == 2 else None)
                    fds = []  # spawn() owns (and closes) them from here on
                    self.send({"ok": True, "pid": self.spawn(request["config"], chan, events)})
                elif op == "kill":
                    grace = min(max(float(request.get("grace", 0.0)), 0.0), 2.0)
                    pid = int(request["pid"])
                    status = self.kill(pid, grace)
                    self.send({"ok": True, "status": status, "reason": self.reasons.pop(pid, None)})
                elif op == "kill_all":
                    for pid in list(self.children):
                        self.kill(pid)
                    self.send({"ok": True})
                elif op == "ping":
                    self.send({"ok": True, "children": len(self.children)})
                else:
                    self.send({"ok": False, "error": f"unknown op {op!r}"})
            except Exception as exc:  # noqa: BLE001
                self.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass


def _link_public_files() -> None:
    """Link every released file into the working directory (the submission's /tmp), as the notebook sees
    them beside itself in Jupyter; the links point into the read-only folder."""
    if _public_dir is None:
        return
    for name in sorted(os.listdir(_public_dir)):
        os.symlink(os.path.join(_public_dir, name), name)


def _import_public_modules() -> None:
    """Import the released Python modules (rnncheck.py) once, as numpy is, so that no submission pays for
    it; the trusted side has checked that they import only the standard library and numpy. One that fails
    is left out (the submission's own import then reports why)."""
    import importlib

    if _public_dir is None:
        return
    for name in sorted(os.listdir(_public_dir)):
        if name.endswith(".py") and name[:-3].isidentifier() and name[:-3] not in sys.modules:
            try:
                importlib.import_module(name[:-3])
            except Exception:  # noqa: BLE001
                sys.modules.pop(name[:-3], None)


def _load_input_transformer(folder: str) -> bool:
    """Load IPython's input transformer (``inputtransformer2.py`` and the ``tokenutil.py`` it imports, bound
    read-only in ``folder``) once, without the rest of IPython, as the module ``_grader_inputtransformer2``
    (the loader program transforms each cell with it). The IPython names it needed while loading are removed
    again, so ``import IPython`` fails in the submission as before. Returns whether it loaded."""
    import importlib.util

    if not os.path.isfile(os.path.join(folder, "inputtransformer2.py")):
        return False

    def load(name, filename):
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, filename))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    package, utils = types.ModuleType("IPython"), types.ModuleType("IPython.utils")
    package.utils = utils
    sys.modules.update({"IPython": package, "IPython.utils": utils})
    try:
        utils.tokenutil = load("IPython.utils.tokenutil", "tokenutil.py")
        load("_grader_inputtransformer2", "inputtransformer2.py")
    except Exception:  # noqa: BLE001 - without it cells run as they are
        sys.modules.pop("_grader_inputtransformer2", None)
        return False
    finally:
        for name in ("IPython", "IPython.utils", "IPython.utils.tokenutil"):
            sys.modules.pop(name, None)
    return True


def main(argv: list[str]) -> None:
    global _protocol, _public_dir, _observe, _OWN_FILES
    role, ctl_fd, site_dir = argv[1], int(argv[2]), argv[3]
    mode = argv[4] if len(argv) > 4 else "root"
    if mode not in ("root", "userns", "unsandboxed"):
        raise SystemExit(f"unknown mode {mode!r}")
    sys.path.append(site_dir)
    root = os.path.dirname(os.path.abspath(site_dir))
    if os.path.isdir(os.path.join(root, "release")):
        # the released files (rnncheck.py): importable by name, after the standard library and numpy
        _public_dir = os.path.join(root, "release")
        sys.path.append(_public_dir)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import protocol

    sys.modules["_sandbox_protocol"] = sys.modules.pop("protocol")
    sys.modules["_sandbox_npzread"] = sys.modules.pop("npzread")
    import observe

    sys.modules["_sandbox_observe"] = sys.modules.pop("observe")
    _observe = observe
    _OWN_FILES = tuple(os.path.join(here, name) for name in ("worker.py", "protocol.py", "npzread.py", "observe.py"))
    sys.path.remove(here)
    _protocol = protocol
    ctl = socket.socket(fileno=ctl_fd)
    # Orphaned submission inits are re-parented to the zygote, which waits for them and kills them.
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "subreaper")
    import numpy  # noqa: F401  (the point of the fork server: imported once, shared by every submission)

    zygote = Zygote(ctl, mode)
    ipython = _load_input_transformer(os.path.join(root, "ipython"))
    _import_public_modules()
    zygote.send({"ok": True, "ready": True, "numpy": numpy.__version__, "pid": os.getpid(), "role": role,
                 "mode": mode, "ipython_transformer": ipython})
    zygote.serve()


if __name__ == "__main__":
    main(sys.argv)
