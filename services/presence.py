"""Presence: who is on which page, across processes, without a central store.

Every process's Presence service owns its *local* members (pages ``join`` at mount and
``leave`` at unmount, i.e. when the session ends) and broadcasts them on the ``presence``
topic: at once on a change, and every ``heartbeat`` seconds. Each process keeps the last
state heard from every other worker and forgets a worker it has not heard from for ``ttl``
seconds, so the users of a killed worker leave everyone's list within ``ttl`` (default
10 s, ``VANGO_PRESENCE_TTL``). A stopping worker says goodbye (its users leave at once); a
new worker says hello and everyone answers with their state. Pages subscribe to the local
topic ``presence:<page>`` (``Presence.topic_for``) and get the full member list on every
change.
"""

from __future__ import annotations

import os
import secrets
from typing import Any, ClassVar

import trio

from vango_actors.pubsub import PubSubUnavailable
from vango_actors.service import Service

TOPIC = "presence"
Members = dict[str, dict[str, dict[str, Any]]]  # page -> member id -> meta


def _ttl_from_env() -> float:
    raw = os.environ.get("VANGO_PRESENCE_TTL", "").strip()
    try:
        ttl = float(raw) if raw else 10.0
    except ValueError:
        raise ValueError(f"VANGO_PRESENCE_TTL: expected seconds, got {raw!r}") from None
    if not ttl > 0:
        raise ValueError(f"VANGO_PRESENCE_TTL: expected seconds > 0, got {raw!r}")
    return ttl


class Presence(Service):
    """Members per page across processes; ``members(page)`` is sorted by name, then id."""

    ttl: ClassVar[float] = _ttl_from_env()

    local: Members
    remote: dict[str, tuple[Members, float]]  # worker -> (its members, last heard)

    @property
    def heartbeat(self) -> float:
        return self.ttl / 3

    @staticmethod
    def topic_for(page: str) -> str:
        return f"presence:{page}"

    async def init(self) -> None:
        self.worker = secrets.token_hex(8)
        if not hasattr(self, "local"):
            self.local = {}  # the pages own these: they survive a restart of the service
        self.remote = {}
        self.broadcast_errors = 0
        self._changed = trio.Event()  # set when this process's members changed

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            sub = self.pubsub.subscribe(TOPIC)
            nursery.start_soon(self._listen, sub)
            nursery.start_soon(self._prune_every_heartbeat)
            await self._broadcast(hello=True)
            while True:  # broadcast after a change (several coalesce), else every heartbeat
                with trio.move_on_after(self.heartbeat):
                    await self._changed.wait()
                self._changed = trio.Event()  # before publishing: a change meanwhile counts
                await self._broadcast()

    async def _prune_every_heartbeat(self) -> None:
        while True:
            await trio.sleep(self.heartbeat)
            self._prune()

    async def terminate(self) -> None:
        self.local = {}
        await self._broadcast(bye=True)

    # ---- API for pages
    async def join(self, page: str, member: str, meta: dict[str, Any]) -> None:
        await self.call(self._set, page, member, meta)

    async def leave(self, page: str, member: str) -> None:
        await self.call(self._set, page, member, None)

    def members(self, page: str) -> list[dict[str, Any]]:
        """Everyone on ``page`` in every live worker: ``[{"id": ..., **meta}]``."""
        found: dict[str, dict[str, Any]] = dict(self.local.get(page, {}))
        for pages, _ in self.remote.values():
            found.update(pages.get(page, {}))
        rows = [{**meta, "id": member} for member, meta in found.items()]
        return sorted(rows, key=lambda row: (str(row.get("name", "")), row["id"]))

    # ---- internals
    def _set(self, page: str, member: str, meta: dict[str, Any] | None) -> None:
        """Change this process's members; the broadcast is run()'s (a slow Redis must not hold
        up the page that joins or leaves, nor every call queued behind it)."""
        members = self.local.setdefault(page, {})
        if meta is None:
            members.pop(member, None)
            if not members:
                del self.local[page]
        else:
            members[member] = meta
        self._notify({page})
        self._changed.set()

    async def _listen(self, sub: Any) -> None:
        with sub:
            async for message in sub:
                self._on_message(message)

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict) or message.get("worker") == self.worker:
            return
        worker, pages = message.get("worker"), message.get("pages")
        if not isinstance(worker, str) or not isinstance(pages, dict):
            return
        before = self.remote.get(worker, ({}, 0.0))[0]
        if message.get("bye"):
            self.remote.pop(worker, None)
        else:
            self.remote[worker] = (pages, trio.current_time())
        self._notify(set(before) | set(pages))
        if message.get("hello"):
            self._changed.set()  # a new worker: tell it who is here now

    def _prune(self) -> None:
        horizon = trio.current_time() - self.ttl
        for worker, (pages, heard) in list(self.remote.items()):
            if heard < horizon:
                del self.remote[worker]
                self._notify(set(pages))

    def _notify(self, pages: set[str]) -> None:
        for page in pages:
            self.pubsub.publish_local(self.topic_for(page), self.members(page))

    async def _broadcast(self, *, hello: bool = False, bye: bool = False) -> None:
        message = {"worker": self.worker, "pages": self.local, "hello": hello, "bye": bye}
        try:
            await self.pubsub.publish(TOPIC, message)
        except PubSubUnavailable:
            self.broadcast_errors += 1  # the next heartbeat tries again
