"""vango-actors: server-driven web pages on trio."""

from __future__ import annotations

from .errors import VangoError as VangoError
from .vdom import Element as Element
from .vdom import Raw as Raw
from .vdom import Text as Text
from .vdom import h as h

__version__ = "0.1.0"
