"""Shared fixtures. Layer-specific fixtures live in the conftest.py of their folder."""

from hypothesis import Phase, settings

pytest_plugins = ["tests.browser"]

# The explain phase traces every line while it re-runs a failing example; with large values
# in an assertion diff that turns one failure into many minutes. Failures still shrink.
settings.register_profile("vango", phases=[p for p in Phase if p is not Phase.explain])
settings.load_profile("vango")
