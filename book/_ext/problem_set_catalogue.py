"""What each problem set of the course holds, read from its source notebook.

A set is a folder ``source/<set>/`` of the nbgrader course directory holding ``<set>.ipynb``. The notebook
says everything the book's page lists: its first heading (``# Problem set 3: back-propagation through time``),
the chapters it follows (the links of its ``**Book:**`` line, ``.../<page>.html``), its graded functions
(nbgrader's test cells ``test_<function>``) and the points of its autograded and hand-graded cells.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

HEADING = re.compile(r"^#\s+(.+?)\s*$", re.M)
BOOK_LINE = re.compile(r"^\*\*Book:\*\*(.*)$", re.M)
CHAPTER_LINK = re.compile(r"\]\([^)\s]*?([\w-]+)\.html\)")


@dataclass(frozen=True)
class ProblemSet:
    """One problem set as the book lists it.

    Attributes:
        name: the set's id, its folder in ``source/`` (``"ps3_bptt"``).
        title: the notebook's first heading (``"Problem set 3: back-propagation through time"``).
        chapters: the book pages it follows, as names in ``_toc.yml`` without ``book/`` (``("bptt",)``).
        functions: the graded functions, in notebook order.
        autograded_points: points of the autograded cells.
        manual_points: points of the answers graded by hand.
    """
    name: str
    title: str
    chapters: tuple[str, ...]
    functions: tuple[str, ...]
    autograded_points: float
    manual_points: float

    @property
    def label(self) -> str:
        """The part of the title before its colon (``"Problem set 3"``)."""
        return self.title.split(":", 1)[0].strip()

    @property
    def topic(self) -> str:
        """The part of the title after its colon: what the set practises."""
        return self.title.split(":", 1)[-1].strip()

    @property
    def points(self) -> float:
        return self.autograded_points + self.manual_points


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def read_set(notebook: Path) -> ProblemSet:
    """The :class:`ProblemSet` described by one source notebook.

    Args:
        notebook: ``source/<set>/<set>.ipynb`` of the course directory.

    Returns:
        the set; its name is the notebook's folder.

    Raises:
        ValueError: naming the notebook, when its first cell has no heading or no ``**Book:**`` line with a
            chapter link, or when it has no graded function.

    Example:
        >>> ps = read_set(Path("assignments/source/ps3_bptt/ps3_bptt.ipynb"))  # doctest: +SKIP
        >>> ps.chapters, ps.points                                             # doctest: +SKIP
        (('bptt',), 20.0)
    """
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    intro = _source(cells[0]) if cells else ""
    heading, book = HEADING.search(intro), BOOK_LINE.search(intro)
    chapters = tuple(CHAPTER_LINK.findall(book.group(1))) if book else ()
    if not heading or not chapters:
        raise ValueError(f"{notebook}: expected a first cell with a '# ' heading and a '**Book:**' line linking "
                         f"the chapters, got {intro[:120]!r}")
    functions, auto, manual = [], 0.0, 0.0
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if cell["cell_type"] == "code":
            auto += float(meta.get("points", 0))
            if meta.get("grade_id", "").startswith("test_"):
                functions.append(meta["grade_id"].removeprefix("test_"))
        else:
            manual += float(meta.get("points", 0))
    if not functions:
        raise ValueError(f"{notebook}: expected graded test cells (grade_id 'test_<function>'), found none")
    return ProblemSet(notebook.parent.name, heading.group(1), chapters, tuple(functions), auto, manual)


def set_notebooks(course: Path) -> list[Path]:
    """The source notebooks ``source/<set>/<set>.ipynb`` of the course directory ``course``, sorted by set."""
    source = course / "source"
    return sorted(p / f"{p.name}.ipynb" for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file()) \
        if source.is_dir() else []


def read_catalogue(course: Path) -> list[ProblemSet]:
    """Every problem set of the course directory ``course``, in the order of their names (ps1, ps2, ...)."""
    return [read_set(nb) for nb in set_notebooks(course)]


def catalogue_digest(course: Path) -> str:
    """SHA-256 of the set names and their source notebooks: it changes when a set is added, removed or edited."""
    digest = hashlib.sha256()
    for nb in set_notebooks(course):
        data = nb.read_bytes()
        digest.update(f"{nb.parent.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
