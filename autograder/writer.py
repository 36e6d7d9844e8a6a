"""The one writer of a batch: results stored many at a time, so that writing never holds grading back.

:class:`ResultWriter` keeps the results that came back from the graders and stores them in batches
(``flush``): one gradebook transaction for the whole batch (:func:`autograder.gradebook.write_grades_many`),
then for each submission, in order, its autograded notebook (:func:`autograder.feedback.write_autograded`)
and its grading log (:func:`autograder.gradebook.write_record`), whose presence marks it as done. A
submission counts as stored only when all three are written; a batch interrupted between its commit and
its last log leaves submissions whose scores are in the gradebook but that a resumed run grades again
(same rows rewritten: idempotent). It runs in the calling thread, between the results' arrivals, while the
graders keep grading; :class:`WriterStats` measures its own time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from . import feedback, gradebook
from .late import policy_for

__all__ = ["ResultWriter", "WriterStats", "BATCH_SIZE", "BATCH_SECONDS"]

#: results stored per gradebook transaction, at most
BATCH_SIZE = 50
#: the longest a result waits before its batch is stored (seconds)
BATCH_SECONDS = 0.5


@dataclass
class WriterStats:
    """What the writer did: submissions stored, batches committed, and its own seconds.

    >>> WriterStats(submissions=100, batches=2, seconds=0.25).per_second
    400.0
    """
    submissions: int = 0
    batches: int = 0
    seconds: float = 0.0               # all of the writer's work
    gradebook_seconds: float = 0.0     # of it, the gradebook transactions
    files_seconds: float = 0.0         # of it, the autograded notebooks and logs

    @property
    def per_second(self) -> float:
        """Submissions stored per second of the writer's own time (0 before any)."""
        return self.submissions / self.seconds if self.seconds > 0 else 0.0


class ResultWriter:
    """Stores graded results in batches of at most ``batch_size``, or older than ``batch_seconds``.

    Args:
        course: the :class:`autograder.course.Course` being graded.
        gb: its open nbgrader ``Gradebook``.
        on_stored: called with each result once its gradebook rows, autograded notebook and log are written.
        batch_size: results per transaction, at most (≥ 1).
        batch_seconds: how long the oldest waiting result may wait before :attr:`due` (≥ 0).
        stats: a :class:`WriterStats` to fill (default: a new one, at ``.stats``).

    Example: ``w = ResultWriter(course, gb); w.add(result); w.flush()`` stores ``result``.
    """

    def __init__(self, course, gb, on_stored=None, batch_size: int = BATCH_SIZE,
                 batch_seconds: float = BATCH_SECONDS, stats: WriterStats | None = None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if not batch_seconds >= 0:
            raise ValueError(f"batch_seconds must be a number >= 0, got {batch_seconds!r}")
        self.course, self.gb, self.on_stored = course, gb, on_stored
        self.batch_size, self.batch_seconds = batch_size, float(batch_seconds)
        self.stats = stats if stats is not None else WriterStats()
        self.pending: list = []
        self._oldest = 0.0

    def add(self, result) -> None:
        """Keep ``result`` for the next batch."""
        if not self.pending:
            self._oldest = time.monotonic()
        self.pending.append(result)

    @property
    def due(self) -> bool:
        """True when the waiting results should be stored now (a full batch, or the oldest waited long enough)."""
        return len(self.pending) >= self.batch_size or (bool(self.pending) and self.wait_left() == 0.0)

    def wait_left(self) -> float | None:
        """Seconds until the waiting results are due by age; None when nothing waits."""
        if not self.pending:
            return None
        return max(0.0, self.batch_seconds - (time.monotonic() - self._oldest))

    def flush(self) -> list:
        """Store every waiting result (see the module's notes on order); returns them.

        The waiting list is emptied first: if storing fails midway (an error, Ctrl-C), the results of this
        batch whose logs were not written are dropped here and graded again by a resumed run.
        """
        batch, self.pending = self.pending, []
        if not batch:
            return []
        start = time.monotonic()
        try:
            changes = gradebook.write_grades_many(self.gb, batch, self.course.notebook_name,
                                                  late_policy=policy_for(self.course.root))
            committed = time.monotonic()
            self.stats.gradebook_seconds += committed - start
            self.stats.batches += 1
            for res, changed in zip(batch, changes):
                res.changes = [str(c) for c in changed]
            for res in batch:
                feedback.write_autograded(self.course, res)
                gradebook.write_record(self.course.root, res)
                self.stats.submissions += 1
                if self.on_stored is not None:
                    self.on_stored(res)
            self.stats.files_seconds += time.monotonic() - committed
        finally:
            self.stats.seconds += time.monotonic() - start
        return batch
