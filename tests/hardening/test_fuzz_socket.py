"""Protocol fuzzing over a real socket: thousands of random, mutated, truncated and oversize frames.

The oracle is the decoder itself (``decode_client``, run here): every frame the server must
refuse gets ERROR with exactly the decoder's code and message and the decoder's close code;
every valid EVENT is acknowledged (and an event for a hid the page does not bind gets
ERROR UNKNOWN_TARGET). Throughout, a bystander session stays connected and working, and at the
end a correct reconnect finds the fuzzed session's state (its click count) intact.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import msgpack
import pytest
import trio

from vango_actors.protocol import (
    DEFAULT_LIMITS,
    CloseCode,
    Error,
    ErrorCode,
    Event,
    Hello,
    Patches,
    Ping,
    Pong,
    ProtocolError,
    decode_client,
    encode,
)

from ..liveclient import LiveClient, PageShell, http_get, load_page, open_live, open_page
from .server import Server, metrics, running_app

SEED = 8
CONNECTIONS = 60  # each: a batch of frames, most of them ending with one fatal frame
BATCH = 50  # frames per connection (~3,000 frames in all)
PRE_HELLO = 80  # connections whose first frame is random


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 3 else 6)
    if choice == 0:
        return rng.randint(-(2**63), 2**64 - 1)
    if choice == 1:
        return rng.choice([None, True, False, 0, -1, 2**53, 1.5, float("nan"), float("inf")])
    if choice == 2:
        return "".join(chr(rng.randrange(0x20, 0x2FF)) for _ in range(rng.randrange(12)))
    if choice == 3:
        return rng.randbytes(rng.randrange(6))
    if choice == 4:
        return rng.choice(["click", "input", "submit", "value", "", "x" * 40_000])
    if choice == 5:
        return rng.randrange(100)
    if choice == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    if choice == 7:
        return {
            str(_random_value(rng, depth + 1)): _random_value(rng, depth + 1)
            for _ in range(rng.randrange(4))
        }
    return msgpack.ExtType(rng.randrange(128), rng.randbytes(3))


class Fuzzer:
    """Makes frames; tracks event seqs so most EVENTs are new and some are duplicates."""

    def __init__(self, rng: random.Random, shell: PageShell, inc_hid: int, avoid: set[int]):
        self.rng = rng
        self.shell = shell
        self.inc_hid = inc_hid
        self.avoid = avoid  # bound hids other than #inc: their handlers are not modelled
        self.seq = 0

    def event(self) -> Event:
        rng = self.rng
        self.seq = max(0, self.seq + rng.choice([1, 1, 1, 2, 0, -1]))
        hid = rng.choice([self.inc_hid, self.inc_hid, 999, 0, 2**40])
        kind = rng.choice(["click", "click", "input", "keydown", "submit"])
        payload = {"value": "x" * rng.randrange(20)} if kind == "input" else {}
        return Event(self.seq, hid, kind, payload)

    def fatal(self) -> bytes | str:
        """A frame the server must refuse (usually: the oracle decides)."""
        rng = self.rng
        valid = encode(self.event())
        choice = rng.randrange(9)
        if choice == 0:
            return valid[: rng.randrange(1, len(valid))]  # truncated
        if choice == 1:
            data = bytearray(valid)
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            return bytes(data)  # mutated
        if choice == 2:
            return b"\x00" * (DEFAULT_LIMITS.max_frame_bytes + rng.randrange(1, 5000))
        if choice == 3:
            return "a text message"
        if choice == 4:
            return rng.randbytes(rng.randrange(1, 40))
        if choice == 5:
            return encode(Hello(1, self.shell.session_id, self.shell.token, 0, 0, "/"))
        if choice == 6:  # a server-only frame type, or an unknown one
            return msgpack.packb([rng.choice([2, 4, 7, 8, 9, 0, 42, -1]), 1, 2, 3])
        if choice == 7:  # wrong arity / types around a known type
            return msgpack.packb([3, *[_random_value(rng) for _ in range(rng.randrange(7))]])
        return msgpack.packb(_random_value(rng))


def expected_refusal(data: bytes | str) -> ProtocolError | None:
    """What the server must answer to ``data`` on a live connection (None: not fatal)."""
    if isinstance(data, str):
        return ProtocolError(
            "expected a binary message, got a text message",
            close_code=CloseCode.UNSUPPORTED_DATA,
        )
    try:
        frame = decode_client(data)
    except ProtocolError as exc:
        return exc
    if isinstance(frame, Hello):
        return ProtocolError("unexpected HELLO: a connection sends HELLO once, first")
    return None


class Model:
    """What the fuzzed session must have done: clicks on #inc, dropped events, ack.

    Events are applied once the server is known to have handled them (WELCOME's ``ack`` on
    the next connection): a connection closed for a bad frame drops the events still in the
    mailbox, and the client re-sends them, like the browser client does.
    """

    def __init__(self, inc_hid: int) -> None:
        self.inc_hid = inc_hid
        self.ack = 0
        self.clicks = 0
        self.dropped = 0
        self.pending: list[Event] = []

    def settle(self, server_ack: int) -> list[Event]:
        """Apply the pending events the server handled; return those to re-send."""
        resend = []
        for event in self.pending:
            if event.seq > server_ack:
                resend.append(event)
            elif event.seq > self.ack:
                self.ack = event.seq
                if event.hid == self.inc_hid and event.type == "click":
                    self.clicks += 1
                else:
                    self.dropped += 1
        assert self.ack == server_ack, (self.ack, server_ack)
        self.pending = []
        return resend


async def _fuzz_one_connection(
    server: Server, shell: PageShell, fuzzer: Fuzzer, model: Model, fatal: bool
) -> bool:
    """One connection's batch; True if it ended with a refused frame."""
    rng = fuzzer.rng
    async with open_live(server.base_url, shell) as client:
        await client.hello()
        welcome = await client.connected()
        for event in model.settle(welcome.ack):
            model.pending.append(event)
            await client.send_frame(event)
        fuzzer.seq = max(fuzzer.seq, welcome.ack)
        for _ in range(BATCH - 1):
            frame: Any = fuzzer.event() if rng.random() < 0.8 else Ping(rng.randrange(2**31))
            if isinstance(frame, Event):
                model.pending.append(frame)
            await client.send_frame(frame)
        refusal: ProtocolError | None = None
        if fatal:
            data = fuzzer.fatal()
            refusal = expected_refusal(data)
            if refusal is None:  # the "fatal" frame happened to be valid
                decoded = decode_client(data)  # type: ignore[arg-type]
                if isinstance(decoded, Event):
                    if decoded.hid in fuzzer.avoid:
                        decoded = Event(decoded.seq, 999, decoded.type, decoded.payload)
                        data = encode(decoded)
                    model.pending.append(decoded)
                    fuzzer.seq = max(fuzzer.seq, decoded.seq)
            await client.send_raw(data)
        if refusal is None:
            top = max((e.seq for e in model.pending), default=0)
            with trio.fail_after(10):
                await client.wait_for(lambda: client.acked >= top)
            return False
        with trio.fail_after(10):
            closed = await client.wait_closed()
        errors = client.errors
        assert errors and errors[-1] == Error(refusal.code, refusal.message), (errors[-3:], refusal)
        assert closed.code == refusal.close_code, (closed, refusal)
        return True


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_fuzzed_frames_get_their_error_and_the_session_survives(door: str) -> None:
    rng = random.Random(SEED)
    with trio.fail_after(120):
        async with (
            running_app(door, event_rate=0) as server,
            open_page(server.base_url, "/counter") as bystander,
        ):
            shell = await load_page(server.base_url, "/counter")
            async with open_live(server.base_url, shell) as first:
                await first.hello()
                await first.connected()
                inc, grow = first.hid("#inc"), first.hid("#grow")
            fuzzer = Fuzzer(rng, shell, inc, {grow})
            model = Model(inc)
            before = server.stats.protocol_errors
            refused = 0
            for n in range(CONNECTIONS):
                fatal = n % 6 != 5
                refused += await _fuzz_one_connection(server, shell, fuzzer, model, fatal)
                if n % 10 == 0:  # the bystander is unaffected, all along
                    await bystander.click("#inc")
                    await bystander.synced()
            assert bystander.text("#count") == str(len(range(0, CONNECTIONS, 10)))
            assert server.stats.protocol_errors - before == refused > CONNECTIONS // 2
            # a correct reconnect finds the state: exactly the modelled clicks
            async with open_live(server.base_url, shell) as client:
                await client.hello()
                welcome = await client.connected()
                assert welcome.resumed and not model.settle(welcome.ack)
                await client.wait_for(lambda: bool(client.of_type(Patches)))
                assert client.text("#count") == str(model.clicks)
                stats = server.app.front.manager.session_statistics(shell.session_id)  # type: ignore[union-attr]
                assert stats.dropped_events == model.dropped
                assert model.clicks > 100 and model.dropped > 100


