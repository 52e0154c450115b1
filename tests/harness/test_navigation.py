"""Live navigation and page loads in the harness, as the browser and its client do them
(docs/PROTOCOL.md section 6.1), on the demo pages of app_routes (/nav, /nav_other, /)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from vango_actors import Component, Element, h
from vango_actors.commands import JS
from vango_actors.navigation import Destination
from vango_actors.protocol import ErrorCode, Op, Reload
from vango_actors.routing import PageSpec, Route, RouteTable, Segment
from vango_actors.testing import Harness, ViewError, open_harness


async def test_a_nav_event_to_the_same_page_is_a_patch(vango: Harness) -> None:
    view = await vango.mount("/nav")
    session = view.session_id
    reply = await view.navigate("?tab=b")  # relative, like a link's href
    assert reply.ops[:2] == [
        [Op.PUSH_URL, "/nav?tab=b", False],
        [Op.TITLE, "Navigation: Second tab"],
    ]
    assert view.url == "/nav?tab=b" and view.title == "Navigation: Second tab"
    assert view.text("#tab-content") == "Second tab" and view.text("#params-calls") == "2"
    assert view.session_id == session


async def test_a_nav_event_to_another_live_page_mounts_it_in_the_session(vango: Harness) -> None:
    view = await vango.mount("/nav?tab=c")  # the query reaches handle_params, as over HTTP
    assert view.text("#tab-content") == "Third tab"
    session = view.session_id
    reply = await view.click("#nav-other")  # a data-vango-nav link: a nav event
    assert [op[0] for op in reply.ops] == [Op.REPLACE, Op.TITLE, Op.PUSH_URL]
    assert (view.url, view.title, view.session_id) == ("/nav_other", "Other page", session)
    await view.click("#other-click")
    assert view.text("#other-clicks") == "1"
    reply = await view.back()  # popstate: the URL shows already, the server remounts
    assert [op[0] for op in reply.ops] == [Op.REPLACE, Op.TITLE, Op.PUSH_URL, Op.TITLE]
    assert reply.ops[2] == [Op.PUSH_URL, "/nav?tab=c", True]  # written again, no new entry
    assert view.url == "/nav?tab=c" and view.text("#tab-content") == "Third tab"
    with pytest.raises(ViewError, match=r"no earlier page in this view's history \(at /nav"):
        await view.back()


async def test_a_server_navigate_carries_the_flash_to_the_next_page(vango: Harness) -> None:
    view = await vango.mount("/nav")
    await view.click("#leave")  # put_flash + navigate("/nav_other") in the handler
    assert view.url == "/nav_other" and view.text("#flash") == "You came from the tabs page."
    await view.click("#back")  # navigate("/nav?tab=b")
    assert view.url == "/nav?tab=b" and view.text("#tab-content") == "Second tab"
    assert view.document.history == ["/nav", "/nav_other"]


class Leaver(Component):
    """A page without the optional script: navigating to /nav (which needs it) is a load."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.target = str(props["to"])

    def go(self) -> None:
        self.navigate(self.target)

    def render(self) -> Element:
        return h.button("go", id="go", on_click=self.go)


async def test_a_redirect_to_a_live_route_loads_it_as_a_new_session(vango: Harness) -> None:
    view = await vango.mount(Leaver, {"to": "/nav"})
    old = view.session_id
    reply = await view.click("#go")
    assert [Op.REDIRECT, "/nav"] in reply.ops
    assert view.url == "/nav" and view.title == "Navigation: First tab"
    assert view.session_id not in (None, old)
    await view.click("#next-tab")  # connected: the new page works
    assert view.url == "/nav?tab=b"
    assert vango.manager.statistics().live == 1  # the old page's socket closed


async def test_a_redirect_to_a_static_route_or_away_loads_that(vango: Harness) -> None:
    view = await vango.mount(Leaver, {"to": "/"})
    await view.click("#go")  # no live page there: REDIRECT, the browser loads "/"
    assert (view.url, view.title, view.session_id) == ("/", "vango-actors demos", None)
    await view.click("a[href=/counter]")  # a plain link: a full page load
    assert view.url == "/counter" and view.session_id is not None
    await view.click("#inc")
    assert view.text("#count") == "1"
    away = await vango.mount(Leaver, {"to": "https://example.org/x"})
    await away.click("#go")
    assert away.url == "https://example.org/x" and away.text() == "" and away.session_id is None


async def test_a_nav_event_to_a_static_page_redirects(vango: Harness) -> None:
    view = await vango.mount("/nav")
    reply = await view.navigate("/")
    assert [Op.REDIRECT, "/"] in reply.ops and view.session_id is None


@pytest.mark.parametrize(
    "url",
    ["/\\evil.example/x", "/\t/evil.example/x", "/\n/evil.example", "///evil.example/x"],
)
async def test_a_nav_event_to_a_url_a_browser_reads_as_another_site_is_refused(
    vango: Harness, url: str
) -> None:
    # Chromium reads "/\evil.example/x" as //evil.example/x: it was answered with a
    # REDIRECT off the site; so was "///evil.example/x", what a live link to the same-origin
    # "/.///evil.example/x" sends (Chromium normalises its path to "///evil.example/x")
    view = await vango.mount("/nav")
    reply = await view.send_event(0, "nav", {"url": url, "replace": False, "pop": False})
    assert [op[0] for op in reply.ops] == []
    assert [e.code for e in reply.errors] == [ErrorCode.UNKNOWN_TARGET]
    assert view.url == "/nav"


