"""The page shell: exact root container, client script, static pages untouched."""

from __future__ import annotations

import re

import pytest

from vango_actors import h
from vango_actors.inject import DEV_OVERLAY, PageSession, document, inject_client
from vango_actors.tokens import TokenSigner

SIGNER = TokenSigner(["test-key"])
SRC = "/vango/client.0123456789ab.js"


def test_live_page_gets_root_container_and_client_script() -> None:
    session = PageSession("S1", "/users/<id>", {"id": 42})
    body = inject_client('<p data-hid="h1">hi</p>', session, signer=SIGNER, client_src=SRC)
    found = re.fullmatch(
        r'<div data-hid="h0" data-vango-root data-vango-session="S1" data-vango-token="([^"]+)">'
        r'<p data-hid="h1">hi</p></div>'
        r'<script src="/vango/client\.0123456789ab\.js" defer></script>',
        body,
    )
    assert found, body
    claims = SIGNER.verify(found.group(1), "S1")
    assert (claims.route, claims.params, claims.data) == ("/users/<id>", {"id": "42"}, {})


def test_optional_live_url_and_dev_flag_are_escaped_attributes() -> None:
    session = PageSession("S2", "/", live_url='ws://h:1/vango/live/S2?"x', dev=True)
    body = inject_client("<p></p>", session, signer=SIGNER, client_src=SRC)
    assert ' data-vango-live="ws://h:1/vango/live/S2?&quot;x" data-vango-dev>' in body
    assert body.endswith(DEV_OVERLAY)  # the dev error overlay, dev pages only
    assert DEV_OVERLAY not in inject_client(
        "<p></p>", PageSession("S3", "/"), signer=SIGNER, client_src=SRC
    )


def test_static_page_gets_no_client() -> None:
    body = inject_client(h.main(h.h1("Hello <you>"), id="x"), None)
    assert "<script" not in body and "data-vango" not in body
    assert "Hello &lt;you&gt;" in body


def test_live_page_without_signer_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs a token signer and the client URL"):
        inject_client("<p></p>", PageSession("S", "/"))


def test_document_layout() -> None:
    page = document("A <b> title", "<main></main>")
    assert page.startswith('<!doctype html><html lang="en"><head><meta charset="utf-8">')
    assert "<title>A &lt;b&gt; title</title><style>" in page
    assert page.endswith("<body><main></main></body></html>")
