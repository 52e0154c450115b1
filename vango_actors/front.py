"""The HTTP front: ``create_app(...)``, the app ``vango_actors.asgi:app`` is made with.

One QuartTrio app per process. Its lifespan runs the session runtime in the app's nursery
(opened at start-up, drained at shutdown). Requests:

- ``GET <page path>``: route match -> middleware ``before`` -> page (a live page creates a
  session and gets the client injected) -> middleware ``after``. 404 and 500 are pages too;
  a 500 shows the traceback only in dev.
- ``/vango/live/<sid>``: the live socket, served by a raw ASGI handler (see live.py); with
  ``live_port`` set the fast door (fastdoor.py) also serves it on that port, started in the
  lifespan, and pages point their client there (``data-vango-live``).
- ``/vango/client.<hash>.js``, ``/vango/health``, ``/vango/metrics``.

Under hypercorn's asyncio worker the app refuses to start with one line saying how to run it.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import multiprocessing
import multiprocessing.synchronize
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import attrs
import sniffio
import trio
from quart import Response, request
from quart.wrappers import Request
from quart_trio import QuartTrio
from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadHost
from werkzeug.routing import MapAdapter

from . import clientjs, fastdoor, live
from .component import SessionInfo
from .config import Settings
from .errors import VangoError
from .inject import (
    CLIENT_CACHE_CONTROL,
    CLIENT_CONTENT_TYPE,
    PageSession,
    document,
    inject_client,
    sign_token,
)
from .limits import StallGuard
from .manager import (
    ManagerStatistics,
    RuntimeClosed,
    SessionLimitReached,
    SessionManager,
    SessionNotFound,
    open_runtime,
)
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import FrontStats, make_registry, render_metrics, session_counts
from .navigation import Destination, Navigator, live_destination, route_meta
from .protocol import Limits, well_formed
from .pubsub import MemoryBroker, RedisBroker, open_pubsub
from .routing import BaseMiddleware, MiddlewareChain, Route, RouteTable, scan
from .service import Service, ServiceGroup, open_services, package_services
from .supervisor import MountError
from .tokens import TokenClaims, TokenSigner

log = logging.getLogger("vango_actors.front")

NEEDS_TRIO = (
    "vango-actors runs on trio, but this server runs {library}: start it with the trio worker, "
    "`hypercorn -k trio vango_actors.asgi:app`"
)

HTML_TYPE = "text/html; charset=utf-8"


@attrs.define
class Front:
    """Everything the front shares between requests; ``manager`` is set while serving."""

    settings: Settings
    routes: RouteTable
    chain: MiddlewareChain[Any, Response]
    signer: TokenSigner
    live_settings: live.LiveSettings
    live_stats: live.LiveStats
    client_url: str
    client_source: bytes
    stats: FrontStats = attrs.field(factory=FrontStats)
    rich_url: str = ""  # the optional client script (navigation, hooks, commands)
    rich_source: bytes = b""
    manager: SessionManager | None = None
    stop: trio.Event | None = None
    stopped: trio.Event | None = None
    live_port: int | None = None  # the fast door's bound port while it serves
    live_door: trio.CancelScope | None = None
    drain_watch: trio.CancelScope | None = None  # the SIGTERM receiver while serving
    services: tuple[Callable[[], Service], ...] = ()  # started with the runtime, in order
    broker: MemoryBroker | RedisBroker | None = None  # pub/sub, while serving
    service_group: ServiceGroup | None = None
    stall_guard: StallGuard = attrs.field(factory=lambda: StallGuard(0))  # 0: off

    def runtime_statistics(self) -> ManagerStatistics | None:
        return None if self.manager is None else self.manager.statistics()

    async def remount(
        self, claims: TokenClaims, origin: str | None, url: str, headers: live.Headers = ()
    ) -> None:
        """The live door's remount hook: see :func:`remount_session`."""
        await remount_session(self, claims, origin, url, headers)


