"""What the pipeline decided about one submission: :class:`SubmissionResult`."""
from __future__ import annotations

from dataclasses import dataclass, field

from .specs import CaseResult


@dataclass
class SubmissionResult:
    """Everything the pipeline decided about one submission.

    >>> r = SubmissionResult("ana", "ps1_softmax", scores={"test_softmax": 2.0}, max_scores={"test_softmax": 3.0})
    >>> (r.total, r.max_total)
    (2.0, 3.0)
    """
    student: str
    assignment: str
    timestamp: str | None = None
    seed: int | None = None
    notebook_sha256: str | None = None
    scores: dict[str, float] = field(default_factory=dict)        # test grade_id -> points
    max_scores: dict[str, float] = field(default_factory=dict)
    cases: dict[str, list[CaseResult]] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)         # grade_id -> answered|no_response|missing
    comments: dict[str, str] = field(default_factory=dict)        # answer grade_id -> comment for nbgrader
    flags: list[str] = field(default_factory=list)                # integrity concerns, for the instructor
    errors: list[str] = field(default_factory=list)               # faults that cost points
    notes: list[str] = field(default_factory=list)                # what was repaired or ignored
    changes: list[str] = field(default_factory=list)              # "old -> new" per changed score
    skipped: bool = False                                         # already graded, left as is
    graded_at: str | None = None
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict, metadata={"log": False})  # see autograder.batch
    not_graded: str | None = field(default=None, metadata={"log": False})  # why a cluster could not grade it
    notebook: dict | None = field(default=None, repr=False, metadata={"log": False})
    autograded_text: str | None = field(default=None, repr=False, metadata={"log": False})

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())
