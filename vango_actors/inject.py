"""The page shell: root container + client script for live pages, and the document layout.

A server-driven page's root component HTML goes inside the session's root container
(``data-hid="h0"``, session id, signed token, optional live URL), followed by the client
``<script src=... defer>``; a static page gets neither. See "Page shell and the client" in
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import attrs

from . import html as html_render
from .navigation import RICH_MARKERS as RICH_MARKERS
from .navigation import needs_rich as needs_rich
from .tokens import TokenClaims, TokenSigner
from .vdom import Node

#: Long-lived caching for the content-hashed client script.
CLIENT_CACHE_CONTROL = "public, max-age=31536000, immutable"
CLIENT_CONTENT_TYPE = "text/javascript; charset=utf-8"

DEFAULT_STYLESHEET = """\
*,*::before,*::after{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main,[data-vango-root]>*{max-width:44rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 1rem}
a{color:#2456c7}
button{font:inherit;padding:.35rem .9rem;border:1px solid #b7bfcc;border-radius:6px;\
background:#fff;cursor:pointer}
button:hover{background:#eef1f6}
input{font:inherit;padding:.35rem .6rem;border:1px solid #b7bfcc;border-radius:6px}
.error{color:#b3261e;min-height:1.5em}
.ok{color:#1b7f3b}
.vango-loading{opacity:.6}
[data-vango-root].vango-disconnected::before{content:"Reconnecting\\2026";position:fixed;\
top:0;left:0;right:0;padding:.3rem;text-align:center;background:#fff3c4;color:#5c4500}
[data-vango-root].vango-error::before{content:"Disconnected: this page is open in another \
tab or was refused. Reload it to go on.";position:fixed;top:0;left:0;right:0;padding:.3rem;\
text-align:center;background:#fde0dc;color:#7a1c12}
"""


@attrs.frozen
class PageSession:
    """What the shell of a live page needs: the session and what its token vouches for."""

    session_id: str
    route: str  # route pattern, e.g. "/users/<id>"
    params: Mapping[str, Any] = attrs.field(factory=dict)
    data: Mapping[str, Any] = attrs.field(factory=dict)  # signed session data (e.g. user id)
    live_url: str | None = None  # None: same origin, /vango/live/<session>
    dev: bool = False  # the page shows an error overlay for ERROR frames (DEV_OVERLAY)


def sign_token(signer: TokenSigner, session: PageSession) -> str:
    """The live token bound to the session id, route and (stringified) path params."""
    params = {name: str(value) for name, value in session.params.items()}
    claims = TokenClaims(session.session_id, session.route, params, dict(session.data))
    return signer.sign(claims)


def root_container(inner_html: str, session: PageSession, token: str) -> str:
    """The root container (hid 0) around the root component's HTML."""
    attributes = [
        ("data-hid", "h0"),
        ("data-vango-root", None),
        ("data-vango-session", session.session_id),
        ("data-vango-token", token),
    ]
    if session.live_url is not None:
        attributes.append(("data-vango-live", session.live_url))
    if session.dev:
        attributes.append(("data-vango-dev", None))

    rendered = "".join(
        f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"'
        for name, value in attributes
    )
    return f"<div{rendered}>{inner_html}</div>"


#: The dev error overlay (dev pages only): shows each ``vango:error`` event the client
#: dispatches for an ERROR frame; a click dismisses it.
DEV_OVERLAY = (
    "<style>#vango-overlay{position:fixed;bottom:0;left:0;right:0;z-index:99999;padding:8px;"
    "background:#b00020;color:#fff;white-space:pre-wrap;cursor:pointer}</style>"
    "<script>document.addEventListener('vango:error',(e)=>{"
    "let o=document.getElementById('vango-overlay');"
    "if(!o){o=document.createElement('div');o.id='vango-overlay';"
    "o.onclick=()=>o.remove();document.body.append(o)}"
    "o.textContent='vango error '+e.detail.code+': '+e.detail.message})</script>"
)


def script_tag(src: str) -> str:
    """The deferred client script tag."""
    return f'<script src="{escape(src, quote=True)}" defer></script>'


def inject_client(
    root: str | Node,
    session: PageSession | None,
    *,
    signer: TokenSigner | None = None,
    client_src: str = "",
    rich_src: str = "",
) -> str:
    """Body HTML for a page: a live page (``session`` given) gets the root container with a
    signed token and the client script; a static page (``session`` None) is just rendered."""
    inner = root if isinstance(root, str) else html_render.render(root)
    if session is None:
        return inner
    if signer is None or not client_src:
        raise ValueError("inject_client: a live page needs a token signer and the client URL")
    token = sign_token(signer, session)
    scripts = script_tag(client_src) + (script_tag(rich_src) if rich_src else "")
    if session.dev:
        scripts += DEV_OVERLAY
    return root_container(inner, session, token) + scripts


def document(title: str, body: str, *, stylesheet: str = DEFAULT_STYLESHEET) -> str:
    """A whole HTML document around ``body`` (already-rendered, trusted HTML)."""
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{stylesheet}</style></head>"
        f"<body>{body}</body></html>"
    )
