"""The ``vango-actors`` command: ``serve``, ``dev``, ``routes``, ``new``.

- ``serve`` checks what usually goes wrong (routes package, ports, secret key) and then becomes
  ``hypercorn -k trio`` (``exec``, so signals reach hypercorn directly).
- Both serve live sockets through the fast door (fastdoor.py) by default, on the page port + 1
  (``--live-port PORT`` shared by the workers, ``FIRST-LAST`` one per worker, or
  ``VANGO_LIVE_PORT``; ``off`` or empty: the ASGI door on the page port).
- ``dev`` runs the same server as a child process owned by a trio nursery and restarts it when
  a watched file changes (a polling loop: no extra dependency). With ``VANGO_DEV=1`` the client
  is unminified and the browser shows an error overlay; while the code cannot even start, the
  CLI answers every request on the port with the start-up error as an HTML page.
- ``routes`` prints the route table; ``new NAME`` writes a one-page app with a passing test.

The routes package comes from ``--routes``, else ``VANGO_ROUTES``, else
``[tool.vango-actors] routes`` in ``./pyproject.toml``, else ``app_routes``.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import importlib.util
import json
import os
import signal
import socket
import stat
import sys
import tempfile
import tomllib
import traceback
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import trio
import wsproto
import wsproto.events
import wsproto.utilities

from .config import ConfigError, check_live_range, parse_live_ports
from .errors import VangoError
from .logs import dict_config
from .routing import RouteTable, scan

ASGI_APP = "vango_actors.asgi:app"
_PACKAGE_DIR = str(Path(__file__).resolve().parent) + os.sep
DEFAULT_BIND = "127.0.0.1:8000"
WATCH_SUFFIXES = frozenset({".py", ".html", ".css", ".js", ".toml"})
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "venv", "env", "site-packages", "build"})


class CliError(VangoError):
    """A problem the user can fix; printed as ``error: <message>``, exit status 2."""


# ------------------------------------------------------------------------------ options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vango-actors", description="Server-driven web pages on trio."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the app with hypercorn -k trio (production)")
    _server_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    dev = commands.add_parser("dev", help="run with auto-reload, error overlay, readable client")
    _server_options(dev)
    dev.add_argument(
        "--watch",
        action="append",
        default=None,
        metavar="DIR",
        help="directory to watch (repeatable; default: the current directory)",
    )
    dev.add_argument("--poll", type=float, default=0.5, help="seconds between file scans")
    routes = commands.add_parser("routes", help="list the route table")
    routes.add_argument("--routes", help=ROUTES_HELP)
    new = commands.add_parser("new", help="create a minimal app with one page and one test")
    new.add_argument("name", help="directory (and package) name, e.g. blog")
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bind", default=DEFAULT_BIND, help=f"HOST:PORT (default {DEFAULT_BIND})")
    parser.add_argument(
        "--live-port",
        metavar="PORT|FIRST-LAST|off",
        help="the fast live door's port, shared by the workers (default: VANGO_LIVE_PORT, else "
        "the --bind port + 1); FIRST-LAST: a port of its own per worker, taken back by a "
        "restarted one; 0: a free port per worker; off: live sockets through the page port's "
        "ASGI door",
    )
    parser.add_argument("--routes", help=ROUTES_HELP)
    parser.add_argument("--log-format", choices=("text", "json"), default="text")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "new":
            return cmd_new(args.name)
        _put_cwd_on_path()
        if args.command == "routes":
            return cmd_routes(resolve_routes(args.routes))
        if args.command == "serve":
            return cmd_serve(args)
        return cmd_dev(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# ------------------------------------------------------------------------------ checks


ROUTES_HELP = (
    "routes package (default: VANGO_ROUTES, else [tool.vango-actors] routes in "
    "./pyproject.toml, else app_routes)"
)


def resolve_routes(option: str | None, cwd: Path | None = None) -> str:
    """``--routes``, ``VANGO_ROUTES``, ``[tool.vango-actors] routes``, ``app_routes``."""
    if option:
        return option
    if os.environ.get("VANGO_ROUTES", "").strip():
        return os.environ["VANGO_ROUTES"].strip()
    pyproject = (cwd or Path.cwd()) / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text()).get("tool", {})
        except tomllib.TOMLDecodeError as exc:
            raise CliError(f"{pyproject}: not valid TOML: {exc}") from None
        configured = tool.get("vango-actors", {}).get("routes")
        if isinstance(configured, str) and configured:
            return configured
    return "app_routes"


def check_routes_found(package: str) -> None:
    """The routes package must be importable from here; usually it is not because the command
    runs outside the app's directory."""
    try:
        found = importlib.util.find_spec(package.partition(".")[0]) is not None
    except (ImportError, ValueError):
        found = True  # it exists but is broken: importing it says how
    if not found:
        raise CliError(
            f"routes package {package!r} not found in {os.getcwd()}: run vango-actors in the "
            "app's directory (the one whose pyproject.toml has [tool.vango-actors] routes = "
            '"..."), or name the package with --routes PACKAGE (or VANGO_ROUTES)'
        )


