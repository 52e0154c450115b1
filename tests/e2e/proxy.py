"""A TCP proxy for browser tests that can cut every connection and refuse new ones for a while.

Chromium's offline emulation does not close an open WebSocket, so to take the live socket
away from a real browser the test routes it through this proxy and calls :meth:`cut`.
Threads, not trio: the browser tests use Playwright's sync API.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to ``target_port``; ``cut()`` drops and blocks, ``restore()``
    accepts again."""

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._blocked = False
        self._closed = False
        self.accepted = 0  # connections forwarded so far
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Close every forwarded connection and refuse new ones until :meth:`restore`."""
        with self._lock:
            self._blocked = True
            victims, self._open = self._open, set()
        for sock in victims:
            _hard_close(sock)

    def restore(self) -> None:
        with self._lock:
            self._blocked = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def __enter__(self) -> CuttableProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refuse = self._blocked
            if refuse:
                _hard_close(client)
                continue
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                _hard_close(client)
                continue
            with self._lock:
                self._open |= {client, upstream}
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(src, dst), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _hard_close(src)
        _hard_close(dst)


def _hard_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
