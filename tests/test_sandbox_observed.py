"""Behaviour seen inside the sandbox (``Sandbox.observed``) and memory caps that count shared memory.

Each attack runs in a real sandbox; the checks are made from outside: the reported lines, the verdict of
the call. Honest code (numpy, warnings, prints, files in /tmp, the released files) must be reported as
nothing at all. No timing is asserted.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from autograder.sandbox import Limits, WorkerPool

FAST = Limits(wall_seconds_per_call=5, wall_seconds_total=60, cpu_seconds=10)


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2) as p:
        yield p


def observe(pool, source: str, function: str = "f", *args, limits: Limits = FAST):
    """Load ``source``, call ``function(*args)``; returns (the call's result, what was observed)."""
    with pool.sandbox(textwrap.dedent(source), limits=limits) as sb:
        assert sb.load_error is None, sb.load_error
        result = sb.call(function, list(args), {})
        return result, sb.observed


HONEST = """
import numpy as np
import warnings, math, json, functools, itertools
print("loading")

def f(x):
    warnings.warn("just a warning")
    np.log(np.zeros(1))
    np.save("/tmp/x.npy", x)
    y = np.load("/tmp/x.npy")
    with open("/tmp/notes.txt", "w") as fh:
        fh.write("hello")
    print("value", y)
    u, s, vt = np.linalg.svd(np.outer(y, y) + np.eye(len(y)))
    np.testing.assert_allclose(y, x)
    return float(s.sum() + math.pi) + len(json.dumps([1]))
"""


def test_honest_code_is_reported_as_nothing(pool):
    result, seen = observe(pool, HONEST, "f", np.arange(3.0))
    assert result.ok, result.error
    assert seen == []


@pytest.mark.parametrize("body, expected", [
    ("open('/etc/passwd').read()", "opened /etc/passwd (not in the sandbox)"),
    ("open('/sandbox/python/x', 'w')", "opened /sandbox/python/x for writing (denied: read-only)"),
    ("import os\nos.listdir('/home')", "listed /home (not in the sandbox)"),
    ("import os\nos.remove('/sandbox/lib/worker.py')", "removed /sandbox/lib/worker.py (denied: read-only)"),
    ("getattr(np.lib._npyio_impl, 'o' + 's').kill(1, 9)", "sent signal SIGKILL to process 1"),
    ("getattr(np.lib._npyio_impl, 'o' + 's').system('true')", "ran a shell command (os.system)"),
    ("__import__('subprocess').run(['true'])", "started a program (subprocess)"),
    ("__import__('subprocess')", "imported subprocess"),
    ("import importlib\nimportlib.import_module('os').system('true')", "ran a shell command (os.system)"),
    ("import socket\nsocket.socket()", "used a socket (socket.__new__)"),
    ("import ctypes\nctypes.CDLL(None).getpid()", "used ctypes (ctypes.dlsym: getpid)"),
    ("import ctypes\nctypes.CDLL(None).mount(b'x', b'/tmp', b'tmpfs', 0, None)", "used ctypes (ctypes.dlsym: mount)"),
    ("import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()", "created a process (fork)"),
    # (joined: a thread still running when the call returns may act after the report is read)
    ("import threading\nt = threading.Thread(target=getattr(np.lib._npyio_impl, 'os').kill, args=(1, 0))\n"
     "t.start()\nt.join()", "sent signal 0 to process 1"),
    ("import threading\nthreading.Thread(target=print).start()", "started a thread"),
    ("import resource\nresource.setrlimit(resource.RLIMIT_CORE, (0, 0))", "changed its resource limits"),
    ("import gc\ngc.get_objects()", "listed the interpreter's objects"),
])
def test_attempts_are_reported_however_the_module_was_reached(pool, body, expected):
    source = "import numpy as np\ndef f():\n" + textwrap.indent(f"try:\n{textwrap.indent(body, '    ')}\n"
                                                                 "except BaseException:\n    pass\nreturn 1\n", "    ")
    result, seen = observe(pool, source)
    assert any(line.startswith(expected) for line in seen), seen


def test_reports_survive_the_code_closing_its_pipe_and_a_crash(pool):
    source = """
    import os
    def f():
        try:
            open('/etc/shadow')
        except OSError:
            pass
        for fd in range(3, 64):
            try:
                os.close(fd)
            except OSError:
                pass
        os._exit(3)
    """
    result, seen = observe(pool, source)
    assert not result.ok
    assert "opened /etc/shadow (not in the sandbox)" in seen


def test_closing_the_event_pipe_is_itself_reported(pool):
    source = """
    import os
    def f():
        for name in os.listdir('/proc/self/fd'):
            try:
                if os.readlink(f'/proc/self/fd/{name}').startswith('pipe:'):
                    os.close(int(name))
            except OSError:
                pass
        return 1
    """
    result, seen = observe(pool, source)
    assert result.ok, result.error
    assert "closed or replaced the grader's event pipe" in seen


def test_reports_are_deduplicated_and_capped(pool):
    source = """
    def f():
        for i in range(500):
            for _ in range(3):
                try:
                    open(f'/nowhere/{i}')
                except OSError:
                    pass
        return 1
    """
    result, seen = observe(pool, source)
    assert result.ok
    assert len(seen) == 21 and seen[-1].startswith("... and ")
    assert len(set(seen)) == len(seen)


# ------------------------------------------------------------------------------------------ shared memory
MB = 1 << 20
SMALL = Limits(wall_seconds_per_call=20, wall_seconds_total=60, cpu_seconds=20, memory_bytes=256 * MB,
               total_memory_bytes=256 * MB, max_file_bytes=2048 * MB, tmp_bytes=2048 * MB, shm_bytes=2048 * MB)
CHUNK = "b'\\x01' * (1 << 20)"

HOARDERS = {
    # 12 processes, each maps 64 MiB of anonymous shared memory (RLIMIT_AS allows it to each one)
    "map_shared_anonymous": f"""
import mmap, os, time
def f():
    for _ in range(12):
        if os.fork() == 0:
            m = mmap.mmap(-1, 64 << 20)
            for _ in range(64):
                m.write({CHUNK})
            time.sleep(60)
    time.sleep(60)
""",
    "dev_shm_file": f"""
def f():
    with open('/dev/shm/hoard', 'wb') as fh:
        for _ in range(768):
            fh.write({CHUNK})
    import time
    time.sleep(60)
""",
    "tmp_file_deleted_but_open": f"""
import os, time
def f():
    fh = open('/tmp/hoard', 'wb')
    os.remove('/tmp/hoard')
    for _ in range(768):
        fh.write({CHUNK})
    time.sleep(60)
""",
    "memfd_mapped_in_children": f"""
import mmap, os, time
def f():
    for _ in range(12):
        if os.fork() == 0:
            fd = os.memfd_create('hoard')
            os.ftruncate(fd, 64 << 20)
            m = mmap.mmap(fd, 64 << 20)
            for _ in range(64):
                m.write({CHUNK})
            time.sleep(60)
    time.sleep(60)
""",
}


@pytest.mark.parametrize("route", sorted(HOARDERS))
def test_shared_memory_counts_toward_the_cap(pool, route):
    """Three times the cap held through each route of shared memory: stopped with a memory verdict."""
    result, _ = observe(pool, HOARDERS[route], limits=SMALL)
    assert not result.ok
    assert "memory limit exceeded (its processes and its /tmp and /dev/shm files" in result.error, result.error


def test_honest_code_is_not_stopped_by_the_memory_watchdog(pool):
    source = """
    import numpy as np
    def f():
        a = np.ones((2000, 2000))          # 32 MB
        np.save('/tmp/a.npy', a)
        return float((a @ a.T).sum() + np.load('/tmp/a.npy').sum())
    """
    result, seen = observe(pool, source, limits=SMALL)
    assert result.ok, result.error
    assert seen == []


def test_tmp_and_dev_shm_are_size_capped_tmpfs(pool):
    source = """
    import os
    def f():
        out = {}
        for path in ('/tmp', '/dev/shm'):
            st = os.statvfs(path)
            out[path] = st.f_blocks * st.f_frsize
        return out
    """
    limits = Limits(tmp_bytes=8 * MB, shm_bytes=4 * MB)
    result, _ = observe(pool, source, limits=limits)
    assert result.ok, result.error
    assert result.value == {"/tmp": 8 * MB, "/dev/shm": 4 * MB}
