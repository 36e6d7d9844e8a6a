"""Shared test configuration: hypothesis profiles and the import path of tests/strategies.py.

Profiles (select with the environment variable ``HYPOTHESIS_PROFILE``):
``default`` (few examples, quick on a laptop), ``thorough`` (more examples, for CI
nights), ``debug`` (prints a reproduction blob for each failure). Every profile disables the per-example deadline,
because the first call into torch is slow.
"""
import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile("default", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("debug", max_examples=10, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