class VangoApp(QuartTrio):
    """QuartTrio plus the trio check at lifespan start-up and the raw ASGI live door."""

    front: Front

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            self.front.stall_guard.check(scope)  # the first request through a listener
        if scope["type"] == "lifespan":
            library = _async_library()
            if library != "trio":
                await refuse_lifespan(library, receive, send)
                return
            send = _exit_on_failed_startup(send)
        elif scope["type"] == "websocket" and scope["path"].startswith(live.LIVE_PATH):
            await self._serve_live(scope, receive, send)
            return
        elif scope["type"] == "http":
            send = _shield_last_body(send)
        await super().__call__(scope, receive, send)

    async def drain(self) -> None:
        """Drain as SIGTERM does: refuse new pages and live sockets (503, 1013), send GOAWAY
        to every live page after its in-flight events (the client reconnects elsewhere),
        end the sessions; return when done (at once when not serving or already drained).

        For a program that serves the app itself: await it in hypercorn's
        ``shutdown_trigger`` before that returns. Hypercorn would otherwise wait for the live
        sockets (which never end by themselves) up to its ``graceful_timeout`` and close them
        bare, before the app's own shutdown drains.
        """
        await _drain(self.front)

    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        """Quart's adapter; for a Host werkzeug cannot IDNA-encode (a label over 63
        characters) one whose match answers 400. Quart builds the adapter outside its error
        handling, so werkzeug's BadHost would end the request in a 500 and a traceback."""
        try:
            return super().create_url_adapter(request)
        except BadHost:
            return _BadHostAdapter(self.url_map, "invalid", "/", "", "http", "/", "GET")

    async def _serve_live(self, scope: Any, receive: Any, send: Any) -> None:
        front = self.front
        if front.manager is None:  # not started (or already stopped): refuse the handshake
            await receive()
            await send({"type": "websocket.close", "code": 1013})
            return
        await live.asgi_endpoint(
            scope,
            receive,
            send,
            manager=front.manager,
            signer=front.signer,
            settings=front.live_settings,
            stats=front.live_stats,
            remount=front.remount,
        )


class _BadHostAdapter(MapAdapter):
    """The URL adapter of a request whose Host is malformed: every match is a 400."""

    def match(self, *args: Any, **kwargs: Any) -> Any:
        raise BadHost()


def _shield_last_body(send: Any) -> Any:
    """``send`` with the response's last body message shielded from cancellation.

    hypercorn's trio worker ends the exchange inside that call: it closes a ``Connection:
    close`` connection, or arms the keep-alive timer. The same call hands the app
    ``http.disconnect``, on which quart-trio cancels the request's nursery, so without the
    shield that bookkeeping was cancelled and the connection stayed open until the client
    left (tests/front/test_connections.py). The shield adds no wait: hypercorn already
    shields its socket writes."""

    async def sending(message: Any) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            with trio.CancelScope(shield=True):
                await send(message)
        else:
            await send(message)

    return sending


# ----------------------------------------------------------------- the asyncio-worker check


def _async_library() -> str:
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return "no async library"


async def refuse_lifespan(library: str, receive: Any, send: Any) -> None:
    """Answer lifespan start-up with a failure that says to use ``-k trio``.

    Hypercorn's supervisor reports exit status 0 when its worker fails to start (hypercorn
    issue #269), so in one of its spawned workers we print the line, end the supervisor with
    SIGUSR1 (a non-zero exit status) and leave without a traceback.
    """
    message = NEEDS_TRIO.format(library=library)
    await receive()  # lifespan.startup
    fail_hypercorn_start(message)
    await send({"type": "lifespan.startup.failed", "message": message})


def fail_hypercorn_start(message: str) -> None:
    """In one of hypercorn's spawned workers, end a failed start with a non-zero status:
    print ``message``, end the supervisor with SIGUSR1 and exit 3 without a traceback.
    Hypercorn's supervisor reports exit status 0 when its worker fails (hypercorn issue
    #269), so a process manager would not restart it. Returns outside such a worker."""
    supervisor = _hypercorn_supervisor_pid()
    if supervisor is None:
        return
    print(message, file=sys.stderr, flush=True)
    for pid in [*_sibling_workers(supervisor), supervisor]:
        try:  # the others first (they drain and exit), or they would outlive the supervisor
            os.kill(pid, signal.SIGTERM if pid != supervisor else signal.SIGUSR1)
        except OSError:
            pass  # gone already (another worker ended it first)
    os._exit(3)


