"""One real ``hypercorn -k trio vango_actors.asgi:app`` for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import Server, hypercorn_server

E2E_ENV = {"VANGO_SECRET_KEY": "e2e-secret", "VANGO_DEV": "0"}


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The demo app under real hypercorn on a free loopback port, stopped by pid after."""
    with hypercorn_server(env=E2E_ENV) as running:
        yield running
