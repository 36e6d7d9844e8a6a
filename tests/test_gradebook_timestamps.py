"""The gradebook's submission time is what nbgrader's own ``parse_utc`` makes of ``timestamp.txt``."""
import pytest
from nbgrader.utils import parse_utc

from autograder.gradebook_writes import _parse_utc

STAMPS = ["2026-01-05 10:00:00.123456 UTC", "2026-01-05 10:00:00 UTC", "2026-01-05 10:00:00.5 UTC",
          "2026-12-31 23:59:59.000001 UTC", "2026-01-05 10:00:00.1234567 UTC", "2026-01-05T10:00:00Z",
          "2026-01-05 10:00:00 +0100", "2026-01-05 10:00:00 Europe/Paris", "2026-01-05 10:00:00.25 PST"]


@pytest.mark.parametrize("stamp", STAMPS)
def test_the_quick_path_reads_what_nbgrader_reads(stamp):
    assert _parse_utc(stamp) == parse_utc(stamp)


@pytest.mark.parametrize("stamp", ["2026-02-30 10:00:00 UTC", "2026-01-05 24:00:00 UTC", "not a time UTC"])
def test_a_stamp_nbgrader_refuses_is_refused_alike(stamp):
    with pytest.raises(Exception) as nbgrader_error:
        parse_utc(stamp)
    with pytest.raises(type(nbgrader_error.value)):
        _parse_utc(stamp)
