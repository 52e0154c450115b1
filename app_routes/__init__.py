"""The demo application: one module per page (file-based routing, see vango_actors.routing)."""

from services import DEMO_SERVICES

#: App-wide service actors started with the runtime (chat room, presence); see services/.
services = list(DEMO_SERVICES)
