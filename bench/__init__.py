"""Benchmarks. Each module prints one JSON document; run `python -m bench NAME [args]`."""
