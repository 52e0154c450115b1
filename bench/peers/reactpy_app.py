"""The counter in ReactPy 1.1.0 on Starlette 0.52.1 (``uvicorn reactpy_app:app``)."""

from typing import Any

from reactpy import component, hooks, html
from reactpy.backend.starlette import configure
from starlette.applications import Starlette


@component
def Counter() -> Any:
    count, set_count = hooks.use_state(0)
    return html.main(
        html.h1("Counter"),
        html.p(
            html.button({"id": "dec", "onClick": lambda _: set_count(lambda c: c - 1)}, "\u2212"),
            " ",
            html.span({"id": "count"}, count),
            " ",
            html.button({"id": "inc", "onClick": lambda _: set_count(lambda c: c + 1)}, "+"),
        ),
    )


app = Starlette()
configure(app, Counter)
