"""Live navigation values: where a URL leads inside one session (sans-IO).

The runtime does not know routes or tokens; the front gives it a :data:`Navigator` that turns
a URL into a :class:`Destination` (a live page of this app: its class, props, title and a
token signed for the new route) or None (not a live page here: the client loads the URL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

if TYPE_CHECKING:
    from .component import Component, SessionInfo
    from .routing import Route, RouteTable


@attrs.frozen
class Destination:
    """A live page a URL leads to, as the front resolved it."""

    component: type[Component]
    props: Mapping[str, Any]
    route: str  # route pattern, e.g. "/users/<id>"
    title: str | None = None
    token: str = ""  # signed for ``route`` + params; "" when the front signs no tokens
    meta: Mapping[str, Any] = attrs.field(factory=dict)  # the session's data on that page
    rich: bool = False  # the page needs the optional client script (vango.rich.js)


#: ``navigator(url, session) -> Destination | None``; supplied by the front (front.py).
Navigator = Callable[[str, "SessionInfo"], Destination | None]


#: Attributes that only the optional script (vango.rich.js) understands.
RICH_MARKERS = (
    "data-vango-nav",
    "data-vango-hook",
    "data-js-",
    "data-disable-with",
    "data-vango-upload",
    "data-vango-stream",
)


def needs_rich(page_class: object, html: str) -> bool:
    """True when a page uses the optional client script: its class sets ``rich_client =
    True`` or its HTML carries one of :data:`RICH_MARKERS`."""
    if getattr(page_class, "rich_client", False):
        return True
    return any(marker in html for marker in RICH_MARKERS)


def route_meta(route: Route, params: Mapping[str, Any], url: str) -> dict[str, Any]:
    """A page session's data about its page: route pattern, params as str, path?query."""
    return {"route": route.pattern, "params": {k: str(v) for k, v in params.items()}, "url": url}


def live_destination(
    routes: RouteTable,
    url: str,
    token: Callable[[Route, Mapping[str, Any]], str] | None = None,
) -> Destination | None:
    """Where ``url`` leads in ``routes``: a live page's Destination, with a token from
    ``token(route, params)`` (the front signs one; the test harness none); None when it is
    not a live page (the client loads the URL)."""
    found = routes.match(url_path(url))
    if found is None or not found[0].is_live:
        return None
    route, params = found
    return Destination(
        route.target,
        dict(params),
        route.pattern,
        title=route.spec.title_for(params),
        token="" if token is None else token(route, params),
        meta=route_meta(route, params, url),
        rich=needs_rich(route.target, ""),
    )


def url_path(url: str) -> str:
    """The path of ``url`` percent-decoded, as a page request's (the ASGI server decodes it):
    a live link to ``/tags/caf%C3%A9`` (a browser's ``a.pathname``) is the page ``/tags/café``
    with the param ``café``, as a page load of the same URL."""
    return unquote(urlsplit(url).path)


def query_params(url: str) -> dict[str, str]:
    """The query string of ``url`` as a dict (the last value of a repeated name wins)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def local_url(url: str) -> str | None:
    """``url`` as path?query#fragment if it stays on this origin (no scheme/host), else None.

    A backslash or a control character refuses it too: browsers read a backslash as ``/``
    and drop tabs and newlines, so ``/\\evil.example`` (and a tab between two slashes)
    lead off the site. So does a URL starting with ``//``: ``///evil.example`` has no host
    for ``urlsplit`` but is scheme-relative for a browser (a live link to ``/.///evil.example``
    sends that path)."""
    if "\\" in url or url.startswith("//") or _CONTROL.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return url


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
