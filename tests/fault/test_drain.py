"""SIGTERM drains: GOAWAY to every live client after its in-flight events, close 1001, exit 0.
And the VANGO_SECRET_KEY rule: required in production and with several workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from tests.servers import Server, fetch, hypercorn_server, spawn_hypercorn
from vango_actors.config import ConfigError, Settings
from vango_actors.protocol import GoAway

from ..liveclient import open_page

ENV = {"VANGO_SECRET_KEY": "fault-drain-key", "VANGO_DEV": "0"}
ROOT = Path(__file__).resolve().parents[2]


async def test_sigterm_sends_goaway_after_in_flight_events_and_exits_cleanly() -> None:
    with hypercorn_server(env=ENV) as server:
        with trio.fail_after(30):
            async with open_page(server.url, "/counter") as client:
                seqs = [await client.click("#inc") for _ in range(20)]
                os.killpg(server.process.pid, signal.SIGTERM)
                closed = await client.wait_closed()
            status = await trio.to_thread.run_sync(server.process.wait, 20)
    assert client.goaways == [GoAway("server shutting down")]
    goaway_at = client.frames.index(client.goaways[0])
    assert closed.code == 1001
    # every event that reached the server before GOAWAY was acknowledged before it: the
    # client re-sends only never-handled events to the next worker (no double handling)
    acked_before = max([0, *(f.ack for f in client.frames[:goaway_at] if hasattr(f, "ack"))])
    assert acked_before == client.acked
    assert client.text("#count") == str(acked_before) and acked_before <= seqs[-1]
    assert status == 0, server.output()


async def test_sigterm_to_the_supervisor_alone_sends_goaway_at_once_on_the_asgi_door() -> None:
    # `docker stop` and `kill <main pid>` signal hypercorn's supervisor only: it sets the
    # shutdown event of its workers, whose hypercorn waited up to graceful_timeout (15 s here,
    # as in deploy/) for the ASGI door's live sockets, then closed them bare (no GOAWAY, the
    # in-flight events unacknowledged) before the app could drain
    env = {**ENV, "VANGO_LIVE_PORT": "off"}
    server = spawn_hypercorn(env=env, extra_args=["--workers", "1", "--graceful-timeout", "15"])
    try:
        await trio.to_thread.run_sync(server.wait_running, 30)
        with trio.fail_after(10):
            async with open_page(server.url, "/counter") as client:
                await client.click("#inc")
                os.kill(server.process.pid, signal.SIGTERM)  # the supervisor alone
                await client.wait_closed()
            status = await trio.to_thread.run_sync(server.process.wait, 5)
    finally:
        server.stop()
    assert client.goaways == [GoAway("server shutting down")], server.output()
    assert client.acked == 1 and status == 0


EMBEDDED = """
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from vango_actors.front import create_app

app = create_app("app_routes", secret_keys=("embedded-key",))
config = Config()
config.bind = ["127.0.0.1:0"]
trio.run(lambda: serve(app, config, shutdown_trigger=trio.sleep_forever))
"""


def test_sigterm_ends_a_program_that_embeds_the_app() -> None:
    # nobody else stops the server here (its shutdown trigger is the program's own): after
    # the drain the signal goes on to the default handler, which ends the process (it used
    # to drain and then answer 503 for ever)
    with subprocess.Popen(
        [sys.executable, "-c", EMBEDDED],
        cwd=ROOT,
        env={**os.environ, "VANGO_DEV": "0"},
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stderr is not None
            for line in process.stderr:
                if "Running on" in line:
                    break
            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == -signal.SIGTERM
            logged = process.stderr.read()
            assert "drained, and the server did not stop: passing the signal on" in logged
        finally:
            if process.poll() is None:
                process.kill()


def test_sigterm_to_one_of_two_workers_drains_it_and_hypercorn_starts_a_new_one() -> None:
    # a rolling restart of one worker: once drained it must end with status 0, since
    # hypercorn's supervisor replaces a worker that exits 0 but stops every worker when one
    # dies of a signal (it waited 30 s, answering 503 on the shared port, then passed the
    # SIGTERM on and took its sibling and the whole server down with it)
    server = spawn_hypercorn(env=ENV, extra_args=["--workers", "2"])
    try:
        server.wait_running(30)
        before = _until(lambda: _serving(server), lambda w: len(w) == 2, 15)
        assert before is not None, server.output()
        signalled, other = before
        os.kill(signalled, signal.SIGTERM)
        after = _until(lambda: _serving(server), lambda w: len(w) == 2 and signalled not in w, 15)
        assert after is not None and other in after, server.output()  # the other served on
        replies = [fetch(server.url + "/vango/health").status for _ in range(20)]
        assert server.process.poll() is None, server.output()
        assert replies == [200] * 20, server.output()
        stopped = time.monotonic()
        assert server.stop() == 0, server.output()  # the whole server still stops cleanly
        assert time.monotonic() - stopped < 5, server.output()
    finally:
        server.stop()


def _workers(supervisor: int) -> list[int]:
    """The pids of the hypercorn workers ``supervisor`` runs (its multiprocessing children)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(stat.rpartition(")")[2].split()[1]) == supervisor and b"spawn_main" in cmdline:
            found.append(int(entry))
    return sorted(found)


def _serving(server: Server) -> list[int]:
    """The workers of ``server`` that are serving (they said "Running on"; a worker
    signalled before its app started has no drain to do, and dies of the signal)."""
    said = server.output()
    return [pid for pid in _workers(server.process.pid) if f"[{pid}] [INFO] Running on" in said]


def _until(
    read: Callable[[], list[int]], done: Callable[[list[int]], bool], timeout: float
) -> list[int] | None:
    """Poll ``read()`` (another process's state: nothing to wait on) until ``done`` says so;
    None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not done(value := read()):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
    return value


@pytest.mark.parametrize(
    ("env", "overrides", "why"),
    [
        ({"VANGO_ENV": "production"}, {}, "VANGO_ENV=production"),
        ({}, {"workers": 2}, "2 workers"),
    ],
)
def test_a_missing_secret_key_is_an_error_in_production_or_with_workers(
    env: dict[str, str], overrides: dict[str, int], why: str
) -> None:
    with pytest.raises(ConfigError, match=f"VANGO_SECRET_KEY is required with {why}: "):
        Settings.from_env(env, **overrides)


def test_development_makes_up_a_key_and_rotation_keeps_old_keys_verifying() -> None:
    assert Settings.from_env({}).secret_key_generated
    settings = Settings.from_env({"VANGO_SECRET_KEY": "new, old", "VANGO_ENV": "production"})
    assert settings.secret_keys == ("new", "old") and settings.production
    with pytest.raises(ConfigError, match="VANGO_ENV: expected 'production' or 'development'"):
        Settings.from_env({"VANGO_ENV": "staging"})
