"""Events through the contract: ordering, acks, duplicates, unknown targets."""

from __future__ import annotations

import trio
import trio.testing

from vango_actors import SessionManager
from vango_actors.protocol import Error, ErrorCode, Patches, Welcome

from .harness import Browser
from .pages import Counter, SlowLog


async def test_click_patches_the_count_and_acks(rt: SessionManager) -> None:
    b = await Browser.open(rt, Counter, {"start": 5})
    assert b.welcome == Welcome(1, 0, 0, 15000, False)
    frames = await b.click("#inc")
    assert frames == [Patches(1, 1, [[0, b.hid("#count"), 0, "6"]])]
    await b.click("#dec")  # a handler taking the event
    await b.click("#dec")
    assert b.text("#count") == "4"
    assert (b.seq, b.acked) == (3, 3)


async def test_event_changing_nothing_gets_an_ack_only_frame(rt: SessionManager) -> None:
    class Idle(Counter):
        def inc(self) -> None:
            pass

    b = await Browser.open(rt, Idle)
    assert await b.click("#inc") == [Patches(1, 1, [])]


async def test_events_are_handled_in_arrival_order_one_at_a_time(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, SlowLog)
    log = b.hid("#log")
    await b.send(log, payload={"label": "a", "delay": 3})
    await b.send(log, payload={"label": "b", "delay": 0})
    await b.send(log, payload={"label": "c", "delay": 1})

    def shown() -> list[str]:
        return [li.text_content for li in b.doc.select("#log li")]

    await trio.sleep(2.5)
    assert await b.settle() == [] and shown() == []
    await trio.sleep(1)  # t=3.5: a done at 3, b right after; c needs until 4
    await b.settle()
    assert shown() == ["a", "b"]
    await trio.sleep(1)
    await b.settle()
    assert shown() == ["a", "b", "c"]
    assert [p.ack for p in b.patches()] == [1, 2, 3]


async def test_a_slow_handler_never_delays_another_session(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    slow = await Browser.open(rt, SlowLog)
    fast = await Browser.open(rt, Counter)
    start = trio.current_time()
    await slow.send(slow.hid("#log"), payload={"label": "a", "delay": 10})
    await fast.click("#inc")
    assert fast.text("#count") == "1"
    assert trio.current_time() == start  # the counter answered while the slow one sleeps
    assert slow.pump() == []
    await trio.sleep(10)
    await slow.settle()
    assert trio.current_time() == start + 10
    assert slow.text("#log") == "a"


async def test_duplicate_event_seq_is_acked_and_not_applied_twice(rt: SessionManager) -> None:
    b = await Browser.open(rt, Counter)
    inc = b.hid("#inc")
    await b.send(inc, seq=1)
    await b.send(inc, seq=2)
    await b.send(inc, seq=2)  # re-sent after a reconnect, say
    await b.send(inc, seq=1)
    frames = await b.settle()
    assert b.text("#count") == "2"
    assert frames[-2:] == [Patches(3, 2, []), Patches(4, 2, [])]
    assert rt.session_statistics(b.session_id).events_handled == 2


async def test_unknown_hid_and_unbound_type_are_dropped_with_an_error(rt: SessionManager) -> None:
    b = await Browser.open(rt, Counter)
    await b.send(999)
    await b.send(b.hid("#count"))  # a span without bindings
    await b.send(b.hid("#inc"), "input", {"value": "x"})
    await b.settle()
    assert b.errors() == [
        Error(ErrorCode.UNKNOWN_TARGET, "event 'click' on h999: no element with that hid is bound"),
        Error(ErrorCode.UNKNOWN_TARGET, "event 'click' on h2: no element with that hid is bound"),
        Error(ErrorCode.UNKNOWN_TARGET, "event 'input' on h3: the element does not bind it"),
    ]
    assert [p.ack for p in b.patches()] == [1, 2, 3]  # still acknowledged
    assert rt.session_statistics(b.session_id).dropped_events == 3
    assert (await b.click("#inc")) and b.text("#count") == "1"  # and the session goes on
