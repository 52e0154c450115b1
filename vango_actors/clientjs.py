"""The browser runtime as served bytes: dev (source as is) or production (rjsmin-minified).

Both builds are read once and cached; the URL carries the first 12 hex digits of the build's
sha256, so it can be served with a year-long immutable cache header.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from importlib import resources

import rjsmin

#: Where the client is served: ``/vango/client.<hash>.js``.
URL_PREFIX = "/vango/client."
#: Headers for the content-hashed URL: the bytes behind a URL never change.
CACHE_HEADERS = {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=31536000, immutable",
}


def source_text() -> str:
    """The hand-written ``client/vango.js`` as shipped in the package."""
    return resources.files("vango_actors").joinpath("client/vango.js").read_text("utf-8")


@functools.cache
def client_source(dev: bool) -> bytes:
    """The client script: the readable source in dev mode, minified otherwise."""
    text = source_text()
    if not dev:
        text = rjsmin.jsmin(text, keep_bang_comments=False)
    return text.encode("utf-8")


@functools.cache
def client_hash(dev: bool) -> str:
    """First 12 hex digits of the build's sha256: changes whenever the bytes change."""
    return hashlib.sha256(client_source(dev)).hexdigest()[:12]


def client_url(dev: bool) -> str:
    """The content-hashed URL of the build, e.g. ``/vango/client.3f2a9c01b7de.js``."""
    return f"{URL_PREFIX}{client_hash(dev)}.js"


def client_for_path(path: str) -> bytes | None:
    """The build served at ``path`` (either build's URL), or None for any other path."""
    for dev in (False, True):
        if path == client_url(dev):
            return client_source(dev)
    return None


#: The optional script (navigation links, hooks, client commands, loading helpers):
#: ``/vango/rich.<hash>.js``, loaded only by pages that use it (see inject.needs_rich).
RICH_PREFIX = "/vango/rich."


def rich_source_text() -> str:
    """The hand-written ``client/vango.rich.js``."""
    return resources.files("vango_actors").joinpath("client/vango.rich.js").read_text("utf-8")


@functools.cache
def rich_source(dev: bool) -> bytes:
    """The optional script: readable in dev mode, minified otherwise."""
    text = rich_source_text()
    if not dev:
        text = rjsmin.jsmin(text, keep_bang_comments=False)
    return text.encode("utf-8")


def rich_url(dev: bool) -> str:
    """The content-hashed URL of the optional script, e.g. ``/vango/rich.0b1c2d3e4f5a.js``."""
    return f"{RICH_PREFIX}{hashlib.sha256(rich_source(dev)).hexdigest()[:12]}.js"


def sizes() -> dict[str, int]:
    """Bytes of the raw source, the minified build and the minified build gzipped (level 9)."""
    minified = client_source(dev=False)
    return {
        "raw": len(client_source(dev=True)),
        "minified": len(minified),
        "gzip": len(gzip.compress(minified, compresslevel=9, mtime=0)),
    }
