"""The sandbox when the grader is an ordinary user (user-namespace mode), tested for real.

The tests of ``test_sandbox.py`` run in whatever mode the test process has (root in CI). Here a grader runs
as a non-root user: as root, the system user ``rnngrad-test`` (created if absent) runs
``sandbox_userns_driver.py`` through ``setpriv``; not as root, the driver runs as the current user. The
driver grades attack submissions (file reads, writes, network, course-code imports, namespace system calls,
fork and memory bombs, endless loops, CPU burners, daemons) and prints its host-side observations as JSON,
which the tests below check. What the driver needs (the ``autograder`` package, numpy, and the interpreter if
that user cannot run ours) is copied, by hard links where possible, into a directory that user can read.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import WorkerPool
from autograder.sandbox import sandbox as sandbox_module

REPO = Path(__file__).resolve().parents[1]
USER = "rnngrad-test"
# Parts of the standard library the driver never needs (and the base interpreter's own site-packages).
_STDLIB_SKIP = {"site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip",
                "lib2to3", "pydoc_data"}


def _link_tree(src: str, dst: str, skip: set[str] = frozenset()) -> None:
    """Copy a tree by hard links (fast, no space), falling back to copies across file systems."""

    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, symlinks=True, copy_function=link,
                    ignore=lambda d, names: [n for n in names if n in skip or n.startswith("config-")] if skip else [])
    for root, dirs, _ in os.walk(dst):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    os.chmod(dst, 0o755)


def _account() -> tuple[int, int] | None:
    """The unprivileged account that runs the grader: rnngrad-test when we are root (created if absent);
    None when the tests run as an ordinary user already (the driver then runs as that user)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            pytest.fail(f"the tests run as root but cannot create the user {USER!r}: useradd is not installed")
        made = subprocess.run([useradd, "--system", "--no-create-home", "--user-group",
                               "--shell", "/usr/sbin/nologin", USER], capture_output=True, text=True)
        try:
            pw = pwd.getpwnam(USER)  # also when a parallel test process created it first
        except KeyError:
            pytest.fail(f"the tests run as root but could not create the user {USER!r}: {made.stderr.strip()}")
    if pw.pw_uid == 0:
        pytest.fail(f"the account {USER!r} has uid 0; it must be an ordinary user")
    return pw.pw_uid, pw.pw_gid


def _as_account(account, cmd: list[str]) -> list[str]:
    if account is None:
        return cmd
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("the tests run as root but setpriv (util-linux) is missing, so no grader can run as an "
                    "ordinary user")
    uid, gid = account
    return [setpriv, f"--reuid={uid}", f"--regid={gid}", "--init-groups", *cmd]


