"""Child components are diff boundaries; identity by (class, key); page-level ops."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
import trio
import trio.testing

from vango_actors import Component, Element, SessionManager, h
from vango_actors.protocol import Error, Patches

from .harness import Browser
from .pages import Counter, Row, Table, renders


async def test_clicking_one_row_rerenders_only_that_row(rt: SessionManager) -> None:
    b = await Browser.open(rt, Table, {"n": 100})
    assert renders["Table"] == 1 and renders["Row42"] == 1
    renders.clear()
    frames = await b.click("#row42")
    assert dict(renders) == {"Row42": 1}
    assert frames == [Patches(1, 1, [[1, b.hid("#row42"), "class", "selected"]])]
    assert b.doc.select("li.selected") == b.doc.select("#row42")


async def test_reordering_moves_rows_without_rerendering_them(rt: SessionManager) -> None:
    b = await Browser.open(rt, Table, {"n": 5})
    await b.click("#row3")  # row state must survive the move
    renders.clear()
    frames = await b.click("#reverse")
    assert dict(renders) == {"Table": 1}
    (patch,) = frames
    assert isinstance(patch, Patches) and {op[0] for op in patch.ops} == {6}  # MOVE only
    assert [li.attrs["id"] for li in b.doc.select("#rows li")] == [
        f"row{i}" for i in range(4, -1, -1)
    ]
    assert b.doc.select("li.selected") == b.doc.select("#row3")


async def test_changed_props_rerender_only_that_child(rt: SessionManager) -> None:
    b = await Browser.open(rt, Table, {"n": 5})
    renders.clear()
    await b.click("#relabel")
    assert dict(renders) == {"Table": 1, "Row0": 1}
    assert b.text("#row0") == "ROW 0"


async def test_removed_children_are_unmounted(rt: SessionManager) -> None:
    unmounted: list[int] = []

    class TrackedRow(Row):
        def unmount(self) -> None:
            unmounted.append(self.props["id"])

    class TrackedTable(Table):
        def render(self) -> Element:
            return h.div(
                h.button("drop", id="drop", on_click=self.drop_first),
                h.ul([h(TrackedRow, key=r["id"], **r) for r in self.rows], id="rows"),
            )

    b = await Browser.open(rt, TrackedTable, {"n": 3})
    row0 = b.hid("#row0")
    await b.click("#drop")
    assert unmounted == [0]
    assert b.doc.select("#row0") == []
    await b.send(row0)  # an event for the removed row's element
    await b.settle()
    assert b.errors()[-1] == Error(
        6, f"event 'click' on h{row0}: no element with that hid is bound"
    )


async def test_unkeyed_children_match_by_class_and_position(rt: SessionManager) -> None:
    class Pair(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.swap = False

        def flip(self) -> None:
            self.swap = not self.swap

        def render(self) -> Element:
            return h.div(h.button("flip", id="flip", on_click=self.flip), h(Counter))

    b = await Browser.open(rt, Pair)
    await b.click("#inc")
    await b.click("#flip")  # parent re-renders; the unkeyed child keeps its instance
    assert b.text("#count") == "1"


async def test_children_sharing_a_key_keep_their_own_instances_in_order(
    rt: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    class Dupes(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.n = 2

        def more(self) -> None:
            self.n += 1

        def render(self) -> Element:
            kids = [h(Row, key="same", id=i, label=f"row {i}") for i in range(self.n)]
            return h.div(h.button("more", id="more", on_click=self.more), h.ul(kids))

    with caplog.at_level(logging.WARNING, logger="vango_actors"):
        b = await Browser.open(rt, Dupes)
        await b.click("#row1")
        await b.click("#more")
        await b.click("#more")
    assert b.errors() == []
    assert [li.attrs["id"] for li in b.doc.select("li")] == ["row0", "row1", "row2", "row3"]
    assert b.doc.select("li.selected") == b.doc.select("#row1")
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.endswith(
        "Dupes: duplicate key 'same' among the children of <ul>; keys must be unique among "
        "siblings: that list is matched by position instead (slower, and an element's state "
        "follows its place, not its key)"
    )


async def test_set_title_push_url_and_focus_ride_with_the_patches(rt: SessionManager) -> None:
    class Page(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.n = 0

        def go(self) -> None:
            self.n += 1
            self.set_title(f"page {self.n}")
            self.push_url(f"/page/{self.n}", replace=True)
            self.focus()

        def render(self) -> Element:
            return h.main(h.button(self.n, id="go", on_click=self.go), id="main")

    b = await Browser.open(rt, Page)
    (patch,) = await b.click("#go")
    assert isinstance(patch, Patches)
    main = b.hid("#main")
    assert patch.ops == [
        [9, "page 1"],
        [8, "/page/1", True],
        [0, b.hid("#go"), 0, "1"],
        [10, main],
    ]
    assert b.doc.title == "page 1"


async def test_async_mount_and_unmount(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    class Slow(Component):
        async def mount(self, props: Mapping[str, Any]) -> None:
            await trio.sleep(1)
            self.ready = "yes"

        def render(self) -> Element:
            return h.p(self.ready, id="ready")

    start = trio.current_time()
    b = await Browser.open(rt, Slow)
    assert trio.current_time() - start == 1
    assert b.text("#ready") == "yes"


async def test_session_info_reaches_components(rt: SessionManager) -> None:
    class WhoAmI(Component):
        def render(self) -> Element:
            return h.p(self.session.data["user"], id="user")

    created = await rt.create(WhoAmI, meta={"user": "ada"})
    assert 'id="user">ada</p>' in created.html
