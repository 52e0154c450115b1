"""Both live doors run the same socket tests: the ASGI route and the fast door (own port)."""

from __future__ import annotations

import pytest

DOORS = ("asgi", "fast")


@pytest.fixture(params=DOORS)
def door(request: pytest.FixtureRequest) -> str:
    """``asgi``: the page's own port, ``/vango/live/``; ``fast``: ``live_port=0`` (a free port,
    announced to the client by ``data-vango-live``)."""
    return str(request.param)
