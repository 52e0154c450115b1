"""A remount runs the middleware ``before`` hooks a page load runs: a token is no pass past
an access check on a worker (or a restarted server) that does not hold its session."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
from quart import Response

from vango_actors.protocol import Welcome
from vango_actors.routing import BaseMiddleware

from ..liveclient import http_get, open_live, origin_of, parse_shell
from .inprocess import running_app


class LoginRequired(BaseMiddleware[Any, Response]):
    """/counter only for a request with the ``user`` cookie (a logged-in user)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def before(self, request: Any) -> Response | None:
        self.seen.append(request.path)
        if request.path == "/counter" and "user" not in request.cookies:
            return Response("", status=302, headers={"Location": "/login"})
        return None


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_remount_runs_the_middleware_a_page_load_runs(door: str) -> None:
    # A logged-in user's /counter token, replayed by a client without the cookie (logged
    # out, or the token leaked) on a worker that does not hold the session, remounted the
    # page: `before` never ran. Now it runs on the socket's handshake: refused, the client
    # reloads (its GET then meets the check); with the cookie the remount goes on.
    guard = LoginRequired()
    with trio.fail_after(30):
        async with (
            running_app(middleware=[guard]) as a,
            running_app(
                middleware=[guard],
                allowed_origins=(origin_of(a.base_url),),
                **({"live_port": 0} if door == "fast" else {}),
            ) as b,
        ):
            page = await http_get(a.base_url + "/counter", [("Cookie", "user=alice")])
            assert page.status == 200
            shell = parse_shell(page.text)
            if door == "fast":
                url = f"ws://127.0.0.1:{b.app.front.live_port}/vango/live/{shell.session_id}"
                shell = attrs.evolve(shell, live_url=url)
            origin = origin_of(a.base_url)
            async with open_live(b.base_url, shell, origin=origin) as intruder:
                await intruder.hello()
                await intruder.wait_for(lambda: bool(intruder.of_type(Welcome) or intruder.reloads))
                assert not intruder.of_type(Welcome), "remounted without the page's check"
                assert (await intruder.wait_closed()).code == 4001
            assert "refused" in intruder.reloads[0].reason
            assert b.app.front.live_stats.remounts == 0
            assert not b.manager.has(shell.session_id)
            assert guard.seen[-1] == "/counter"
            async with open_live(b.base_url, shell, origin=origin, cookie="user=alice") as user:
                await user.hello()
                await user.connected()
                await user.click("#inc")
                await user.synced()
                assert user.text("#count") == "1"
            assert b.app.front.live_stats.remounts == 1


class Picky(BaseMiddleware[Any, Response]):
    """Raises on a request without the ``user`` cookie (a bug in the app's middleware), and
    notes the scheme of each request it sees."""

    def __init__(self) -> None:
        self.schemes: list[str] = []

    def before(self, request: Any) -> Response | None:
        self.schemes.append(request.scheme)
        if "user" not in request.cookies:
            raise RuntimeError("no user")
        return None


async def test_a_middleware_that_raises_on_a_remount_refuses_it_with_a_reload() -> None:
    # the error escaped the handshake: the socket ended as an internal failure (1011), and the
    # client retried the same remount instead of reloading into the page's 500
    picky = Picky()
    with trio.fail_after(30):
        async with (
            running_app(middleware=[picky]) as a,
            running_app(middleware=[picky], allowed_origins=(origin_of(a.base_url),)) as b,
        ):
            page = await http_get(a.base_url + "/counter", [("Cookie", "user=alice")])
            shell = parse_shell(page.text)
            async with open_live(b.base_url, shell, origin=origin_of(a.base_url)) as intruder:
                await intruder.hello()
                await intruder.wait_for(lambda: bool(intruder.of_type(Welcome) or intruder.reloads))
                assert not intruder.of_type(Welcome)
                assert (await intruder.wait_closed()).code == 4001
            assert not b.manager.has(shell.session_id)
            # the made-up GET has the page's scheme (http here), as the page's GET had
            assert picky.schemes == ["http", "http"]
