"""Client commands: small DOM changes that run in the browser with no round trip (sans-IO).

``JS`` values are composable command lists. Attach one to any event with a ``data_js_<event>=``
attribute (it renders as JSON, run by vango.rich.js before any server event of that element
is sent), or run it from the server with ``self.exec_js(js)``::

    h.button("Menu", data_js_click=JS.toggle("#menu").add_class("#menu", "open"))
    h.button("Save", on_click=self.save, data_js_click=JS.add_class(None, "saving"))

A target of ``None`` means the element that carries the attribute (from the server: nothing).
Show / hide / toggle flip the ``hidden`` attribute. The server does not learn about these
changes: a later server render of the same attribute wins (optimistic UI).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from .html import attr_value, check_attr_name


class _Builder:
    """Makes each command usable both as ``JS.show(...)`` and ``js.show(...)`` (chaining)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: JS | None, owner: type[JS]) -> Any:
        base = instance if instance is not None else owner(())
        name = self.name

        def add(target: str | None = None, *args: Any) -> JS:
            return base.then(name, target, *args)

        return add


class JS(str):
    """An immutable list of client commands; as a ``str`` it is the JSON the client reads."""

    commands: tuple[tuple[Any, ...], ...]

    def __new__(cls, commands: tuple[tuple[Any, ...], ...] = ()) -> JS:
        self = super().__new__(cls, json.dumps([list(c) for c in commands], separators=(",", ":")))
        self.commands = commands
        return self

    def then(self, name: str, target: str | None, *args: Any) -> JS:
        """This list plus one command ``[name, target, *args]``."""
        if name not in COMMANDS:
            raise ValueError(f"unknown client command {name!r}: expected one of {COMMANDS}")
        if target is not None and not isinstance(target, str):
            raise TypeError(f"JS.{name}: target must be a CSS selector str or None, got {target!r}")
        if target is not None:
            _check_selector(name, target)
        signature, least, most = _ARGUMENTS[name]
        if not least <= len(args) <= most:
            raise TypeError(
                f"JS.{name}({signature}): got {len(args)} argument{'s' * (len(args) != 1)} "
                f"after the target, expected {least if least == most else f'{least} to {most}'}"
            )
        if name == "set_attr":
            args = _safe_set_attr(*args)
        elif name.endswith("_class"):
            args = (_class_names(name, args[0]),)
        elif name == "dispatch" and (not isinstance(args[0], str) or not args[0]):
            raise ValueError(f"JS.dispatch: expected a non-empty str event name, got {args[0]!r}")
        return JS((*self.commands, (name, target, *args)))

    def __add__(self, other: object) -> JS:
        if not isinstance(other, JS):
            return NotImplemented
        return JS((*self.commands, *other.commands))

    show = _Builder("show")  # (target)
    hide = _Builder("hide")  # (target)
    toggle = _Builder("toggle")  # (target)
    add_class = _Builder("add_class")  # (target, "a b")
    remove_class = _Builder("remove_class")  # (target, "a b")
    toggle_class = _Builder("toggle_class")  # (target, "a b")
    set_attr = _Builder("set_attr")  # (target, name, value); checked as html.render checks
    remove_attr = _Builder("remove_attr")  # (target, name)
    focus = _Builder("focus")  # (target)
    dispatch = _Builder("dispatch")  # (target, event_name, detail)


def _safe_set_attr(attr: object, value: object = "", *rest: Any) -> tuple[Any, ...]:
    """``set_attr``'s name and value under the renderer's rules (vango_actors.html): ``on*``,
    ``srcdoc`` and invalid names raise ``ValueError``; a ``javascript:``/``vbscript:``/
    ``data:`` URL in a URL attribute (``href``, ``src``...) becomes ``about:invalid#refused``.
    The browser sets what it is given (``setAttribute``): the check must happen here."""
    if not isinstance(attr, str):
        raise TypeError(f"JS.set_attr: the attribute name must be a str, got {attr!r}")
    check_attr_name("JS.set_attr", attr)
    if isinstance(value, str):
        value = attr_value("JS.set_attr", attr, value)
    return (attr, value, *rest)


# Escapes and strings (their "#" and "." are no id or class), then innermost (...) and [...]
_OPAQUE = re.compile(r"""\\.|"(?:\\.|[^"\\])*"?|'(?:\\.|[^'\\])*'?""", re.S)
_BLOCK = re.compile(r"\([^()\[\]]*\)|\[[^()\[\]]*\]")
# "#" or "." not followed by an identifier: a letter, "_", non-ASCII, "-" and one of those
_NOT_A_NAME = re.compile(r"[#.](?![A-Za-z_\x80-\U0010ffff]|-[-A-Za-z_\x80-\U0010ffff])")


@lru_cache(maxsize=1024)  # renders build the same commands again and again
def _check_selector(command: str, target: str) -> None:
    """Raise ``ValueError`` for a target ``querySelectorAll`` cannot parse (the browser would
    skip the command): a blank one, or an id or class that is no identifier (``#1x``). A cheap
    check of the top level, not a CSS parser: a selector it passes may still fail there
    (``:is(...)`` forgives its own contents; the browser warns and skips)."""
    top = _OPAQUE.sub("x", target)
    while True:
        inner = _BLOCK.sub("x", top)
        if inner == top:
            break
        top = inner
    top = re.split(r"[(\[]", top, maxsplit=1)[0]  # (an unclosed block: its contents are not read)
    if not target.strip():
        raise ValueError(f"JS.{command}: {target!r} is no CSS selector: give one, or None")
    if _NOT_A_NAME.search(top):
        raise ValueError(
            f"JS.{command}: {target!r} is not a CSS selector the browser can parse: an id or "
            "class starts with a letter, '_' or '-' and a letter (escape a digit, '#\\31 x', "
            "or use [id='1x'])"
        )


def _class_names(command: str, classes: object) -> str:
    """Class names separated by single spaces, as the client splits them (an empty name
    makes ``classList.add`` throw, and the rest of the chain would not run)."""
    names = classes.split() if isinstance(classes, str) else []
    if not names:
        raise ValueError(
            f"JS.{command}: expected a str of class names separated by spaces, got {classes!r}"
        )
    return " ".join(names)


#: command -> (its signature, least and most arguments after the target)
_ARGUMENTS = {
    "show": ("target", 0, 0),
    "hide": ("target", 0, 0),
    "toggle": ("target", 0, 0),
    "add_class": ("target, classes", 1, 1),
    "remove_class": ("target, classes", 1, 1),
    "toggle_class": ("target, classes", 1, 1),
    "set_attr": ("target, attr, value=''", 1, 2),
    "remove_attr": ("target, attr", 1, 1),
    "focus": ("target", 0, 0),
    "dispatch": ("target, event, detail=None", 1, 2),
}

COMMANDS = (
    "show",
    "hide",
    "toggle",
    "add_class",
    "remove_class",
    "toggle_class",
    "set_attr",
    "remove_attr",
    "focus",
    "dispatch",
)
