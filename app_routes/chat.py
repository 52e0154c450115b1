"""`/chat`: one room for every session in every worker process (pub/sub + services).

Messages go through the ChatRoom service (``services/chat.py``), which publishes them on
``chat:lobby``. The page is three components, so that a message costs each session O(1):

- :class:`ChatFeed` (``#messages``) subscribes to the room's topic and shows the last
  ``ChatRoom.history_size`` messages as a :class:`~vango_actors.streams.Stream`: a new
  message is one ``CALL "stream"`` op with the row's HTML (rendered once per process and
  shared by every session, see :func:`row_html`), plus one delete when the oldest row falls
  out. No message list is kept, re-rendered or diffed per session.
- :class:`Online` (``#online``) subscribes to the page's presence topic.
- :class:`Chat`, the page, joins the Presence service once a live socket has it (in
  ``connected``: a page fetched but never connected is nobody) until the session ends, and
  owns the form.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from services.chat import ChatRoom
from services.presence import Presence
from vango_actors import Element, h
from vango_actors import html as _html
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.pubsub import PubSubUnavailable
from vango_actors.routing import live_page
from vango_actors.service import ServiceUnavailable
from vango_actors.streams import Stream

PAGE = "/chat"
UNAVAILABLE = "Chat is unavailable right now; your message was not sent. Try again shortly."
SLOW = "Chat is slow right now; your message may still arrive. Check before sending it again."

Message = dict[str, Any]


def member_id(session_id: str) -> str:
    """A public id for a session (the session id itself is a secret)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]


def valid_message(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("id"), str)
        and isinstance(message.get("user"), str)
        and isinstance(message.get("text"), str)
    )


def _sent_at(message: Message, default: float) -> float:
    """When ``message`` was sent (its ``at``); ``default`` when it does not say."""
    at = message.get("at")
    if isinstance(at, (int, float)) and not isinstance(at, bool) and at == at:  # (not NaN)
        return float(at)
    return default


@functools.lru_cache(maxsize=1024)
def row_html(key: str, user: str, text: str) -> str:
    """One message row as a stream item. Cached: every session of this process that shows
    the message sends the same bytes, so it is rendered once, not once per session."""
    return _html.render(
        h.li(
            h.strong(user),
            ": ",
            h.span(text, class_="text"),
            class_="message",
            data_stream_key=key,
        )
    )


class _Rows(Stream[Message]):
    def item_html(self, item: Message) -> str:
        return row_html(item["id"], item["user"], item["text"])


def _row(message: Message) -> Element:  # the same row as an element (Stream's render_item)
    return h.li(h.strong(message["user"]), ": ", h.span(message["text"], class_="text"))


class ChatFeed(Component):
    """``#messages``: the last ``limit`` messages of ``topic`` (props ``topic``, ``history``
    (a callable returning the messages to start with, oldest first) and ``limit``)."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.limit: int = props.get("limit", ChatRoom.history_size)
        # (sent at, id) of the rows shown, oldest first (no messages are kept)
        self.order: deque[tuple[float, str]] = deque()
        self.shown: set[str] = set()
        self.rows = _Rows(self, "messages", _row, tag="ul")
        self.subscribe(props["topic"], self.on_message)
        history: Callable[[], Iterable[Any]] = props["history"]
        self.show(history())

    def on_message(self, message: Any) -> None:
        self.show((message,))

    def show(self, messages: Iterable[Any]) -> None:
        """Show the valid messages not shown yet in the order they were sent (one that comes
        late, caught up after a pub/sub outage, goes to its place); drop the oldest rows past
        ``limit``."""
        fresh = [m for m in messages if valid_message(m) and m["id"] not in self.shown]
        if not fresh:
            return
        tail: list[Any] = []  # (the usual case: after every row shown, one op for them all)
        for message in fresh:
            at = _sent_at(message, self.order[-1][0] if self.order else 0.0)
            row = (at, message["id"])
            self.shown.add(message["id"])
            if not self.order or row >= self.order[-1]:
                tail.append(message)
                self.order.append(row)
            elif len(self.order) >= self.limit and row < self.order[0]:
                self.shown.discard(message["id"])  # older than every row kept: not shown
            else:
                index = bisect.bisect(self.order, row)
                self.order.insert(index, row)
                self.rows.insert_at(index, message)
        self.rows.append(tail)
        while len(self.order) > self.limit:
            _, oldest = self.order.popleft()
            self.shown.discard(oldest)
            self.rows.delete(oldest)

    def render(self) -> Element:
        return self.rows.container(id="messages")


class Online(Component):
    """``#online``: who is on the page, in every worker (props ``me``: my member id)."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.me: str = props["me"]
        self.subscribe(Presence.topic_for(PAGE), self.on_presence)
        self.members = Presence.instance().members(PAGE)

    def on_presence(self, members: list[dict[str, Any]]) -> None:
        self.members = members

    def render(self) -> Element:
        return h.ul([_member(m, self.me) for m in self.members], id="online")


class ChatInput(Component):
    """The text box; re-keyed after each send, so the browser gets a fresh, empty one."""

    def mount(self, props: Mapping[str, Any]) -> None:
        if props.get("focus"):
            self.focus()

    def render(self) -> Element:
        return h.input(
            id="chat-input",
            name="text",
            type="text",
            autocomplete="off",
            maxlength=500,
            placeholder="Say something",
        )


@live_page(title="Chat")
class Chat(Component):
    async def mount(self, props: Mapping[str, Any]) -> None:
        self.room = ChatRoom.instance()
        self.presence = Presence.instance()
        self.member = member_id(self.session.id)
        self.name = f"guest-{self.member[:5]}"
        self.error = ""
        self.sent = 0
        self._joined = False

    async def connected(self) -> None:
        """Online from when a live socket has the page (not for a bare GET of it)."""
        await self.presence.join(PAGE, self.member, {"name": self.name})
        self._joined = True

    async def unmount(self) -> None:
        if not self._joined:
            return  # never connected: nobody to take off the list
        try:
            await self.presence.leave(PAGE, self.member)
        except ServiceUnavailable:
            pass  # shutting down: the presence service is gone with every member

    async def send(self, event: Event) -> None:
        form = event.payload.get("form", {})
        text = form.get("text", "") if isinstance(form, dict) else ""
        try:
            await self.room.post(self.name, str(text))
        except ValueError as exc:
            self.error = str(exc)
        except PubSubUnavailable as exc:  # a timeout: Redis may deliver it late
            self.error = SLOW if exc.maybe_sent else UNAVAILABLE
        except ServiceUnavailable:
            self.error = UNAVAILABLE
        else:
            self.error = ""
            self.sent += 1

    def render(self) -> Element:
        return h.main(
            h.h1("Chat"),
            h.p("You are ", h.strong(self.name, id="me"), "."),
            h.div(
                h(ChatFeed, topic=self.room.topic, history=self.room.history),
                h.aside(h.h2("Online"), h(Online, me=self.member)),
                class_="chat",
            ),
            h.form(
                h(ChatInput, key=self.sent, focus=self.sent > 0),
                h.button("Send", type="submit", id="chat-send"),
                id="chat-form",
                on_submit=self.send,
            ),
            h.p(self.error, id="chat-error", class_="error"),
            h.p(h.a("all demos", href="/")),
        )


def _member(member: dict[str, Any], me: str) -> Element:
    name = str(member.get("name", "?"))
    return h.li(
        name + (" (you)" if member["id"] == me else ""),
        key=str(member["id"]),
        data_member=str(member["id"]),
        data_name=name,
    )
