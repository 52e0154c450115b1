"""Build throwaway routes packages on disk for routing and app tests."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

_names = itertools.count()

LIVE = """
from vango_actors import h
from vango_actors.component import Component
from vango_actors.routing import live_page

@live_page(title={title!r})
class Page(Component):
    def render(self):
        return h.div({text!r}, id="page")
"""

STATIC = """
from vango_actors import h
from vango_actors.routing import page

@page(title={title!r})
def view(**params):
    return h.div({text!r}, " ", repr(params), id="page")
"""


def static(text: str, title: str = "Static") -> str:
    return STATIC.format(text=text, title=title)


def live(text: str, title: str = "Live") -> str:
    return LIVE.format(text=text, title=title)


def make_package(root: Path, files: Mapping[str, str]) -> str:
    """Write ``files`` (relative path -> source) as a fresh package under ``root``; return
    its import name (unique per call, so sys.modules never mixes two test packages)."""
    name = f"routes_pkg_{next(_names)}"
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(files.get("__init__.py", ""))
    for rel, source in files.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return name
