"""The numbers of a class report, computed from the pipeline's per-student records.

A record is the JSON the pipeline writes per graded submission (``grading_log/<set>/<student>.json``,
read by :func:`autograder.gradebook.load_records`): ``scores`` and ``max_scores`` per test cell, ``cases``
per test cell (each with ``passed``, ``points``, ``message``, ``diagnosis``), ``flags`` (integrity
concerns), ``errors`` (faults that cost points) and ``notes``. Faults are read by :mod:`.faults` (load errors
included), similar code is grouped by :mod:`.similar` (each group once).
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from .faults import lost_to_fault, record_faults
from .similar import SimilarGroup, similar_groups

#: diagnoses that mean "no answer" rather than a mistake; counted apart from the mistakes
UNANSWERED = frozenset({"not_implemented", "missing_function"})
#: the report's diagnosis of a function that is missing because a cell raised an error when it was loaded
AFTER_ERROR = "not_defined_after_error"


@dataclass
class Diagnosis:
    """One recognised outcome of a question across the class."""
    id: str
    students: int            # submissions with at least one failed case carrying this diagnosis
    cases: int               # failed cases carrying it, over the class
    message: str             # the plain-words explanation
    known: bool              # a known mistake of the spec (True) or a generic outcome (exception, shape, ...)
    who: list[str] = field(default_factory=list)


@dataclass
class QuestionSummary:
    grade_id: str
    function: str
    points: float
    scores: dict[str, float]                 # student -> points
    diagnoses: list[Diagnosis]               # most common first
    unanswered: list[str]                    # students who left it as released or did not define it

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores.values()) if self.scores else 0.0

    @property
    def full(self) -> int:
        return sum(1 for v in self.scores.values() if abs(v - self.points) < 1e-9)

    @property
    def zero(self) -> int:
        return sum(1 for v in self.scores.values() if v <= 1e-9)


@dataclass
class Flagged:
    student: str
    reasons: list[str]


@dataclass
class ClassReport:
    assignment: str
    students: list[str]
    totals: dict[str, float]
    max_total: float
    questions: list[QuestionSummary]
    flagged: list[Flagged]
    faults: dict[str, list[str]]             # student -> faults that cost points (load errors included)
    similarity_checked: bool = True
    fault_points: dict[str, float] = field(default_factory=dict)   # student -> points lost to faults
    similar: list[SimilarGroup] = field(default_factory=list)      # groups of students who share code

    @property
    def mean_total(self) -> float:
        return statistics.fmean(self.totals.values()) if self.totals else 0.0

    @property
    def median_total(self) -> float:
        return statistics.median(self.totals.values()) if self.totals else 0.0

    def top_diagnoses(self, n: int = 10) -> list[tuple[str, Diagnosis]]:
        """(function, diagnosis) pairs over all questions, most students first (known mistakes only)."""
        pairs = [(q.function, d) for q in self.questions for d in q.diagnoses]
        pairs.sort(key=lambda p: (-p[1].students, -p[1].cases, p[0], p[1].id))
        return pairs[:n]


def summarize_question(spec, records: dict[str, dict]) -> QuestionSummary:
    """Scores and diagnoses of one graded function over the class."""
    known = spec.messages
    scores, per_diag, case_count, messages, unanswered = {}, {}, Counter(), {}, []
    for student in sorted(records):
        rec = records[student]
        scores[student] = float(rec.get("scores", {}).get(spec.grade_id, 0.0))
        cases = rec.get("cases", {}).get(spec.grade_id) or []
        seen = set()
        for c in cases:
            if c.get("passed"):
                continue
            d = c.get("diagnosis") or "wrong_value"
            if d == "missing_function" and lost_to_fault(c):
                d = AFTER_ERROR          # not defined because a cell failed: a fault, not a blank answer
            if d in UNANSWERED:
                seen.add(d)
                continue
            case_count[d] += 1
            messages.setdefault(d, Counter())[(c.get("message") or "").replace(" (see the problems above)", "")] += 1
            seen.add(d)
        if seen & UNANSWERED and not (seen - UNANSWERED):
            unanswered.append(student)
        for d in seen - UNANSWERED:
            per_diag.setdefault(d, []).append(student)
    diagnoses = []
    for d, who in per_diag.items():
        message = known.get(d) or messages[d].most_common(1)[0][0]
        diagnoses.append(Diagnosis(d, len(who), case_count[d], message, d in known, who))
    diagnoses.sort(key=lambda x: (-x.students, -x.cases, x.id))
    return QuestionSummary(spec.grade_id, spec.function, float(spec.points), scores, diagnoses, unanswered)


def _number(x) -> float:
    v = float(x)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return v


def _strings(xs) -> list[str]:
    if not isinstance(xs, list):
        raise TypeError("not a list")
    return [x if isinstance(x, str) else str(x) for x in xs]


def usable_record(rec) -> dict:
    """A grading-log record in the shape the report reads (numbers are numbers, lists are lists of
    text, cases are dicts); a record that is not becomes one with no scores and a fault that says so,
    so that one broken record never stops the class report."""
    try:
        if not isinstance(rec, dict):
            raise TypeError(f"a {type(rec).__name__}, not a JSON object")
        scores = {str(k): _number(v) for k, v in (rec.get("scores") or {}).items()}
        cases = {}
        for gid, cs in (rec.get("cases") or {}).items():
            if not isinstance(cs, list) or not all(isinstance(c, dict) for c in cs):
                raise TypeError(f"the cases of {gid!r} are not a list of objects")
            cases[str(gid)] = [{**c, "passed": bool(c.get("passed")), "points": _number(c.get("points") or 0),
                                "message": str(c.get("message") or ""),
                                "diagnosis": None if c.get("diagnosis") is None else str(c.get("diagnosis"))}
                               for c in cs]
        return {**rec, "scores": scores, "cases": cases, "flags": _strings(rec.get("flags") or []),
                "errors": _strings(rec.get("errors") or []), "notes": _strings(rec.get("notes") or [])}
    except Exception as exc:
        return {"scores": {}, "cases": {}, "flags": [], "notes": [],
                "errors": [f"the grading record could not be read ({type(exc).__name__}); grade it again"]}


def assemble(assignment: str, specs, records: dict[str, dict], similarity_flags=None) -> ClassReport:
    """A :class:`ClassReport` from records (student -> record) and optional similarity flags."""
    records = {s: usable_record(r) for s, r in records.items()}
    questions = [summarize_question(spec, records) for spec in specs]
    students = sorted(records)
    totals = {s: round(sum(float(v) for v in records[s].get("scores", {}).values()), 6) for s in students}
    max_total = float(sum(spec.points for spec in specs))
    reasons: dict[str, list[str]] = {}
    for s in students:
        for f in records[s].get("flags", []):
            reasons.setdefault(s, []).append(str(f))
    from ..inert import terminal
    from ..similarity import grouped_reasons

    sim = list(similarity_flags or [])
    for student, texts in grouped_reasons([f for f in sim if f.kind != "student"]).items():
        reasons.setdefault(student, []).extend(texts)
    groups = similar_groups(sim)
    for g in groups:
        for s in g.students:
            others = ", ".join(terminal(o, 80) for o in g.students if o != s)
            reasons.setdefault(s, []).append(f"similar code: group {g.number}, with {others} "
                                             f"({len(g.functions)} function(s); the evidence is under Similar code)")
    flagged = [Flagged(s, reasons[s]) for s in sorted(reasons)]
    faults, fault_points = {}, {}
    for s in students:
        found, lost = record_faults(records[s], specs)
        if found:
            faults[s], fault_points[s] = found, lost
    return ClassReport(assignment, students, totals, max_total, questions, flagged, faults,
                       similarity_checked=similarity_flags is not None, fault_points=fault_points, similar=groups)


def build_report(course_root: str, assignment: str, *, similarity: bool = True) -> ClassReport:
    """The report of ``assignment`` from the course's grading log (and its submissions for similarity)."""
    from ..course import NothingGraded
    from ..gradebook import load_records
    from ..specs import specs_for

    records = load_records(course_root, assignment)
    if not records:
        raise NothingGraded(f"no graded submissions of {assignment} in {course_root}; grade them first: "
                            f"rnngrad-grader grade {assignment}")
    sim = None
    if similarity:
        from ..similarity import flags_for_course
        sim = [f for f in flags_for_course(course_root, assignment, records=records) if f.student in records]
    return assemble(assignment, specs_for(assignment), records, sim)
