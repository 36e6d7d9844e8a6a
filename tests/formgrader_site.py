"""nbgrader's formgrader, served for a browser test the way the README serves it, and the course's tools around it.

``jupyter_home(tmp)`` is a Jupyter configuration of the test's own (a free port, a known token, allowed to run as
root, nbgrader's exchange under ``tmp``) and the environment every command runs in. ``formgrader_server(course,
home)`` runs ``jupyter server --ServerApp.ip=127.0.0.1 --ServerApp.default_url=/formgrader`` in the course folder,
waits until it answers, yields its address and stops it with Ctrl-C. ``keep_local(context)`` lets a Playwright
browser context reach 127.0.0.1 only: formgrader's submission page loads MathJax 2 from a CDN, which is answered
with :data:`MATHJAX_STAND_IN`; every other request that would leave the machine is refused and recorded.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

BIN = os.path.dirname(sys.executable)
TOKEN = "formgrader-test-token"
SERVE = ["jupyter", "server", "--ServerApp.ip=127.0.0.1", "--ServerApp.default_url=/formgrader"]
#: seconds the server has to start, and to stop after Ctrl-C
START_S, STOP_S = 120, 30
#: where formgrader's submission page (nbconvert's classic template) loads MathJax 2 from
MATHJAX_CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
#: what formgrade.js needs of MathJax 2: a start-up signal that ends (it then focuses the first score box)
MATHJAX_STAND_IN = ("window.MathJax = {Hub: {Config: function () {}, Queue: function () {}, Startup: {signal: "
                    "{Interest: function (f) { setTimeout(function () { f('End'); }, 0); }}}}};")


@dataclass(frozen=True)
class JupyterHome:
    """The environment of the test's commands and the port its Jupyter server listens on."""
    env: dict
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_home(tmp: str) -> JupyterHome:
    """Jupyter's configuration, data and runtime folders under ``tmp``, and an environment that uses them,
    with this interpreter's tools first on the PATH."""
    config, port = os.path.join(tmp, "jupyter_config"), _free_port()
    os.makedirs(config)
    with open(os.path.join(config, "jupyter_server_config.py"), "w") as fh:
        fh.write(f"c.ServerApp.port = {port}\nc.ServerApp.port_retries = 0\nc.ServerApp.allow_root = True\n"
                 "c.ServerApp.open_browser = False\n")
    with open(os.path.join(config, "nbgrader_config.py"), "w") as fh:
        fh.write(f"c.Exchange.root = {os.path.join(tmp, 'exchange')!r}\n")
    os.makedirs(os.path.join(tmp, "exchange"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=BIN + os.pathsep + env.get("PATH", "/usr/bin:/bin"), JUPYTER_CONFIG_DIR=config,
               JUPYTER_DATA_DIR=os.path.join(tmp, "jupyter_data"),
               JUPYTER_RUNTIME_DIR=os.path.join(tmp, "jupyter_runtime"), JUPYTER_TOKEN=TOKEN)
    return JupyterHome(env, port)


def run_tool(home: JupyterHome, cwd: str, *args: str, timeout: int = 300) -> str:
    """Run a command of this environment (``nbgrader``, ``rnngrad-grader``...) in ``cwd``; returns its output."""
    proc = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], cwd=cwd, env=home.env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


@contextlib.contextmanager
def formgrader_server(course: str, home: JupyterHome, log_path: str):
    """The formgrader served from ``course`` as the README starts it; yields the address of its page."""
    log = open(log_path, "w+")
    # Ctrl-C reaches it even when the tests run in the background, whose SIGINT is ignored
    server = subprocess.Popen([os.path.join(BIN, SERVE[0]), *SERVE[1:]], cwd=course, env=home.env,
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + START_S
        while True:
            try:
                urllib.request.urlopen(f"{home.base}/api/status?token={TOKEN}", timeout=10).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise AssertionError(f"the server did not start:\n{log.read()[-4000:]}") from None
                time.sleep(0.3)
        yield f"{home.base}/formgrader?token={TOKEN}"
    finally:
        os.killpg(server.pid, signal.SIGINT)          # Ctrl-C; with no terminal to confirm on, twice
        time.sleep(0.5)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def keep_local(context) -> list[str]:
    """Route every request of a Playwright ``context``: 127.0.0.1 goes through, MathJax's CDN gets the stand-in,
    the rest is refused. Returns the list that receives the refused addresses."""
    refused: list[str] = []

    def route(r):
        url = r.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            r.continue_()
        elif url.startswith(MATHJAX_CDN):
            r.fulfill(status=200, content_type="application/javascript", body=MATHJAX_STAND_IN)
        else:
            refused.append(url)
            r.abort()

    context.route("**/*", route)
    return refused
