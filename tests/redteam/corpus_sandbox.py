"""Red-team entries for issue area 'sandbox' (see corpus.py for the Entry format).

Shared-memory hoarders (each route is stopped by the memory cap that counts shared memory), a reply forged on
the worker's channel, system modules reached through another module's attribute, reads of host and course
files, programs, ctypes, a thread that outlives its call, and code that closes the grader's event pipe. Each
asserts its verdict and the behaviour flags the sandbox reports; a flag never changes a score.
"""
from __future__ import annotations

from .corpus import Entry, t

# reaching os without importing it: an attribute of a numpy module
_OS = "getattr(np.lib._npyio_impl, 'o' + 's')"

ENTRIES: list[Entry] = [
    Entry("shm_map_shared_hoard", "cross_entropy_grad forks 12 processes that each fill 200 MB of anonymous "
          "shared memory (MAP_SHARED|MAP_ANONYMOUS, once subtracted by the watchdog)",
          answers={"cross_entropy_grad": f'''def cross_entropy_grad(logits, labels):
    import mmap, time
    os_ = {_OS}
    for _ in range(12):
        if os_.fork() == 0:
            m = mmap.mmap(-1, 200 << 20)
            for _ in range(200):
                m.write(b"\\x01" * (1 << 20))
            time.sleep(30)
    time.sleep(30)
'''}, expect={t("cross_entropy_grad"): "zero"},
          flags=["behaviour: created a process (fork)", "behaviour: mapped memory with mmap"]),
    Entry("shm_memfd_hoard", "softmax_vjp fills memfds mapped in 12 child processes",
          answers={"softmax_vjp": f'''def softmax_vjp(logits, v):
    import mmap, time
    os_ = {_OS}
    for _ in range(12):
        if os_.fork() == 0:
            blocks = []
            while True:
                fd = os_.memfd_create("hoard")
                os_.ftruncate(fd, 1 << 20)
                m = mmap.mmap(fd, 1 << 20)
                m.write(b"\\x01" * (1 << 20))
                blocks.append(m)
                os_.close(fd)
    time.sleep(30)
'''}, expect={t("softmax_vjp"): "zero"},
          flags=["behaviour: created a process (fork)", "behaviour: mapped memory with mmap"]),
    Entry("shm_dev_shm_and_tmp_hoard", "smoothed_cross_entropy_grad fills /dev/shm and /tmp (size-capped tmpfs, "
          "counted as memory; each file stops at the file size limit)",
          answers={"smoothed_cross_entropy_grad": '''def smoothed_cross_entropy_grad(logits, labels, epsilon):
    for path in ("/dev/shm/hoard", "/tmp/hoard"):
        try:
            with open(path, "wb") as fh:
                while True:
                    fh.write(b"\\x01" * (1 << 20))
        except BaseException:
            pass
    return np.zeros(logits.shape)
'''}, expect={t("smoothed_cross_entropy_grad"): "zero"}),
    Entry("forged_reply", "cross_entropy_grad writes its own reply frame on the worker's channel (found by walking "
          "the frames): an npz whose two members overlap, read twice if accepted",
          answers={"cross_entropy_grad": '''def cross_entropy_grad(logits, labels):
    import sys, json, struct, io, zipfile, time
    os_ = __import__("os")
    f = sys._getframe(1)
    while f is not None and "header" not in f.f_locals:
        f = f.f_back
    seq, fd = f.f_locals["header"]["seq"], f.f_locals["self"].fd
    buf = io.BytesIO()
    np.save(buf, np.zeros(1 << 15))
    blob = buf.getvalue()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("a0.npy", blob)
    data = bytearray(zbuf.getvalue())
    cd = data.index(b"PK\\x01\\x02")
    entry = bytes(data[cd:-22]).replace(b"a0.npy", b"a1.npy")
    count = struct.pack("<HH", 2, 2)
    end = data[-22:]
    end[8:12] = count
    end[12:16] = struct.pack("<L", 2 * (len(data) - 22 - cd))
    payload = bytes(data[:-22]) + entry + bytes(end)
    value = {"t": "list", "v": [{"t": "nd", "k": "a0"}, {"t": "nd", "k": "a1"}]}
    head = json.dumps({"ok": True, "seq": seq, "stdout": "", "stderr": "", "value": value}).encode()
    os_.write(fd, b"SBX1" + struct.pack(">IQ", len(head), len(payload)) + head + payload)
    time.sleep(30)
'''}, expect={t("cross_entropy_grad"): "zero"}, flags=["behaviour: imported os"]),
    Entry("os_through_numpy_attribute", "reaches os as an attribute of a numpy module (no import) and signals "
          "the submission's init, runs a shell, reads the environment; the answers are right",
          before=[f'''_os = {_OS}
try:
    _os.kill(1, 9)
except Exception:
    pass
try:
    _os.system("cat /etc/passwd > /tmp/x")
except Exception:
    pass
'''], flags=["behaviour: sent signal SIGKILL to process 1", "behaviour: ran a shell command (os.system)"]),
    Entry("read_host_and_course_files", "opens /etc/passwd, the course's gradebook, the grading specs and "
          "process 1's environment, lists /root and the course folder; the answers are wrong "
          "(a course under /tmp is the submission's own empty /tmp inside: only the fixed paths are asserted)",
          base="wrong",
          before=['''for _p in ("/etc/passwd", "{COURSE}/gradebook.db", "{REPO}/autograder/specs/ps1_softmax.py",
           "/proc/1/environ"):
    try:
        open(_p).read()
    except Exception:
        pass
for _d in ("/root", "{COURSE}"):
    try:
        getattr(np.lib._npyio_impl, "os").listdir(_d)
    except Exception:
        pass
'''], flags=["behaviour: opened /etc/passwd (not in the sandbox)", "behaviour: listed /root (not in the sandbox)",
             "behaviour: opened /proc/1/environ (outside the submission's files)"]),
    Entry("programs_and_ctypes", "starts programs through subprocess and os.posix_spawn and calls mount and ptrace "
          "through ctypes (refused by the seccomp filter)", base="wrong",
          before=['''import subprocess, ctypes
for _cmd in (["cat", "/etc/passwd"], ["/bin/sh", "-c", "id"]):
    try:
        subprocess.run(_cmd)
    except Exception:
        pass
try:
    getattr(np.lib._npyio_impl, "os").posix_spawn("/bin/sh", ["sh"], {})
except Exception:
    pass
_libc = ctypes.CDLL(None)
_libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)
_libc.ptrace(16, 1, 0, 0)
'''], flags=["behaviour: imported subprocess", "behaviour: started a program (subprocess)",
             "behaviour: started a program (posix_spawn)", "behaviour: used ctypes (ctypes.dlsym: mount)",
             "behaviour: used ctypes (ctypes.dlsym: ptrace)"]),
    Entry("lingering_thread", "a thread started at load keeps running after every call, signalling process 1 "
          "and rebinding np.sum; the answers are right",
          before=['''import threading, time
def _keep_going():
    _os = getattr(np.lib._npyio_impl, "os")
    for _ in range(2000):
        try:
            _os.kill(1, 0)
        except Exception:
            pass
        time.sleep(0.005)
threading.Thread(target=_keep_going, daemon=True).start()
'''], flags=["behaviour: started a thread", "behaviour: sent signal 0 to process 1"]),
    Entry("closes_event_pipe", "closes every pipe it holds (the grader's event pipe among them), then reads "
          "/etc/shadow; the answers are right",
          before=['''_os = getattr(np.lib._npyio_impl, "os")
for _name in _os.listdir("/proc/self/fd"):
    try:
        if _os.readlink("/proc/self/fd/" + _name).startswith("pipe:"):
            _os.close(int(_name))
    except OSError:
        pass
try:
    open("/etc/shadow")
except OSError:
    pass
'''], flags=["behaviour: closed or replaced the grader's event pipe"]),
]
