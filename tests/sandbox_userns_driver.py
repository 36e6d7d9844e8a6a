"""A grader run by an ordinary (non-root) user: grade attack submissions in the sandbox, print what happened.

``tests/test_sandbox_userns.py`` starts this script as an unprivileged user (or as the current user when the
tests themselves do not run as root) and checks the JSON it prints. It observes from outside the sandbox, as
a grader would: the host's process table (processes below the pool's bubblewrap that live in a submission's
PID namespace), a listening socket on the host, a course directory that this user can read.

    python sandbox_userns_driver.py CONFIG_JSON      # {"course": DIR, "repo": DIR}
"""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import time

import numpy as np

from autograder.sandbox import Limits, WorkerPool

FAST = Limits(wall_seconds_per_call=3.0, wall_seconds_total=30, cpu_seconds=5)


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as fh:
        return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)


def _stat(pid: int) -> tuple[int, int, str]:
    """(parent pid, start time, state) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        text = fh.read()
    rest = text[text.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[19]), rest[0]


OWN_DEPTH = len(_status(os.getpid())["NSpid"].split())


def submission_processes(pool: WorkerPool) -> list[dict]:
    """Live host processes below the pool's bubblewrap that are inside a submission's PID namespace
    (two PID namespaces below ours: bubblewrap's, then the submission's)."""
    parents, info = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, start, state = _stat(int(entry))
                status = _status(int(entry))
            except (OSError, ValueError, IndexError):
                continue
            parents[int(entry)] = ppid
            info[int(entry)] = (start, state, status)
    out = []
    for pid, (start, state, status) in info.items():
        up, seen = pid, 0
        while up in parents and up != pool.proc.pid and seen < 4096:
            up, seen = parents[up], seen + 1
        if up == pool.proc.pid and len(status["NSpid"].split()) == OWN_DEPTH + 2 and state != "Z":
            out.append({"pid": pid, "start": start, "uid": int(status["Uid"].split()[0])})
    return out


def still_alive(procs: list[dict]) -> list[int]:
    alive = []
    for p in procs:
        try:
            _, start, state = _stat(p["pid"])
        except (OSError, ValueError, IndexError):
            continue
        if start == p["start"] and state != "Z":
            alive.append(p["pid"])
    return alive


def load(pool: WorkerPool, source: str, limits: Limits = FAST):
    sb = pool.sandbox(textwrap.dedent(source), limits=limits)
    sb.__enter__()
    assert sb.load_error is None, sb.load_error
    return sb


def call(pool: WorkerPool, source: str, function: str, *args, limits: Limits = FAST):
    with pool.sandbox(textwrap.dedent(source), limits=limits) as sb:
        assert sb.load_error is None, sb.load_error
        return sb.call(function, list(args), {})


def outcome(r) -> dict:
    return {"ok": r.ok, "error": r.error, "timed_out": r.timed_out, "value": r.value if r.ok else None}


HONEST = """
import numpy as np
def gates(x, W, scale=1.0):
    print("gates", x.shape)
    return scale / (1.0 + np.exp(-(x @ W)))
