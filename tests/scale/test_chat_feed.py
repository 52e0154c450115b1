"""/chat's message list (ChatFeed): a stream, so a new message costs each session one row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app_routes.chat import ChatFeed, row_html
from tests.runtime.harness import Browser
from vango_actors import Component, Element, h, open_runtime
from vango_actors.protocol import Patches
from vango_actors.pubsub import open_pubsub


def msg(n: int, text: str | None = None) -> dict[str, Any]:
    return {"id": f"m{n}", "user": "ann", "text": text or f"hello {n}", "at": 0}


HISTORY = [msg(1), msg(2)]


def history() -> list[dict[str, Any]]:
    return HISTORY


class Page(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        pass

    def render(self) -> Element:
        return h.main(h(ChatFeed, topic="chat:t", history=history, limit=3))


def rows(browser: Browser) -> list[str]:
    return [li.text_content for li in browser.doc.select("#messages li")]


async def test_rows_come_as_stream_ops_capped_deduplicated_and_escaped() -> None:
    async with open_pubsub() as broker, open_runtime() as rt:
        browser = await Browser.open(rt, Page)
        await browser.settle()
        assert rows(browser) == ["ann: hello 1", "ann: hello 2"]  # in the first HTML

        await broker.publish("chat:t", msg(3, "<b>hi</b>"))
        (frame,) = await browser.settle()
        assert isinstance(frame, Patches)
        html = row_html("m3", "ann", "<b>hi</b>")
        assert "&lt;b&gt;" in html
        assert frame.ops == [
            [13, "stream", {"do": "insert", "at": -1, "html": [html], "name": "messages"}]
        ]
        assert rows(browser) == ["ann: hello 1", "ann: hello 2", "ann: <b>hi</b>"]

        await broker.publish("chat:t", msg(4))  # past the limit of 3: the oldest row goes
        (frame,) = await browser.settle()
        assert isinstance(frame, Patches)
        assert [op[2]["do"] for op in frame.ops] == ["insert", "delete"]
        assert rows(browser) == ["ann: hello 2", "ann: <b>hi</b>", "ann: hello 4"]

        await broker.publish("chat:t", msg(4))  # a duplicate
        await broker.publish("chat:t", {"id": 5, "text": None})  # not a message
        await broker.publish("chat:t", "junk")
        assert await browser.settle() == []  # nothing changed: nothing sent
        assert rows(browser) == ["ann: hello 2", "ann: <b>hi</b>", "ann: hello 4"]


def sent(n: int, at: float) -> dict[str, Any]:
    return {**msg(n), "at": at}


async def test_late_messages_go_to_the_place_they_were_sent_in() -> None:
    # a process whose listener was down catches up on what others sent meanwhile: those
    # messages arrive after newer ones, and were shown at the end of the feed
    async with open_pubsub() as broker, open_runtime() as rt:
        HISTORY[:] = [sent(1, 10), sent(3, 30)]
        try:
            browser = await Browser.open(rt, Page)
            await browser.settle()
            await broker.publish("chat:t", sent(2, 20))  # late: between 1 and 3
            await browser.settle()
            assert rows(browser) == ["ann: hello 1", "ann: hello 2", "ann: hello 3"]
            await broker.publish("chat:t", sent(0, 5))  # older than every row of a full feed
            assert await browser.settle() == []  # not shown: it would fall out at once
            await broker.publish("chat:t", sent(4, 40))
            await broker.publish("chat:t", {**msg(5), "at": "when?"})  # no time: at the end
            await browser.settle()
            assert rows(browser) == ["ann: hello 3", "ann: hello 4", "ann: hello 5"]
        finally:
            HISTORY[:] = [msg(1), msg(2)]


async def test_a_history_out_of_order_is_shown_in_order() -> None:
    async with open_runtime() as rt:
        HISTORY[:] = [sent(2, 20), sent(1, 10)]  # kept by Redis, then one received here
        try:
            browser = await Browser.open(rt, Page)
            await browser.settle()
            assert rows(browser) == ["ann: hello 1", "ann: hello 2"]
        finally:
            HISTORY[:] = [msg(1), msg(2)]
