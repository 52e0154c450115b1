"""The error tree: every error the framework raises on purpose derives from VangoError."""

from __future__ import annotations


class VangoError(Exception):
    """Root of all vango-actors errors."""
