"""Pages for the interaction guide's browser tests (a routes package: ``tests.rich.pages``)."""
