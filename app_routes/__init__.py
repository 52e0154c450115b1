"""The demo application: one module per page (file-based routing, see vango_actors.routing)."""
