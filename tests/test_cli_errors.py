"""The grader's command line as an instructor meets it: it runs from any folder, finds the course by itself,
and every error a user can fix ends it with one line on stderr that says what to do, and a documented exit
code (never a traceback).

Each test runs ``python -m autograder`` (or the installed ``rnngrad-grader``) as a separate process, in a
copy of a course made once for the module with nbgrader.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib

import pytest

from autograder.cli_errors import EXIT_CODES
from redteam import factory
from redteam.corpus import CORRECT, Entry

SET = factory.ASSIGNMENT
BIN = os.path.dirname(sys.executable)
#: a correct softmax that takes a while (a few hundredths of a second per call), so a batch lasts long
#: enough to be stopped half way
SLOW_SOFTMAX = "def softmax(logits):\n    sum(range(600_000))\n" + CORRECT["softmax"].split("\n", 1)[1]
STUDENTS = [f"s{k}" for k in range(6)]


@pytest.fixture(scope="module")
def base_course(tmp_path_factory):
    course = factory.make_course(str(tmp_path_factory.mktemp("cli")))
    for student in STUDENTS:
        factory.make_submission(course, student, Entry(student, "slow", answers={"softmax": SLOW_SOFTMAX}))
    return course


@pytest.fixture
def course(base_course, tmp_path):
    dest = str(tmp_path / "course")
    shutil.copytree(base_course, dest, symlinks=True)
    return dest


def grader(*args: str, cwd: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` in ``cwd`` (the environment's interpreter, nothing added to its path)."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def one_error_line(proc: subprocess.CompletedProcess, code: int) -> str:
    """The single line the command wrote on stderr, after checking its exit code; no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# -- one command, from anywhere ----------------------------------------------------------------------