def _sibling_workers(supervisor: int) -> list[int]:
    """The other workers hypercorn's ``supervisor`` spawned (multiprocessing ``spawn_main``
    children; not its resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == supervisor and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def _exit_on_failed_startup(send: Any) -> Any:
    """The lifespan's ``send``: a failed start-up (a port in use, a service that cannot
    start) ends the server with a non-zero status (:func:`fail_hypercorn_start`); the error
    itself is logged by Quart above that line."""

    async def sending(message: Any) -> None:
        if message["type"] == "lifespan.startup.failed":
            fail_hypercorn_start(f"vango-actors: start-up failed: {message.get('message', '')}")
        await send(message)

    return sending


def _hypercorn_supervisor_pid() -> int | None:
    """The pid of hypercorn's supervising process if this process is one of its workers."""
    if multiprocessing.parent_process() is None:
        return None
    parent = os.getppid()
    try:
        cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
    except OSError:
        return None
    return parent if b"hypercorn" in cmdline else None


def _guard_hypercorn_connections() -> None:
    """Make a connection that fails inside hypercorn end that connection, not the server.

    Hypercorn's trio worker serves each connection in a task of its listeners' nursery, and
    lets an error there end that nursery: the worker, and then the supervisor every worker
    (a worker that exits with an error status stops them all). Bytes that follow a WebSocket
    upgrade request before the 101 make such an error (hypercorn issue #225: its 400 answer
    fails halfway), so one packet from anyone ended the server. Patched once per process;
    the connection is closed by hypercorn's own ``finally`` before the error leaves it."""
    try:
        from hypercorn.trio.tcp_server import TCPServer
    except ImportError:  # served by something else
        return
    run = TCPServer.run
    if getattr(run, "vango_guarded", False):
        return

    async def guarded(self: TCPServer) -> None:
        try:
            await run(self)
        except Exception as exc:  # (an ExceptionGroup from its task group, usually)
            live.refusals.warn(
                "hypercorn", "connection closed after an error in hypercorn: %r", exc
            )

    guarded.vango_guarded = True  # type: ignore[attr-defined]
    TCPServer.run = guarded  # type: ignore[method-assign]


# --------------------------------------------------------------------------------- the app


def create_app(
    routes: str | None = None,
    *,
    middleware: Iterable[Any] = (),
    services: Iterable[Callable[[], Service]] | None = None,
    **overrides: Any,
) -> VangoApp:
    """Build the app for the routes package ``routes`` (default: ``VANGO_ROUTES`` or
    ``app_routes``); keyword ``overrides`` are :class:`Settings` fields and win over the env.
    ``services`` (default: the routes package's ``services`` list) start with the runtime."""
    _guard_hypercorn_connections()
    if routes is not None:
        overrides["routes"] = routes
    overrides.setdefault("workers", _hypercorn_workers())
    settings = Settings.from_env(os.environ, **overrides)
    table = scan(settings.routes)
    app = VangoApp(__name__, static_folder=None)
    app.front = Front(
        settings=settings,
        routes=table,
        chain=MiddlewareChain((*table.middleware, *middleware)),
        signer=TokenSigner(settings.secret_keys, settings.token_max_age),
        live_settings=live.LiveSettings(
            allowed_origins=settings.allowed_origins,
            heartbeat_ms=settings.heartbeat_ms,
            event_rate=settings.event_rate,
            event_burst=settings.event_burst,
            max_connections_per_address=settings.max_connections_per_address,
            limits=Limits(max_frame_bytes=settings.max_frame_bytes),
        ),
        live_stats=live.LiveStats(),
        client_url=clientjs.client_url(settings.dev),
        client_source=clientjs.client_source(settings.dev),
        rich_url=clientjs.rich_url(settings.dev),
        rich_source=clientjs.rich_source(settings.dev),
        services=tuple(package_services(settings.routes) if services is None else services),
        stall_guard=StallGuard(settings.stall_timeout),
    )
    registry = make_registry(app.front.runtime_statistics, app.front.live_stats, app.front.stats)
    _add_lifespan(app)
    _add_internal_routes(app, registry)
    _add_page_routes(app)
    return app


