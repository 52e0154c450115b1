"""Presence in real Chromium: only pages a live socket claimed are online."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser import open_live
from tests.servers import Server, fetch

pytestmark = pytest.mark.browser

ONLINE_NAMES = "() => [...document.querySelectorAll('#online li')].map(l => l.dataset.name)"


def test_a_plain_get_of_chat_is_not_online(page: Page, server: Server) -> None:
    """A GET of /chat (curl, a crawler, JS off) renders a session nobody claims: its user is
    not put in everyone's online list for the half minute that session waits to expire."""
    found = re.search(r'id="me">([^<]+)<', fetch(server.url + "/chat").text)
    assert found is not None
    ghost = found.group(1)
    open_live(page, server.url + "/chat")
    me = page.text_content("#me")
    page.wait_for_function(f"() => ({ONLINE_NAMES})().includes({me!r})", timeout=10_000)
    assert ghost not in page.evaluate(ONLINE_NAMES)