def test_the_command_line_is_installed_and_packaged():
    with open(os.path.join(factory.REPO, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)
    assert project["project"]["scripts"] == {"rnngrad-grader": "autograder.__main__:script"}
    from setuptools import find_packages

    packaged = set(find_packages(factory.REPO, include=project["tool"]["setuptools"]["packages"]["find"]["include"]))
    found = {os.path.relpath(d, factory.REPO).replace(os.sep, ".")
             for d, _, files in os.walk(os.path.join(factory.REPO, "autograder")) if "__init__.py" in files}
    assert "autograder" in found and found <= packaged, "every package of the autograder is installed by setup.sh"
    proc = subprocess.run([os.path.join(BIN, "rnngrad-grader"), "--help"], capture_output=True, text=True,
                          cwd="/", timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: rnngrad-grader")


def test_the_course_is_found_from_any_folder_inside_it(course):
    inside = os.path.join(course, "source", SET)
    proc = grader("grade", SET, "--student", STUDENTS[0], "--quiet", cwd=inside)
    assert proc.returncode == 0, proc.stderr
    assert "graded 1, skipped 0" in proc.stdout
    assert os.path.isfile(os.path.join(course, "grading_log", SET, f"{STUDENTS[0]}.json"))


def test_help_lists_the_exit_codes_of_the_readme():
    for args in (["--help"], ["grade", "--help"], ["report", "--help"]):
        out = grader(*args, cwd="/").stdout
        for code, meaning in EXIT_CODES.items():
            assert re.search(rf"^  {code}\s+{re.escape(meaning)}$", out, re.M), (args, code)
    with open(os.path.join(factory.REPO, "assignments", "README.md")) as fh:
        readme = fh.read()
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", readme, re.M))
    assert {int(k): v for k, v in table.items()} == EXIT_CODES


# -- errors: one line with the fix, and the exit code ---------------------------------------------------

def test_not_a_course_directory(tmp_path):
    line = one_error_line(grader("grade", SET, cwd=str(tmp_path)), 3)
    assert line.startswith("error: ") and "nbgrader_config.py" in line and "--course" in line
    line = one_error_line(grader("report", SET, "--course", str(tmp_path), cwd="/"), 3)
    assert "is not an nbgrader course directory" in line


def test_an_unknown_set_lists_the_sets(course):
    line = one_error_line(grader("grade", "ps9_nothing", cwd=course), 2)
    assert "no problem set 'ps9_nothing'" in line and "ps1_softmax, ps2_layout_cell" in line
    assert "generate_assignment" not in line                 # nothing to release: it does not exist
    assert one_error_line(grader("report", "ps9_nothing", cwd=course), 2) == line


def test_a_set_not_released(course):
    line = one_error_line(grader("grade", "ps2_layout_cell", cwd=course), 4)
    assert "ps2_layout_cell is not released" in line and "nbgrader generate_assignment ps2_layout_cell" in line


def test_a_set_missing_from_the_gradebook(course):
    os.remove(os.path.join(course, "gradebook.db"))
    line = one_error_line(grader("grade", SET, cwd=course), 4)
    assert "no gradebook" in line and f"nbgrader generate_assignment {SET}" in line


def test_the_report_before_grading(course):
    line = one_error_line(grader("report", SET, cwd=course), 5)
    assert f"rnngrad-grader grade {SET}" in line


def test_an_unknown_student(course):
    line = one_error_line(grader("grade", SET, "--student", "nobody", cwd=course), 2)
    assert "'nobody' has no submission" in line and ", ".join(STUDENTS[:3]) in line
    line = one_error_line(grader("grade", SET, "--student", "../s0", cwd=course), 2)
    assert "invalid student id" in line


@pytest.mark.parametrize("workers", ["1", "2"])
def test_bubblewrap_missing(course, workers):
    env = dict(os.environ, PATH=BIN)            # the environment's tools, and no bwrap
    assert shutil.which("bwrap", path=BIN) is None
    line = one_error_line(grader("grade", SET, "--workers", workers, "--quiet", cwd=course, env=env), 6)
    assert "bubblewrap (bwrap) is not installed" in line and "apt-get install bubblewrap" in line
    assert not os.path.isdir(os.path.join(course, "grading_log", SET))     # nothing graded unsandboxed


def test_user_namespaces_disabled(course):
    # The kernel's refusal cannot be arranged in a test; the sandbox's own exception for it is raised instead.
    program = ("import sys\n"
               "from autograder.sandbox import sandbox\n"
               "def refused(self, mode):\n"
               "    raise sandbox.UserNamespacesUnavailable('bwrap: setting up uid map: Permission denied')\n"
               "sandbox.WorkerPool._launch = refused\n"
               "from autograder.__main__ import main\n"
               f"sys.exit(main(['grade', {SET!r}, '--quiet']))\n")
    proc = subprocess.run([sys.executable, "-c", program], cwd=course, capture_output=True, text=True, timeout=300)
    line = one_error_line(proc, 6)
    assert "user namespaces" in line and "kernel.unprivileged_userns_clone=1" in line and "as root" in line


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_the_batch_and_the_same_command_resumes_it(course, workers):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    cmd = [sys.executable, "-m", "autograder", "grade", SET, "--workers", workers]
    # Ctrl-C as in a terminal, even when these tests run in the background (whose SIGINT is ignored)
    proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = proc.stderr.readline()               # the progress line of the first submission stored
    assert first.startswith(f"[1/{len(STUDENTS)}]"), first + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, err = proc.communicate(timeout=120)
    stopped_in = time.monotonic() - start
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = err.strip().splitlines()[-1]
    m = re.fullmatch(rf"interrupted after (\d+) of {len(STUDENTS)}; run the same command again to resume", last)
    assert m, err
    done = int(m.group(1))
    assert 1 <= done < len(STUDENTS)
    assert all(line.startswith("[") for line in err.strip().splitlines()[:-1]), err   # progress lines only
    assert stopped_in < 30, stopped_in           # the submissions being graded are not waited for
    assert len(os.listdir(os.path.join(course, "grading_log", SET))) - 1 == done   # + runs.jsonl
    again = subprocess.run(cmd + ["--quiet"], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"graded {len(STUDENTS) - done}, skipped {done} already graded" in again.stdout
