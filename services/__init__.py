"""App-wide service actors of the demo: the chat room and presence (see vango_actors.service)."""

from __future__ import annotations

from .chat import ChatRoom as ChatRoom
from .presence import Presence as Presence

DEMO_SERVICES = (ChatRoom, Presence)
"""Started with the demo app (``app_routes.services``), in this order."""