@pytest.fixture(scope="module")
def workspace():
    """A directory the grader's account can read, with the driver, ``autograder``, numpy and a course."""
    account = _account()
    base = tempfile.mkdtemp(prefix="rnngrad-userns-")
    os.chmod(base, 0o755)
    try:
        app = os.path.join(base, "app")
        os.mkdir(app)
        shutil.copytree(REPO / "autograder", os.path.join(app, "autograder"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "tests" / "sandbox_userns_driver.py", app)
        site = os.path.join(base, "site")
        os.mkdir(site)
        numpy_dir = os.path.dirname(os.path.realpath(np.__file__))
        for src in (numpy_dir, numpy_dir + ".libs"):
            if os.path.isdir(src):
                _link_tree(src, os.path.join(site, os.path.basename(src)))
        # A course directory that the grader's account can read and write (the sandbox must still hide it).
        course = os.path.join(base, "course")
        os.makedirs(os.path.join(course, "source", "ps1"))
        Path(course, "source", "ps1", "ps1.ipynb").write_text("SECRET-REFERENCE-SOLUTION")
        Path(course, "gradebook.db").write_text("grades")
        for root, dirs, files in os.walk(base):
            for name in dirs + files:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    os.chmod(path, (os.stat(path).st_mode | 0o444 | (0o111 if os.path.isdir(path) else 0)) & 0o777)
        if account is not None:
            for path in (course, os.path.join(course, "gradebook.db")):
                os.chown(path, *account)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8", "HOME": base,
               "PYTHONPATH": site, "PYTHONDONTWRITEBYTECODE": "1"}
        python = sys.executable
        if account is not None:
            probe = subprocess.run(_as_account(account, [python, "-s", "-c", "import sys; print(sys.base_prefix)"]),
                                   capture_output=True, text=True, env=env, cwd=base)
            if probe.returncode != 0 or probe.stdout.strip() != sys.base_prefix:
                # That account cannot use our interpreter (e.g. it lives in root's home): give it a copy.
                prefix = os.path.realpath(sys.base_prefix)
                exe = os.path.realpath(sys.executable)
                copy = os.path.join(base, "python")
                os.makedirs(os.path.join(copy, "bin"))
                os.chmod(copy, 0o755)
                os.chmod(os.path.join(copy, "bin"), 0o755)
                _link_tree(sysconfig.get_path("stdlib"), os.path.join(copy, os.path.relpath(
                    sysconfig.get_path("stdlib"), prefix)), _STDLIB_SKIP)
                for lib in Path(prefix, "lib").glob("libpython*"):
                    target = os.path.join(copy, "lib", lib.name)
                    if lib.is_symlink():
                        os.symlink(os.readlink(lib), target)
                    else:
                        os.link(lib, target) if lib.stat().st_dev == os.stat(base).st_dev else shutil.copy2(lib, target)
                python = os.path.join(copy, os.path.relpath(exe, prefix))
                shutil.copy2(exe, python)
                os.chmod(python, 0o755)
                env["LD_LIBRARY_PATH"] = os.path.join(copy, "lib")
        yield {"base": base, "app": app, "course": course, "python": python, "env": env, "account": account}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _driver(ws, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = _as_account(ws["account"], [ws["python"], "-s", os.path.join(ws["app"], "sandbox_userns_driver.py"),
                                      *args])
    return subprocess.run(cmd, capture_output=True, text=True, env=ws["env"], cwd=ws["base"], timeout=timeout)


@pytest.fixture(scope="module")
def report(workspace):
    config = json.dumps({"course": workspace["course"], "repo": str(REPO)})
    done = _driver(workspace, config)
    assert done.returncode == 0, f"the driver failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ the mode
def test_the_grader_is_an_ordinary_user_and_the_mode_is_user_namespaces(report, workspace):
    expected = os.geteuid() if workspace["account"] is None else workspace["account"][0]
    assert report["grader_uid"] == report["grader_euid"] == expected != 0
    assert report["mode"] == "userns"


def test_honest_code_works(report):
    h = report["honest"]
    assert h["ok"] and h["error"] is None and h["sandboxed"] is True, h
    assert h["stdout"] == "gates (4, 3)\n" and h["max_error"] < 1e-12


def test_no_capabilities_no_root_no_other_processes(report):
    info = report["info"]
    assert info["uid"] == info["euid"] == info["gid"] == info["sandbox_uid"] >= sandbox_module.UID_BASE
    assert info["caps"] == ["0000000000000000"] * 5  # inheritable, permitted, effective, bounding, ambient
    assert info["nnp"] == "1" and info["seccomp"] == "2"
    assert info["pids"] == [1, 2] and info["host"] == "sandbox"
    assert not any(k.startswith(("NBGRADER", "JUPYTER", "PYTHON", "LD_PRELOAD")) for k in info["env"])
    # The weaker point of this mode, as documented: on the host the submission runs as the grader's own uid.
    assert info["host_uids"] == [report["grader_uid"]]


def test_every_mount_but_the_private_tmp_is_read_only(report, workspace):
    writable, roots = [], []
    for line in report["info"]["mounts"].splitlines():
        fields = line.split()
        roots.append(fields[3])
        if "ro" not in fields[5].split(",") and fields[4] not in ("/tmp", "/dev/shm", "/proc", "/dev/null",
                                                                 "/dev/zero", "/dev/urandom"):
            writable.append(fields[4])
    assert writable == []
    assert not [r for r in roots if r.startswith((str(REPO), workspace["course"], workspace["app"]))
                and not r.endswith(("/worker.py", "/protocol.py", "/npzread.py", "/observe.py"))]


# ------------------------------------------------------------------------------------------ confinement
def test_course_directory_repository_and_host_files_are_invisible(report, workspace):
    assert report["secret_readable_by_grader"] == "SECRET-REFERENCE-SOLUTION"  # the grader's user can read it
    files = report["files"]
    assert files["ok"], files
    for path, seen in files["value"].items():
        assert seen in ("FileNotFoundError", "PermissionError"), (path, seen)
    assert "SECRET" not in json.dumps(files)


def test_writes_outside_the_private_tmp_fail(report):
    w = report["writes"]
    assert w["ok"], w
    assert w["value"].pop("/tmp/mine.txt") == "written"
    assert all(v in ("PermissionError", "OSError", "FileNotFoundError") for v in w["value"].values()), w
    assert report["gradebook_after"] == "grades"


def test_network_is_unreachable(report):
    n = report["network"]
    assert n["ok"] and "connected" not in n["value"], n
    assert report["listener_reached"] is False


@pytest.mark.parametrize("module", ["rnngrad", "autograder.sandbox", "torch"])
def test_course_code_cannot_be_imported(report, module):
    r = report["imports"][module]
    assert not r["ok"] and r["error"].startswith("ModuleNotFoundError"), r


def test_namespaces_mounts_tracing_and_uid_changes_are_refused(report):
    s = report["syscalls"]
    assert s["ok"], s
    v = dict(s["value"])
    assert v.pop("fork") == 3
    # uid 0 is not even mapped in the submission's user namespace: EINVAL (EPERM would do as well)
    assert v.pop("setuid_0") in (1, 22)
    assert v == {"unshare_user": 1, "unshare_net": 1, "mount": 1, "ptrace_attach_init": 1}, v  # EPERM for each


# ------------------------------------------------------------------------------------------ resources
def test_fork_bomb_is_bounded_and_leaves_nothing(report):
    f = report["fork_bomb"]
    assert f["ok"] and f["value"] < 8, f
    assert 2 <= f["during"] <= 8
    assert f["left"] == [] and f["spawn_after"] is True


def test_process_limit_is_per_submission_although_the_host_uid_is_shared(report):
    n = report["nproc"]
    assert n["held"]["ok"] and n["held"]["value"] == 6, n
    # far more processes of that host uid exist (the grader, bubblewrap, the other submission) than B's limit
    assert n["same_uid_processes"] >= 12
    assert n["forked"]["ok"] and n["forked"]["value"] == 2, n  # max_processes=4 minus its init and worker


def test_memory_bombs(report):
    huge, grow, hogs = report["memory_huge"], report["memory_grow"], report["memory_hogs"]
    assert not huge["ok"] and "MemoryError" in huge["error"], huge
    assert not grow["ok"] and ("MemoryError" in grow["error"] or "memory limit" in grow["error"]), grow
    # spread over processes, each under its own limit: the fork server's watchdog kills the submission
    assert not hogs["ok"] and not hogs["timed_out"] and "memory limit exceeded" in hogs["error"], hogs
    assert hogs["left"] == 0


def test_endless_loop_times_out_and_cpu_is_limited(report):
    t, again, cpu = report["timeout"], report["after_timeout"], report["cpu"]
    assert t["timed_out"] and not t["ok"] and "did not finish within 0.5 s" in t["error"], t
    assert t["left"] == 0
    assert again["ok"] and again["value"] == [2.0, 2.0], again
    assert again["restarts"] == 1
    assert not cpu["ok"] and not cpu["timed_out"] and "CPU time limit" in cpu["error"], cpu


def test_daemon_does_not_outlive_the_submission_nor_the_pool(report):
    d = report["daemon"]
    assert d["ok"] and d["value"] >= 1, d
    assert d["during"] == 3 and d["left"] == []  # init, the worker and the daemon; none left
    p = report["pool_close"]
    assert p["during"] == 3 and p["left"] == [] and p["bwrap_left"] is False


# ------------------------------------------------------------------------------------------ refusal
# What Debian's bubblewrap prints where unprivileged user namespaces are disabled.
BWRAP_REFUSAL = ("bwrap: No permissions to create new namespace, likely because the kernel does not allow "
                 "non-privileged user namespaces.")
FAKE_BWRAP = f"""#!/bin/sh
echo "{BWRAP_REFUSAL}" >&2
exit 1
"""

REFUSAL = """
import json, os, sys
from autograder.sandbox import Sandbox, SandboxUnavailable, sandbox
sandbox.shutil.which = lambda name: sys.argv[1]
try:
    with Sandbox("def f():\\n    return 1\\n") as sb:
        print(json.dumps({"ran": sb.call("f", [], {}).value}))
except SandboxUnavailable as exc:
    print(json.dumps({"refused": str(exc)}))
"""


def test_refuses_when_user_namespaces_cannot_be_created(workspace):
    """No silent fallback: a bubblewrap that cannot make a user namespace (as when they are disabled) stops
    the grader with a message that says why and what to change."""
    fake = os.path.join(workspace["base"], "fake-bwrap")
    script = os.path.join(workspace["app"], "refusal.py")
    Path(fake).write_text(FAKE_BWRAP)
    Path(script).write_text(REFUSAL)
    os.chmod(fake, 0o755)
    os.chmod(script, 0o644)
    cmd = _as_account(workspace["account"], [workspace["python"], "-s", script, fake])
    done = subprocess.run(cmd, capture_output=True, text=True, env=workspace["env"], cwd=workspace["base"],
                          timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "ran" not in out
    message = out["refused"]
    assert "ordinary user" in message and "user namespace" in message and "run the grader as root" in message
    assert "does not allow non-privileged user namespaces" in message  # bubblewrap's own reason


def test_mode_follows_the_grader_user():
    assert sandbox_module.isolation_mode() == ("root" if os.geteuid() == 0 else "userns")
    cmd = sandbox_module.bwrap_command(3, (), mode="userns")
    assert cmd[1:6] == ["--unshare-user", "--uid", "0", "--gid", "0"] and cmd[-1] == "userns"
    root_cmd = sandbox_module.bwrap_command(3, (), mode="root")
    assert "--unshare-user" not in root_cmd and "CAP_SETFCAP" not in root_cmd and root_cmd[-1] == "root"
    with pytest.raises(ValueError, match="mode"):
        sandbox_module.bwrap_command(3, (), mode="none")
    with WorkerPool(1) as pool:
        assert pool.mode == sandbox_module.isolation_mode()

