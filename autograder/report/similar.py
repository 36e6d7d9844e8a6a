"""Similar code across students, shown once: groups of students whose graded functions are near copies.

:mod:`autograder.similarity` reports a pair of students once per function on both students. Here the pairs
become groups (students linked by any near copy, transitively), each with its evidence: for every function
concerned, the pairs and how alike they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SimilarGroup:
    """Students who share code; ``evidence``: (function, student, other student, how alike in [0, 1])."""
    number: int
    students: list[str]
    evidence: list[tuple[str, str, str, float]] = field(default_factory=list)

    @property
    def functions(self) -> list[str]:
        return sorted({f for f, _, _, _ in self.evidence})


def similar_groups(flags) -> list[SimilarGroup]:
    """The groups of the student-to-student flags in ``flags`` (a list of
    :class:`autograder.similarity.SimilarityFlag`), largest first, numbered from 1; each pair once.

    >>> from autograder.similarity import SimilarityFlag as F
    >>> g, = similar_groups([F("a", "f", "b", 0.97, "student"), F("b", "f", "a", 0.97, "student")])
    >>> (g.students, g.evidence)
    (['a', 'b'], [('f', 'a', 'b', 0.97)])
    """
    pairs: dict[tuple[str, str, str], float] = {}
    for f in flags:
        if f.kind != "student":
            continue
        a, b = sorted((f.student, f.other))
        key = (f.function, a, b)
        pairs[key] = max(pairs.get(key, 0.0), float(f.score))
    parent: dict[str, str] = {}

    def root(s: str) -> str:
        parent.setdefault(s, s)
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for _, a, b in pairs:
        parent[root(a)] = root(b)
    members: dict[str, list[str]] = {}
    for s in list(parent):
        members.setdefault(root(s), []).append(s)
    groups = sorted((sorted(m) for m in members.values()), key=lambda m: (-len(m), m))
    out = []
    for number, students in enumerate(groups, start=1):
        inside = set(students)
        evidence = sorted(((fn, a, b, score) for (fn, a, b), score in pairs.items() if a in inside),
                          key=lambda e: (e[0], -e[3], e[1], e[2]))
        out.append(SimilarGroup(number, students, evidence))
    return out
