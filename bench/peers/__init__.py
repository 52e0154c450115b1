"""Peers measured by ``python -m bench compare``: the same counter in PyView and ReactPy.

Each peer runs from its own venv (``bench/peers/.venv-<name>``, git-ignored, made by
:func:`bench.compare.ensure_venv` from PyPI at pinned versions) under one uvicorn worker;
``clients.py`` drives each over its own protocol with the same client logic as bench.load.
"""
