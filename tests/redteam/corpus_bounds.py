"""Red-team entries for issue area 'bounds' (see corpus.py for the Entry format)."""
from __future__ import annotations

from .corpus import CORRECT, FUNCTIONS, WRONG, Entry, t  # noqa: F401

ENTRIES: list[Entry] = []
