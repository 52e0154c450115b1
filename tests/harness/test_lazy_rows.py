"""h.lazy rows in a live component: only changed rows render, events in reused rows arrive."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, h
from vango_actors.protocol import Op
from vango_actors.testing import Harness

RENDERS: Counter[int] = Counter()


class Rows(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.rows = {i: (i, f"row {i}", False) for i in range(1, 6)}

    def toggle(self, row_id: int) -> None:
        i, label, done = self.rows[row_id]
        self.rows[row_id] = (i, label, not done)

    def delete(self, row_id: int) -> None:
        del self.rows[row_id]

    def row(self, row: tuple[int, str, bool]) -> Element:
        row_id, label, done = row
        RENDERS[row_id] += 1
        return h.li(
            h.span(label, class_="done" if done else None),
            h.button("toggle", id=f"t{row_id}", on_click=lambda: self.toggle(row_id)),
            h.button("x", id=f"d{row_id}", on_click=lambda: self.delete(row_id)),
            key=row_id,
        )

    def render(self) -> Element:
        rows = [h.lazy(self.row, row, key=row[0]) for row in self.rows.values()]
        return h.ul(rows, id="list")


async def test_only_changed_rows_render_and_reused_rows_keep_their_handlers(
    vango: Harness,
) -> None:
    RENDERS.clear()
    view = await vango.mount(Rows)
    span = view.select("#list li")[2].select("span")[0]
    reply = await view.click("#t3")
    assert reply.ops == [[Op.SET_ATTR, span.hid, "class", "done"]]
    reply = await view.click("#d2")  # a row reused (not rendered again) since the mount
    assert [op[0] for op in reply.ops] == [Op.REMOVE]
    await view.click("#t5")
    assert [li.select("span")[0].attrs.get("class") for li in view.select("#list li")] == [
        None,
        "done",
        None,
        "done",
    ]
    assert RENDERS == {1: 1, 2: 1, 3: 2, 4: 1, 5: 2}
