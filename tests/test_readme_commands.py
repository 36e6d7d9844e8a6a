"""Every command that README.md and assignments/README.md show, run as written, in a temporary clone.

The clone holds the repository's files (what git tracks, and new files it does not ignore) and a link to
``.venv``; it never holds a course run's outputs. Each ```bash block runs from the clone's root, line by
line, in the order written: ``source`` and ``cd`` lines carry over to the lines after them, every other line
runs in bash with them, and each line is one of :data:`HANDLERS`. Nothing is skipped: a line that no handler
knows fails the test, and so does a fenced block of another shell language. What a line cannot do in a test
is done around it, never instead of it:

* ``bash setup.sh`` and ``.venv/bin/python -m pytest`` are the two commands of continuous integration:
  ``.ci/run`` runs them as written (checked here), and this test is one of the tests the second one runs;
* ``jupyter server ...`` serves until Ctrl-C: it is started as written, on a free port (from a Jupyter
  configuration folder of the test, which also lets it run as root) with a known token, its formgrader page
  is fetched, and it is stopped with Ctrl-C;
* the comment where students hand in their work is done by the test: submissions written to ``submitted/``,
  or, where the README uses nbgrader's exchange, fetched and submitted with ``nbgrader`` as students do.
"""
from __future__ import annotations

import csv
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import dataclasses
from dataclasses import dataclass
from typing import Callable

import pytest

from redteam import factory
from redteam.corpus import Entry

REPO = factory.REPO
READMES = ["README.md", "assignments/README.md"]
SET = "ps1_softmax"
COURSE_ID = "rnn-derivatives"
#: the students of the test, and what each hands in
STUDENTS = {"ana": Entry("ana", "correct"), "ben": Entry("ben", "wrong", base="wrong"),
            "cy": Entry("cy", "blank", base="release")}
TOKEN = "readme-test-token"


def bash_blocks(path: str) -> list[list[str]]:
    """The lines of every ```bash block of a Markdown file; other fenced blocks must not be shell code."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    blocks = []
    for lang, body in re.findall(r"^```([\w-]*)\n(.*?)^```", text, re.S | re.M):
        assert lang in ("bash", ""), f"{path}: a ```{lang} block: write commands in ```bash blocks, which are tested"
        if lang == "bash":
            blocks.append([line for line in body.splitlines() if line.strip()])
    return blocks


def command_of(line: str) -> str:
    """The command of a line without its trailing comment (the README's lines hold no '#' inside quotes)."""
    return line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else line.strip()


# -- the clone and its environment --------------------------------------------------------------------

@dataclass
class Clone:
    root: str
    env: dict
    exchange: str
    port: int

    @property
    def course(self) -> str:
        return os.path.join(self.root, "assignments")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_clone(tmp: str) -> Clone:
    """The repository's files under ``tmp/clone`` (a link for ``.venv``), and the environment the lines run in:
    the caller's, without a virtual environment active, with Jupyter's configuration and data in ``tmp``."""
    root = os.path.join(tmp, "clone")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = os.path.join(REPO, rel)
        if os.path.isfile(src) and not os.path.islink(src):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(root, rel))
    os.symlink(os.path.join(REPO, ".venv"), os.path.join(root, ".venv"))
    config, exchange, port = os.path.join(tmp, "jupyter_config"), os.path.join(tmp, "exchange"), _free_port()
    os.makedirs(config)
    os.makedirs(exchange)
    with open(os.path.join(config, "jupyter_server_config.py"), "w") as fh:
        fh.write(f"c.ServerApp.port = {port}\nc.ServerApp.port_retries = 0\nc.ServerApp.allow_root = True\n")
    with open(os.path.join(config, "nbgrader_config.py"), "w") as fh:
        fh.write(f"c.Exchange.root = {exchange!r}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
                                  if os.path.realpath(p) != os.path.realpath(venv_bin))
    env.update(JUPYTER_CONFIG_DIR=config, JUPYTER_DATA_DIR=os.path.join(tmp, "jupyter_data"),
               JUPYTER_RUNTIME_DIR=os.path.join(tmp, "jupyter_runtime"), JUPYTER_TOKEN=TOKEN,
               MPLBACKEND="Agg")
    return Clone(root, env, exchange, port)


