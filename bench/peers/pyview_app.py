"""The counter in PyView 0.9.0 (``uvicorn pyview_app:app``, run from bench/peers/); the
template is pyview_app.html (PyView finds it next to the module)."""

from typing import Any

from pyview import LiveView, LiveViewSocket, PyView
from starlette.staticfiles import StaticFiles


class CounterView(LiveView[dict[str, int]]):
    async def mount(self, socket: LiveViewSocket[dict[str, int]], session: Any) -> None:
        socket.context = {"count": 0}

    async def handle_event(
        self, event: str, payload: Any, socket: LiveViewSocket[dict[str, int]]
    ) -> None:
        if event == "increment":
            socket.context["count"] += 1
        elif event == "decrement":
            socket.context["count"] -= 1


app = PyView()
app.mount("/static", StaticFiles(packages=[("pyview", "static")]), name="static")
app.add_live_view("/", CounterView)
