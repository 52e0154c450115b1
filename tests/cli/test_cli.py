"""The ``vango-actors`` command: checks in-process, ``new``/``serve``/``dev`` as subprocesses."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgpack
import pytest

from tests.servers import ROOT, fetch
from vango_actors.cli import (
    CliError,
    main,
    pubsub_warning,
    resolve_live_port,
    server_command,
    server_env,
    write_log_config,
)
from vango_actors.config import ConfigError, Settings

CLI = [sys.executable, "-m", "vango_actors"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_pair() -> int:
    """A free port whose next port is free too (the page port and the default live door)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two free ports in a row on 127.0.0.1")


def test_the_fast_door_is_the_default_on_the_next_port() -> None:
    assert resolve_live_port(None, {}, 8000) == 8001
    assert resolve_live_port(None, {"VANGO_LIVE_PORT": "9100"}, 8000) == 9100
    assert resolve_live_port("9200", {"VANGO_LIVE_PORT": "9100"}, 8000) == 9200
    assert resolve_live_port("0", {}, 8000) == 0  # a free port per worker, named in the page
    for off in ("off", "OFF", ""):
        assert resolve_live_port(off, {}, 8000) is None  # the ASGI door on the page port
        assert resolve_live_port(None, {"VANGO_LIVE_PORT": off}, 8000) is None
    with pytest.raises(CliError, match=r"--live-port: expected a port 0-65535 or 'off', got 'x'"):
        resolve_live_port("x", {}, 8000)
    with pytest.raises(CliError, match=r"VANGO_LIVE_PORT: expected a port .*got '70000'"):
        resolve_live_port(None, {"VANGO_LIVE_PORT": "70000"}, 8000)
    with pytest.raises(CliError, match="no port after 65535 for the live door"):
        resolve_live_port(None, {}, 65535)


def test_a_live_port_range_gives_each_worker_a_port_of_its_own() -> None:
    assert resolve_live_port("9101-9104", {}, 8000) == (9101, 9104)
    assert resolve_live_port(None, {"VANGO_LIVE_PORT": " 9101-9102 "}, 8000) == (9101, 9102)
    with pytest.raises(CliError, match=r"--live-port: a range needs 1 <= FIRST <= LAST"):
        resolve_live_port("9104-9101", {}, 8000)
    with pytest.raises(CliError, match=r"--live-port: expected a port .*FIRST-LAST"):
        resolve_live_port("9101-", {}, 8000)
    env = server_env("app_routes", dev=False, live_port=(9101, 9104))
    assert env["VANGO_LIVE_PORT"] == "9101-9104"
    settings = Settings.from_env(env, secret_keys="k", workers=4)
    assert (settings.live_port, settings.live_port_last) == (9101, 9104)


def test_serve_refuses_a_live_port_range_without_a_free_port_per_worker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VANGO_SECRET_KEY", "k")
    monkeypatch.setattr("vango_actors.cli.load_routes", lambda routes: None)
    port = free_pair()
    bind = ["--bind", f"127.0.0.1:{port}"]
    live = f"{port + 1}-{port + 1}"
    assert main(["serve", *bind, "--workers", "2", "--live-port", live]) == 2
    assert f"the range {live} has 1 port(s) for 2 workers" in capsys.readouterr().err
    assert main(["serve", *bind, "--live-port", f"{port}-{port + 1}"]) == 2
    assert "holds the page port" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        assert main(["serve", *bind, "--live-port", live]) == 2
        assert "has 0 free port(s) for 1 worker(s)" in capsys.readouterr().err