def run_line(clone: Clone, prefix: list[str], line: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``line`` as written, in bash, after the ``source``/``cd`` lines before it, from the clone's root."""
    script = "\n".join(["set -e", *prefix, line])
    proc = subprocess.run(["bash", "-c", script], cwd=clone.root, env=clone.env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{line!r} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def cwd_of(clone: Clone, prefix: list[str]) -> str:
    """The folder the ``cd`` lines of ``prefix`` lead to."""
    where = clone.root
    for line in prefix:
        if command_of(line).startswith("cd "):
            where = os.path.normpath(os.path.join(where, command_of(line)[3:].strip()))
    return where


# -- what the test does for each line -------------------------------------------------------------------

def in_ci(clone, prefix, line):
    """A command of continuous integration: .ci/run runs it as written."""
    with open(os.path.join(REPO, ".ci", "run")) as fh:
        assert command_of(line) in [command_of(x) for x in fh.read().splitlines()], line


def carry(clone, prefix, line):
    """``source`` and ``cd``: they apply to the lines after them."""
    run_line(clone, prefix, line)
    prefix.append(line)


def checked(check: Callable | None = None):
    """Run the line as written; then ``check(clone, where, completed process)``."""
    def handler(clone, prefix, line):
        proc = run_line(clone, prefix, line)
        if check is not None:
            check(clone, cwd_of(clone, prefix), proc)
    return handler


def _released(clone, where, proc):
    assert os.path.isfile(os.path.join(where, "release", SET, f"{SET}.ipynb"))


def _graded(clone, where, proc):
    assert f"{SET}: graded {len(STUDENTS)}, skipped 0" in proc.stdout, proc.stdout
    assert re.search(r"ana\s+15 / 15", proc.stdout)
    with open(os.path.join(where, ".gitignore")) as fh:      # the repository's, or the one grade wrote
        assert "/submitted/" in fh.read()


def _graded_on_cluster(clone, where, proc):
    assert f"{SET}: graded {len(STUDENTS)}, skipped 0" in proc.stdout, proc.stdout
    assert re.search(r"ana\s+15 / 15", proc.stdout) and "not graded" not in proc.stdout
    with open(os.path.join(where, "grading_log", SET, "runs.jsonl")) as fh:     # graded twice: once per command
        assert sorted(json.loads(line)["student"] for line in fh) == sorted(2 * list(STUDENTS))


def _reported(clone, where, proc):
    assert os.path.getsize(os.path.join(where, "reports", SET, "report.html")) > 10_000


def _feedback(clone, where, proc):
    for student in STUDENTS:
        assert os.path.isfile(os.path.join(where, "feedback", student, SET, f"{SET}.html")), student


def _exported(clone, where, proc):
    with open(os.path.join(where, "grades.csv")) as fh:
        rows = [r for r in csv.DictReader(fh) if r["assignment"] == SET]
    assert {r["student_id"] for r in rows} == set(STUDENTS)
    assert float(next(r for r in rows if r["student_id"] == "ana")["raw_score"]) >= 15


def _canvas(clone, where, proc):
    with open(os.path.join(where, "exports", "canvas_grades.csv"), encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"], rows[0]
    assert {r[3] for r in rows[1:] if r} >= set(STUDENTS), rows      # SIS Login ID: the nbgrader id


def _feedback_files(clone, where, proc):
    folder = os.path.join(where, "exports", "feedback", SET)
    assert {os.path.splitext(f)[0] for f in os.listdir(folder)} == set(STUDENTS), os.listdir(folder)


def _in_exchange(clone, where, proc):
    assert os.path.isfile(os.path.join(clone.exchange, COURSE_ID, "outbound", SET, f"{SET}.ipynb"))


def _collected(clone, where, proc):
    for student in STUDENTS:
        assert os.path.isfile(os.path.join(where, "submitted", student, SET, f"{SET}.ipynb")), student


def _demo(clone, where, proc):
    assert "done in" in proc.stdout
    assert os.path.isfile(os.path.join(where, "demo_class", "course", "reports", SET, "report.html"))


def book_pdf(clone, prefix, line):
    """The PDF command, after the book was built as setup.sh builds it: the clone gets the site's MathJax and
    the execution cache of the book the tests built (so no page runs again; a page that does runs with the
    clone's rnngrad, as the notation page checks); then the line runs as written."""
    from book_site import built_book
    build = built_book()
    assert build.returncode == 0, build.log[-3000:]
    shutil.copytree(os.path.join(REPO, "book", "_static", "mathjax"),
                    os.path.join(clone.root, "book", "_static", "mathjax"))
    shutil.copytree(build.html.parent / ".jupyter_cache", os.path.join(clone.root, "_build", ".jupyter_cache"))
    run_line(dataclasses.replace(clone, env={**clone.env, "PYTHONPATH": clone.root}), prefix, line, timeout=900)
    from pypdf import PdfReader
    reader = PdfReader(os.path.join(clone.root, "_build", "pdf", "rnn-derivatives.pdf"))
    assert len(reader.pages) > 100
    assert "Backpropagation through time" in "".join(page.extract_text() for page in reader.pages[:3])


def students_submit_to_folder(clone, prefix, line):
    """What nbgrader collect leaves: submitted/<student>/<set>/ for each student."""
    for student, entry in STUDENTS.items():
        factory.make_submission(clone.course, student, entry)


def students_submit_through_exchange(clone, prefix, line):
    """Each student fetches the set, fills in the notebook and submits it, with nbgrader's own commands."""
    release = factory.release_notebook(clone.course)
    for student, entry in STUDENTS.items():
        home = os.path.join(os.path.dirname(clone.root), "students", student)
        os.makedirs(home)
        for args in (["fetch_assignment", SET], None, ["submit", SET, "--student", student]):
            if args is None:       # the student's work
                with open(os.path.join(home, SET, f"{SET}.ipynb"), "w") as fh:
                    json.dump(factory.build_notebook(release, entry, clone.course, student, "ana"), fh)
                continue
            proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "nbgrader"), *args, "--course", COURSE_ID],
                                  cwd=home, env=clone.env, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stdout + proc.stderr


def formgrader(clone, prefix, line):
    """Start the server as written, fetch the formgrader, stop it with Ctrl-C."""
    assert "--ServerApp.ip=127.0.0.1" in line
    script = "\n".join(["set -e", *prefix, line])
    log = open(os.path.join(os.path.dirname(clone.root), "server.log"), "w+")
    # (Ctrl-C as in a terminal, even when the tests run in the background, whose SIGINT is ignored)
    server = subprocess.Popen(["bash", "-c", script], cwd=clone.root, env=clone.env, stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{clone.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                page = opener.open(f"{base}/formgrader?token={TOKEN}", timeout=10)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, open(log.name).read()
                time.sleep(1)
        assert page.status == 200 and page.url == f"{base}/formgrader/manage_assignments"
        assert "<title>nbgrader formgrade</title>" in page.read().decode()
        listed = json.load(opener.open(f"{base}/formgrader/api/assignments", timeout=30))
        assert SET in {a["name"] for a in listed}
        with open(log.name) as fh:
            assert f"http://127.0.0.1:{clone.port}/formgrader?token=" in fh.read()
    finally:
        os.killpg(server.pid, signal.SIGINT)            # Ctrl-C: with no terminal to confirm on, ^C twice
        time.sleep(0.5)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise AssertionError("the server did not stop on Ctrl-C") from None
        log.close()


#: (pattern of a whole line, what the test does); every line of every block must match exactly one
HANDLERS: list[tuple[str, Callable]] = [
    (r"bash setup\.sh", in_ci),
    (r"\.venv/bin/python -m pytest", in_ci),
    (r"source \.venv/bin/activate", carry),
    (r"cd assignments", carry),
    (r"\.venv/bin/rnngrad-grader demo", checked(_demo)),
    (r"\.venv/bin/python book/build_pdf\.py", book_pdf),
    (r"python -m autograder\.fixtures", checked()),
    (r"python assignments/build_notebooks\.py", checked()),
    (rf"nbgrader generate_assignment {SET}( --force)?", checked(_released)),
    (rf"nbgrader release_assignment {SET}", checked(_in_exchange)),
    (rf"nbgrader collect {SET}", checked(_collected)),
    (rf"rnngrad-grader grade {SET}", checked(_graded)),
    (rf"rnngrad-grader grade {SET} --dask --regrade", checked(_graded_on_cluster)),
    (rf"rnngrad-grader report {SET}", checked(_reported)),
    (r"jupyter server --ServerApp\.ip=127\.0\.0\.1 --ServerApp\.default_url=/formgrader", formgrader),
    (rf"nbgrader generate_feedback {SET}", checked(_feedback)),
    (r"nbgrader export", checked(_exported)),
    (r"rnngrad-grader export --format canvas", checked(_canvas)),
    (rf"rnngrad-grader export --format feedback --assignment {SET}", checked(_feedback_files)),
    (r"# \.\.\. students submit; nbgrader collect puts their work in submitted/ \.\.\.", students_submit_to_folder),
    (r"# \.\.\. students fetch the set, work on it and submit it \.\.\.", students_submit_through_exchange),
]


def handler_for(line: str) -> Callable:
    found = [h for pattern, h in HANDLERS if re.fullmatch(pattern, command_of(line))]
    assert len(found) == 1, (f"README line {line!r}: {'no' if not found else 'more than one'} handler in "
                             "tests/test_readme_commands.py; add one that runs it as written")
    return found[0]


def test_every_readme_command_is_known():
    """Fast: each line of each block has its handler (a new command fails here before the slow run)."""
    lines = [line for readme in READMES for block in bash_blocks(os.path.join(REPO, readme)) for line in block]
    assert len(lines) > 20
    for line in lines:
        handler_for(line)
    assert any("jupyter server" in line for line in lines)           # the formgrader's route is documented
    assert not any("nbgrader formgrade" in line for line in lines)     # not a command in nbgrader 0.9


@pytest.mark.slow
@pytest.mark.parametrize("readme", READMES)
def test_readme_commands_run_as_written(readme, tmp_path):
    clone = make_clone(str(tmp_path))
    blocks = bash_blocks(os.path.join(clone.root, readme))
    assert blocks
    for block in blocks:
        prefix: list[str] = []          # each block starts at the repository's root
        for line in block:
            handler_for(line)(clone, prefix, line)
