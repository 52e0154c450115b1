"""``app`` for ``hypercorn -k trio vango_actors.asgi:app``: the app of the environment's
settings (``VANGO_*``; routes from ``VANGO_ROUTES``, default ``app_routes``).

Importing this module builds that app, which imports the routes package and its services
and checks the configuration. A program that makes its own app imports :func:`create_app`
from the HTTP front, ``vango_actors.front``, which builds nothing.
"""

from __future__ import annotations

import traceback

from .front import VangoApp, create_app, fail_hypercorn_start

try:
    app: VangoApp = create_app()
except Exception as exc:  # a bad VANGO_* setting, a routes package that does not import
    traceback.print_exc()
    fail_hypercorn_start(f"vango-actors: the app could not be built: {exc}")
    raise
