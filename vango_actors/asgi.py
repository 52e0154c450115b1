"""``app`` for ``hypercorn -k trio vango_actors.asgi:app``: the app of the environment's
settings (``VANGO_*``; routes from ``VANGO_ROUTES``, default ``app_routes``).

Importing this module builds that app, which imports the routes package and its services
and checks the configuration. A program that makes its own app imports :func:`create_app`
from the HTTP front, ``vango_actors.front``, which builds nothing.
"""

from __future__ import annotations

from .front import VangoApp, create_app

app: VangoApp = create_app()