"""

INFO = """
import os
def info():
    status = open("/proc/self/status").read()
    field = lambda k: [l.split(":", 1)[1].strip() for l in status.splitlines() if l.startswith(k + ":")][0]
    return {"uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "groups": os.getgroups(),
            "caps": [field(k) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")],
            "nnp": field("NoNewPrivs"), "seccomp": field("Seccomp"), "env": sorted(os.environ),
            "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), "host": os.uname().nodename,
            "mounts": open("/proc/self/mountinfo").read()}
"""

PROBE_FILES = """
import os
def probe(paths):
    found = {}
    for p in paths:
        try:
            with open(p, "rb") as fh:
                found[p] = fh.read(100).decode(errors="replace")
        except IsADirectoryError:
            found[p] = "dir:" + ",".join(os.listdir(p))
        except OSError as exc:
            found[p] = type(exc).__name__
    return found
def write(paths):
    out = {}
    for p in paths:
        try:
            with open(p, "w") as fh:
                fh.write("x")
            out[p] = "written"
        except OSError as exc:
            out[p] = type(exc).__name__
    return out
"""

CONNECT = """
import socket
def connect(port):
    out = []
    for host in ("127.0.0.1", "10.0.0.1", "8.8.8.8"):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect((host, port))
            out.append("connected")
        except OSError as exc:
            out.append(type(exc).__name__)
        finally:
            s.close()
    return out
"""

SYSCALLS = """
import ctypes, os
def probe():
    libc = ctypes.CDLL(None, use_errno=True)
    def err(ret):
        return ctypes.get_errno() if ret == -1 else "succeeded"
    out = {
        "unshare_user": err(libc.unshare(0x10000000)),
        "unshare_net": err(libc.unshare(0x40000000)),
        "mount": err(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        "ptrace_attach_init": err(libc.ptrace(16, 1, 0, 0)),
        "setuid_0": err(libc.setuid(0)),
    }
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return out
"""

FORK_BOMB = """
import os, time
def bomb():
    n = 0
    while n < 1000:
        try:
            pid = os.fork()
        except OSError:
            return n
        if pid == 0:
            while True:
                try:
                    os.fork()
                except OSError:
                    time.sleep(0.05)
        n += 1
    return n
"""

HOLD = """
import os, time
def hold(k):
    for _ in range(k):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    return k
def forks():
    n = 0
    while n < 50:
        try:
            pid = os.fork()
        except OSError:
            return n
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    return n
"""

MEMORY = """
import os, time
import numpy as np
def huge():
    return np.ones((1 << 17, 1 << 17))
def grow():
    blocks = []
    while True:
        blocks.append(np.ones(1 << 24))
def hogs():
    for _ in range(6):
        if os.fork() == 0:
            block = np.ones((150 << 20) // 8)  # each stays under its own address-space limit
            time.sleep(30)
            os._exit(0)
    time.sleep(30)
"""

SPIN = """
def spin():
    while True:
        pass
def burn():
    x = 0
    while True:
        x += 1
def ok(x):
    return x + 1
"""

DAEMON = """
import os, time
def daemonise():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                with open("/tmp/heartbeat", "a") as fh:
                    fh.write(".")
                time.sleep(0.1)
        os._exit(0)
    for _ in range(100):
        time.sleep(0.05)
        if os.path.exists("/tmp/heartbeat"):
            return os.path.getsize("/tmp/heartbeat")
    return 0
"""


def wait_gone(procs: list[dict], seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while still_alive(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return still_alive(procs)


def main() -> None:
    config = json.loads(sys.argv[1])
    course, repo = config["course"], config["repo"]
    out: dict = {"grader_uid": os.getuid(), "grader_euid": os.geteuid()}
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    pool = WorkerPool(2).start()
    try:
        out["mode"] = pool.mode

        with pool.sandbox(HONEST, limits=FAST) as sb:
            r = sb.call("gates", [x, W], {"scale": 2.0})
            out["honest"] = {"ok": r.ok, "error": r.error, "stdout": r.stdout, "sandboxed": r.sandboxed,
                             "max_error": float(np.max(np.abs(r.value - 2.0 / (1.0 + np.exp(-(x @ W))))))
                             if r.ok else None}

        sb = load(pool, INFO)
        r = sb.call("info", [], {})
        out["info"] = dict(r.value, sandbox_uid=sb.uid) if r.ok else {"error": r.error}
        out["info"]["host_uids"] = sorted({p["uid"] for p in submission_processes(pool)})
        sb.close()

        secret = os.path.join(course, "source", "ps1", "ps1.ipynb")
        paths = [secret, os.path.join(course, "gradebook.db"), course, os.path.join(repo, "rnngrad", "__init__.py"),
                 os.path.join(repo, "autograder", "sandbox", "sandbox.py"), "/etc/passwd", "/etc/shadow", "/root",
                 "/home", "/proc/1/environ", "/sys/kernel"]
        out["secret_readable_by_grader"] = open(secret).read()
        out["files"] = outcome(call(pool, PROBE_FILES, "probe", paths))
        targets = ["/evil", "/sandbox/site/numpy/evil.py", "/usr/lib/evil", "/etc/evil", "/proc/evil",
                   os.path.join(course, "gradebook.db"), "/tmp/mine.txt"]
        out["writes"] = outcome(call(pool, PROBE_FILES, "write", targets))
        with open(os.path.join(course, "gradebook.db")) as fh:
            out["gradebook_after"] = fh.read()

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        try:
            out["network"] = outcome(call(pool, CONNECT, "connect", listener.getsockname()[1]))
            try:
                listener.accept()
                out["listener_reached"] = True
            except (TimeoutError, socket.timeout):
                out["listener_reached"] = False
        finally:
            listener.close()

        out["imports"] = {}
        for module in ("rnngrad", "autograder.sandbox", "torch"):
            src = f"import sys\ndef imp():\n    sys.path[:0] = {[repo, os.path.dirname(repo)]!r}\n" \
                  f"    import {module}\n    return 'imported'\n"
            out["imports"][module] = outcome(call(pool, src, "imp"))

        out["syscalls"] = outcome(call(pool, SYSCALLS, "probe"))

        sb = load(pool, FORK_BOMB, Limits(max_processes=8, wall_seconds_per_call=5))
        r = sb.call("bomb", [], {})
        during = submission_processes(pool)
        sb.close()
        out["fork_bomb"] = dict(outcome(r), during=len(during), left=wait_gone(during),
                                spawn_after=subprocess_works())

        # The process limit is the submission's own, although every submission has the grader's host uid:
        # B may start exactly max_processes - 2 (its init and worker) while A and the grader hold many more.
        a = load(pool, HOLD, Limits(max_processes=10, wall_seconds_per_call=5))
        b = load(pool, HOLD, Limits(max_processes=4, wall_seconds_per_call=5))
        held = a.call("hold", [6], {})
        grader_uid_processes = sum(1 for e in os.listdir("/proc") if e.isdigit() and _uid_of(e) == os.getuid())
        forked = b.call("forks", [], {})
        a.close()
        b.close()
        out["nproc"] = {"held": outcome(held), "forked": outcome(forked), "same_uid_processes": grader_uid_processes}

        memory = Limits(memory_bytes=256 << 20, wall_seconds_per_call=10)
        with pool.sandbox(textwrap.dedent(MEMORY), limits=memory) as sb:
            out["memory_huge"] = outcome(sb.call("huge", [], {}))
            out["memory_grow"] = outcome(sb.call("grow", [], {}))
        hogs = Limits(memory_bytes=200 << 20, max_processes=10, wall_seconds_per_call=8)
        with pool.sandbox(textwrap.dedent(MEMORY), limits=hogs) as sb:
            r = sb.call("hogs", [], {})
            out["memory_hogs"] = dict(outcome(r), left=len(submission_processes(pool)))

        with pool.sandbox(textwrap.dedent(SPIN), limits=Limits(wall_seconds_per_call=0.5, wall_seconds_total=10,
                                                               cpu_seconds=1)) as sb:
            r = sb.call("spin", [], {})
            out["timeout"] = dict(outcome(r), left=len(submission_processes(pool)))
            again = sb.call("ok", [np.ones(2)], {})
            out["after_timeout"] = dict(outcome(again), restarts=sb.restarts)
        cpu = Limits(cpu_seconds=1, wall_seconds_per_call=8)
        out["cpu"] = outcome(call(pool, SPIN, "burn", limits=cpu))

        sb = load(pool, DAEMON)
        r = sb.call("daemonise", [], {})
        during = submission_processes(pool)
        sb.close()
        out["daemon"] = dict(outcome(r), during=len(during), left=wait_gone(during))

        # Closing the pool (with a submission still open) ends bubblewrap and every process below it.
        sb = load(pool, DAEMON)
        sb.call("daemonise", [], {})
        during, bwrap = submission_processes(pool), pool.proc.pid
    finally:
        pool.close()
    out["pool_close"] = {"during": len(during), "left": wait_gone(during),
                         "bwrap_left": os.path.exists(f"/proc/{bwrap}")}
    print(json.dumps(out, default=lambda o: o.tolist() if hasattr(o, "tolist") else repr(o)))


def _uid_of(pid: str) -> int | None:
    try:
        return int(_status(int(pid))["Uid"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


def subprocess_works() -> bool:
    import subprocess

    return subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True).stdout == b"1\n"


if __name__ == "__main__":
    main()
