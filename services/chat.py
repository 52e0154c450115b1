"""The chat room service: keeps the last N messages, fans new ones out through pub/sub.

``await ChatRoom.instance().post(user, text)`` publishes on ``chat:<room>`` (every process
sharing the backend receives it); pages subscribe to :data:`ChatRoom.topic` and read
:meth:`ChatRoom.history` at mount. Each process's room remembers what it received since it
started (a new worker starts with an empty history: pub/sub keeps nothing).
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Any, ClassVar

from vango_actors.service import Service

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

    async def run(self) -> None:
        with self.pubsub.subscribed(self.topic) as sub:
            async for message in sub:
                self.remember(message)

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
        await self.pubsub.publish(self.topic, message)
        return message


def _valid(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("id"), str)
        and isinstance(message.get("user"), str)
        and isinstance(message.get("text"), str)
    )