def load_routes(package: str) -> RouteTable:
    """Scan the routes package; any failure becomes one CliError that names the package."""
    check_routes_found(package)
    try:
        return scan(package)
    except VangoError as exc:
        raise CliError(f"bad routes package {package!r}: {exc}") from None
    except SyntaxError as exc:
        raise CliError(
            f"bad routes package {package!r}: {exc.msg} ({exc.filename}, line {exc.lineno})"
        ) from None
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        # the app's line, not the library's that raised (e.g. @live_page without parentheses)
        app = [f for f in frames if not f.filename.startswith((_PACKAGE_DIR, "<"))]
        where = (app or frames)[-1]
        raise CliError(
            f"bad routes package {package!r}: importing it raised {type(exc).__name__}: {exc} "
            f"({where.filename}, line {where.lineno})"
        ) from None


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"--bind: expected HOST:PORT such as 127.0.0.1:8000, got {bind!r}")
    return host.strip("[]"), int(port)


#: The fast door's ports: one port every worker shares (0: a free port per worker), a
#: ``(first, last)`` range (each worker alone on the first free port of it), or None (no door).
LivePorts = int | tuple[int, int] | None


def resolve_live_port(option: str | None, environ: Mapping[str, str], bind_port: int) -> LivePorts:
    """The fast door's port: ``--live-port``, else ``VANGO_LIVE_PORT`` (empty or ``off``: no
    fast door), else the page port + 1. None: live sockets use the ASGI door."""
    if option is not None:
        source, raw = "--live-port", option
    elif "VANGO_LIVE_PORT" in environ:
        source, raw = "VANGO_LIVE_PORT", environ["VANGO_LIVE_PORT"]
    else:
        if bind_port + 1 > 65535:
            raise CliError(
                f"no port after {bind_port} for the live door: choose one with --live-port PORT "
                "(or --live-port off)"
            )
        return bind_port + 1
    if not raw.strip():
        return None
    try:
        ports = parse_live_ports(source, raw)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if ports is None:
        return None
    first, last = ports
    return first if last is None else (first, last)


def _check_live_range(host: str, port: int, first: int, last: int, workers: int) -> None:
    """Each worker needs a free port of its own in ``first..last``."""
    try:
        check_live_range("--live-port", first, last, workers)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if first <= port <= last:
        raise CliError(f"--live-port: the range {first}-{last} holds the page port {port}")
    free = 0
    for live in range(first, last + 1):
        try:
            check_port_free(host, live)
        except CliError:
            continue
        free += 1
        if free == workers:
            return
    raise CliError(
        f"--live-port: the range {first}-{last} has {free} free port(s) for {workers} "
        "worker(s) (the others are in use): stop what holds them or choose another range"
    )


def check_port_free(host: str, port: int, choose: str = "--bind HOST:PORT") -> None:
    """Bind and release ``host:port`` so a taken port fails here, with a clear message."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliError(
                    f"cannot listen on {host}:{port}: the port is in use (stop the other "
                    f"server or choose another with {choose})"
                ) from None
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def check_secret(environ: dict[str, str] | os._Environ[str]) -> None:
    if not environ.get("VANGO_SECRET_KEY", "").strip():
        raise CliError(
            "VANGO_SECRET_KEY is not set: `serve` is the production mode and needs a signing "
            "key for live-page tokens, the same in every worker and across restarts. Generate "
            "one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`, or use "
            "`vango-actors dev` for local development"
        )


def pubsub_warning(workers: int, environ: dict[str, str] | os._Environ[str]) -> str | None:
    """Several workers with the in-memory broker: a message reaches one worker's sessions."""
    backend = environ.get("VANGO_PUBSUB", "").strip() or "memory"
    if workers < 2 or backend != "memory":
        return None
    return (
        f"warning: {workers} workers share no pub/sub with VANGO_PUBSUB=memory: a message "
        "published in one worker reaches only that worker's sessions (chat, presence, "
        "broadcasts). Set VANGO_PUBSUB=redis://host:port to connect them (deploy/README.md)"
    )


