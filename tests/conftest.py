"""Shared test configuration: hypothesis profiles and the import path of tests/strategies.py.

Profiles (select with the environment variable ``HYPOTHESIS_PROFILE``):
``default`` (few examples, quick on a laptop, and derandomized: the same examples on every run, so a test run
in CI gives the same verdict as the same commit gave here), ``thorough`` (more examples, random ones: run it to
look for new failures and add what it finds as a plain test), ``debug`` (prints a reproduction blob for each
failure). Every profile disables the per-example deadline,
because the first call into torch is slow.
"""
import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile("default", max_examples=20, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("debug", max_examples=10, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