def _add_lifespan(app: VangoApp) -> None:
    front = app.front

    @app.before_serving
    async def start_runtime() -> None:
        front.stop, front.stopped = trio.Event(), trio.Event()
        front.manager = await app.nursery.start(_run_runtime, front)
        if threading.current_thread() is threading.main_thread():
            front.drain_watch = await app.nursery.start(_drain_on_sigterm, front)
        if front.settings.live_port is not None:
            front.live_port = await app.nursery.start(_run_fast_door, front)

    @app.after_serving
    async def stop_runtime() -> None:
        await _drain(front)  # live clients got GOAWAY and were closed
        if front.live_door is not None:
            front.live_door.cancel()
        if front.drain_watch is not None:
            front.drain_watch.cancel()


async def _run_fast_door(front: Front, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Serve the fast live door on ``settings.live_port`` until ``front.live_door`` is cancelled."""
    settings = front.settings
    assert settings.live_port is not None
    config = fastdoor.FastDoorConfig(
        host=settings.live_host,
        port=settings.live_port,
        last_port=settings.live_port_last,
        stall_timeout=settings.stall_timeout,
    )
    with trio.CancelScope() as front.live_door:
        await fastdoor.serve_fast_door(front, config, task_status=task_status)


#: After a SIGTERM drain, how long a hypercorn worker waits for its supervisor to stop it
#: (the signal went to the whole group) before it passes the signal on (it came to this
#: process alone). Above hypercorn's ``graceful_timeout`` (deploy/: 15 s).
STOP_GRACE = 30.0

#: How long a drained hypercorn worker waits for its supervisor's shutdown (the SIGTERM went
#: to the whole group) before it takes the signal as its own (a rolling restart).
ALONE_AFTER = 0.5
_POLL = 0.1  # s between looks at the supervisor's shutdown event (hypercorn's own period)


async def _drain_on_sigterm(front: Front, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """On SIGTERM drain at once: refuse new pages and sockets, GOAWAY every live client.

    Hypercorn closes its listeners on the same signal (its supervisor relays it) but runs the
    lifespan shutdown only after open connections ended or its ``graceful_timeout`` cancelled
    them; live sockets never end by themselves, so without this clients would get a bare
    close instead of GOAWAY, and their in-flight events no acknowledgement.

    Then the process must end. When the signal went to hypercorn's supervisor too, its
    shutdown cancels this task. A hypercorn worker signalled alone (a rolling restart) ends
    with status 0 once drained: its supervisor starts a new one (a worker that dies of the
    signal makes it stop every worker). Otherwise (an embedding program, a worker whose
    supervisor died, or one that does not stop within :data:`STOP_GRACE`) the signal goes
    to the handler this one replaced, the default ending the process; a second SIGTERM
    meanwhile acts at once.
    """
    with trio.CancelScope() as scope:
        task_status.started(scope)
        stopping = _supervisor_shutdown_event()
        async with trio.open_nursery() as nursery:
            if stopping is not None:
                nursery.start_soon(_drain_when_supervisor_stops, front, stopping)
            await _drain_on_signal(front, stopping)


async def _drain_when_supervisor_stops(
    front: Front, stopping: multiprocessing.synchronize.Event
) -> None:
    """Drain at once when hypercorn's supervisor stops without this worker getting SIGTERM
    itself (``docker stop``, ``kill <main pid>``): hypercorn would otherwise close the ASGI
    door's live sockets bare after its ``graceful_timeout``, before the app's shutdown."""
    await _set(stopping, math.inf)
    log.info("hypercorn stopping: draining live sessions (GOAWAY, then close)")
    await _drain(front)


async def _drain_on_signal(
    front: Front, stopping: multiprocessing.synchronize.Event | None
) -> None:
    """Wait for SIGTERM, drain, then end the process as :func:`_drain_on_sigterm` says."""
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            break
    log.info("SIGTERM: draining live sessions (GOAWAY, then close)")
    await _drain(front)
    if _hypercorn_supervisor_pid() is not None:
        if stopping is not None and not await _set(stopping, ALONE_AFTER):
            log.info("SIGTERM to this worker alone: drained; exiting for a new worker")
            _exit_worker()
        await trio.sleep(STOP_GRACE)
    log.warning("SIGTERM: drained, and the server did not stop: passing the signal on")
    signal.raise_signal(signal.SIGTERM)


def _supervisor_shutdown_event() -> multiprocessing.synchronize.Event | None:
    """The event hypercorn's supervisor passes its workers and sets when it stops (on its
    own SIGTERM); None outside such a worker. A worker signalled while it stays clear for
    :data:`ALONE_AFTER` s got the signal alone."""
    if _hypercorn_supervisor_pid() is None:
        return None
    kwargs = getattr(multiprocessing.current_process(), "_kwargs", None)
    stopping = kwargs.get("shutdown_event") if isinstance(kwargs, dict) else None
    return stopping if isinstance(stopping, multiprocessing.synchronize.Event) else None


async def _set(event: multiprocessing.synchronize.Event, timeout: float) -> bool:
    """Whether ``event`` is set within ``timeout`` s, polled as hypercorn polls it: a process
    that dies inside ``event.wait()`` leaves the event's condition counting a sleeper that
    never wakes, and the supervisor's ``set()`` then blocks for ever (its shutdown hangs)."""
    with trio.move_on_after(timeout):
        while not event.is_set():
            await trio.sleep(_POLL)
        return True
    return False