class FailsToMount(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        raise RuntimeError("no database")

    def render(self) -> Element:
        return h.p("never")


class BrokenChildPage(Component):
    def render(self) -> Element:
        return h.main(h.h1("Broken"), h(FailsToMount))


@pytest.mark.parametrize("page", [FailsToMount, BrokenChildPage])
async def test_a_live_navigation_to_a_page_that_cannot_mount_reloads_that_page(
    page: type[Component],
) -> None:
    # The session ends with RELOAD; before, the browser reloaded the URL it still showed,
    # so a click on a link to /broken landed on the page the user left, reset, without a
    # word. The URL of the page that failed is shown first: the reload loads it (its 500
    # page over HTTP), as a full page load of the link would.
    def navigator(url: str, info: object) -> Destination | None:
        return Destination(page, {}, "/broken", "Broken") if url == "/broken" else None

    async with open_harness(navigator=navigator) as harness:
        view = await harness.mount(Leaver, {"to": "/broken"})
        reply = await view.click("#go")
        assert isinstance(view.ended, Reload)
        assert reply.ops == [[Op.PUSH_URL, "/broken", False]]
        assert view.url == "/broken"


class Patcher(Leaver):
    def go(self) -> None:
        self.push_patch(self.target)


@pytest.mark.parametrize("page", [Leaver, Patcher])
@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", " JaVa\tScRiPt:alert(1)", "vbscript:x", "data:text/html,x"]
)
async def test_a_navigation_to_a_script_url_is_refused(
    vango: Harness, page: type[Component], url: str
) -> None:
    # e.g. navigate(params["next"]) after a login: the client loads a URL that is no live
    # page with location.assign, which ran javascript: URLs in the page (Chromium)
    view = await vango.mount(page, {"to": url})
    reply = await view.click("#go")
    assert [op for op in reply.ops if op[0] in (Op.REDIRECT, Op.PUSH_URL)] == []
    assert [e.code for e in reply.errors] == [ErrorCode.COMPONENT_CRASHED]
    assert view.session_id is not None and view.url != url


class Second(Component):
    def render(self) -> Element:
        return h.p("second", id="second")


async def test_back_to_a_page_that_needs_a_full_load_reloads_it_in_place() -> None:
    # Back to a page the navigator does not lead to live (a middleware before hook gates it,
    # or it is no live page): the URL shows already, and REDIRECT's location.assign pushed it
    # again as a new entry, dropping the Forward entries. The session ends with RELOAD: the
    # browser loads the URL it shows.
    def navigator(url: str, info: object) -> Destination | None:
        return Destination(Second, {}, "/second", "Second") if url == "/second" else None

    async with open_harness(navigator=navigator) as harness:
        view = await harness.mount(Leaver, {"to": "/second"})
        first = view.url
        await view.click("#go")
        assert view.text("#second") == "second" and view.document.history == [first]
        reply = await view.back()
        assert [op for op in reply.ops if op[0] == Op.REDIRECT] == []
        assert isinstance(view.ended, Reload) and view.url == first


class TagPage(Component):
    """``/tags/<name>``: a string path param rendered as it is."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.name = str(props["name"])
        self.params_calls = 0

    def handle_params(self, params: Mapping[str, str]) -> None:
        self.params_calls += 1

    def render(self) -> Element:
        return h.main(h.p(self.name, id="tag"), h.p(self.params_calls, id="calls"))


def tag_routes() -> RouteTable:
    segments = (Segment("tags"), Segment("name", str))
    return RouteTable.of([Route("/tags/<name>", segments, TagPage, PageSpec("live"), "t")])


async def test_a_live_navigation_decodes_the_path_as_a_page_load_does() -> None:
    # A link's href (a.pathname) is percent-encoded; the server decodes a page request's path.
    # The param was "caf%C3%A9" after a live navigation and "café" after a reload.
    async with open_harness(tag_routes()) as harness:
        view = await harness.mount("/tags/a%20b")
        assert view.text("#tag") == "a b"
        await view.navigate("/tags/caf%C3%A9")
        assert view.text("#tag") == "café"
        await view.navigate("/tags/caf%C3%A9?x=1")  # the same page: a patch, no remount
        assert (view.text("#tag"), view.text("#calls")) == ("café", "2")
        await view.navigate("/tags/a+b")  # "+" is a plus in a path
        assert view.text("#tag") == "a+b"


class Guarded(Component):
    """An auth guard in mount: nobody is signed in."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.navigate("/login?next=/private")

    def render(self) -> Element:
        return h.p("PRIVATE CONTENT", id="private")


class Login(Component):
    def render(self) -> Element:
        return h.p("Sign in", id="login")


