"""Floods and limits over real sockets: event rate, frame size, sessions, sockets per address.

Each limit answers with a clear ERROR (or HTTP status) and is counted in /vango/metrics.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import trio
import trio.testing
from trio.testing import MockClock

from vango_actors import live
from vango_actors.limits import LiveLimiter, TokenBucket
from vango_actors.live import TRY_AGAIN_LATER
from vango_actors.protocol import CloseCode, ErrorCode, Event, Hello, Ping, Pong

from ..liveclient import LiveClient, http_get, load_page, open_live, open_page
from .server import Server, metrics, running_app


def test_token_bucket_refills_at_its_rate_and_says_when() -> None:
    bucket = TokenBucket.full(rate=10, burst=3, now=0.0)
    assert [bucket.spend(0.0) for _ in range(3)] == [True, True, False]  # the last one emptied it
    assert bucket.due(0.0) == pytest.approx(0.1)
    assert bucket.due(0.05) == pytest.approx(0.1)  # half a token
    assert bucket.due(0.1) == 0.1
    assert bucket.spend(0.1) is False
    assert bucket.spend(0.1) is False  # lent: the next token comes later
    assert bucket.due(0.1) == pytest.approx(0.3)
    assert bucket.level(100.0) == 3


def test_limiter_keeps_a_sessions_bucket_across_connections() -> None:
    limiter = LiveLimiter()
    bucket = limiter.bucket("s", 10, 2, 0.0)
    assert bucket.spend(0.0) and not bucket.spend(0.0)
    limiter.release("s", bucket, 0.0)
    assert limiter.bucket("s", 10, 2, 0.01).due(0.01) == pytest.approx(0.1)  # not refilled
    limiter.release("s", TokenBucket.full(10, 2, 0.0), 0.0)
    assert limiter.buckets == 0  # a full bucket is forgotten
    assert limiter.open("a", 1) and not limiter.open("a", 1) and limiter.open("b", 1)
    limiter.close("a")
    assert limiter.connections("a") == 0 and limiter.open("a", 1)
    assert limiter.open(None, 1) and limiter.open(None, 1)


@pytest.fixture
def clock() -> MockClock:
    """Real time (rate 1) that a test may stop (rate 0) and move on by hand (``jump``)."""
    return MockClock(rate=1.0)


@contextlib.contextmanager
def _stopped(clock: MockClock) -> Iterator[None]:
    """Stop the trio clock for the block; it runs again however the block ends (a failed
    assertion included: the server's shutdown after it waits on the clock)."""
    clock.rate = 0
    try:
        yield
    finally:
        clock.rate = 1


async def _until_counted(done: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``done()`` holds, bounded in *real* seconds: with the trio clock stopped,
    ``fail_after`` cannot fire. Checked each time every task has been idle for 10 ms."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not count the flood within {seconds} s")
        await trio.testing.wait_all_tasks_blocked(cushion=0.01)


async def _settled() -> None:
    """Every task idle three times over: what the server could read (its clock stopped) is
    read and answered."""
    for _ in range(3):
        await trio.testing.wait_all_tasks_blocked(cushion=0.01)


@contextlib.asynccontextmanager
async def _limited_counter(door: str) -> AsyncIterator[tuple[Server, LiveClient]]:
    """``/counter`` on a server that reads 10 events a second past a burst of 20."""
    async with running_app(door, event_rate=10, event_burst=20) as server:
        async with open_page(server.base_url, "/counter") as client:
            yield server, client


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_an_event_flood_is_slowed_to_the_rate_and_loses_nothing(
    clock: MockClock, door: str
) -> None:
    # The server runs in this trio run, so its bucket reads the test's clock: stopped during a
    # flood, the bucket cannot refill, and what is read is exact (the burst, then rate x the
    # time the test moves the clock on), however slow the machine is. Past the burst the
    # server reads nothing more: the rest waits in the socket, and none of it is dropped.
    with trio.fail_after(20):
        async with _limited_counter(door) as (server, client):
            inc = client.hid("#inc")
            stats = server.stats

            def count() -> int:
                return int(client.text("#count"))

            with _stopped(clock):
                for _ in range(200):
                    await client.send_event(inc, "click")
                await client.send_frame(Ping(7))  # PINGs share the bucket and wait their turn
                await _until_counted(lambda: count() == 20)
                await _settled()
                assert count() == 20 and client.acked == 20 and stats.throttled == 1

                clock.jump(1.0)  # one second later: exactly 10 more
                await _until_counted(lambda: count() == 30)
                await _settled()
                assert count() == 30 and not client.of_type(Pong)

                # clicks read per further second, until all 200 and the PING are
                steps: list[int] = []
                while not client.of_type(Pong) and len(steps) < 30:
                    before = count()
                    clock.jump(1.0)
                    await _settled()
                    steps.append(count() - before)
                assert count() == 200 and client.acked == 200
                assert client.of_type(Pong) == [Pong(7)]
                assert max(steps) <= 10 and len(steps) in (17, 18)
            assert client.closed is None and client.errors == []
            counters = await metrics(server.base_url)
            assert counters["vango_live_throttled_total"] == stats.throttled >= 18


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_upload_events_spend_an_eighth_of_a_token_and_are_limited_too(
    clock: MockClock, door: str
) -> None:
    # a file's chunks come faster than clicks; an event that only calls itself an upload
    # was not limited at all (3,000 on a button were handled at once)
    with trio.fail_after(20):
        async with _limited_counter(door) as (server, client):
            inc = client.hid("#inc")
            with _stopped(clock):
                for n in range(300):
                    await client.send_event(inc, "upload", {"op": "chunk", "ref": str(n)})
                # reading holds once less than a whole token is left: 20 - 153 / 8 < 1
                await _until_counted(lambda: client.acked == 153)
                await _settled()
                assert client.acked == 153 and server.stats.throttled == 1
                clock.jump(1.0)  # 10 tokens more (10.875): 80 upload events
                await _until_counted(lambda: client.acked == 233)
                await _settled()
                assert client.acked == 233


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_burst_read_as_fast_as_it_comes_is_answered_without_a_disconnect(
    door: str,
) -> None:
    # the ASGI door's writer sends slower than the actor answers: the outbox overflowed and
    # an honest client (the burst a reconnect flushes) was closed as one reading too slowly
    with trio.fail_after(20):
        async with running_app(door) as server, open_page(server.base_url, "/counter") as client:
            inc = client.hid("#inc")
            for _ in range(200):  # the default burst: not throttled
                await client.send_event(inc, "click")
            await client.wait_for(lambda: client.acked == 200)
            await client.synced()
            assert client.text("#count") == "200"
            manager = server.app.front.manager
            assert manager is not None and manager.statistics().resyncs == 0
            assert client.closed is None


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_a_throttled_session_still_runs_its_timers(clock: MockClock, door: str) -> None:
    # The reader's wait for a token holds only the socket: the session's own work (a timer
    # here; a broadcast alike) goes on meanwhile, and the held clicks come in later.
    with trio.fail_after(20):
        async with running_app(door, event_rate=1, event_burst=5) as server:
            async with open_page(server.base_url, "/ticker") as client:
                inc = client.hid("#inc")
                ticks = client.text("#ticks")
                with _stopped(clock):
                    for _ in range(8):
                        await client.send_event(inc, "click")
                    await _until_counted(lambda: client.text("#count") == "5")
                    assert client.text("#ticks") == ticks
                    clock.jump(0.5)  # two ticks due, no token yet (one a second)
                    await _until_counted(lambda: client.text("#ticks") != ticks)
                    await _settled()
                    assert client.text("#count") == "5"
                    for _ in range(3):
                        clock.jump(1.0)
                    await _until_counted(lambda: client.acked == 8)
                assert client.text("#count") == "8" and client.errors == []


async def test_an_oversize_frame_gets_too_big_and_the_session_survives() -> None:
    with trio.fail_after(20):
        async with running_app(max_frame_bytes=1024) as server:
            async with open_page(server.base_url, "/counter") as client:
                await client.click("#inc")
                await client.synced()
                await client.send_raw(b"\x93" + b"\x00" * 2000)
                closed = await client.wait_closed()
                assert closed.code == CloseCode.TOO_BIG
                assert client.errors[-1].code == ErrorCode.TOO_BIG
                assert "1024" in client.errors[-1].message
            async with open_live(server.base_url, client.shell) as again:
                again.seq, again.document = client.seq, client.document
                await again.hello()
                await again.connected()
                assert again.text("#count") == "1"


async def test_the_session_limit_answers_503_and_is_counted() -> None:
    with trio.fail_after(20):
        async with running_app(max_sessions=2) as server:
            first = await http_get(server.base_url + "/counter")
            second = await http_get(server.base_url + "/counter")
            third = await http_get(server.base_url + "/counter")
            assert (first.status, second.status, third.status) == (200, 200, 503)
            assert third.headers["retry-after"] == "1"
            assert "session limit" in third.text
            counters = await metrics(server.base_url)
            assert counters["vango_sessions_refused_total"] == 1
            health = await http_get(server.base_url + "/vango/health")
            assert health.status == 200


async def test_sockets_per_address_are_limited_and_counted() -> None:
    with trio.fail_after(20):
        async with running_app(max_connections_per_address=2) as server:
            shell = await load_page(server.base_url, "/counter")
            async with (
                open_live(server.base_url, shell) as one,
                open_live(server.base_url, shell) as two,
            ):
                async with open_live(server.base_url, shell) as three:
                    closed = await three.wait_closed()
                    assert closed.code == TRY_AGAIN_LATER
                    assert [e.code for e in three.errors] == [ErrorCode.BUSY]
                    assert three.errors[0].message == (
                        "too many live connections from 127.0.0.1: the limit is 2 per address"
                    )
                assert server.stats.refused_connections == 1
                del one, two
            # both closed: the address may connect again
            with trio.fail_after(5):
                while server.stats.limiter.connections("127.0.0.1"):
                    await trio.sleep(0.01)  # the server notices the close on its own task
            async with open_live(server.base_url, shell) as four:
                await four.hello()
                await four.connected()
            counters = await metrics(server.base_url)
            assert counters["vango_live_refused_connections_total"] == 1


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_sockets_refused_per_address_are_logged_once_with_the_setting(
    door: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator whose users share an address (a NAT, a proxy) must see why they are
    refused: one line naming the address and the setting, not one per socket (before: none,
    only a counter)."""
    monkeypatch.setattr(live, "refusals", live._Warnings())
    caplog.set_level(logging.WARNING, logger="vango_actors.live")
    with trio.fail_after(20):
        async with running_app(door, max_connections_per_address=1) as server:
            shell = await load_page(server.base_url, "/counter")
            async with open_live(server.base_url, shell):
                for _ in range(3):
                    async with open_live(server.base_url, shell) as refused:
                        assert (await refused.wait_closed()).code == TRY_AGAIN_LATER
            assert server.stats.refused_connections == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "vango_actors.live"]
    assert len(lines) == 1, lines
    assert "too many live connections from 127.0.0.1" in lines[0]
    assert "VANGO_MAX_CONNECTIONS_PER_ADDRESS" in lines[0]


async def test_guessed_session_ids_and_tokens_are_refused_and_counted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "refusals", live._Warnings())  # (none logged yet this period)
    with trio.fail_after(20):
        async with running_app(token_max_age=60) as server:
            shell = await load_page(server.base_url, "/counter")
            assert len(shell.session_id) >= 32  # 24 random bytes, url-safe base64
            guessed = type(shell)(secrets.token_urlsafe(24), shell.token, None, "")
            async with open_live(server.base_url, guessed) as client:
                await client.hello()  # a genuine token, for another session id
                closed = await client.wait_closed()
                assert closed.code == CloseCode.POLICY_VIOLATION
                assert client.errors[0].message == "token was issued for another session"
            async with open_live(server.base_url, shell) as client:
                await client.send_frame(Hello(1, shell.session_id, "x" * 80, 0, 0, "/"))
                assert (await client.wait_closed()).code == CloseCode.POLICY_VIOLATION
            async with open_live(server.base_url, shell, origin="http://evil.example") as client:
                await client.hello()
                assert (await client.wait_closed()).code == CloseCode.POLICY_VIOLATION
                assert client.errors[0].code == ErrorCode.BAD_ORIGIN
            async with open_live(server.base_url, shell, origin=None) as client:
                await client.hello()
                assert (await client.wait_closed()).code == CloseCode.POLICY_VIOLATION
            counters = await metrics(server.base_url)
            assert counters["vango_live_bad_tokens_total"] == 2
            assert counters["vango_live_refused_origins_total"] == 2
            # logged too, one line per kind and 10 s: the second of each is held back
            logged = [r.getMessage() for r in caplog.records if r.name == "vango_actors.live"]
            assert logged == [
                "live socket refused: token was issued for another session",
                "live socket refused (peer 127.0.0.1): Origin 'http://evil.example' is not "
                f"allowed: expected '{server.base_url}'",
            ]
            # the real owner is unaffected
            async with open_live(server.base_url, shell) as owner:
                await owner.hello()
                assert not (await owner.connected()).resumed


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_refused_sockets_are_logged_with_the_session_they_named(
    door: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal line (bad origin, bad token, protocol error) carries the ``session_id`` field
    of the session the socket asked for, as the runtime's own lines do, so an operator can
    follow one session through the logs (before: the field was missing; the token never is)."""
    monkeypatch.setattr(live, "refusals", live._Warnings())
    caplog.set_level(logging.WARNING, logger="vango_actors.live")
    with trio.fail_after(20):
        async with running_app(door) as server:
            shell = await load_page(server.base_url, "/counter")
            async with open_live(server.base_url, shell, origin="http://evil.example") as client:
                await client.wait_closed()  # refused before any HELLO
            async with open_live(server.base_url, shell) as client:
                await client.hello(token="forged." + shell.token[-10:])
                await client.wait_closed()
            async with open_live(server.base_url, shell) as client:
                await client.send_raw(b"\xff\x00 not a frame")
                await client.wait_closed()
    records = [r for r in caplog.records if r.name == "vango_actors.live"]
    assert len(records) == 3, [r.getMessage() for r in records]
    for record in records:
        assert getattr(record, "session_id", None) == shell.session_id, record.getMessage()
        assert shell.token not in record.getMessage()


async def test_events_are_counted_once_and_only_unbound_ones_as_dropped() -> None:
    """What docs/METRICS.md says: an event re-sent with a seq already handled counts in
    neither counter; one no element binds counts in both."""
    with trio.fail_after(20):
        async with running_app() as server, open_page(server.base_url, "/counter") as client:
            await client.click("#inc")
            await client.synced()
            await client.send_frame(Event(client.event_seq, client.hid("#inc"), "click", {}))
            await client.send_event(99_999, "click")
            await client.synced()
            counters = await metrics(server.base_url)
            assert client.text("#count") == "1"
    assert counters["vango_events_total"] == 2
    assert counters["vango_events_dropped_total"] == 1
