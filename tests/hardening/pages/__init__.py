"""Hostile demo pages for the hardening tests (a routes package: ``tests.hardening.pages``)."""
