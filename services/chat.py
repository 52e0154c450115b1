"""The chat room service: keeps the last N messages, fans new ones out through pub/sub.

``await ChatRoom.instance().post(user, text)`` publishes on ``chat:<room>`` (every process
sharing the backend receives it) and keeps it among the room's last ``history_size``
messages in the backend (``publish_and_keep``: with Redis a capped list that every process
shares). Pages subscribe to :data:`ChatRoom.topic` and read :meth:`ChatRoom.history` at
mount: each process's room holds a local copy, loaded from the backend when the room starts
(a worker started later, or restarted, shows the messages sent before it) and kept up to
date by the subscription. If Redis is down when the room starts, it loads once Redis is back.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from typing import Any, ClassVar

import trio

from vango_actors.pubsub import PubSubUnavailable
from vango_actors.service import Service

log = logging.getLogger("services.chat")

MAX_LENGTH = 500  # characters in one message
MAX_NAME = 40


class ChatRoom(Service):
    """One chat room per process; messages are dicts ``{id, user, text, at}``."""

    history_size: ClassVar[int] = 50
    room: ClassVar[str] = "lobby"

    history_: deque[dict[str, Any]]

    @property
    def topic(self) -> str:
        return f"chat:{self.room}"

    async def init(self) -> None:
        self.history_ = deque(maxlen=self.history_size)
        self._seen: set[str] = set()
        try:  # before the app serves pages (bounded by the broker's timeout)
            self._merge(await self.pubsub.recent(self.topic, self.history_size))
        except PubSubUnavailable as exc:
            log.warning("chat history not loaded at start: %s", exc)

    async def run(self) -> None:
        with self.pubsub.subscribed(self.topic) as sub:  # first: nothing sent from now is missed
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._keep_history)
                async for message in sub:
                    self.remember(message)

    async def _keep_history(self) -> None:
        """Once subscribed (Redis: once the listener is up), and again after every reconnect
        of the listener, load what the backend kept: messages sent before the subscription,
        or by other processes while this one's listener was down, are not missed. Those this
        process lacked go to its open pages too (late, each in its place: the feed orders
        rows by ``at``)."""
        while True:
            seen = self.pubsub.reconnects
            await self.pubsub.wait_connected()
            try:
                kept = await self.pubsub.recent(self.topic, self.history_size)
            except PubSubUnavailable as exc:
                log.warning("chat history not loaded yet: %s", exc)
                await trio.sleep(1.0)
                continue
            for message in self._merge(kept):
                self.pubsub.publish_local(self.topic, message)
            await self.pubsub.wait_reconnect(seen)

    def _merge(self, kept: list[Any]) -> list[dict[str, Any]]:
        """The kept messages (oldest first), then those received here that they lack; returns
        the kept ones this process had not seen."""
        received, seen = list(self.history_), set(self._seen)
        self.history_.clear()
        self._seen.clear()
        for message in [*kept, *received]:
            self.remember(message)
        return [m for m in kept if _valid(m) and m["id"] not in seen]

    def remember(self, message: Any) -> None:
        if not _valid(message) or message["id"] in self._seen:
            return
        if len(self.history_) == self.history_.maxlen:
            self._seen.discard(self.history_[0]["id"])
        self.history_.append(message)
        self._seen.add(message["id"])

    def history(self) -> list[dict[str, Any]]:
        """The last ``history_size`` messages this process saw, oldest first."""
        return list(self.history_)

    async def post(self, user: str, text: str) -> dict[str, Any]:
        """Publish a message; ValueError for empty/oversize text, PubSubUnavailable if the
        backend cannot take it (then nothing was sent)."""
        text = text.strip()
        if not text:
            raise ValueError("a chat message cannot be empty")
        if len(text) > MAX_LENGTH:
            raise ValueError(f"a chat message has at most {MAX_LENGTH} characters, got {len(text)}")
        message = {
            "id": secrets.token_hex(8),
            "user": user[:MAX_NAME],
            "text": text,
            "at": time.time(),
        }
        await self.pubsub.publish_and_keep(self.topic, message, self.history_size)
        return message


def _valid(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("id"), str)
        and isinstance(message.get("user"), str)
        and isinstance(message.get("text"), str)
    )
