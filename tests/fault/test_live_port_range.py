"""A live port range (``VANGO_LIVE_PORT=FIRST-LAST``): each hypercorn worker owns one port of
it, named in its pages, and a restarted worker takes back the port the old one freed, so the
open pages of the old one reconnect there and are remounted from their token, no reload."""

from __future__ import annotations

import os
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest
import trio
import trio_websocket

from vango_actors.config import ConfigError, Settings
from vango_actors.protocol import Patches

from ..liveclient import PageShell, load_page, open_live
from ..servers import Server, spawn_hypercorn

KEY = {"VANGO_SECRET_KEY": "range-key"}


def _free_range(size: int) -> tuple[int, int]:
    """``size`` consecutive free loopback ports (the kernel picks the first)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + size - 1 > 65535:
            continue
        try:
            for port in range(first, first + size):
                with socket.socket() as other:
                    other.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first, first + size - 1
    raise AssertionError("no free port range")


def _listening_inodes(port: int) -> set[str]:
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return {row[9] for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A"}


def _worker_on(supervisor: int, port: int, timeout: float = 30) -> int:
    """The pid of the worker of hypercorn's ``supervisor`` that listens on ``port`` (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inodes = _listening_inodes(port)
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rpartition(")")[2].split()[1]) != supervisor:
                        continue
                fds = os.listdir(f"/proc/{entry}/fd")
                links = {os.readlink(f"/proc/{entry}/fd/{fd}") for fd in fds}
            except OSError:
                continue
            if any(f"socket:[{inode}]" in links for inode in inodes):
                return int(entry)
        time.sleep(0.1)
    raise AssertionError(f"no worker of {supervisor} listens on {port}")


def _live_port(shell: PageShell) -> int:
    assert shell.live_url is not None
    port = urlsplit(shell.live_url).port
    assert port is not None
    return port


async def _remounted(base_url: str, shell: PageShell, seq: int, event_seq: int) -> None:
    """Retry the page's live URL (as the browser's client does) until a worker answers its
    HELLO; then it must be a remount (a resync, not a RELOAD) whose clicks are handled."""
    with trio.fail_after(60):
        while True:
            try:
                async with open_live(base_url, shell) as client:
                    client.seq, client.event_seq = seq, event_seq
                    await client.hello()
                    try:
                        welcome = await client.connected()
                    except AssertionError:  # closed by a draining worker: try again
                        await trio.sleep(0.1)
                        continue
                    if welcome.resumed:  # the old worker, before its SIGTERM took effect
                        await trio.sleep(0.1)
                        continue
                    await client.wait_for(lambda: bool(client.of_type(Patches)))
                    assert client.of_type(Patches)[0].ops[0][:2] == [7, 0]  # a resync
                    assert client.reloads == []
                    await client.click("#inc")
                    await client.synced()
                    assert client.text("#count") == "1"  # remounted from its token
                    return
            except (OSError, trio_websocket.HandshakeError, BaseExceptionGroup) as exc:
                # nobody on the port yet (the worker is starting), or the draining one refused
                if isinstance(exc, BaseExceptionGroup):
                    _, rest = exc.split((OSError, trio_websocket.HandshakeError))
                    if rest is not None:
                        raise
                await trio.sleep(0.1)


async def _clicked_page_on_first_port(server: Server, ports: tuple[int, int]) -> PageShell:
    """A counter page rendered by the worker on the range's first port, clicked twice."""
    base = server.url
    with trio.fail_after(30):
        while True:
            shell = await load_page(base, "/counter")
            if _live_port(shell) == ports[0]:
                break
    async with open_live(base, shell) as client:
        await client.hello()
        await client.connected()
        await client.click("#inc")
        await client.click("#inc")
        await client.synced()
        assert client.text("#count") == "2"
    return shell


