"""The grading sandbox: real attacks run inside it and must fail safely; honest code must work unchanged.

Most tests share one warm fork server (``pool``); each ``with pool.sandbox(...)`` is a fresh submission with
its own namespaces and uid. Host-side checks (process table, files, listening sockets) are done here, in the
trusted process. They find a submission's processes by its host uid, so they need the root mode (the test
process is root); ``test_sandbox_userns.py`` runs a grader as an ordinary user.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import (
    CallResult,
    Limits,
    ProtocolError,
    Sandbox,
    SandboxUnavailable,
    WorkerPool,
    static_flags,
)
from autograder.sandbox import protocol
from autograder.sandbox import sandbox as sandbox_module

REPO = Path(__file__).resolve().parents[1]
FAST = Limits(wall_seconds_per_call=1.5, wall_seconds_total=20, cpu_seconds=5)


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2) as p:
        yield p


def host_processes_of(uid: int) -> list[int]:
    """PIDs of every host process whose real uid is ``uid`` (read from the host's /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                pids.append(int(entry))
    return pids


def run(pool, source: str, function: str, *args, limits: Limits = FAST, **kwargs) -> CallResult:
    with pool.sandbox(textwrap.dedent(source), limits=limits) as sb:
        assert sb.load_error is None, sb.load_error
        return sb.call(function, list(args), kwargs)


# ------------------------------------------------------------------------------------------ honest code
HONEST = """
import numpy as np

def _helper(z):
    return 1.0 / (1.0 + np.exp(-z))

def gates(x, W, scale=1.0):
    print("computing gates for", x.shape)
    out = np.empty((x.shape[0], W.shape[1]), dtype=x.dtype)
    for i in range(x.shape[0]):
        out[i] = _helper(x[i] @ W) * scale
    return out

def stats(x):
    return {"mean": float(x.mean()), "shape": x.shape, "parts": (x[:1], [x.sum()]), "label": "ok", "none": None}

def as_float32(x):
    return x.astype(np.float32)

def scalar(x):
    return np.float32(x.sum())
"""


def test_honest_code_loops_helpers_prints_and_kwargs(pool):
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    with pool.sandbox(HONEST, limits=FAST) as sb:
        assert sb.load_error is None and sb.sandboxed
        r = sb.call("gates", [x, W], {"scale": 2.0})
        assert r.ok and r.error is None and not r.timed_out
        np.testing.assert_allclose(r.value, 2.0 / (1.0 + np.exp(-(x @ W))), rtol=1e-12)
        assert r.value.dtype == np.float64 and type(r.value) is np.ndarray
        assert r.stdout == "computing gates for (4, 3)\n"
        s = sb.call("stats", [x], {})
        assert s.ok and s.value["shape"] == (4, 3) and s.value["label"] == "ok" and s.value["none"] is None
        assert s.value["mean"] == pytest.approx(x.mean(), rel=1e-15)
        np.testing.assert_array_equal(s.value["parts"][0], x[:1])
        assert isinstance(s.value["parts"], tuple) and isinstance(s.value["parts"][1], list)
        # float32 is delivered as float32: deciding whether that is acceptable is the comparer's job.
        f = sb.call("as_float32", [x], {})
        assert f.ok and f.value.dtype == np.float32 and f.value.shape == (4, 3)
        c = sb.call("scalar", [x], {})
        assert c.ok and isinstance(c.value, np.float32) and c.value == np.float32(x.astype(np.float64).sum())


def test_inputs_are_exact_copies_and_mutation_does_not_leak(pool):
    src = """
    def mutate(x):
        x[...] = 0
        return x
    def identity(x):
        return x
    """
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    with pool.sandbox(textwrap.dedent(src), limits=FAST) as sb:
        assert sb.call("mutate", [x], {}).value.sum() == 0
        assert x.sum() == 15  # the trusted side's array is untouched
        back = sb.call("identity", [x], {}).value
        assert back.dtype == np.int64 and np.array_equal(back, x)


def test_exception_message_and_student_traceback(pool):
    src = """
    import numpy as np
    def f(x):
        return helper(x)
    def helper(x):
        raise ValueError(f"bad shape {x.shape}")
    """
    r = run(pool, src, "f", np.zeros((2, 3)))
    assert not r.ok and r.error == "ValueError: bad shape (2, 3)"
    assert "line 4, in f" in r.traceback and "line 6, in helper" in r.traceback
    assert "worker.py" not in r.traceback  # nothing of the trusted side or the worker


def test_missing_function_and_not_callable(pool):
    with pool.sandbox("x = 3\n", limits=FAST) as sb:
        assert "defines no function named 'f'" in sb.call("f", [], {}).error
        assert "not a function" in sb.call("x", [], {}).error


def test_syntax_error_at_load(pool):
    with pool.sandbox("def f(x):\n    return x +\n", limits=FAST) as sb:
        assert sb.load_error.startswith("SyntaxError")
        r = sb.call("f", [np.ones(2)], {})
        assert not r.ok and "could not be loaded" in r.error and "SyntaxError" in r.error


def test_exception_at_load_keeps_prints(pool):
    with pool.sandbox("print('hello')\nundefined_name\n", limits=FAST) as sb:
        assert sb.load_error.startswith("NameError") and "line 2" in sb.load_error
        assert sb.load_stdout == "hello\n"


def test_nan_is_delivered_as_data(pool):
    r = run(pool, "import numpy as np\ndef f(x):\n    return x * np.nan\n", "f", np.ones(3))
    assert r.ok and np.isnan(r.value).all() and r.value.dtype == np.float64


def test_warnings_go_to_stderr_and_do_not_change_the_result(pool):
    src = """
    import numpy as np, warnings
    def f(x):
        warnings.warn("careful")
        with np.errstate(divide="warn"):
            y = np.log(x)
        return y
    """
    r = run(pool, src, "f", np.array([0.0, 1.0]))
    assert r.ok and r.value[0] == -np.inf and r.value[1] == 0.0
    assert "careful" in r.stderr and "divide by zero" in r.stderr


@pytest.mark.parametrize("expr, kind", [
    ("Thing()", "Thing"),
    ("{1, 2}", "set"),
    ("(i for i in range(3))", "generator"),
    ("np.matrix([[1.0]])", "numpy.matrix"),
    ("lambda: 0", "function"),
    ("np.array([object()], dtype=object)", "dtype object"),
    ("{1: np.zeros(2)}", "dict key of type int"),
    ("__import__('fractions').Fraction(1, 3)", "Fraction"),
])
def test_objects_other_than_plain_data_are_rejected(pool, expr, kind):
    src = f"import numpy as np\nclass Thing:\n    pass\ndef f():\n    return {expr}\n"
    r = run(pool, src, "f")
    assert not r.ok and r.value is None and kind in r.error, r.error


# ------------------------------------------------------------------------------------------ confinement
def test_host_files_course_dir_and_repo_are_invisible(pool, tmp_path):
    course = tmp_path / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    secret = course / "source" / "ps1" / "ps1.ipynb"
    secret.write_text("SECRET-REFERENCE-SOLUTION")
    (course / "gradebook.db").write_text("grades")
    paths = [str(secret), str(course / "gradebook.db"), str(REPO / "rnngrad" / "__init__.py"),
             str(REPO / "autograder" / "sandbox" / "sandbox.py"), str(REPO / "assignments"), "/etc/shadow",
             "/etc/passwd", "/root", "/home", str(Path(sys.prefix) / "pyvenv.cfg"), "/proc/1/environ",
             "/sys/kernel", "/dev/sda"]
    src = """
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
    """
    r = run(pool, src, "probe", paths)
    assert r.ok
    for p in paths:
        assert r.value[p] in ("FileNotFoundError", "PermissionError"), (p, r.value[p])
    assert "SECRET" not in json.dumps(r.value)


def test_every_mount_but_the_private_tmp_is_read_only(pool):
    src = "def mounts():\n    return open('/proc/self/mountinfo').read()\n"
    r = run(pool, src, "mounts")
    assert r.ok
    writable, roots = [], []
    for line in r.value.splitlines():
        fields = line.split()
        root, point, options = fields[3], fields[4], fields[5].split(",")
        roots.append(root)
        if "ro" not in options and point not in ("/tmp", "/dev/shm", "/proc", "/dev/null", "/dev/zero",
                                                 "/dev/urandom"):
            writable.append(point)
    assert writable == []
    # Nothing of the checkout is mounted except the worker's own files and packages of the environment.
    repo = str(REPO)
    inside = [root for root in roots if root.startswith(repo)]
    assert all(root.startswith(str(Path(sys.prefix).resolve()))
               or root.endswith(("/worker.py", "/protocol.py", "/npzread.py", "/observe.py"))
               for root in inside), inside


def test_writes_outside_private_tmp_fail(pool):
    src = """
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
    targets = ["/evil", "/sandbox/site/numpy/evil.py", "/sandbox/python/lib/python3.11/evil.py",
               "/usr/lib/evil", "/etc/evil", "/proc/evil", "/dev/evil", "/tmp/mine.txt"]
    r = run(pool, src, "write", targets)
    assert r.ok
    assert r.value.pop("/tmp/mine.txt") == "written"  # its own private /tmp works
    assert all(v in ("PermissionError", "OSError", "FileNotFoundError") for v in r.value.values()), r.value


def test_file_size_limit(pool):
    src = """
    def big():
        with open("/tmp/big", "wb") as fh:
            fh.write(b"x" * (4 << 20))
        return "wrote"
    """
    r = run(pool, src, "big", limits=Limits(max_file_bytes=1 << 20, wall_seconds_per_call=5))
    assert not r.ok and ("file size limit" in r.error or "File too large" in r.error), r.error


def test_network_is_unreachable(pool):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    src = """
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
    try:
        r = run(pool, src, "connect", port)
        assert r.ok and "connected" not in r.value, r.value
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever reached the host's listener
    finally:
        listener.close()


@pytest.mark.parametrize("module", ["rnngrad", "autograder", "autograder.sandbox", "torch", "nbgrader", "IPython"])
def test_course_code_and_other_packages_cannot_be_imported(pool, module):
    src = f"""
    import sys
    def imp():
        sys.path[:0] = {[str(REPO), str(REPO.parent), str(Path(sys.prefix) / "lib")]!r}
        import {module}
        return "imported"
    """
    r = run(pool, src, "imp")
    assert not r.ok and r.error.startswith("ModuleNotFoundError"), r.error


def test_environment_is_minimal_and_privileges_are_gone(pool, monkeypatch):
    src = """
    import os
    def info():
        status = open("/proc/self/status").read()
        field = lambda k: [l.split(":", 1)[1].strip() for l in status.splitlines() if l.startswith(k + ":")][0]
        return {"env": dict(os.environ), "uid": os.getuid(), "gid": os.getgid(), "caps": field("CapEff"),
                "bound": field("CapBnd"), "nnp": field("NoNewPrivs"), "pids": sorted(int(p) for p in
                os.listdir("/proc") if p.isdigit()), "host": os.uname().nodename, "groups": os.getgroups()}
    """
    with pool.sandbox(textwrap.dedent(src), limits=FAST) as sb:
        r = sb.call("info", [], {})
        assert r.ok
        v = r.value
        assert not any(k.startswith("NBGRADER") or k.startswith("JUPYTER") for k in v["env"])
        assert set(v["env"]) <= {"LANG", "LC_ALL", "HOME", "TMPDIR", "PATH", "LD_LIBRARY_PATH", "PWD",
                                 "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
        assert sb.mode == "root"
        assert v["uid"] == sb.uid and v["gid"] == sb.uid and v["uid"] >= sandbox_module.UID_BASE
        assert v["caps"] == "0000000000000000" and v["nnp"] == "1" and v["groups"] == []
        assert v["pids"] == [1, 2]  # its own init and itself: no other process is visible
        assert v["host"] == "sandbox"


def test_namespaces_mounts_and_tracing_are_refused_but_threads_and_fork_work(pool):
    src = """
    import ctypes, errno, os, threading
    def probe():
        libc = ctypes.CDLL(None, use_errno=True)
        def err(ret):
            return ctypes.get_errno() if ret == -1 else "succeeded"
        out = {
            "unshare_user": err(libc.unshare(0x10000000)),
            "unshare_net": err(libc.unshare(0x40000000)),
            "mount": err(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
            "ptrace_attach_init": err(libc.ptrace(16, 1, 0, 0)),
            "bpf": err(libc.syscall(321, 0, 0, 0)),
            "keyctl": err(libc.syscall(250, 0, 0, 0)),
            "io_uring": err(libc.syscall(425, 1, 0)),
        }
        box = []
        t = threading.Thread(target=lambda: box.append("thread ran"))
        t.start()
        t.join()
        pid = os.fork()
        if pid == 0:
            os._exit(3)
        out["thread"] = box[0]
        out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        return out
    """
    r = run(pool, src, "probe")
    assert r.ok, r.error
    v = r.value
    assert v.pop("thread") == "thread ran" and v.pop("fork") == 3
    assert all(code == 1 for code in v.values()), v  # EPERM for each


def test_grader_environment_variables_do_not_reach_the_sandbox(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    src = "import os\ndef env():\n    return sorted(os.environ)\n"
    with Sandbox(src, limits=FAST) as sb:  # a fresh bubblewrap started with this environment
        r = sb.call("env", [], {})
        assert r.ok and "NBGRADER_EXECUTION" not in r.value


def test_submissions_are_isolated_from_each_other(pool):
    a_src = """
    import numpy as np, socket
    np.allclose = lambda *a, **k: True
    open("/tmp/answers.txt", "w").write("leaked")
    server = socket.socket()
    server.bind(("127.0.0.1", 50007))
    server.listen(1)
    def alive():
        return 1
    """
    b_src = """
    import numpy as np, os, socket
    def look():
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", 50007))
            reached = True
        except OSError:
            reached = False
        return {"patched": np.allclose(np.zeros(2), np.ones(2)), "tmp": os.listdir("/tmp"), "reached": reached}
    """
    with pool.sandbox(textwrap.dedent(a_src), limits=FAST) as a, pool.sandbox(textwrap.dedent(b_src), limits=FAST) as b:
        assert a.load_error is None and a.call("alive", [], {}).value == 1
        r = b.call("look", [], {})
        assert r.ok and r.value == {"patched": False, "tmp": [], "reached": False}
        assert a.uid != b.uid


# ------------------------------------------------------------------------------------------ resources
def test_infinite_loop_times_out_and_later_calls_still_run(pool):
    src = """
    def spin():
        while True:
            pass
    def ok(x):
        return x + 1
    """
    with pool.sandbox(textwrap.dedent(src), limits=Limits(wall_seconds_per_call=0.5, wall_seconds_total=10)) as sb:
        r = sb.call("spin", [], {})
        assert r.timed_out and not r.ok and "did not finish within 0.5 s" in r.error
        assert not host_processes_of(sb.uid)  # the spinning worker is gone
        again = sb.call("ok", [np.ones(2)], {})
        assert again.ok and np.array_equal(again.value, [2.0, 2.0]) and sb.restarts == 1


def test_total_time_budget(pool):
    src = "import time\ndef slow():\n    time.sleep(0.4)\n    return 1\n"
    limits = Limits(wall_seconds_per_call=5, wall_seconds_total=1.0)
    with pool.sandbox(src, limits=limits) as sb:
        results = [sb.call("slow", [], {}) for _ in range(4)]
    assert results[0].ok and results[1].ok
    assert results[-1].timed_out and "total time" in results[-1].error


def test_cpu_time_limit(pool):
    src = "def burn():\n    x = 0\n    while True:\n        x += 1\n"
    r = run(pool, src, "burn", limits=Limits(cpu_seconds=1, wall_seconds_per_call=8))
    assert not r.ok and not r.timed_out and "CPU time limit" in r.error, r.error


def test_memory_bomb(pool):
    src = """
    import numpy as np
    def huge():
        return np.ones((1 << 17, 1 << 17))
    def grow():
        blocks = []
        while True:
            blocks.append(np.ones(1 << 24))
    """
    limits = Limits(memory_bytes=256 << 20, wall_seconds_per_call=10)
    with pool.sandbox(textwrap.dedent(src), limits=limits) as sb:
        r = sb.call("huge", [], {})
        assert not r.ok and "MemoryError" in r.error and "allocate" in r.error, r.error
        g = sb.call("grow", [], {})
        assert not g.ok and ("MemoryError" in g.error or "memory limit" in g.error), g.error


def test_memory_spread_over_processes_is_bounded_in_total(pool):
    src = """
    import os, time
    import numpy as np
    def hogs():
        for _ in range(6):
            if os.fork() == 0:
                block = np.ones((150 << 20) // 8)  # each stays under its own address-space limit
                time.sleep(30)
                os._exit(0)
        time.sleep(30)
    """
    limits = Limits(memory_bytes=200 << 20, max_processes=10, wall_seconds_per_call=8)
    with pool.sandbox(textwrap.dedent(src), limits=limits) as sb:
        r = sb.call("hogs", [], {})
        # not the 8 s call limit (the children sleep 30 s) but the fork server's total-memory watchdog
        assert not r.ok and not r.timed_out and "memory limit exceeded" in r.error, r.error
        assert host_processes_of(sb.uid) == []


def test_fork_bomb_is_bounded_and_leaves_nothing(pool):
    src = """
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
    limits = Limits(max_processes=8, wall_seconds_per_call=5)
    with pool.sandbox(textwrap.dedent(src), limits=limits) as sb:
        r = sb.call("bomb", [], {})
        assert r.ok and r.value < 8, r
        assert 2 <= len(host_processes_of(sb.uid)) <= 8
        uid = sb.uid
    assert host_processes_of(uid) == []
    # The machine is fine: the grader can still start processes.
    assert subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True).stdout == b"1\n"


def test_daemonised_process_does_not_outlive_the_submission(pool):
    src = """
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
    with pool.sandbox(textwrap.dedent(src), limits=FAST) as sb:
        r = sb.call("daemonise", [], {})
        assert r.ok and r.value >= 1
        uid = sb.uid
        assert len(host_processes_of(uid)) == 3  # init, the worker and the daemon
    assert host_processes_of(uid) == []


def test_huge_stdout_is_truncated(pool):
    src = """
    import os, sys
    def shout():
        for i in range(200000):
            print("x" * 100)
        os.write(1, b"raw" * 100000)
        sys.__stdout__.write("y" * 100000)
        return 7
    """
    r = run(pool, src, "shout", limits=Limits(max_output_chars=1000, wall_seconds_per_call=10))
    assert r.ok and r.value == 7
    assert len(r.stdout) < 1100 and "more characters not kept" in r.stdout


def test_writing_to_the_channel_breaks_only_that_call(pool):
    src = """
    import os, stat
    def _channel():
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    return fd
            except OSError:
                pass
    def garbage():
        os.write(_channel(), b"not a frame at all" * 10)
        return 1
    def forged_size():
        import struct
        os.write(_channel(), b"SBX1" + struct.pack(">IQ", 2, 1 << 40) + b"{}")
        return 1
    def fine():
        return 42
    """
    with pool.sandbox(textwrap.dedent(src), limits=FAST) as sb:
        g = sb.call("garbage", [], {})
        assert not g.ok and "rejected" in g.error and "malformed" in g.error, g.error
        assert sb.call("fine", [], {}).value == 42
        f = sb.call("forged_size", [], {})
        assert not f.ok and "exceeds the limit" in f.error, f.error
        assert sb.call("fine", [], {}).value == 42 and sb.restarts == 2


def test_closing_the_channel_is_reported(pool):
    src = """
    import os, stat
    def close_it():
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.close(fd)
            except OSError:
                pass
        return 1
    def fine():
        return 2
    """
    with pool.sandbox(textwrap.dedent(src), limits=FAST) as sb:
        r = sb.call("close_it", [], {})
        assert not r.ok and "channel was closed or broken" in r.error, r.error
        assert not sb.alive
        assert sb.call("fine", [], {}).value == 2 and sb.alive


def test_huge_result_is_refused(pool):
    src = "import numpy as np\ndef big():\n    return np.zeros(1 << 20)\n"
    r = run(pool, src, "big", limits=Limits(max_result_bytes=1 << 20))
    assert not r.ok and "more than the limit" in r.error, r.error


def test_exit_and_system_exit(pool):
    src = "import os, sys\ndef quit_():\n    sys.exit(3)\ndef hard():\n    os._exit(5)\ndef ok():\n    return 1\n"
    with pool.sandbox(src, limits=FAST) as sb:
        assert sb.call("quit_", [], {}).error == "SystemExit: 3"
        h = sb.call("hard", [], {})
        assert not h.ok and "exited with status 5" in h.error
        assert sb.call("ok", [], {}).value == 1


# ------------------------------------------------------------------------------------------ wire format
def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_decoder_refuses_pickles_compression_and_lying_headers():
    # An object array can only be stored pickled: refused before numpy would unpickle it.
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(bio := io.BytesIO(), "w") as zf:
        zf.writestr("a0.npy", buf.getvalue())
    with pytest.raises(ProtocolError, match="dtype object"):
        protocol.unpack_value({"t": "nd", "k": "a0"}, bio.getvalue())
    # Compressed members (zip bombs) are refused.
    with zipfile.ZipFile(bio := io.BytesIO(), "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a0.npy", b"\x93NUMPY" + b"\0" * 1000)
    with pytest.raises(ProtocolError, match="compressed"):
        protocol.unpack_value({"t": "nd", "k": "a0"}, bio.getvalue())
    # A header that claims far more data than the member holds (would allocate terabytes) is refused.
    small = io.BytesIO()
    np.lib.format.write_array_header_1_0(small, {"descr": "<f8", "fortran_order": False, "shape": (1 << 40,)})
    with zipfile.ZipFile(bio := io.BytesIO(), "w") as zf:
        zf.writestr("a0.npy", small.getvalue() + b"\0" * 64)
    with pytest.raises(ProtocolError, match="does not match"):
        protocol.unpack_value({"t": "nd", "k": "a0"}, bio.getvalue())
    # Unknown node kinds, unreferenced arrays, repeated references.
    with pytest.raises(ProtocolError):
        protocol.unpack_value({"t": "pickle", "v": "gASV"}, b"")
    with pytest.raises(ProtocolError, match="does not reference"):
        protocol.unpack_value({"t": "none"}, _npz(a0=np.zeros(2)))
    with pytest.raises(ProtocolError, match="missing or repeated"):
        protocol.unpack_value({"t": "list", "v": [{"t": "nd", "k": "a0"}] * 2}, _npz(a0=np.zeros(2)))
    with pytest.raises(ProtocolError, match="nested"):
        deep = {"t": "none"}
        for _ in range(40):
            deep = {"t": "list", "v": [deep]}
        protocol.unpack_value(deep, b"")


def test_round_trip_is_exact():
    value = ([np.arange(6, dtype=np.int32).reshape(2, 3), np.float64(0.1)],
             {"x": np.array([np.nan, -np.inf, 1e-310]), "n": 2 ** 70, "f": 0.1 + 0.2, "b": True, "s": "é"})
    tree, payload = protocol.pack_value(value)
    json.dumps(tree)  # the tree is plain JSON
    back = protocol.unpack_value(tree, payload)
    assert back[0][0].dtype == np.int32 and np.array_equal(back[0][0], value[0][0])
    assert back[0][1] == np.float64(0.1) and back[1]["n"] == 2 ** 70 and back[1]["f"] == 0.1 + 0.2
    np.testing.assert_array_equal(back[1]["x"], value[1]["x"])
    assert back[1]["b"] is True and back[1]["s"] == "é"


def test_frame_limits(tmp_path):
    r, w = os.pipe()
    try:
        protocol.write_frame(w, {"op": "x"}, b"12345")
        with pytest.raises(ProtocolError, match="exceeds"):
            protocol.read_frame(r, max_header=100, max_payload=4)
        os.write(w, b"JUNKJUNKJUNKJUNKJUNK")
        os.read(r, 1 << 16)
        os.write(w, b"XXXX" + b"\0" * 12)
        with pytest.raises(ProtocolError, match="bad magic"):
            protocol.read_frame(r, max_header=100, max_payload=100)
        with pytest.raises(protocol.ChannelTimeout):
            protocol.read_frame(r, max_header=100, max_payload=100, deadline=time.monotonic() + 0.05)
    finally:
        os.close(r)
        os.close(w)


# ------------------------------------------------------------------------------------------ life cycle
def test_refuses_to_run_without_bubblewrap(monkeypatch):
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        with Sandbox("def f():\n    return 1\n"):
            pass
    # Only an explicit opt-in runs unsandboxed, and every result says so.
    with Sandbox("def f():\n    return 1\n", allow_unsandboxed=True, limits=FAST) as sb:
        r = sb.call("f", [], {})
        assert r.ok and r.value == 1 and r.sandboxed is False and sb.sandboxed is False
    with Sandbox("import rnngrad\n", allow_unsandboxed=True, limits=FAST) as sb:
        assert sb.load_error.startswith("ModuleNotFoundError")
    # Unsandboxed there are no PID namespaces, yet closing the pool still kills the worker's process group
    # (a child that calls setsid() would escape: one reason this mode is for development only).
    src = "import os, time\ndef spawn():\n    child = os.fork()\n    if child == 0:\n        time.sleep(20)\n        os._exit(0)\n    return [os.getpid(), child]\n"
    pool = WorkerPool(1, allow_unsandboxed=True).start()
    sb = pool.sandbox(src, limits=FAST).__enter__()
    pids = sb.call("spawn", [], {}).value
    assert all(Path(f"/proc/{pid}").exists() for pid in pids)
    pool.close()

    def gone(pid):
        try:
            return "(zombie)" in Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True

    deadline = time.monotonic() + 5
    while not all(map(gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(map(gone, pids))


def test_pool_refuses_to_start_when_submissions_cannot_run(monkeypatch):
    """The fork server starts, but a submission could only run as uid 0, which the worker refuses: the pool
    must refuse at once, with the reason, instead of failing every submission's load later."""
    monkeypatch.setattr(sandbox_module, "UID_BASE", 0)
    monkeypatch.setattr(sandbox_module, "UID_SPAN", 1)
    pool = WorkerPool(1)
    with pytest.raises(SandboxUnavailable, match="cannot run a submission") as info:
        pool.start()
    assert "could not set up the submission" in str(info.value), info.value
    assert pool.proc is None  # nothing left running


def test_start_up_check_with_a_dying_fork_server_refuses_without_hanging(monkeypatch):
    """If the fork server dies during the start-up check, the pool refuses (no restart loop, no deadlock)."""
    import threading

    original = sandbox_module.Sandbox._start

    def kill_server_first(self):
        os.killpg(self.pool.proc.pid, 9)
        self.pool.proc.wait()
        return original(self)

    monkeypatch.setattr(sandbox_module.Sandbox, "_start", kill_server_first)
    pool, outcome = WorkerPool(1), []

    def start():
        try:
            pool.start()
            outcome.append("started")
        except SandboxUnavailable as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the pool's start hung"
    assert len(outcome) == 1 and "cannot run a submission" in outcome[0], outcome
    assert pool.proc is None


def test_limits_are_checked():
    with pytest.raises(ValueError, match="cpu_seconds"):
        Limits(cpu_seconds=0)
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=-1)
    assert Limits(max_restarts=0).max_restarts == 0


def test_forbidden_allowed_imports():
    with pytest.raises(ValueError, match="rnngrad"):
        sandbox_module.bwrap_command(3, ["rnngrad"])
    with pytest.raises(ValueError, match="not an installed package"):
        sandbox_module.bwrap_command(3, ["no_such_package_here"])
    import redteam  # noqa: F401  (a package of the checkout, importable here because tests/ is on the path)
    with pytest.raises(ValueError, match="inside the project checkout"):
        sandbox_module.bwrap_command(3, ["redteam"])


def test_closing_the_pool_kills_everything():
    src = "import os, time\ndef spawn():\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(60)\n    return 1\n"
    pool = WorkerPool(1).start()
    bwrap_pid = pool.proc.pid
    sb = pool.sandbox(src, limits=FAST).__enter__()
    assert sb.call("spawn", [], {}).value == 1
    uid = sb.uid
    assert len(host_processes_of(uid)) == 3
    pool.close()  # without closing the sandbox first
    deadline = time.monotonic() + 5
    while host_processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_processes_of(uid) == []
    assert not Path(f"/proc/{bwrap_pid}").exists()


def test_pool_replaces_a_dead_fork_server():
    with WorkerPool(1) as pool:
        with pool.sandbox("def f():\n    return 1\n", limits=FAST) as sb:
            assert sb.call("f", [], {}).value == 1
        first = pool.proc.pid
        os.killpg(first, 9)
        pool.proc.wait()
        with pool.sandbox("def f():\n    return 2\n", limits=FAST) as sb:
            assert sb.call("f", [], {}).value == 2
        assert pool.proc.pid != first


def test_map_runs_submissions_concurrently_and_in_order(pool):
    sources = [(f"def f(x):\n    return x * {k}\n", k) for k in range(6)]
    out = pool.map(lambda sb, k: (k, sb.call("f", [np.ones(2)], {}).value), sources)
    assert [k for k, _ in out] == list(range(6))
    assert all(np.array_equal(v, np.full(2, float(k))) for k, v in out)


# ------------------------------------------------------------------------------------------ static flags
@pytest.mark.parametrize("source, code", [
    ("import numpy as np\nnp.allclose = lambda *a, **k: True\n", "patches_module"),
    ("import numpy\nnumpy.testing.assert_allclose = print\n", "patches_module"),
    ("import numpy as np\nsetattr(np, 'sum', len)\n", "patches_module"),
    ("import torch\ntorch.allclose = None\n", "patches_module"),
    ("import numpy as np\nnp.__dict__['sum'] = len\n", "patches_module"),
    ("ip = get_ipython()\nip.input_transformers_cleanup.append(lambda l: l)\n", "ipython_internals"),
    ("from IPython import get_ipython\n", "ipython_internals"),
    ("import builtins\nbuiltins.print = None\n", "builtins"),
    ("__builtins__['len'] = None\n", "builtins"),
    ("import sys\nsys.modules['numpy'] = None\n", "sys_modules"),
    ("import rnngrad\n", "imports_course_code"),
    ("from rnngrad.softmax import softmax\n", "imports_course_code"),
    ("from autograder import grade\n", "imports_course_code"),
    ("from . import helper\n", "relative_import"),
    ("import os\nx = os.environ.get('NBGRADER_EXECUTION')\n", "nbgrader_environment"),
    ("import subprocess\n", "system_module"),
    ("import ctypes\n", "system_module"),
    ("import socket\n", "system_module"),
    ("open('gradebook.db', 'w')\n", "writes_files"),
    ("import numpy as np\nnp.save('x.npy', 1)\n", "writes_files"),
    ("import os\nos.system('rm -rf ~')\n", "starts_processes"),
    ("exec('x = 1')\n", "dynamic_code"),
    ("import sys\nf = sys._getframe().f_back.f_globals\n", "introspection"),
    ("def check(*a):\n    return 1.0\n", "redefines_checker"),
    ("def f(:\n", "syntax_error"),
])
def test_static_flags_catch_known_tricks(source, code):
    flags = static_flags(source)
    assert code in [f.code for f in flags], flags
    assert all(f.message.startswith("line ") for f in flags)


def test_static_flags_examples_in_the_docstring():
    import doctest

    from autograder.sandbox import flags

    assert doctest.testmod(flags).failed == 0


def test_static_flags_never_run_the_code(tmp_path):
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')\nimport os\nos.system('touch {marker}')\n"
    codes = {f.code for f in static_flags(source)}
    assert {"writes_files", "system_module", "starts_processes"} <= codes
    assert not marker.exists()


def test_static_flags_leave_the_released_notebooks_alone():
    """The source notebooks (reference solutions included) are honest code: nothing to flag."""
    notebooks = sorted((REPO / "assignments" / "source").glob("*/*.ipynb"))
    assert notebooks
    for nb in notebooks:
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                assert static_flags(source) == [], (nb.name, source[:200])


def test_static_flags_leave_ordinary_code_alone():
    source = textwrap.dedent("""
    import numpy as np
    import math

    def softmax(z, axis=-1):
        # a stable softmax
        z = z - np.max(z, axis=axis, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)

    class Cache:
        def __init__(self):
            self.items = {}

    def rnn(xs, h, W_x, W_h, b):
        hs = []
        for x in xs:
            h = np.tanh(x @ W_x + h @ W_h + b)
            hs.append(h)
        print("done", math.pi)
        return np.stack(hs)
    """)
    assert static_flags(source) == []
