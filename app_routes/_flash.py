"""Shared page parts for the interaction demos: the flash bar and the nav bar."""

from __future__ import annotations

from collections.abc import Callable

from vango_actors import Element, h
from vango_actors.component import Component


def flash_bar(page: Component) -> Element:
    """The session's flash messages (`#flash-<kind>`); a click dismisses one."""
    items = [
        h.p(
            text,
            id=f"flash-{kind}",
            class_=f"flash flash-{kind}",
            key=kind,
            on_click=_dismiss(page, kind),
        )
        for kind, text in sorted(page.flash.items())
    ]
    return h.div(items, id="flash")


def _dismiss(page: Component, kind: str) -> Callable[[], None]:
    return lambda: page.clear_flash(kind)


def nav_bar() -> Element:
    """Links marked for live navigation: same socket, no reload."""
    links = [
        ("/nav", "Tabs", "nav-tabs"),
        ("/nav_search", "Search", "nav-search"),
        ("/nav_other", "Other page", "nav-other"),
        ("/hooks", "Hooks", "nav-hooks"),
    ]
    return h.nav(
        [h.a(text, href=href, id=ident, data_vango_nav=True) for href, text, ident in links],
        " ",
        h.a("all demos", href="/", id="nav-home"),
        id="nav",
    )
