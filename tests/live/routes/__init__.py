"""Pages of the live tests' own (a routes package: ``tests.live.routes``)."""