def test_the_server_env_names_the_door(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VANGO_LIVE_HOST", raising=False)
    env = server_env("app_routes", dev=False, live_port=8001, live_host="0.0.0.0")
    assert (env["VANGO_LIVE_PORT"], env["VANGO_LIVE_HOST"]) == ("8001", "0.0.0.0")
    assert Settings.from_env(env, secret_keys="k").live_port == 8001
    off = server_env("app_routes", dev=False, live_port=None)
    assert off["VANGO_LIVE_PORT"] == ""
    assert Settings.from_env(off, secret_keys="k").live_port is None
    monkeypatch.setenv("VANGO_LIVE_HOST", "10.0.0.7")
    assert server_env("app_routes", dev=True, live_port=0)["VANGO_LIVE_HOST"] == "10.0.0.7"
    assert Settings.from_env({"VANGO_LIVE_PORT": "off"}, secret_keys="k").live_port is None
    with pytest.raises(ConfigError, match="VANGO_LIVE_PORT: expected a port 0-65535 or 'off'"):
        Settings.from_env({"VANGO_LIVE_PORT": "65536"}, secret_keys="k")


def test_a_taken_live_port_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VANGO_SECRET_KEY", "k")
    monkeypatch.delenv("VANGO_LIVE_PORT", raising=False)
    port = free_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        assert main(["serve", "--routes", "app_routes", "--bind", f"127.0.0.1:{port}"]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot listen on 127.0.0.1:{port + 1}: the port is in use (stop the other "
        "server or choose another with --live-port PORT (or --live-port off))\n"
    )


def test_routes_lists_the_demo_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "--routes", "app_routes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["PATH", "KIND", "FILE", "TITLE"]
    assert "/users/<id>  live    app_routes/users/[id].py  User {id}" in lines


def test_bad_routes_packages_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["routes", "--routes", "no_such_routes_pkg"]) == 2
    assert capsys.readouterr().err == (
        f"error: routes package 'no_such_routes_pkg' not found in {tmp_path}: run vango-actors "
        "in the app's directory (the one whose pyproject.toml has [tool.vango-actors] routes = "
        '"..."), or name the package with --routes PACKAGE (or VANGO_ROUTES)\n'
    )
    assert main(["dev", "--routes", "no_such_routes_pkg", "--bind", "127.0.0.1:1"]) == 2
    assert "error: routes package 'no_such_routes_pkg' not found in" in capsys.readouterr().err
    (tmp_path / "cli_broken_pkg").mkdir()
    (tmp_path / "cli_broken_pkg" / "__init__.py").write_text("")
    (tmp_path / "cli_broken_pkg" / "home.py").write_text("x = (\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["routes", "--routes", "cli_broken_pkg"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad routes package 'cli_broken_pkg': '(' was never closed (")
    assert "home.py, line 1)" in err
    bare = "from vango_actors import h, page\n\n\n@page\ndef home():\n    return h.p('x')\n"
    (tmp_path / "cli_bare_pkg").mkdir()
    (tmp_path / "cli_bare_pkg" / "__init__.py").write_text("")
    (tmp_path / "cli_bare_pkg" / "home.py").write_text(bare)
    assert main(["routes", "--routes", "cli_bare_pkg"]) == 2
    err = capsys.readouterr().err
    assert "importing it raised TypeError: @page takes a title, not <function home" in err
    assert err.endswith(f"({tmp_path / 'cli_bare_pkg' / 'home.py'}, line 4)\n")  # the app's line


def test_serve_refuses_without_a_secret_a_free_port_or_a_good_bind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VANGO_SECRET_KEY", raising=False)
    assert main(["serve", "--routes", "app_routes"]) == 2
    assert "error: VANGO_SECRET_KEY is not set: `serve` is the production mode" in (
        capsys.readouterr().err
    )
    monkeypatch.setenv("VANGO_SECRET_KEY", "k")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--routes", "app_routes", "--bind", f"127.0.0.1:{port}"]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (stop the other server "
        "or choose another with --bind HOST:PORT)\n"
    )
    assert main(["serve", "--bind", "localhost"]) == 2
    assert "expected HOST:PORT such as 127.0.0.1:8000, got 'localhost'" in capsys.readouterr().err