def _guarded_app(url: str, info: object) -> Destination | None:
    pages = {"/private": (Guarded, "Private"), "/login": (Login, "Sign in")}
    found = pages.get(url.split("?")[0])
    return None if found is None else Destination(found[0], {}, url.split("?")[0], found[1])


@pytest.mark.parametrize("replace", [False, True])
async def test_a_page_that_navigates_in_mount_is_left_for_where_it_sends(replace: bool) -> None:
    # the page's navigate() in mount was dropped: a live link to /private showed its content
    async with open_harness(navigator=_guarded_app) as harness:
        view = await harness.mount(Leaver, {"to": "/private"})
        first = view.url
        if replace:
            await view.send_event(0, "nav", {"url": "/private", "replace": True, "pop": False})
        else:
            await view.click("#go")
        assert view.text("#login") == "Sign in" and view.document.select("#private") == []
        assert view.url == "/login?next=/private" and view.title == "Sign in"
        # the guarded page was never shown: its entry is the login page's
        assert view.document.history == ([] if replace else [first])


async def test_pages_that_navigate_to_each_other_in_mount_stop_after_a_few_hops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class PingPong(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.navigate("/pong" if self.props["at"] == "ping" else "/ping")

        def render(self) -> Element:
            return h.p(self.props["at"], id="at")

    def navigator(url: str, info: object) -> Destination | None:
        return Destination(PingPong, {"at": url[1:]}, url, url[1:])

    async with open_harness(navigator=navigator) as harness:
        view = await harness.mount(Leaver, {"to": "/ping"})
        await view.click("#go")
        assert view.text("#at") in ("ping", "pong") and view.session_id is not None
    assert "more than 8 navigations in a row" in caplog.text


async def test_mounting_a_page_that_navigates_in_mount_follows_it() -> None:
    async with open_harness() as harness:  # no routes package: the URL is outside the app
        view = await harness.mount(Guarded)
        assert view.url == "/login?next=/private" and view.session_id is None
        assert harness.manager.statistics().parked == 0


class PatchesInMount(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.clicks = 0
        self.push_patch("?tab=b")  # while mounting: the URL is the request's already

    def click(self) -> None:
        self.clicks += 1

    def render(self) -> Element:
        return h.button(str(self.clicks), id="b", on_click=self.click)


async def test_a_push_patch_in_mount_is_no_redirect_and_does_not_wait_for_an_event() -> None:
    # it stayed pending and ran at the first click (PUSH_URL ?tab=b out of nowhere); a
    # redirect would loop for a page that patches in every mount
    async with open_harness() as harness:
        view = await harness.mount(PatchesInMount)
        assert view.session_id is not None
        reply = await view.click("#b")
        assert [op for op in reply.ops if op[0] == Op.PUSH_URL] == []
        assert view.text("#b") == "1"


class Announcer(Component):
    """Adds a row and, in the same handler, calls the hooks and commands about it."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.rows = 0

    def add(self) -> None:
        self.push_event("added", {"n": 1})
        self.rows += 1
        self.exec_js(JS.add_class("#row-1", "new"))

    def leave(self) -> None:
        self.push_event("bye")
        self.navigate("/nav")

    def render(self) -> Element:
        return h.main(
            h.button("add", id="add", on_click=self.add),
            h.button("leave", id="leave", on_click=self.leave),
            *[h.p(n, id=f"row-{n}") for n in range(1, self.rows + 1)],
            data_vango_hook="Rows",  # (loads vango.rich.js: /nav is a live navigation)
        )


async def test_a_handlers_calls_come_after_its_patches_and_before_the_next_page(
    vango: Harness,
) -> None:
    # push_event and exec_js went before the render's ops: the hooks and elements the render
    # added were not there yet when they ran in the browser
    view = await vango.mount(Announcer)
    reply = await view.click("#add")
    assert [op[0] for op in reply.ops] == [Op.INSERT, Op.CALL, Op.CALL]
    assert [op[1] for op in reply.ops[1:]] == ["event", "exec"]
    reply = await view.click("#leave")  # the old page's call still runs on the old page
    assert [op[0] for op in reply.ops][:3] == [Op.CALL, Op.REPLACE, Op.TITLE]
    assert view.url == "/nav"


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("?tab=b", "/nav/list?tab=b"),  # push_patch("?tab=b"): this page, a new query
        ("edit", "/nav/edit"),  # a sibling, as an href resolves it
        ("../users/1", "/users/1"),
        ("#top", "/nav/list?x=1#top"),
        ("/abs?q=1", "/abs?q=1"),  # absolute, kept
        ("//evil.example/x", "//evil.example/x"),  # scheme-relative: kept, then refused
        ("https://example.org/", "https://example.org/"),
        ("\\evil.example", "\\evil.example"),  # a browser reads "\" as "/": kept, refused
        ("mailto:a@b.example", "mailto:a@b.example"),
    ],
)
def test_a_relative_url_is_resolved_against_the_page(url: str, resolved: str) -> None:
    from vango_actors.actor import _against

    assert _against(url, "/nav/list?x=1") == resolved
