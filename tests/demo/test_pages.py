"""The demo pages, driven through the app-author harness (``vango_actors.testing``)."""

from __future__ import annotations

import pytest
import trio

from vango_actors.protocol import ErrorCode, Op
from vango_actors.testing import Harness, ViewError


async def test_counter_counts_both_ways(vango: Harness) -> None:
    view = await vango.mount("/counter")
    assert view.title == "Counter"
    assert view.text("#count") == "0"
    await view.click("#inc")
    await view.click("#inc")
    reply = await view.click("#dec")
    assert view.text("#count") == "1"
    assert reply.ops == [[Op.TEXT, view.element("#count").hid, 0, "1"]]  # one text op, no more


async def test_clock_ticks_on_the_server(vango: Harness, autojump_clock: trio.abc.Clock) -> None:
    view = await vango.mount("/clock")
    assert view.text("#ticks") == "0"
    await view.advance(3.5)
    assert view.text("#ticks") == "3"
    assert len(view.patches) == 3  # one frame per tick, no event needed


async def test_form_validates_while_typing_and_submits(vango: Harness) -> None:
    view = await vango.mount("/form")
    await view.type("#email", "nope")
    assert "is not an e-mail address" in view.text("#email-error")
    await view.type("#email", "x@y.org")
    assert view.text("#email-error") == ""
    await view.submit("#signup")  # the typed value is collected from the form
    assert view.text("#form-result") == "Thanks, x@y.org is signed up."


async def test_form_submit_with_values(vango: Harness) -> None:
    view = await vango.mount("/form")
    await view.submit("#signup", {"email": "a@b.cd"})
    assert view.text("#form-result") == "Thanks, a@b.cd is signed up."
    assert view.value("#email") == "a@b.cd"
    await view.submit("#signup", {"email": ""})
    assert view.text("#email-error") == "Please enter an e-mail address."
    assert view.text("#form-result") == ""


async def test_crash_restarts_the_component_and_keeps_the_page(vango: Harness) -> None:
    view = await vango.mount("/crash")
    await view.click("#alive")
    for n in (1, 2):
        reply = await view.click("#boom")
        assert [e.code for e in reply.errors] == [ErrorCode.COMPONENT_CRASHED]
        assert view.text("#restarts") == str(n)
    assert "Boom: the #boom button was pressed" in view.errors[0].message
    assert view.text("#clicks") == "1"  # the sibling state survived
    assert view.ended is None


async def test_user_page_reads_the_path_parameter(vango: Harness) -> None:
    view = await vango.mount("/users/42")
    assert view.text("#user-id") == "42"
    assert view.title == "User 42"
    await view.click("#greet")
    assert view.text("#greeting") == "Hello, user 42!"


async def test_index_is_static_and_links_the_demos(vango: Harness) -> None:
    view = await vango.mount("/")
    links = [a.attrs["href"] for a in view.select("#demos a")]
    assert "/counter" in links and "/users/42" in links
    with pytest.raises(ViewError, match="static page"):
        await view.connect()


async def test_clear_errors_for_wrong_selectors_and_paths(vango: Harness) -> None:
    view = await vango.mount("/counter")
    with pytest.raises(ViewError, match="exactly one element matching '#nope', found 0"):
        await view.click("#nope")
    with pytest.raises(ViewError, match="'#count' has no 'click' binding"):
        await view.click("#count")
    with pytest.raises(ViewError, match="no route matches '/missing'"):
        await vango.mount("/missing")


async def test_crash_page_stays_live_however_often_boom_is_clicked(vango: Harness) -> None:
    """`#boom` is the demo's crash on demand: clicking it as fast as a user or a checker can
    restarts the component every time; the page never escalates into a reload."""
    view = await vango.mount("/crash")
    await view.click("#alive")
    for n in range(1, 26):
        await view.click("#boom")
        assert view.text("#restarts") == str(n)
    assert view.ended is None
    await view.click("#alive")
    assert view.text("#clicks") == "2"
