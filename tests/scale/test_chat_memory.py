"""`/chat` with the memory backend: two sessions in one process see each other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio

from tests.liveclient import open_page
from tests.servers import Server, hypercorn_server

from .chatclient import me, messages, online, say, wait_message


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with hypercorn_server(env={"VANGO_SECRET_KEY": "chat-memory", "VANGO_PUBSUB": "memory"}) as s:
        yield s


async def test_chat_message_and_presence_within_one_process(server: Server) -> None:
    with trio.fail_after(20):
        async with open_page(server.url, "/chat") as a, open_page(server.url, "/chat") as b:
            await a.wait_for(lambda: online(a) == {me(a), me(b)})
            await b.wait_for(lambda: online(b) == {me(a), me(b)})
            await say(a, "hello from a")
            await wait_message(b, "hello from a")
            await wait_message(a, "hello from a")
            assert a.text("#chat-error") == ""
            await say(b, "  ")
            assert b.text("#chat-error") == "a chat message cannot be empty"
            async with open_page(server.url, "/chat") as c:  # history for a newcomer
                assert messages(c)[-1] == f"{me(a)}: hello from a"
