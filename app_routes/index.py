"""`/`: a static page linking every demo."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.routing import page

DEMOS = [
    ("/counter", "Counter", "two buttons, one number, state on the server"),
    ("/clock", "Clock", "updated every second by a server timer, no client event"),
    ("/form", "Form", "debounced validation while you type, submit without a reload"),
    ("/todos", "Todos", "keyed list: add, toggle, delete"),
    ("/chat", "Chat", "messages reach every session in every worker"),
    ("/crash", "Crash", "a handler raises; the supervisor restarts the component"),
    ("/users/42", "User 42", "a path parameter"),
    ("/nav", "Navigation", "live links, push_patch, back/forward, flash across pages"),
    ("/nav_search", "Search", "typing into a slow server never loses a keystroke"),
    ("/hooks", "Hooks", "JS hooks, client commands, loading states"),
    ("/stream", "Streams", "a feed the browser keeps and the server forgets"),
    ("/upload", "Uploads", "files over the socket: chunks, progress, validation, cancel"),
]


@page(title="vango-actors demos")
def index() -> Element:
    items = [h.li(h.a(title, href=href), " \N{EM DASH} ", about) for href, title, about in DEMOS]
    return h.main(
        h.h1("vango-actors demos"),
        h.p(
            "Server-driven pages: the server renders and owns state; events travel over one "
            "WebSocket and come back as patches."
        ),
        h.ul(items, id="demos"),
    )
