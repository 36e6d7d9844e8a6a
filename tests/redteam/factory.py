"""Factories for grading tests: a real nbgrader course directory and submissions made from data.

``make_course(tmp)`` copies the repository's ``assignments/`` course directory, runs
``nbgrader generate_assignment`` and returns the course root. ``make_submission`` writes
``submitted/<student>/<set>/`` the way nbgrader's collect leaves it: the released files, the
notebook (built from the released one) and ``timestamp.txt``, then the entry's special files (named
pipes, sockets, large files). ``tree_hashes`` fingerprints a folder, for before/after comparisons,
without opening anything that is not a regular file.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys

from autograder.demo import RUN_STATE  # what a course run adds; never copied from the sources

from .corpus import CORRECT, WRONG, Entry

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ASSIGNMENT = "ps1_softmax"
TIMESTAMP = "2026-03-02 09:00:00.000000 UTC"


def nbgrader(course: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run an nbgrader command in ``course`` with this interpreter's environment."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_course(root: str, assignments: tuple[str, ...] = (ASSIGNMENT,)) -> str:
    """A fresh course directory under ``root`` with the given sets released."""
    course = os.path.join(root, "course")
    shutil.copytree(os.path.join(REPO, "assignments"), course,
                    ignore=lambda d, names: [n for n in names if n in RUN_STATE])
    for a in assignments:
        nbgrader(course, "generate_assignment", a, "--force")
    return course


def release_notebook(course: str, assignment: str = ASSIGNMENT) -> dict:
    with open(os.path.join(course, "release", assignment, f"{assignment}.ipynb")) as fh:
        return json.load(fh)


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _code_cell(source: str, n: int) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"added{n}", "metadata": {},
            "outputs": [], "source": source}


def fill(text: str, course: str, student: str, victim: str) -> str:
    return (text.replace("{COURSE}", course).replace("{STUDENT}", student).replace("{VICTIM}", victim)
            .replace("{REPO}", REPO))


def build_notebook(release: dict, entry: Entry, course: str, student: str, victim: str) -> dict:
    """The submitted notebook of ``entry``: the release with answers filled in and cells added."""
    nb = copy.deepcopy(release)
    base = {"correct": CORRECT, "wrong": WRONG, "release": {}}[entry.base]
    answers = {**base, **entry.answers}
    cells = []
    for cell in nb["cells"]:
        gid = _gid(cell)
        if gid in answers:
            cell["source"] = fill(answers[gid], course, student, victim)
        cells.append(cell)
        if gid == "setup":
            cells.extend(_code_cell(fill(src, course, student, victim), 100 + k)
                         for k, src in enumerate(entry.before))
        if gid == "derivation_1" and entry.base != "release":
            cell["source"] = "By the quotient rule, ds_i/dz_j = s_i (delta_ij - s_j)."
    cells.extend(_code_cell(fill(src, course, student, victim), 200 + k) for k, src in enumerate(entry.after))
    if entry.transform is not None:
        cells = entry.transform(cells)
    nb["cells"] = cells
    return nb


def make_submission(course: str, student: str, entry: Entry, victim: str = "honest_correct",
                    assignment: str = ASSIGNMENT, timestamp: str | None = None) -> str:
    """Write submitted/<student>/<assignment>/ for ``entry``; returns the folder."""
    release_dir = os.path.join(course, "release", assignment)
    folder = os.path.join(course, "submitted", student, assignment)
    shutil.copytree(release_dir, folder)
    release = release_notebook(course, assignment)
    path = os.path.join(folder, f"{assignment}.ipynb")
    nb = build_notebook(release, entry, course, student, victim)
    text = json.dumps(nb, indent=1)
    if entry.raw is not None:
        with open(path, "wb") as fh:
            fh.write(entry.raw(text))
    else:
        with open(path, "w") as fh:
            fh.write(text)
    for rel, content in entry.files.items():
        full = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as fh:
            fh.write(fill(content, course, student, victim))
    for rel, target in entry.links.items():
        if os.path.lexists(os.path.join(folder, rel)):
            os.remove(os.path.join(folder, rel))
        os.symlink(fill(target, course, student, victim), os.path.join(folder, rel))
    for rel, size in entry.sizes.items():
        with open(os.path.join(folder, rel), "wb") as fh:
            fh.truncate(size)
    with open(os.path.join(folder, "timestamp.txt"), "w") as fh:
        fh.write((timestamp or entry.timestamp or TIMESTAMP) + "\n")
    for rel in entry.sockets:        # a socket file with nobody listening (mknod: no path-length limit)
        os.mknod(os.path.join(folder, rel), stat.S_IFSOCK | 0o600)
    for rel in entry.fifos:          # last: nothing here may open a pipe
        if os.path.lexists(os.path.join(folder, rel)):
            os.remove(os.path.join(folder, rel))
        os.mkfifo(os.path.join(folder, rel))
    return folder


def tree_hashes(root: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 (or 'link:<target>', 'special:<type>') of everything under ``root``,
    minus ``skip`` prefixes."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirs[:] = sorted(d for d in dirs if not os.path.normpath(os.path.join(rel_dir, d)).startswith(skip))
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel.startswith(skip):
                continue
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                out[rel] = "link:" + os.readlink(full)
            elif not stat.S_ISREG(mode):
                out[rel] = f"special:{stat.S_IFMT(mode):o}"     # a pipe or socket is never opened
            else:
                with open(full, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out