def _pre_hello_frame(rng: random.Random, shell: PageShell, other: PageShell) -> bytes | str:
    choice = rng.randrange(6)
    if choice == 0:
        return encode(Event(1, 1, "click", {}))
    if choice == 1:
        return encode(rng.choice([Ping(1), Pong(1)]))
    if choice == 2:  # HELLO naming another session than the URL
        return encode(Hello(1, other.session_id, other.token, 0, 0, "/"))
    if choice == 3:  # HELLO with another session's (genuine) token
        return encode(Hello(1, shell.session_id, other.token, 0, 0, "/"))
    if choice == 4:  # HELLO with a mangled token
        token = bytearray(shell.token.encode())
        token[rng.randrange(len(token))] ^= 1
        return encode(Hello(1, shell.session_id, token.decode("latin-1"), 0, 0, "/"))
    return Fuzzer(rng, shell, 1, set()).fatal()


def _expected_pre_hello(data: bytes | str, shell: PageShell) -> tuple[ErrorCode, int]:
    refusal = expected_refusal(data)
    if refusal is not None and "unexpected HELLO" not in refusal.message:
        return refusal.code, refusal.close_code
    frame = decode_client(data)  # type: ignore[arg-type]
    if not isinstance(frame, Hello):
        return ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR
    if frame.session_id != shell.session_id:
        return ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR
    if frame.token != shell.token:
        return ErrorCode.BAD_TOKEN, CloseCode.POLICY_VIOLATION
    raise AssertionError("the generator made a correct HELLO")


