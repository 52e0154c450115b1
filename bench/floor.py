"""What trio itself costs per socket round trip, in three shapes, with no app work at all.

    python -m bench floor [--sessions 100] [--duration 5] [--modes task,shared_epoll,inline]

A forked client process keeps one small binary frame in flight on each of ``--sessions``
loopback sockets (one level-triggered epoll, a 30-byte masked frame out, the reply in); the
server answers each with a 14-byte frame, in one of three shapes:

- ``task``: one trio task per socket, ``await sock.recv()`` (trio's socket: a ``recv`` that
  fails with EAGAIN, ``wait_readable`` with its one-shot ``epoll_ctl``, the ``recv`` again);
- ``shared_epoll``: one trio task per socket parked in ``wait_task_rescheduled``; one task
  owns an epoll with every socket, reads each ready one and reschedules its task, which
  replies (the fast door's ReadPoller shape);
- ``inline``: the epoll task replies itself (no task per socket: the floor of any design).

Reported per shape: round trips/s, the server's CPU µs per round trip (its process CPU over
the run ÷ round trips), the client's, and the latency distribution's shape (percentiles ÷
the mean: with one request in flight per socket the mean is sessions ÷ throughput, and how
far p99 sits above it shows how fair the service order is).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import time
from typing import Any

import outcome
import trio

from bench._lean import OP_BINARY, client_frame

_REQUEST = client_frame(OP_BINARY, b"y" * 18)
_REPLY = b"\x82\x0c" + b"x" * 12
MODES = ("task", "shared_epoll", "inline")


def _client(port: int, sessions: int, duration: float, out: int) -> None:
    """Click loop in the forked child: one request in flight per socket; report on ``out``."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(sessions)]
    poller = select.epoll()
    by_fd: dict[int, socket.socket] = {}
    for sock in socks:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        poller.register(sock.fileno(), select.EPOLLIN)
        by_fd[sock.fileno()] = sock
    for sock in socks:  # warm-up: one round trip each (every socket accepted), not timed
        sock.send(_REQUEST)
    answered: set[int] = set()
    while len(answered) < len(socks):
        for fd, _ in poller.poll(1):
            by_fd[fd].recv(4096)
            answered.add(fd)
    sent = {fd: time.perf_counter() for fd in by_fd}
    for sock in socks:
        sock.send(_REQUEST)
    latencies: list[float] = []
    cpu, start = time.process_time(), time.perf_counter()
    end = start + duration
    while time.perf_counter() < end:
        for fd, _ in poller.poll(1):
            sock = by_fd[fd]
            sock.recv(4096)
            now = time.perf_counter()
            latencies.append(now - sent[fd])
            sent[fd] = now
            sock.send(_REQUEST)
    report = {
        "round_trips": len(latencies),
        "wall": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "latencies": sorted(latencies),
    }
    os.write(out, json.dumps(report).encode())


async def _per_task(listener: trio.socket.SocketType) -> None:
    async def serve(sock: trio.socket.SocketType) -> None:
        with sock:
            while True:
                try:
                    if not await sock.recv(4096):
                        return
                    await sock.send(_REPLY)
                except OSError:
                    return

    async with trio.open_nursery() as nursery:
        while True:
            sock, _ = await listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            nursery.start_soon(serve, sock)


async def _epoll_loop(listener: trio.socket.SocketType, inline: bool) -> None:
    poller = select.epoll()
    socks: dict[int, socket.socket] = {}
    waiting: dict[int, trio.lowlevel.Task] = {}
    unanswered: set[int] = set()  # requests read while their task was not parked yet

    async def serve(sock: socket.socket) -> None:  # the shared_epoll shape's per-socket task
        fd = sock.fileno()
        while True:
            if fd in unanswered:  # a request read before this task first parked
                unanswered.discard(fd)
            else:
                waiting[fd] = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(lambda _: trio.lowlevel.Abort.SUCCEEDED)
            try:
                sock.send(_REPLY)
            except OSError:
                return

    async def accept(nursery: trio.Nursery) -> None:
        while True:
            accepted, _ = await listener.accept()
            sock = socket.socket(fileno=accepted.detach())
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks[sock.fileno()] = sock
            poller.register(sock.fileno(), select.EPOLLIN)
            if not inline:
                nursery.start_soon(serve, sock)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(accept, nursery)
            await _dispatch(poller, socks, waiting, unanswered, inline)
    finally:
        for sock in socks.values():
            sock.close()
        poller.close()


async def _dispatch(
    poller: select.epoll,
    socks: dict[int, socket.socket],
    waiting: dict[int, trio.lowlevel.Task],
    unanswered: set[int],
    inline: bool,
) -> None:
    """Read every ready socket; reply (inline) or wake its task."""
    while True:
        await trio.lowlevel.wait_readable(poller.fileno())
        for fd, _ in poller.poll(0):
            sock = socks[fd]
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                del socks[fd]
                sock.close()
            elif inline:
                sock.send(_REPLY)
            else:
                task = waiting.pop(fd, None)
                if task is None:
                    unanswered.add(fd)
                else:
                    trio.lowlevel.reschedule(task, outcome.Value(None))


def run_mode(mode: str, sessions: int, duration: float) -> dict[str, Any]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the client: no trio here
        try:
            listener.close()
            os.close(read_end)
            _client(port, sessions, duration, write_end)
        finally:
            os._exit(0)
    os.close(write_end)

    async def serve() -> None:
        trio_listener = trio.socket.from_stdlib_socket(listener)
        with trio.move_on_after(duration + 30.0):  # a client that never reports
            async with trio.open_nursery() as nursery:
                if mode == "task":
                    nursery.start_soon(_per_task, trio_listener)
                else:
                    nursery.start_soon(_epoll_loop, trio_listener, mode == "inline")
                await trio.lowlevel.wait_readable(read_end)  # the client's report: done
                nursery.cancel_scope.cancel()

    cpu = time.process_time()
    trio.run(serve)
    cpu = time.process_time() - cpu
    chunks = []
    while chunk := os.read(read_end, 1 << 20):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    listener.close()
    report = json.loads(b"".join(chunks))
    latencies: list[float] = report["latencies"]
    count = report["round_trips"]
    mean = sum(latencies) / count
    shape = {
        f"p{q}": round(latencies[int(q / 100 * (count - 1))] / mean, 2) for q in (10, 50, 90, 99)
    }
    return {
        "round_trips_per_s": round(count / report["wall"]),
        "server_cpu_us_per_round_trip": round(cpu / count * 1e6, 1),  # set-up included
        "client_cpu_us_per_round_trip": round(report["cpu"] / count * 1e6, 1),
        "latency_mean_ms": round(mean * 1e3, 2),
        "latency_over_mean": shape,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench floor")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown mode(s) {sorted(unknown)}; expected some of {MODES}")
    result = {
        "benchmark": "floor",
        "sessions": args.sessions,
        "duration": args.duration,
        "modes": {mode: run_mode(mode, args.sessions, args.duration) for mode in modes},
    }
    print(json.dumps(result, indent=2))
