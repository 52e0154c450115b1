"""The demo app under real hypercorn for the rich-interaction browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import Server, hypercorn_server

RICH_ENV = {"VANGO_SECRET_KEY": "rich-secret", "VANGO_DEV": "0"}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The demo app on a free loopback port, stopped by pid after the module."""
    with hypercorn_server(env=RICH_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def pages() -> Iterator[Server]:
    """The test pages of ``tests.rich.pages`` on a free loopback port, stopped by pid after
    the module."""
    env = {"VANGO_ROUTES": "tests.rich.pages", "VANGO_SECRET_KEY": "pages-secret", "VANGO_DEV": "0"}
    with hypercorn_server(env=env) as running:
        yield running
