"""Shared fixtures. Layer-specific fixtures live in the conftest.py of their folder."""

pytest_plugins = ["tests.browser"]
