"""Shared fixtures. Layer-specific fixtures live in the conftest.py of their folder."""