def _exit_worker() -> None:
    """End this hypercorn worker with status 0, which its supervisor answers with a new
    worker (sessions, services and pub/sub already ended with the drain)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _drain(front: Front) -> None:
    """Stop the runtime (see VangoApp.drain) and wait until it drained."""
    if front.stop is not None and front.stopped is not None:
        front.stop.set()
        await front.stopped.wait()


def _hypercorn_workers() -> int:
    """How many workers the hypercorn supervisor of this process runs (``-w`` / ``--workers``
    on its command line); 1 when not under a hypercorn supervisor."""
    parent = _hypercorn_supervisor_pid()
    if parent is None:
        return 1
    try:
        args = Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return 1
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit():
            return int(value)
    return 1


async def remount_session(
    front: Front,
    claims: TokenClaims,
    origin: str | None,
    url: str = "",
    headers: live.Headers = (),
) -> None:
    """Re-create the page a verified token names, under its session id (no local actor).

    ``url`` is the page's address as the client's HELLO gives it: its query string is kept
    (``handle_params`` sees what the address bar shows) when its path is the token's page.
    The middleware ``before`` hooks see the page's GET as the socket's handshake (``headers``:
    its cookies) makes it; one that answers refuses the remount, as it refuses the page.

    Raises SessionNotFound (the client reloads) when the route is gone or fails to mount,
    ``live.Unavailable`` (the client retries, maybe elsewhere) while draining or full.
    """
    manager = front.manager
    if manager is None:
        raise live.Unavailable("the server is draining: reconnect to another worker")
    sid = claims.session_id
    route = front.routes.get(claims.route)
    if route is None or not route.is_live:
        raise SessionNotFound(sid, "unknown", f"no live page {claims.route!r} to remount here")
    try:
        props = route.convert(claims.params)
    except ValueError as exc:
        raise SessionNotFound(sid, "unknown", f"cannot remount: {exc}") from None
    meta = {**claims.data, "route": route.pattern, "params": dict(claims.params)}
    here = _page_url(front, url, claims)
    if here is not None:
        meta["url"] = here
    if _gated(front) and _refused(front, _page_request(route, claims, here, headers)):
        raise SessionNotFound(sid, "unknown", f"cannot remount: {route.pattern} was refused")
    signed = claims.data.get("origin")
    if isinstance(signed, str):  # the page's origin, from the token
        if origin and origin != signed and origin not in front.settings.allowed_origins:
            raise SessionNotFound(
                sid, "unknown", f"cannot remount: Origin {origin!r} is not the page's ({signed!r})"
            )
        meta["origin"] = signed
    elif origin:
        meta["origin"] = origin
    try:
        created = await manager.create(route.target, props, meta=meta, session_id=sid)
    except (RuntimeClosed, SessionLimitReached) as exc:
        raise live.Unavailable(str(exc)) from None
    except MountError as exc:
        raise SessionNotFound(sid, "unknown", f"remounting {route.pattern} failed: {exc}") from None
    except VangoError as exc:  # the id is still taken by a session that is ending
        raise live.Unavailable(str(exc)) from None
    if created.redirect is not None:  # mount navigated away: the reload gets the 302
        raise SessionNotFound(sid, "ended", f"the page navigated to {created.redirect} in mount")
    front.live_stats.remounts += 1


def _gated(front: Front) -> bool:
    """Some middleware has a ``before`` hook (an access check, say)."""
    return any(_has_before(item) for item in front.chain.middleware)


def _refused(front: Front, page: Request) -> bool:
    """The middleware ``before`` hooks answer the page's GET themselves (a remount is refused);
    one that raises refuses it too: the client reloads, and that GET gets the 500 page."""
    try:
        return front.chain.before(page)[0] is not None
    except Exception:
        log.exception("middleware failed on a remount of %s", page.path)
        return True


def _page_request(
    route: Route, claims: TokenClaims, here: str | None, headers: live.Headers
) -> Request:
    """The GET of the token's page (``here``: path?query, else the route filled with the
    token's params) with the live socket's handshake headers: what ``before`` hooks see."""
    if here is None:
        here = "/" + "/".join(
            quote(claims.params[s.text], safe="") if s.convert is not None else s.text
            for s in route.segments
        )
    path, _, query = here.partition("?")
    pairs = [(bytes(k), bytes(v)) for k, v in headers]
    origin = claims.data.get("origin")  # the page's, signed: its scheme is the page's
    scheme = urlsplit(origin).scheme if isinstance(origin, str) else ""
    scheme = scheme if scheme in ("http", "https") else "http"
    scope: Any = {
        "type": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": pairs,
        "client": None,
        "server": None,
        "extensions": {},
    }
    return Request(
        "GET",
        scheme,
        path,
        query.encode(),
        Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs]),
        "",
        "1.1",
        scope,
        send_push_promise=_no_push,
    )


async def _no_push(path: str, headers: Headers) -> None:
    """A remount's made-up request pushes nothing."""


