"""`/chat`: one room for every session in every worker process (pub/sub + services).

Messages go through the ChatRoom service (``services/chat.py``), which publishes them on
``chat:lobby``; this page subscribes to that topic and to its presence topic, and joins the
Presence service (``#online``) for as long as the session lives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from services.chat import ChatRoom
from services.presence import Presence
from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.pubsub import PubSubUnavailable
from vango_actors.routing import live_page
from vango_actors.service import ServiceUnavailable

PAGE = "/chat"
UNAVAILABLE = "Chat is unavailable right now; your message was not sent. Try again shortly."


def member_id(session_id: str) -> str:
    """A public id for a session (the session id itself is a secret)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]


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
        self.messages = self.room.history()
        self.error = ""
        self.sent = 0
        self.subscribe(self.room.topic, self.on_message)
        self.subscribe(Presence.topic_for(PAGE), self.on_presence)
        await self.presence.join(PAGE, self.member, {"name": self.name})
        self.online = self.presence.members(PAGE)

    async def unmount(self) -> None:
        try:
            await self.presence.leave(PAGE, self.member)
        except ServiceUnavailable:
            pass  # shutting down: the presence service is gone with every member

    def on_message(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("id"), str):
            return
        if any(m["id"] == message.get("id") for m in self.messages):
            return  # already in the history this page started with
        self.messages = [*self.messages, message][-ChatRoom.history_size :]

    def on_presence(self, members: list[dict[str, Any]]) -> None:
        self.online = members

    async def send(self, event: Event) -> None:
        form = event.payload.get("form", {})
        text = form.get("text", "") if isinstance(form, dict) else ""
        try:
            await self.room.post(self.name, str(text))
        except ValueError as exc:
            self.error = str(exc)
        except (PubSubUnavailable, ServiceUnavailable):
            self.error = UNAVAILABLE
        else:
            self.error = ""
            self.sent += 1

    def render(self) -> Element:
        return h.main(
            h.h1("Chat"),
            h.p("You are ", h.strong(self.name, id="me"), "."),
            h.div(
                h.ul([_message(m) for m in self.messages], id="messages"),
                h.aside(
                    h.h2("Online"),
                    h.ul([_member(m, self.member) for m in self.online], id="online"),
                ),
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


def _message(message: dict[str, Any]) -> Element:
    return h.li(
        h.strong(str(message.get("user", "?"))),
        ": ",
        h.span(str(message.get("text", "")), class_="text"),
        key=str(message["id"]),
        class_="message",
    )


def _member(member: dict[str, Any], me: str) -> Element:
    name = str(member.get("name", "?"))
    return h.li(
        name + (" (you)" if member["id"] == me else ""),
        key=str(member["id"]),
        data_member=str(member["id"]),
        data_name=name,
    )