def _put_cwd_on_path() -> None:
    """The routes package lives in the project directory (console scripts do not add it)."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


# ------------------------------------------------------------------------------ commands


def cmd_routes(package: str) -> int:
    table = load_routes(package)
    rows = [
        (r.pattern, "live" if r.is_live else "static", r.source, r.spec.title) for r in table.routes
    ]
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(_HEADER)]
    for row in (_HEADER, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


_HEADER = ("PATH", "KIND", "FILE", "TITLE")


#: Pending connections the kernel queues for the page port (the fast door's own; Linux caps
#: it at somaxconn).
BACKLOG = 4096


def server_command(bind: str, workers: int, log_config: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hypercorn",
        "-k",
        "trio",
        "--bind",
        bind,
        "--workers",
        str(workers),
        # hypercorn's default (100) overflows when many tabs reconnect at once: the kernel
        # drops handshakes and browsers wait out SYN retransmits (deploy/hypercorn.toml)
        "--backlog",
        str(BACKLOG),
        "--log-config",
        f"json:{log_config}",
        ASGI_APP,
    ]


def server_env(
    routes: str, *, dev: bool, live_port: LivePorts = None, live_host: str = "127.0.0.1"
) -> dict[str, str]:
    """The server's environment: the routes, the fast door's port (``""``: none) and host
    (the page's bind host unless VANGO_LIVE_HOST is set), dev mode."""
    env = dict(os.environ, VANGO_ROUTES=routes, PYTHONUNBUFFERED="1")
    path = [os.getcwd(), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(path)
    env["VANGO_LIVE_PORT"] = _format_live_port(live_port)
    if not env.get("VANGO_LIVE_HOST", "").strip():
        env["VANGO_LIVE_HOST"] = live_host
    if dev:
        env["VANGO_DEV"] = "1"
    return env


def _format_live_port(live_port: LivePorts) -> str:
    if isinstance(live_port, tuple):
        return f"{live_port[0]}-{live_port[1]}"
    return "" if live_port is None else str(live_port)


def live_door(bind: str, option: str | None, workers: int = 1) -> tuple[str, int, LivePorts]:
    """Parse ``--bind`` and resolve the live port; both ports must be free (a range: a free
    port for each of ``workers``)."""
    host, port = parse_bind(bind)
    live_port = resolve_live_port(option, os.environ, port)
    check_port_free(host, port)
    if isinstance(live_port, tuple):
        _check_live_range(host, port, *live_port, workers)
    elif live_port:
        if live_port == port:
            raise CliError(f"--live-port: {live_port} is the page port; choose another")
        check_port_free(host, live_port, "--live-port PORT (or --live-port off)")
    return host, port, live_port


def describe_doors(host: str, port: int, live_port: LivePorts) -> str:
    shown = f"[{host}]" if ":" in host else host
    if live_port is None:
        return f"pages and live sockets on http://{shown}:{port}/ (ASGI door)"
    if isinstance(live_port, tuple):
        door = f"ws://{shown}:{_format_live_port(live_port)}, a port per worker"
    else:
        door = "a free port per worker" if live_port == 0 else f"ws://{shown}:{live_port}"
    return f"pages on http://{shown}:{port}/, live sockets on {door} (fast door)"


def write_log_config(log_format: Any, directory: str | None = None) -> str:
    """The logging config file hypercorn reads as each worker starts: one per content in a
    directory of this user's alone (mode 0700, in the temp directory), so the restarts of a
    server reuse it instead of leaving a file each behind."""
    text = json.dumps(dict_config(log_format), sort_keys=True)
    folder = Path(directory or tempfile.gettempdir()) / f"vango-actors-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise CliError(f"{folder}: expected a directory of this user's alone (mode 0700)")
    path = folder / f"log-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.is_file() or path.read_text() != text:
        handle, spare = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(spare, path)
    return str(path)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise CliError(f"--workers: expected a number >= 1, got {args.workers}")
    routes = resolve_routes(args.routes)
    check_secret(os.environ)
    load_routes(routes)
    host, port, live_port = live_door(args.bind, args.live_port, args.workers)
    command = server_command(args.bind, args.workers, write_log_config(args.log_format))
    env = server_env(routes, dev=False, live_port=live_port, live_host=host)
    warning = pubsub_warning(args.workers, os.environ)
    if warning is not None:
        print(f"vango-actors serve: {warning}", file=sys.stderr, flush=True)
    print(f"vango-actors serve: {describe_doors(host, port, live_port)}", flush=True)
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover (exec does not return)


def cmd_dev(args: argparse.Namespace) -> int:
    routes = resolve_routes(args.routes)
    check_routes_found(routes)  # errors inside the package are shown by the running dev server
    host, port, live_port = live_door(args.bind, args.live_port)
    watch = [Path(d).resolve() for d in (args.watch or ["."])]
    command = server_command(args.bind, 1, write_log_config(args.log_format))
    env = server_env(routes, dev=True, live_port=live_port, live_host=host)
    print(f"vango-actors dev: {describe_doors(host, port, live_port)}", flush=True)
    first = live_port[0] if isinstance(live_port, tuple) else live_port  # one worker: the first
    reloader = DevReloader(command, env, watch, host, port, args.poll, live_port=first)
    trio.run(reloader.run)
    return 0


def cmd_new(name: str) -> int:
    root = create_project(Path(name))
    package = root.name.replace("-", "_")
    print(f"created {root}/: the page {package}/index.py and its test tests/test_index.py")
    print(f"next:  cd {name} && vango-actors dev   (then open http://{DEFAULT_BIND}/)")
    print(f"test:  cd {name} && python -m pytest   (needs: pip install pytest pytest-trio)")
    return 0


# ------------------------------------------------------------------------------ dev reload


def snapshot(roots: Sequence[Path]) -> dict[str, int]:
    """Modification times of every watched file under ``roots``."""
    found: dict[str, int] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
            for file in files:
                if os.path.splitext(file)[1] in WATCH_SUFFIXES:
                    path = os.path.join(folder, file)
                    try:
                        found[path] = os.stat(path).st_mtime_ns
                    except FileNotFoundError:
                        continue
    return found


def changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class DevReloader:
    """Runs the server child; restarts it when a watched file changes. Owns both tasks."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        watch: Sequence[Path],
        host: str,
        port: int,
        poll: float,
        *,
        live_port: int | None = None,
    ) -> None:
        self.command = command
        self.env = env
        self.watch = watch
        self.host = host
        self.port = port
        self.live_port = live_port  # the fast door's, when the pages use one
        self.poll = poll
        self.output: list[str] = []  # the current child's last lines, for the error page
        self.restarts = 0

    async def run(self) -> None:
        """Serve and reload until SIGTERM/SIGHUP/SIGINT, then stop the child's process group."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._reload_forever)
            with trio.open_signal_receiver(signal.SIGTERM, signal.SIGHUP, signal.SIGINT) as got:
                async for _ in got:
                    nursery.cancel_scope.cancel()
                    break

    async def _reload_forever(self) -> None:
        print(f"vango-actors dev: http://{self.host}:{self.port}/ (watching for changes)")
        files = snapshot(self.watch)
        while True:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._serve_until_change)
                files, diff = await self._wait_for_change(files)
                print(f"vango-actors dev: change detected, restarting: {', '.join(diff)}")
                nursery.cancel_scope.cancel()
            self.restarts += 1

    async def _wait_for_change(self, before: dict[str, int]) -> tuple[dict[str, int], list[str]]:
        while True:
            await trio.sleep(self.poll)
            after = await trio.to_thread.run_sync(snapshot, self.watch)
            diff = changed(before, after)
            if diff:
                return after, diff

    async def _serve_until_change(self) -> None:
        """Run the child; if it exits on its own, serve its error until the next change."""
        self.output = []
        status = await self._run_child()
        message = (
            f"the server stopped (exit status {status}; its output is above, and pages on "
            f"http://{self.host}:{self.port}/ show it); fix the code and save to restart"
        )
        print(f"vango-actors dev: {message}", file=sys.stderr)
        answer, live = self._answer_while_down, self.live_port
        async with trio.open_nursery() as nursery:
            if live:
                nursery.start_soon(lambda: trio.serve_tcp(answer, live, host=self.host))
            await trio.serve_tcp(answer, self.port, host=self.host)

    async def _run_child(self) -> int:
        process = await trio.lowlevel.open_process(
            self.command,
            env=self.env,
            stdout=-1,  # subprocess.PIPE
            stderr=-2,  # subprocess.STDOUT
            start_new_session=True,
        )
        try:
            assert process.stdout is not None
            async for chunk in process.stdout:
                text = chunk.decode(errors="replace")
                sys.stdout.write(text)
                sys.stdout.flush()
                self.output = (self.output + text.splitlines())[-200:]
            return await process.wait()
        finally:
            with trio.CancelScope(shield=True):
                await stop_process_group(process)

    async def _answer_while_down(self, stream: trio.SocketStream) -> None:
        """Both doors while the app is down: a page's live socket is accepted and closed with
        4001 (session gone), so an open tab reloads; any other request gets the error page,
        which reloads itself once the app answers again."""
        ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        with trio.move_on_after(5):
            try:
                data = await stream.receive_some(65536)
                if b"upgrade: websocket" in data.lower():
                    ws.receive_data(data)
                    if any(isinstance(e, wsproto.events.Request) for e in ws.events()):
                        accept = ws.send(wsproto.events.AcceptConnection())
                        close = wsproto.events.CloseConnection(4001, "the app did not start")
                        await stream.send_all(accept + ws.send(close))
                else:
                    body = error_page_html("\n".join(self.output)).encode()
                    head = (
                        "HTTP/1.1 500 Internal Server Error\r\n"
                        "Content-Type: text/html; charset=utf-8\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                    )
                    await stream.send_all(head.encode() + body)
            except (trio.BrokenResourceError, wsproto.utilities.ProtocolError):
                pass
        await stream.aclose()


def error_page_html(output: str) -> str:
    return (
        "<!doctype html><meta charset=utf-8><title>vango-actors: the app did not start</title>"
        '<body style="font-family:sans-serif;background:#200;color:#fdd;padding:1em">'
        "<h1>The app did not start</h1><p>Fix the code and save: the server restarts and this "
        "page reloads.</p>"
        f'<pre style="white-space:pre-wrap">{escape(output)}</pre>'
        "<script>setInterval(() => fetch(location.href, {cache: 'no-store'}).then((r) => {"
        " if (r.status !== 500) location.reload(); }, () => {}), 1000);</script></body>"
    )


async def stop_process_group(process: trio.Process, grace: float = 5.0) -> None:
    """SIGTERM the child's process group (hypercorn and its workers), SIGKILL after grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        with trio.move_on_after(grace):
            await process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stray workers of the group
    except (ProcessLookupError, PermissionError):
        pass


# ------------------------------------------------------------------------------ scaffold

_PYPROJECT = """\
[tool.vango-actors]
routes = "{package}"

[tool.pytest.ini_options]
trio_mode = true
pythonpath = ["."]
vango_routes = "{package}"
filterwarnings = ["error"]
"""

_PAGE = """\
\"\"\"`/`: the first page of {name}. Edit it while `vango-actors dev` runs.\"\"\"

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, h, live_page


@live_page(title="{name}")
class Home(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.count = 0

    def inc(self) -> None:
        self.count += 1

    def render(self) -> Element:
        return h.main(
            h.h1("Hello from {name}"),
            h.button("+1", id="inc", on_click=self.inc),
            " ",
            h.span(self.count, id="count"),
        )
"""

_TEST = """\
from vango_actors.testing import Harness


async def test_the_button_counts(vango: Harness) -> None:
    view = await vango.mount("/")
    assert view.text("#count") == "0"
    await view.click("#inc")
    assert view.text("#count") == "1"
"""

_README = """\
# {name}

A [vango-actors](https://pypi.org/project/vango-actors/) app.

```sh
vango-actors dev          # http://127.0.0.1:8000/, reloads when you save
python -m pytest          # the page's test, no browser needed (pip install pytest pytest-trio)
vango-actors routes       # the route table
```
"""


def create_project(root: Path) -> Path:
    """Write a one-page app with one passing test into the new directory ``root``."""
    package = root.name.replace("-", "_")
    if not package.isidentifier() or package.startswith("_"):
        raise CliError(
            f"new: expected a name made of letters, digits, '-' and '_' that does not start "
            f"with a digit or '_', got {root.name!r}"
        )
    if root.exists():
        raise CliError(f"new: {root} already exists; choose a new directory name")
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{package}/__init__.py": '"""Routes of {name}: one module per page."""\n',
        f"{package}/index.py": _PAGE,
        "tests/test_index.py": _TEST,
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=root.name, package=package))
    return root
