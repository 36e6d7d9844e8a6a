"""A time budget for the trusted side's own work on one submission (the sandboxed run excluded)."""
from __future__ import annotations

import contextlib
import time


class Deadline:
    """A time budget on a monotonic clock that can be paused (while the sandbox runs the code).

    ``expired`` is True once more than ``seconds`` have been spent outside :meth:`paused` blocks.

    >>> ticks = iter([0.0, 1.0, 5.0, 5.5])
    >>> d = Deadline(2.0, clock=lambda: next(ticks))
    >>> with d.paused():      # from 1.0 to 5.0: not counted
    ...     pass
    >>> d.spent()
    1.5
    """

    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds, self.clock = float(seconds), clock
        self.start, self.excluded = clock(), 0.0

    def spent(self) -> float:
        """Seconds spent since the start, paused blocks excluded."""
        return self.clock() - self.start - self.excluded

    @property
    def expired(self) -> bool:
        return self.spent() > self.seconds

    @contextlib.contextmanager
    def paused(self):
        """A block whose time is not counted."""
        t0 = self.clock()
        try:
            yield
        finally:
            self.excluded += self.clock() - t0
