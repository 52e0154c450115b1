"""Run real ``hypercorn`` processes for tests: free loopback port, wait until up, stop by pid.

Usage::

    with hypercorn_server() as server:          # hypercorn -k trio vango_actors.asgi:app
        urllib.request.urlopen(server.url + "/vango/health")

The server binds ``127.0.0.1:0``; the kernel picks a free port, which is read back from
hypercorn's "Running on" line (no race between choosing a port and binding it). The process
runs in its own session; stopping sends SIGTERM to that process group and SIGKILL after a
grace period. ``server.output()`` holds everything it printed (for failure messages).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import attrs
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

ROOT = Path(__file__).resolve().parent.parent
HYPERCORN = [sys.executable, "-m", "hypercorn"]
_RUNNING = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


@attrs.define
class Server:
    """A running hypercorn process and what it printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = attrs.field(factory=list)
    port: int | None = None
    _ready: threading.Event = attrs.field(factory=threading.Event)
    _pump_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "".join(self.lines)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            found = _RUNNING.search(line)
            if found and self.port is None:
                self.port = int(found.group(1))
                self._ready.set()
        self._ready.set()  # exited: wake the waiter

    def wait_running(self, timeout: float) -> None:
        """Block until hypercorn reports its port and answers /vango/health with 200."""
        if not self._ready.wait(timeout) or self.port is None:
            raise RuntimeError(f"hypercorn did not start within {timeout} s:\n{self.output()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/vango/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)  # polling a foreign process: no event to wait on
        raise RuntimeError(f"hypercorn on port {self.port} never got healthy:\n{self.output()}")

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM the server's process group, SIGKILL after ``grace`` s; its exit status."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(grace)
        _signal_group(self.process.pid, signal.SIGKILL)  # stray workers of the group
        if self._pump_thread is not None:
            self._pump_thread.join(grace)  # the pipe ends once every holder is gone
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


@attrs.frozen
class Fetched:
    status: int
    headers: dict[str, str]  # lower-case names
    text: str


def fetch(url: str, timeout: float = 10.0) -> Fetched:
    """GET ``url`` with urllib (reads by Content-Length: hypercorn's trio worker does not close
    a quart-trio connection after ``Connection: close``, so read-to-EOF clients hang)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return Fetched(reply.status, _lower(reply.headers.items()), reply.read().decode())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, _lower(error.headers.items()), error.read().decode())


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def spawn_hypercorn(
    app: str = "vango_actors.asgi:app",
    *,
    worker: str | None = "trio",
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    bind: str = "127.0.0.1:0",
) -> Server:
    """Start hypercorn on ``bind`` (default a free port) in its own process group; does not
    wait."""
    args = [*HYPERCORN, "--bind", bind, *extra_args]
    if worker is not None:
        args += ["-k", worker]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [*args, app],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(process)
    server._pump_thread = threading.Thread(target=server._pump, daemon=True)
    server._pump_thread.start()
    return server


@contextmanager
def hypercorn_server(
    app: str = "vango_actors.asgi:app",
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    bind: str = "127.0.0.1:0",
) -> Iterator[Server]:
    """A healthy ``hypercorn -k trio`` serving ``app``; stopped (by pid) on exit."""
    server = spawn_hypercorn(app, env=env, bind=bind)
    try:
        server.wait_running(timeout)
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def serving_in_process(
    app: Any, *, keep_alive_timeout: float | None = None
) -> AsyncIterator[str]:
    """Serve an ASGI ``app`` with hypercorn's trio worker in this process on a free loopback
    port; yields its base URL and shuts the server down on exit."""
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    if keep_alive_timeout is not None:
        config.keep_alive_timeout = keep_alive_timeout
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            lambda task_status: serve(
                app, config, shutdown_trigger=stop.wait, task_status=task_status
            )
        )
        yield binds[0]
        stop.set()
