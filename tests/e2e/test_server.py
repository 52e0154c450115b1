"""Real hypercorn: the trio worker serves the demo and its live socket; the asyncio worker
refuses to start with one line that says how to run it."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

from tests.front.routes_fixture import static
from tests.liveclient import LiveClient, open_live, parse_shell
from tests.servers import Server, fetch, spawn_hypercorn
from vango_actors.clientjs import client_url

from .conftest import E2E_ENV

NEEDS_TRIO = (
    "vango-actors runs on trio, but this server runs asyncio: start it with the trio worker, "
    "`hypercorn -k trio vango_actors.asgi:app`"
)


@asynccontextmanager
async def live_page(server: Server, path: str) -> AsyncIterator[LiveClient]:
    page = await trio.to_thread.run_sync(fetch, server.url + path)
    assert page.status == 200, page.text
    async with open_live(server.url, parse_shell(page.text)) as client:
        await client.hello()
        await client.connected()
        yield client


def text(client: LiveClient, selector: str) -> str:
    """Text of the one element matching ``selector`` in the client's document model."""
    content = client.element(selector).text_content
    return str(content() if callable(content) else content)


async def test_trio_worker_serves_the_counter_page(server: Server) -> None:
    with trio.fail_after(10):
        page = await trio.to_thread.run_sync(fetch, server.url + "/counter")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert 'id="count">0</span>' in page.text
    assert f'<script src="{client_url(False)}" defer></script>' in page.text


async def test_a_click_over_the_live_socket_patches_the_count(server: Server) -> None:
    with trio.fail_after(10):
        async with live_page(server, "/counter") as client:
            for _ in range(3):
                await client.click("#inc")
            await client.click("#dec")
            await client.synced()
            assert text(client, "#count") == "2"


async def test_health_counts_the_live_session(server: Server) -> None:
    with trio.fail_after(10):
        async with live_page(server, "/users/7") as client:
            assert text(client, "#user-id") == "7"
            reply = await trio.to_thread.run_sync(fetch, server.url + "/vango/health")
    health = json.loads(reply.text)
    assert health["status"] == "ok"
    assert set(health["sessions"]) == {"live", "parked", "disconnected"}
    assert health["sessions"]["live"] >= 1


def test_asyncio_worker_exits_non_zero_with_one_clear_line() -> None:
    returncode, output = _ended(spawn_hypercorn(worker=None, env=E2E_ENV))
    assert returncode != 0, output
    assert NEEDS_TRIO + "\n" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"VANGO_DEV": "maybe"}, "the app could not be built: VANGO_DEV: expected 1/0"),
        ({"VANGO_ROUTES": "no_such_routes_pkg"}, "the app could not be built: routes package"),
        ({"VANGO_LIVE_PORT": "taken"}, "start-up failed: [Errno 98] Address already in use"),
    ],
)
def test_a_failed_start_exits_non_zero_and_says_why(env: dict[str, str], says: str) -> None:
    # hypercorn's supervisor reported status 0 when its worker failed to start (hypercorn
    # issue #269): a process manager saw a clean exit and never restarted the server
    with socket.socket() as taken:  # a port in use, without SO_REUSEPORT: the door cannot bind
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        if env.get("VANGO_LIVE_PORT") == "taken":
            env = {**env, "VANGO_LIVE_PORT": str(taken.getsockname()[1])}
        returncode, output = _ended(spawn_hypercorn(env={**E2E_ENV, **env}))
    assert returncode != 0, output
    assert f"vango-actors: {says}" in output


def _ended(process: Server) -> tuple[int, str]:
    """The exit status of a server expected to end by itself (stopped after 30 s), and its
    output."""
    try:
        returncode = process.process.wait(30)
    finally:
        process.stop()
    return returncode, process.output()


FAILS_IN_ONE_WORKER = """
import os
from vango_actors.service import Service

class FailsInOneWorker(Service):
    async def init(self):
        try:  # the first worker to get here fails; the other starts
            os.close(os.open({flag!r}, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        raise RuntimeError("cannot start in this worker")

services = [FailsInOneWorker]
"""


def test_a_start_failed_in_one_worker_of_two_stops_the_other_too(tmp_path: Path) -> None:
    # the failed worker ends hypercorn's supervisor (non-zero status); its sibling, started
    # fine, must not go on serving without a supervisor
    package = tmp_path / "one_fails_routes"
    package.mkdir()
    (package / "__init__.py").write_text(FAILS_IN_ONE_WORKER.format(flag=str(tmp_path / "f")))
    (package / "index.py").write_text(static("home"))
    env = {**E2E_ENV, "VANGO_ROUTES": package.name, "PYTHONPATH": str(tmp_path)}
    process = spawn_hypercorn(env=env, extra_args=["--workers", "2"])
    try:
        returncode = process.process.wait(30)
        deadline = time.monotonic() + 15
        while _group_alive(process.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _group_alive(process.process.pid)
    finally:
        process.stop()
    output = process.output()
    assert returncode != 0, output
    assert "vango-actors: start-up failed: " in output, output
    assert not left, "a worker outlived its supervisor\n" + output


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
