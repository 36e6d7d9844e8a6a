"""The fixed sentences of a spec's diagnoses, composite diagnoses included.

    >>> table = MessageTable({"not_accumulated": "Add up every step."})
    >>> table["not_accumulated@W_h"]
    "output['W_h']: Add up every step."
"""
from __future__ import annotations

from .. import compare as _compare

__all__ = ["MessageTable"]


class MessageTable(dict):
    """The fixed sentences of a spec's diagnoses; composite diagnoses are rebuilt from them on lookup."""

    def __contains__(self, diagnosis) -> bool:
        return dict.__contains__(self, diagnosis) or (
            isinstance(diagnosis, str) and _compare.diagnosis_message(diagnosis, dict(self)) is not None)

    def __missing__(self, diagnosis):
        text = _compare.diagnosis_message(diagnosis, dict(self)) if isinstance(diagnosis, str) else None
        if text is None:
            raise KeyError(diagnosis)
        return text

    def get(self, diagnosis, default=None):
        return self[diagnosis] if diagnosis in self else default