def _page_url(front: Front, url: str, claims: TokenClaims) -> str | None:
    """``url``'s path?query when its path leads to the token's page (the query is the
    user's, as in any GET; the page is the token's); None otherwise."""
    parts = urlsplit(url)
    path = unquote(parts.path)  # as a page request's (the server decodes the path)
    found = front.routes.match(path)
    if found is None or found[0].pattern != claims.route:
        return None
    if {k: str(v) for k, v in found[1].items()} != claims.params:
        return None
    return f"{path}?{parts.query}" if parts.query else path


async def _run_runtime(front: Front, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Open pub/sub, the services and the runtime, report the manager, wait for shutdown,
    then drain (sessions first, then services, then pub/sub)."""
    assert front.stop is not None and front.stopped is not None
    try:
        async with (
            open_pubsub(front.settings.pubsub) as front.broker,
            open_services(front.services, front.broker) as front.service_group,
            open_runtime(**front.settings.runtime_config(), navigator=_navigator(front)) as manager,
        ):
            task_status.started(manager)
            await front.stop.wait()
            front.manager = None  # new pages and sockets are refused while draining
            # GOAWAY to live clients after their in-flight events, unmount every session
            await manager.aclose(front.settings.drain_timeout)
    finally:
        front.manager = None
        front.stopped.set()


def _add_internal_routes(app: VangoApp, registry: Any) -> None:
    front = app.front

    scripts = {
        url.rsplit("/", 1)[-1]: (source, gzip.compress(source, compresslevel=9, mtime=0))
        for url, source in [
            (front.client_url, front.client_source),
            (front.rich_url, front.rich_source),
        ]
    }

    @app.route("/vango/<name>")
    async def client_script(name: str) -> Response:
        if name not in scripts:
            return _not_found_response(front, f"/vango/{name}")
        return _script_response(name, *scripts[name])

    @app.route("/favicon.ico")
    async def favicon() -> Response:
        return Response(b"", status=204)  # no icon: keep browsers from logging a 404

    @app.route("/vango/health")
    async def health() -> Response:
        stats = front.runtime_statistics()
        status = "ok" if stats is not None else "unavailable"
        body: dict[str, Any] = {"status": status, "sessions": session_counts(stats)}
        _add_scale_health(front, body)
        return Response(
            json.dumps(body),
            status=200 if stats is not None else 503,
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @app.route("/vango/metrics")
    async def metrics() -> Response:
        return Response(render_metrics(registry), content_type=METRICS_CONTENT_TYPE)


def _script_response(name: str, source: bytes, gzipped: bytes) -> Response:
    """A client script: gzipped when the browser takes it (the size budget is the gzipped
    build's), ``304`` when ``If-None-Match`` names the variant it would get. The ETag is the
    content-hashed file name (plus ``-gz``), so it changes exactly when the bytes do."""
    zipped = request.accept_encodings["gzip"] > 0
    etag = f"{name}-gz" if zipped else name
    headers = {
        "Cache-Control": CLIENT_CACHE_CONTROL,
        "ETag": f'"{etag}"',
        "Vary": "Accept-Encoding",
    }
    if request.if_none_match.contains_weak(etag):
        return Response(b"", status=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    body = gzipped if zipped else source
    return Response(body, content_type=CLIENT_CONTENT_TYPE, headers=headers)


def _add_scale_health(front: Front, body: dict[str, Any]) -> None:
    """Pub/sub and services in /vango/health: ``degraded`` (still 200) when one is down."""
    if front.broker is not None:
        pubsub_status = front.broker.status().as_json()
        body["pubsub"] = pubsub_status
        if pubsub_status["status"] != "ok" and body["status"] == "ok":
            body["status"] = "degraded"
    if front.service_group is not None:
        body["services"] = {s.name: s.state for s in front.service_group.statistics()}
        if not front.service_group.healthy and body["status"] == "ok":
            body["status"] = "degraded"


def _add_page_routes(app: VangoApp) -> None:
    front = app.front

    @app.after_request
    async def secure_the_rest(response: Response) -> Response:
        """Every response gets SECURE_HEADERS: pages before the middleware's ``after`` (it may
        change them), the rest (scripts, ``/vango/*``, 404s, 405s, 503s) here."""
        if request.endpoint != "serve_page":
            _secure(response)
        return response

    @app.route("/", defaults={"path": ""}, methods=["GET"])
    @app.route("/<path:path>", methods=["GET"])
    async def serve_page(path: str) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        try:
            response, passed = front.chain.before(req)
            if response is None:
                response = await _page_response(front, "/" + path)
            _secure(response)
            return front.chain.after(req, response, passed)
        except Exception as exc:
            log.exception("error while serving %s", request.path)
            return _secure(_error_response(front, exc))


#: Sent with every page unless the response has its own (a middleware ``after`` may change
#: them): no framing by other sites (clickjacking a live page's buttons), no MIME sniffing,
#: no full URL (path params, query) in the Referer to other sites. As Phoenix's
#: ``put_secure_browser_headers``.
SECURE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _page_bytes(page: str) -> bytes:
    """A page's UTF-8; a lone surrogate in it (user data badly decoded) shows as U+FFFD
    instead of failing the whole page with a 500."""
    try:
        return page.encode()
    except UnicodeEncodeError:
        return well_formed(page).encode()


def _secure(response: Response) -> Response:
    for name, value in SECURE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _page_response(front: Front, path: str) -> Response:
    found = front.routes.match(path)
    if found is None:
        return _not_found_response(front, path)
    route, params = found
    title = route.spec.title_for(params)
    if not route.is_live:
        body = inject_client(route.target(**params), None)
        return Response(_page_bytes(document(title, body)), content_type=HTML_TYPE)
    return await _live_page_response(front, route, params, title)


async def _live_page_response(
    front: Front, route: Route, params: Mapping[str, Any], title: str
) -> Response:
    manager = front.manager
    if manager is None:
        return _unavailable_response(front)
    meta = _meta(route, params)
    try:
        created = await manager.create(route.target, dict(params), meta=meta)
    except SessionLimitReached:
        front.stats.sessions_refused += 1
        return _unavailable_response(front, "The server is at its session limit; try again.")
    except RuntimeClosed:
        return _unavailable_response(front)
    if request.method == "HEAD" and manager.has(created.session_id):
        # same status and headers as a GET, but the body (the token) is never sent: no
        # client can claim the session, which would otherwise wait out VANGO_UNCLAIMED_TTL
        manager.session(created.session_id).stop("a HEAD request: nobody will connect")
    if created.redirect is not None:  # mount navigated away (an auth guard): as LiveView, 302
        location = quote(created.redirect, safe="/:?#[]@!$&'()*+,;=%~")
        return Response("", status=302, headers={"Location": location})
    session = PageSession(
        created.session_id,
        route.pattern,
        params,
        _signed_data(meta),
        live_url=_live_url(front, created.session_id),
        dev=front.settings.dev,
    )
    title = created.title or title
    rich = front.rich_url if created.rich else ""
    body = inject_client(
        created.html, session, signer=front.signer, client_src=front.client_url, rich_src=rich
    )
    return Response(
        _page_bytes(document(title, body)),
        content_type=HTML_TYPE,
        headers={"Cache-Control": "no-store"},  # the page carries a one-session token
    )


def _meta(route: Route, params: Mapping[str, Any]) -> dict[str, Any]:
    """The session's meta; ``origin`` is the page's, which the fast door's Origin check needs."""
    meta = route_meta(route, params, _request_url())
    meta["origin"] = live.page_origin(request.host, request.scheme)
    return meta


def _signed_data(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What the token vouches for besides the page: the page's origin, so that a remount
    (no session here) takes it from the token, not from whichever socket came first."""
    origin = meta.get("origin")
    return {"origin": origin} if isinstance(origin, str) else {}


def _request_url() -> str:
    """path?query of the current request (what ``handle_params`` sees first)."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _navigator(front: Front) -> Navigator:
    """Live navigation: a local URL of a live page -> Destination with a fresh token.

    With a middleware ``before`` hook, only the page shown (same route and path params: a
    patch) is reached live; another page is a full load (None: REDIRECT), so that ``before``
    (an authentication check, say) sees every page a user reaches, as it sees page GETs.
    Middleware with an ``after`` hook only (headers on responses) keeps live navigation."""
    gated = _gated(front)

    def navigate(url: str, info: SessionInfo) -> Destination | None:
        def token(route: Route, params: Mapping[str, Any]) -> str:
            signed = _signed_data(info.data)
            return sign_token(front.signer, PageSession(info.id, route.pattern, params, signed))

        dest = live_destination(front.routes, url, token)
        if dest is not None and gated and not _shown(dest, info):
            return None
        return dest

    return navigate


def _has_before(item: object) -> bool:
    """``item`` has a ``before`` hook of its own (not BaseMiddleware's, which does nothing)."""
    hook = getattr(type(item), "before", None)
    return hook is not None and hook is not BaseMiddleware.before


def _shown(dest: Destination, info: SessionInfo) -> bool:
    """``dest`` is the page the session shows (its route and path params)."""
    data = info.data
    return dest.route == data.get("route") and dest.meta.get("params") == data.get("params")


def _live_url(front: Front, session_id: str) -> str | None:
    """Where the page's client opens its live socket; None: the page's own origin."""
    configured = front.settings.live_url
    if front.live_port is None or configured == "same-origin":
        return None
    if configured is not None:
        return f"{configured}{live.LIVE_PATH}{session_id}"
    return fastdoor.live_url(request.host, request.scheme, front.live_port, session_id)


# ------------------------------------------------------------------------------ error pages


def _message_page(title: str, message: str, extra: str = "") -> str:
    body = (
        f"<main><h1>{escape(title)}</h1><p>{escape(message)}</p>{extra}"
        '<p><a href="/">Home</a></p></main>'
    )
    return document(title, body)


def _not_found_response(front: Front, path: str) -> Response:
    page = _message_page("Not found", f"There is no page at {path}.")
    return Response(_page_bytes(page), status=404, content_type=HTML_TYPE)


def _unavailable_response(
    front: Front, message: str = "The server is starting or shutting down; try again."
) -> Response:
    page = _message_page("Unavailable", message)
    return Response(
        _page_bytes(page), status=503, content_type=HTML_TYPE, headers={"Retry-After": "1"}
    )


def _error_response(front: Front, exc: BaseException) -> Response:
    """The 500 page: the traceback in dev, a plain apology otherwise."""
    extra = ""
    if front.settings.dev:
        trace = "".join(traceback.format_exception(exc))
        extra = f'<pre class="traceback">{escape(trace)}</pre>'
    page = _message_page("Server error", "Something went wrong while rendering this page.", extra)
    return Response(_page_bytes(page), status=500, content_type=HTML_TYPE)
