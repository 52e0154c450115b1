"""The HTTP front through Quart's test client: pages, errors, middleware, client JS, health and
metrics. The live socket is tested against real hypercorn in tests/e2e (quart-trio's test
websocket corrupts trio's nursery stack under pytest-trio)."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from quart import Response
from werkzeug.datastructures import Headers

from vango_actors import front as front_module
from vango_actors.clientjs import client_source, client_url
from vango_actors.component import SessionInfo
from vango_actors.front import VangoApp, create_app
from vango_actors.routing import BaseMiddleware

from .routes_fixture import live, make_package, static

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "index.py": static("home", title="Home"),
    "counter.py": live("count me", title="Count"),
    "users/[id:int].py": live("user", title="User {id}"),
    "broken.py": """
from vango_actors.routing import page

@page(title="Broken")
def view():
    raise RuntimeError("secret detail")
""",
}

SHELL = re.compile(
    r'<div data-hid="h0" data-vango-root data-vango-session="([^"]+)" '
    r'data-vango-token="([^"]+)">(.*)</div><script src="([^"]+)" defer></script>'
)


@pytest.fixture
def routes(tmp_path: Path) -> str:
    return make_package(tmp_path, FILES)


@pytest.fixture
async def app(routes: str) -> AsyncIterator[VangoApp]:
    app = create_app(routes, secret_keys="k1")
    async with app.test_app():  # startup and shutdown are bounded by the test app itself
        yield app


async def get(app: VangoApp, path: str) -> tuple[int, Headers, str]:
    with trio.fail_after(10):
        response = await app.test_client().get(path)
        body = await response.get_data(as_text=True)
    return response.status_code, response.headers, body


async def test_static_page_is_a_document_without_client(app: VangoApp) -> None:
    status, headers, body = await get(app, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.startswith("<!doctype html>") and "<title>Home</title>" in body
    assert '<div id="page">home {}</div>' in body
    assert "<script" not in body and "data-vango-session" not in body


async def test_live_page_creates_a_session_and_injects_the_client(app: VangoApp) -> None:
    status, headers, body = await get(app, "/users/42")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert "<title>User 42</title>" in body
    shell = SHELL.search(body)
    assert shell, body
    session_id, token, inner, src = shell.groups()
    assert inner.startswith('<div id="page" data-hid="h1">user</div>') or "user" in inner
    assert src == client_url(False)
    claims = app.front.signer.verify(token, session_id)
    assert (claims.route, claims.params) == ("/users/<id>", {"id": "42"})
    _, _, health = await get(app, "/vango/health")
    assert '"parked":1' in health.replace(" ", "")


async def test_head_of_a_live_page_leaves_no_session(app: VangoApp) -> None:
    # a monitor's or link checker's HEAD never gets the token: its session was kept parked
    # (VANGO_UNCLAIMED_TTL) and counted against VANGO_MAX_SESSIONS
    with trio.fail_after(10):
        response = await app.test_client().head("/users/42")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert app.front.manager is not None
    with trio.fail_after(5):
        while len(app.front.manager):
            await trio.sleep(0.01)
    _, _, health = await get(app, "/vango/health")
    assert '"parked":0' in health.replace(" ", ""), health


async def test_a_host_werkzeug_cannot_encode_is_a_400_not_a_500(app: VangoApp) -> None:
    # a label over 63 characters fails IDNA encoding in werkzeug's routing, which Quart ran
    # outside its error handling: a 500 and a traceback in the log for each such request
    for path in ["/counter", "/vango/health"]:
        with trio.fail_after(10):
            response = await app.test_client().get(path, headers={"Host": "a" * 64})
        assert response.status_code == 400, path
    status, _, _ = await get(app, "/counter")
    assert status == 200


async def test_unknown_path_and_bad_param_are_404_pages(app: VangoApp) -> None:
    for path in ["/nope", "/users/abc", "/users/1/2"]:
        status, _, body = await get(app, path)
        assert status == 404, path
        assert f"There is no page at {path}." in body


async def test_500_page_hides_the_traceback(app: VangoApp) -> None:
    status, _, body = await get(app, "/broken")
    assert status == 500
    assert "Something went wrong" in body
    assert "secret detail" not in body and "Traceback" not in body


async def test_500_page_shows_the_traceback_in_dev(routes: str) -> None:
    app = create_app(routes, secret_keys="k1", dev=True)
    status, _, body = await get(app, "/broken")
    assert status == 500
    assert "Traceback" in body and "RuntimeError: secret detail" in body


async def test_client_script_is_served_with_immutable_cache(app: VangoApp) -> None:
    with trio.fail_after(10):
        response = await app.test_client().get(client_url(False))
        data = await response.get_data()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert data == client_source(False)
    status, _, _ = await get(app, "/vango/client.000000000000.js")
    assert status == 404


async def test_client_script_is_gzipped_and_revalidates(app: VangoApp) -> None:
    # the size budget is the gzipped build's (6 KiB), but the server sent the raw 15 KB to
    # every browser (nginx in deploy/ does not compress either), with no validator
    url = client_url(False)
    client = app.test_client()
    with trio.fail_after(10):
        zipped = await client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        body = await zipped.get_data()
        plain = await client.get(url, headers={"Accept-Encoding": "identity"})
        same = await client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
        other = await client.get(
            url, headers={"If-None-Match": plain.headers["ETag"], "Accept-Encoding": "gzip"}
        )
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == client_source(False) and len(body) < 6144
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Encoding" not in plain.headers
    assert await plain.get_data() == client_source(False)
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert same.status_code == 304 and await same.get_data() == b""
    assert other.status_code == 200  # the gzipped variant has its own ETag


async def test_dev_app_serves_the_readable_client(routes: str) -> None:
    app = create_app(routes, secret_keys="k1", dev=True)
    assert app.front.client_url == client_url(True)
    async with app.test_app():
        _, _, body = await get(app, "/counter")
    assert " data-vango-dev>" in body


class Gate(BaseMiddleware[Any, Response]):
    """Refuses /counter, stamps every response it lets through."""

    def before(self, request: Any) -> Response | None:
        if request.path == "/counter":
            return Response("no entry", status=403)
        return None

    def after(self, request: Any, response: Response) -> Response | None:
        response.headers["X-Gate"] = "passed"
        return None


async def test_middleware_short_circuits_and_after_hooks_run(routes: str) -> None:
    app = create_app(routes, secret_keys="k1", middleware=[Gate()])
    async with app.test_app():
        status, headers, body = await get(app, "/counter")
        assert (status, body) == (403, "no entry")
        assert "X-Gate" not in headers
        status, headers, _ = await get(app, "/")
        assert (status, headers["X-Gate"]) == (200, "passed")
        status, headers, _ = await get(app, "/nope")
        assert (status, headers["X-Gate"]) == (404, "passed")


async def test_health_reports_sessions_by_state(app: VangoApp) -> None:
    with trio.fail_after(10):
        response = await app.test_client().get("/vango/health")
        body = await response.get_json()
    assert response.status_code == 200
    assert (body["status"], body["sessions"]) == (
        "ok",
        {"parked": 0, "live": 0, "disconnected": 0},
    )
    assert (body["pubsub"]["backend"], body["pubsub"]["status"]) == ("memory", "ok")


async def test_health_is_503_before_start(routes: str) -> None:
    app = create_app(routes, secret_keys="k1")
    with trio.fail_after(10):
        response = await app.test_client().get("/vango/health")
        body = await response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert {name: response.headers.get(name) for name in SECURE} == SECURE


async def test_metrics_are_prometheus_text_per_app(routes: str) -> None:
    first, second = create_app(routes, secret_keys="k1"), create_app(routes, secret_keys="k1")
    async with first.test_app(), second.test_app():
        await get(first, "/counter")
        await get(first, "/counter")
        with trio.fail_after(10):
            response = await first.test_client().get("/vango/metrics")
            text = await response.get_data(as_text=True)
        _, _, other = await get(second, "/vango/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'vango_sessions{state="parked"} 2.0' in text
    assert 'vango_sessions{state="parked"} 0.0' in other
    for name in [
        "vango_events_total",
        "vango_patch_frames_total",
        "vango_patch_bytes_total",
        "vango_component_restarts_total",
        "vango_live_refused_origins_total",
        "vango_live_connections_open",
    ]:
        assert f"\n{name} " in text, name


def test_importing_the_front_builds_no_app_and_imports_no_routes(tmp_path: Path) -> None:
    # an embedding program imports create_app: no default app is made (no routes package or
    # services imported, no configuration check on the environment's settings)
    code = (
        "import sys, vango_actors.front as f; "
        "print(sorted(m for m in ('app_routes', 'services') if m in sys.modules), "
        "hasattr(f, 'app'))"
    )
    env = {**os.environ, "VANGO_ENV": "production", "VANGO_SECRET_KEY": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] False"


async def test_with_middleware_a_live_navigation_to_another_page_is_a_full_load(
    routes: str,
) -> None:
    # Gate refuses GET /counter; a live page could still send a nav event for /counter and
    # have it mounted over its socket (Chromium showed the refused page): the middleware
    # never saw that request. Now only the page shown is reached live (a patch).
    def navigator(app: VangoApp) -> Any:
        return front_module._navigator(app.front)

    on_user = SessionInfo("s1", {"route": "/users/<id>", "params": {"id": "1"}})
    gated = create_app(routes, secret_keys="k1", middleware=[Gate()])
    assert navigator(gated)("/counter", on_user) is None  # REDIRECT: GET runs the middleware
    assert navigator(gated)("/users/2", on_user) is None
    same = navigator(gated)("/users/1?tab=b", on_user)
    assert same is not None and (same.route, same.props) == ("/users/<id>", {"id": 1})
    plain = create_app(routes, secret_keys="k1")
    live_page = navigator(plain)("/counter", on_user)
    assert live_page is not None and live_page.route == "/counter"
    # a middleware that only stamps responses gates nothing: live navigation stays
    stamped = create_app(routes, secret_keys="k1", middleware=[Stamp()])
    live_page = navigator(stamped)("/counter", on_user)
    assert live_page is not None and live_page.route == "/counter"


class Stamp(BaseMiddleware[Any, Response]):
    def after(self, request: Any, response: Response) -> Response | None:
        response.headers["X-Stamp"] = "1"
        return None


SECURE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("path", ["/", "/counter", "/nowhere", "/broken"])
async def test_pages_carry_secure_browser_headers(app: VangoApp, path: str) -> None:
    # without X-Frame-Options another site could frame a live page and trick a click onto
    # one of its buttons (clickjacking); Phoenix's put_secure_browser_headers sets the same
    _, headers, _ = await get(app, path)
    assert {name: headers.get(name) for name in SECURE} == SECURE


async def test_every_other_response_carries_secure_browser_headers(app: VangoApp) -> None:
    # not only pages: the client script, /vango/* 404s, health, 405s and the 503 while
    # starting are documents or scripts of this origin too
    client = app.test_client()
    with trio.fail_after(10):
        responses = [
            await client.get(app.front.client_url),
            await client.get("/vango/nothing.js"),
            await client.get("/vango/health"),
            await client.post("/counter"),
            await client.delete("/vango/health"),
        ]
    assert [r.status_code for r in responses] == [200, 404, 200, 405, 405]
    for response in responses:
        assert {name: response.headers.get(name) for name in SECURE} == SECURE


async def test_middleware_may_change_the_secure_headers(routes: str) -> None:
    class Embeddable(BaseMiddleware[Any, Response]):
        def after(self, request: Any, response: Response) -> Response | None:
            del response.headers["X-Frame-Options"]
            response.headers["Content-Security-Policy"] = "frame-ancestors https://a.example"
            return None

    app = create_app(routes, secret_keys="k1", middleware=[Embeddable()])
    async with app.test_app():
        _, headers, _ = await get(app, "/")
    assert "X-Frame-Options" not in headers and headers["X-Content-Type-Options"] == "nosniff"


GUARDED = """
from vango_actors import h
from vango_actors.component import Component
from vango_actors.routing import live_page

@live_page(title="Private")
class Page(Component):
    def mount(self, props):
        self.navigate("/login?next=/private&who=café", replace=True)  # not signed in

    def render(self):
        return h.p("PRIVATE CONTENT")
"""


async def test_a_page_whose_mount_navigates_away_answers_with_a_redirect(tmp_path: Path) -> None:
    # an auth guard in mount: the page answered 200 with its content, the navigate dropped
    routes = make_package(tmp_path, {**FILES, "private.py": GUARDED})
    app = create_app(routes, secret_keys="k1")
    async with app.test_app():
        status, headers, body = await get(app, "/private")
        assert (status, headers["Location"]) == (302, "/login?next=/private&who=caf%C3%A9")
        assert "PRIVATE" not in body
        await trio.testing.wait_all_tasks_blocked()
        stats = app.front.runtime_statistics()
        assert stats is not None and stats.parked == stats.live == 0  # the session ended
