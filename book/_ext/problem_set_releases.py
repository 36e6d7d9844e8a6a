"""The student release of every problem set, as one zip archive per set, made by nbgrader.

The course directory's ``source/``, ``nbgrader_config.py`` and ``rnncheck.py`` are copied into a temporary
course, where nbgrader's ``generate_assignment`` makes ``release/<set>/`` of each set (the notebook with its
solutions and hidden tests removed, its fixtures, and the checker the configuration copies beside them).
Each release folder becomes ``<set>.zip``, its files under ``<set>/``, with fixed timestamps so that the same
release gives the same bytes.

Generating takes a few seconds, so the archives are kept in a cache folder with the hash of their inputs
(the course files above and the grader's specs, which the fixtures come from); :func:`ensure_archives`
makes them again only when that hash changed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from problem_set_catalogue import set_notebooks

STAMP = "inputs.sha256"
#: what the release is made from, relative to the course directory (a folder stands for the files under it)
COURSE_INPUTS = ("source", "nbgrader_config.py", "rnncheck.py")
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
#: seconds nbgrader may take to generate every release
GENERATE_TIMEOUT = 300

# run by the environment's Python in the temporary course (nbgrader reads its nbgrader_config.py there)
_GENERATE = """
import sys
from nbgrader.apps import NbGraderAPI, NbGraderApp
app = NbGraderApp()
app.initialize([])
api = NbGraderAPI(config=app.config)
for name in sys.argv[1:]:
    result = api.generate_assignment(name, force=True)
    if not result["success"]:
        sys.exit(f"nbgrader generate_assignment {name} failed:\\n{result.get('error', '')}\\n{result.get('log', '')}")
"""


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and not SKIPPED_PARTS & set(p.parts))


def inputs_digest(course: Path, specs: Path) -> str:
    """SHA-256 of the names and contents of what the releases are made from.

    Args:
        course: the course directory (its ``source/``, ``nbgrader_config.py`` and ``rnncheck.py`` are read).
        specs: the folder of the grader's specs (its ``.py`` files are read).

    Returns:
        the hex digest; it changes with any of those files' content, name or presence, not with their mtimes.

    Example:
        >>> len(inputs_digest(Path("assignments"), Path("autograder/specs")))  # doctest: +SKIP
        64
    """
    digest = hashlib.sha256()
    files = [("course", course, f) for entry in COURSE_INPUTS for f in _files(course / entry)]
    files += [("specs", specs, f) for f in _files(specs) if f.suffix == ".py"]
    for kind, root, path in files:
        data = path.read_bytes()
        digest.update(f"{kind}/{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def zip_release(release: Path, archive: Path) -> Path:
    """Write the files of the release folder ``release`` into ``archive``, under ``<release's name>/``.

    Args:
        release: ``release/<set>/`` of a course directory.
        archive: the zip file to write.

    Returns:
        ``archive``.
    """
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in _files(release):
            info = zipfile.ZipInfo(f"{release.name}/{path.relative_to(release).as_posix()}", ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return archive


def generate_archives(course: Path, target: Path) -> list[Path]:
    """Make ``<set>.zip`` in ``target`` for every set of ``course`` with nbgrader's ``generate_assignment``.

    Args:
        course: the course directory; it is not written to (nbgrader works on a temporary copy).
        target: the folder that receives the archives (made if missing).

    Returns:
        the archives, in the order of the sets.

    Raises:
        RuntimeError: with nbgrader's log, when it fails or runs past ``GENERATE_TIMEOUT`` seconds.
    """
    names = [nb.parent.name for nb in set_notebooks(course)]
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="problem-set-release-") as tmp:
        work = Path(tmp) / "course"
        shutil.copytree(course / "source", work / "source", ignore=shutil.ignore_patterns(*SKIPPED_PARTS))
        for name in COURSE_INPUTS[1:]:
            shutil.copy(course / name, work / name)
        bin_dir = str(Path(sys.executable).parent)          # nbgrader runs alembic from the environment
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        try:
            proc = subprocess.run([sys.executable, "-c", _GENERATE, *names], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=GENERATE_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"nbgrader took more than {GENERATE_TIMEOUT} s to release {names}") from exc
        if proc.returncode != 0:
            raise RuntimeError(f"releasing the problem sets failed:\n{proc.stderr[-4000:]}")
        return [zip_release(work / "release" / name, target / f"{name}.zip") for name in names]


def ensure_archives(course: Path, specs: Path, cache: Path) -> list[Path]:
    """The archives of every set of ``course``, from ``cache`` when their inputs did not change.

    Args:
        course: the course directory.
        specs: the folder of the grader's specs.
        cache: the folder that keeps the archives and the hash of their inputs (``inputs.sha256``).

    Returns:
        the archives ``cache/<set>.zip``, in the order of the sets.
    """
    digest = inputs_digest(course, specs)
    stamp = cache / STAMP
    names = [nb.parent.name for nb in set_notebooks(course)]
    archives = [cache / f"{name}.zip" for name in names]
    if stamp.is_file() and stamp.read_text().strip() == digest and all(a.is_file() for a in archives):
        return archives
    fresh = cache.with_name(cache.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    generate_archives(course, fresh)
    (fresh / STAMP).write_text(digest + "\n")
    shutil.rmtree(cache, ignore_errors=True)
    fresh.rename(cache)
    return archives
