"""A client model for runtime tests: it attaches, reads and decodes frames, applies patches
to a reference DOM and sends events, exactly through the runtime <-> front contract."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

from vango_actors import Attachment, CreatedSession, SessionManager
from vango_actors.dom import Document
from vango_actors.protocol import VERSION, Error, Event, Frame, Hello, Patches, Welcome, decode


class Browser:
    """One browser tab on one session: the page, the applied seq and the event seq."""

    def __init__(self, manager: SessionManager, created: CreatedSession) -> None:
        self.manager = manager
        self.session_id = created.session_id
        self.doc = Document.from_html(created.html)
        self.seq = 0  # last PATCHES seq applied
        self.event_seq = 0
        self.acked = 0
        self.att: Attachment | None = None
        self.frames: list[Frame] = []  # everything received, decoded
        self.welcome: Welcome | None = None

    @classmethod
    async def open(cls, manager: SessionManager, root: type, props: Any = None) -> Browser:
        browser = cls(manager, await manager.create(root, props))
        await browser.connect()
        return browser

    async def connect(self) -> Welcome:
        self.att = await self.manager.attach(
            self.session_id, Hello(VERSION, self.session_id, "", self.seq, self.event_seq, "/")
        )
        frame = self.receive_nowait()
        assert isinstance(frame, Welcome), frame
        self.welcome = frame
        return frame

    def receive_nowait(self) -> Frame:
        assert self.att is not None
        frame = decode(self.att.outbox.receive_nowait())
        self._apply(frame)
        return frame

    def pump(self) -> list[Frame]:
        """Everything queued in the outbox right now, applied in order."""
        out: list[Frame] = []
        while True:
            try:
                out.append(self.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                return out

    async def settle(self) -> list[Frame]:
        """Let the session work off its mailbox, then read what it sent."""
        await trio.testing.wait_all_tasks_blocked()
        return self.pump()

    def _apply(self, frame: Frame) -> None:
        self.frames.append(frame)
        if isinstance(frame, Patches):
            self.doc.apply(frame.ops)
            self.seq = frame.seq
            self.acked = max(self.acked, frame.ack)
        elif isinstance(frame, Welcome):
            self.acked = max(self.acked, frame.ack)

    def hid(self, selector: str) -> int:
        found = self.doc.select(selector)
        assert len(found) == 1, f"{selector!r} matches {len(found)} elements"
        hid = found[0].hid
        assert hid is not None
        return hid

    def text(self, selector: str) -> str:
        found = self.doc.select(selector)
        assert len(found) == 1, f"{selector!r} matches {len(found)} elements"
        return found[0].text_content

    async def send(
        self,
        hid: int,
        type: str = "click",
        payload: dict[str, Any] | None = None,
        *,
        seq: int | None = None,
    ) -> int:
        """Deliver an EVENT (next seq unless given); returns its seq."""
        assert self.att is not None
        if seq is None:
            self.event_seq += 1
            seq = self.event_seq
        await self.att.deliver(Event(seq, hid, type, payload or {}))
        return seq

    async def click(self, selector: str) -> list[Frame]:
        await self.send(self.hid(selector))
        return await self.settle()

    def errors(self) -> list[Error]:
        return [f for f in self.frames if isinstance(f, Error)]

    def patches(self) -> list[Patches]:
        return [f for f in self.frames if isinstance(f, Patches)]
