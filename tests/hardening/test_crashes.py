"""Crashes in user code, Exceptions and BaseExceptions alike, never end the process or the page.

``/crashy`` raises from a handler, render, a timer, background work, a child's mount and a
child's unmount, each with ValueError, SystemExit, GeneratorExit, a custom BaseException and a
BaseExceptionGroup. Every one is contained: ERROR COMPONENT_CRASHED (except unmount, which is
only logged), the Bomb restarts, the page's own counter keeps its value, the server serves on.
"""

from __future__ import annotations

import pytest
import trio

from vango_actors.protocol import ErrorCode

from ..liveclient import LiveClient, http_get, open_page
from .pages.crashy import KINDS, WHERES
from .server import running_app

DESCRIBED = {  # the page learns the exception's type (outside dev mode: not its text)
    "error": "restarted: ValueError",
    "exit": "restarted: SystemExit",
    "genexit": "restarted: GeneratorExit",
    "base": "restarted: Custom",
    "group": "restarted: SystemExit; ValueError",
}


async def _set(client: LiveClient, selector: str, value: str) -> None:
    await client.send_event(client.hid(selector), "change", {"value": value})
    await client.synced()


async def _crash(client: LiveClient, kind: str, where: str) -> None:
    crashes = len([e for e in client.errors if e.code == ErrorCode.COMPONENT_CRASHED])
    await _set(client, "#kind", kind)
    await _set(client, "#where", where)
    if where == "unmount":
        await client.click("#drop")  # the child leaves the page: its unmount raises, logged
        await client.synced()
        return
    expected = crashes + 1
    await client.wait_for(
        lambda: len([e for e in client.errors if e.code == ErrorCode.COMPONENT_CRASHED]) >= expected
    )
    message = client.errors[-1].message
    place = {"handler": "on_change handler", "background": "background"}.get(where, where)
    assert DESCRIBED[kind] in message, message
    assert "user raised" not in message and "in a group" not in message  # (the log has it)
    assert f"crashed in {place}" in message or where in ("timer", "mount"), message


@pytest.mark.parametrize("door", ["asgi", "fast"])
@pytest.mark.parametrize("kind", KINDS)
async def test_every_kind_of_raise_from_every_place_is_contained(kind: str, door: str) -> None:
    """On the fast door a handler raising in the door's poller task (where plain handlers
    run) is contained the same way."""
    with trio.fail_after(30):
        async with (
            running_app(door) as server,
            open_page(server.base_url, "/crashy") as client,
        ):
            await client.click("#alive")
            await client.synced()
            for where in WHERES:
                await _crash(client, kind, where)
                await client.click("#alive")  # the page and its state live on
                await client.synced()
            assert client.text("#clicks") == str(1 + len(WHERES))
            assert client.reloads == [] and client.closed is None
            assert int(client.text("#restarts")) >= 3  # handler, render, timer, background
            page = await http_get(server.base_url + "/counter")
            assert page.status == 200


async def test_sys_exit_in_a_root_mount_is_a_500_page_not_an_exit() -> None:
    with trio.fail_after(20):
        async with running_app() as server:
            page = await http_get(server.base_url + "/exits")
            assert page.status == 500
            assert "SystemExit" not in page.text  # no traceback outside dev
            again = await http_get(server.base_url + "/counter")
            assert again.status == 200
