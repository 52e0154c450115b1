"""Helpers for driving `/chat` with protocol clients (tests/liveclient.py)."""

from __future__ import annotations

import json

import trio

from tests.liveclient import LiveClient, http_get


async def say(client: LiveClient, text: str) -> None:
    """Submit ``text`` in #chat-form and wait for the answer to the submit."""
    await client.send_event(client.hid("#chat-form"), "submit", {"form": {"text": text}})
    await client.synced()


def messages(client: LiveClient) -> list[str]:
    return [li.text_content for li in client.document.select("#messages li")]


def online(client: LiveClient) -> set[str]:
    return {li.attrs["data-name"] for li in client.document.select("#online li")}


def me(client: LiveClient) -> str:
    return client.text("#me")


async def wait_message(client: LiveClient, text: str) -> None:
    await client.wait_for(lambda: any(m.endswith(f": {text}") for m in messages(client)))


async def health(base_url: str) -> dict[str, object]:
    response = await http_get(base_url + "/vango/health")
    body: dict[str, object] = json.loads(response.text)
    return body


async def wait_pubsub_ok(base_url: str) -> None:
    """Poll /vango/health until the pub/sub link of that server is up."""
    while True:
        pubsub = (await health(base_url)).get("pubsub")
        if isinstance(pubsub, dict) and pubsub.get("status") == "ok":
            return
        await trio.sleep(0.05)  # another process: polling is the only way to see it