def test_new_scaffolds_an_app_whose_test_passes(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "new", "my-app"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    app = tmp_path / "my-app"
    assert (app / "my_app" / "index.py").is_file()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout
    again = subprocess.run([*CLI, "new", "my-app"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 2
    assert "already exists; choose a new directory name" in again.stderr


def test_the_vango_fixture_says_when_pytest_trio_or_trio_mode_is_missing(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "new", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    app = tmp_path / "app"

    def pytest_run(*options: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options]
        return subprocess.run(command, cwd=app, capture_output=True, text=True, timeout=120)

    without_plugin = pytest_run("-p", "no:trio")  # as if pytest-trio were not installed
    assert without_plugin.returncode == pytest.ExitCode.USAGE_ERROR, without_plugin.stdout
    assert "INTERNALERROR" not in without_plugin.stdout + without_plugin.stderr
    assert (
        "vango_routes is set but pytest-trio is not installed: the `vango` fixture runs on "
        "trio (pip install pytest-trio" in without_plugin.stderr
    )
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("trio_mode = true\n", ""))
    without_mode = pytest_run()
    assert without_mode.returncode == pytest.ExitCode.USAGE_ERROR, without_mode.stdout
    assert "does not run on trio: make it an `async def` test and set trio_mode = true" in (
        without_mode.stderr
    )


@contextmanager
def running(
    args: list[str], cwd: Path, env: dict[str, str], unset: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen[str]]:
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    process = subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        env={**environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)


def wait_for(url: str, predicate: object, timeout: float = 30.0) -> str:
    """Poll ``url`` (a foreign process: no event to wait on) until ``predicate(text)``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            last = fetch(url, timeout=2).text
            if predicate(last):
                return last
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never satisfied the check; last answer: {last[:500]}")


@pytest.mark.slow
def test_serve_runs_hypercorn_with_the_trio_worker(tmp_path: Path) -> None:
    port = free_pair()
    args = ["serve", "--routes", "app_routes", "--bind", f"127.0.0.1:{port}"]
    env = {"VANGO_SECRET_KEY": "test-key"}
    # the default: the fast door on the next port
    with running(args, ROOT, env, unset=("VANGO_LIVE_PORT", "VANGO_LIVE_HOST")):
        page = wait_for(f"http://127.0.0.1:{port}/counter", lambda t: 'id="count"' in t)
        assert "data-vango-dev" not in page  # production: no error overlay, minified client
        assert f'data-vango-live="ws://127.0.0.1:{port + 1}/vango/live/' in page
        assert '"status": "ok"' in fetch(f"http://127.0.0.1:{port}/vango/health").text
        assert_live_door_welcomes(port + 1, page, f"http://127.0.0.1:{port}")


def assert_live_door_welcomes(live_port: int, page: str, origin: str) -> None:
    """HELLO through the fast door gets WELCOME (a raw socket: the server is another process)."""
    sid = re.search(r'data-vango-session="([^"]+)"', page)
    token = re.search(r'data-vango-token="([^"]+)"', page)
    assert sid is not None and token is not None
    hello = msgpack.packb([1, 1, sid.group(1), html.unescape(token.group(1)), 0, 0, "/counter"])
    with socket.create_connection(("127.0.0.1", live_port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET /vango/live/{sid.group(1)} HTTP/1.1\r\nHost: 127.0.0.1:{live_port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n"
            ).encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:  # the 101 first: a client may not send before it
            chunk = sock.recv(4096)
            assert chunk, f"the live door closed: {received!r}"
            received += chunk
        head, _, frames = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head
        assert 125 < len(hello) < 65536
        sock.sendall(b"\x82\xfe" + len(hello).to_bytes(2, "big") + b"\0\0\0\0" + hello)
        while len(frames) < 4:
            chunk = sock.recv(4096)
            assert chunk, f"the live door closed: {frames!r}"
            frames += chunk
        assert frames[0] == 0x82 and frames[2:4] == b"\x96\x02", frames  # WELCOME: [2, ...]


@pytest.mark.slow
def test_dev_restarts_on_change_and_shows_start_errors(tmp_path: Path) -> None:
    subprocess.run([*CLI, "new", "devapp"], cwd=tmp_path, check=True, capture_output=True)
    app = tmp_path / "devapp"
    page = app / "devapp" / "index.py"
    port = free_pair()
    url = f"http://127.0.0.1:{port}/"
    dev = ["dev", "--bind", f"127.0.0.1:{port}", "--poll", "0.1"]
    with running(dev, app, {}, unset=("VANGO_LIVE_PORT", "VANGO_LIVE_HOST")):
        first = wait_for(url, lambda t: "Hello from devapp" in t)
        assert "data-vango-dev" in first  # dev mode: error overlay, readable client
        assert f'data-vango-live="ws://127.0.0.1:{port + 1}/vango/live/' in first
        page.write_text(page.read_text().replace("Hello from", "Changed in"))
        wait_for(url, lambda t: "Changed in devapp" in t)
        page.write_text(page.read_text() + "\ndef broken(:\n")
        error = wait_for(url, lambda t: "The app did not start" in t)
        assert "SyntaxError" in error
        assert "location.reload()" in error  # the error page reloads once the app is back
        # a tab still open on the app: its live socket is closed with 4001, so it reloads
        assert _live_close_code(port + 1) == 4001
        page.write_text(page.read_text().replace("\ndef broken(:\n", ""))
        wait_for(url, lambda t: "Changed in devapp" in t)
    # SIGTERM to the CLI also stops the server child it started: nothing listens any more
    for listening in (port, port + 1):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", listening)) != 0


def _live_close_code(port: int) -> int:
    """Open a WebSocket to ``port`` (raw socket: a foreign process) and read the close code."""
    request = (
        f"GET /vango/live/x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 8:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, frame = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert frame[0] == 0x88, frame  # a CLOSE frame
    return int.from_bytes(frame[2:4], "big")


def test_the_log_config_of_serve_is_one_file_reused_across_starts(tmp_path: Path) -> None:
    # each start wrote a new vango-log-*.json into /tmp and nothing removed it: a server that
    # systemd restarts left one file per restart
    first = write_log_config("text", str(tmp_path))
    again = write_log_config("text", str(tmp_path))
    other = write_log_config("json", str(tmp_path))
    assert first == again != other
    folder = Path(first).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted([Path(first).name, Path(other).name])
    assert json.loads(Path(first).read_text())["version"] == 1
    assert folder.stat().st_mode & 0o777 == 0o700
    folder.chmod(0o755)  # another user could swap the file: refused
    with pytest.raises(CliError, match="alone"):
        write_log_config("text", str(tmp_path))


def test_serve_and_dev_queue_as_many_connections_as_deploy_does() -> None:
    # `vango-actors serve` ran hypercorn with its default backlog of 100, which overflows
    # when many tabs reconnect at once; deploy/hypercorn.toml says 4096
    command = server_command("127.0.0.1:8000", 2, "/x.json")
    assert command[command.index("--backlog") + 1] == "4096"
    deploy = tomllib.loads((ROOT / "deploy" / "hypercorn.toml").read_text())
    assert deploy["backlog"] == 4096
    assert "--backlog 4096" in (ROOT / "scripts" / "demo").read_text()  # the README's demo


def test_serve_warns_when_workers_share_no_pub_sub() -> None:
    warning = pubsub_warning(2, {})
    assert warning is not None and "VANGO_PUBSUB=memory" in warning and "redis://" in warning
    assert pubsub_warning(2, {"VANGO_PUBSUB": "memory"}) == warning
    assert pubsub_warning(1, {}) is None
    assert pubsub_warning(4, {"VANGO_PUBSUB": "redis://127.0.0.1:6379"}) is None