async def test_random_first_frames_are_refused_before_hello() -> None:
    rng = random.Random(SEED + 1)
    with trio.fail_after(60):
        async with running_app() as server, open_page(server.base_url, "/counter") as owner:
            await owner.click("#inc")
            await owner.synced()
            shell = owner.shell
            other = await load_page(server.base_url, "/counter")
            before = (server.stats.protocol_errors, server.stats.bad_tokens)
            protocol, tokens = 0, 0
            for _ in range(PRE_HELLO):
                data = _pre_hello_frame(rng, shell, other)
                code, close = _expected_pre_hello(data, shell)
                protocol += code != ErrorCode.BAD_TOKEN
                tokens += code == ErrorCode.BAD_TOKEN
                async with open_live(server.base_url, shell) as client:
                    await client.send_raw(data)
                    closed = await client.wait_closed()
                    assert [e.code for e in client.errors] == [code], (data, client.errors)
                    assert closed.code == close
            assert server.stats.protocol_errors - before[0] == protocol
            assert server.stats.bad_tokens - before[1] == tokens
            assert tokens > 5 and protocol > 40
            # the owner's connection was never disturbed
            await owner.click("#inc")
            await owner.synced()
            assert owner.text("#count") == "2"
            counters = await metrics(server.base_url)
            assert counters["vango_live_bad_tokens_total"] == server.stats.bad_tokens


async def test_events_for_another_sessions_hids_are_dropped_there() -> None:
    """Session B grows bound hids A never had; A's client sends events at them."""
    with trio.fail_after(20):
        async with (
            running_app() as server,
            open_page(server.base_url, "/counter") as a,
            open_page(server.base_url, "/counter") as b,
        ):
            for _ in range(3):
                await b.click("#grow")
                await b.synced()
            b_only = [el.hid for el in b.document.select("#items button")]
            assert b_only and all(hid is not None for hid in b_only)
            for hid in b_only:
                assert hid is not None
                await a.send_event(hid, "click")
            await a.synced()
            assert [e.code for e in a.errors] == [ErrorCode.UNKNOWN_TARGET] * len(b_only)
            assert a.text("#count") == "0" and b.text("#count") == "0"
            await _still_live(a)
            await _still_live(b)


async def _still_live(client: LiveClient) -> None:
    before = int(client.text("#count"))
    await client.click("#inc")
    await client.synced()
    assert client.text("#count") == str(before + 1)


@pytest.mark.parametrize("path", ["/vango/live/", "/counter"])
async def test_bytes_behind_an_upgrade_request_do_not_end_the_server(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Hypercorn answers bytes that follow a WebSocket upgrade request (before its 101) with a
    400 whose end it cannot send, and the error ended the whole server: every session of the
    worker, and with hypercorn's supervisor every worker (hypercorn issue 225). One
    connection's failure now ends that connection only."""
    with trio.fail_after(20):
        async with running_app() as server, open_page(server.base_url, "/counter") as bystander:
            shell = await load_page(server.base_url, "/counter")
            host = server.base_url.removeprefix("http://")
            target = path + shell.session_id if path.endswith("/") else path
            request = (
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\nOrigin: {server.base_url}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
            for _ in range(3):
                stream = await trio.open_tcp_stream("127.0.0.1", int(host.split(":")[1]))
                async with stream:
                    await stream.send_all(request + b"x")
                    received = b""
                    with trio.move_on_after(5):
                        while more := await stream.receive_some(65536):
                            received += more
                assert received.startswith(b"HTTP/1.1 400 "), received
            await bystander.click("#inc")
            await bystander.synced()
            assert bystander.text("#count") == "1"
            assert (await http_get(server.base_url + "/vango/health")).status == 200
    guarded = [r for r in caplog.records if "error in hypercorn" in r.getMessage()]
    assert len(guarded) <= 1  # one line per 10 s, however many connections
    if path == "/vango/live/":  # the live door's accept fails quietly (no traceback each)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