async def test_a_worker_restarted_by_hypercorn_takes_its_port_back_and_its_pages_remount() -> None:
    ports = _free_range(2)
    server = spawn_hypercorn(
        env={**KEY, "VANGO_LIVE_PORT": f"{ports[0]}-{ports[1]}"}, extra_args=["-w", "2"]
    )
    try:
        await trio.to_thread.run_sync(server.wait_running, 30)
        old = await trio.to_thread.run_sync(_worker_on, server.process.pid, ports[0])
        other = await trio.to_thread.run_sync(_worker_on, server.process.pid, ports[1])
        assert old != other  # each worker on a port of its own
        shell = await _clicked_page_on_first_port(server, ports)
        # a rolling restart: the worker alone is stopped, drains, and hypercorn starts another
        os.kill(old, signal.SIGTERM)
        await _remounted(server.url, shell, seq=2, event_seq=2)
        new = await trio.to_thread.run_sync(_worker_on, server.process.pid, ports[0])
        assert new not in (old, other), server.output()
    finally:
        server.stop()


async def test_a_killed_worker_s_pages_remount_once_the_server_is_restarted() -> None:
    # SIGKILL: hypercorn then stops its other workers and exits; the process manager
    # (deploy/) starts it again, and each page finds a worker on the port it names
    ports = _free_range(2)
    env = {**KEY, "VANGO_LIVE_PORT": f"{ports[0]}-{ports[1]}"}
    first = spawn_hypercorn(env=env, extra_args=["-w", "2"])
    try:
        await trio.to_thread.run_sync(first.wait_running, 30)
        shell = await _clicked_page_on_first_port(first, ports)
        worker = await trio.to_thread.run_sync(_worker_on, first.process.pid, ports[0])
        os.kill(worker, signal.SIGKILL)
        await trio.to_thread.run_sync(first.process.wait, 30)
    finally:
        first.stop()
    assert first.port is not None
    second = spawn_hypercorn(env=env, extra_args=["-w", "2"], bind=f"127.0.0.1:{first.port}")
    try:
        await trio.to_thread.run_sync(second.wait_running, 30)
        await _remounted(second.url, shell, seq=2, event_seq=2)
    finally:
        second.stop()


def test_a_range_needs_a_port_per_worker_and_says_what_is_wrong() -> None:
    settings = Settings.from_env({"VANGO_LIVE_PORT": "8001-8004"}, workers=4, secret_keys="k")
    assert (settings.live_port, settings.live_port_last) == (8001, 8004)
    shared = Settings.from_env({"VANGO_LIVE_PORT": "8001"}, workers=4, secret_keys="k")
    assert (shared.live_port, shared.live_port_last) == (8001, None)  # SO_REUSEPORT, as before
    with pytest.raises(ConfigError, match=r"8001-8002 has 2 port\(s\) for 3 workers.*8001-8003"):
        Settings.from_env({"VANGO_LIVE_PORT": "8001-8002"}, workers=3, secret_keys="k")
    for bad in ("8004-8001", "0-3", "8001-70000", "8001-", "-8001", "a-b", "8001-8002-8003"):
        with pytest.raises(ConfigError, match="VANGO_LIVE_PORT"):
            Settings.from_env({"VANGO_LIVE_PORT": bad})


def test_a_full_range_fails_the_worker_with_the_range_named() -> None:
    from vango_actors.fastdoor import FastDoorConfig, open_listener

    first, last = _free_range(2)
    one = open_listener(FastDoorConfig(port=first, last_port=last))
    two = open_listener(FastDoorConfig(port=first, last_port=last))
    try:
        assert {one.getsockname()[1], two.getsockname()[1]} == {first, last}
        with pytest.raises(OSError, match=f"{first}-{last} is in use"):
            open_listener(FastDoorConfig(port=first, last_port=last))
        one.close()  # the port a dead worker freed is the one the next takes
        three = open_listener(FastDoorConfig(port=first, last_port=last))
        assert three.getsockname()[1] == first
        three.close()
    finally:
        one.close()
        two.close()
