"""The ``vango-actors`` command: checks in-process, ``new``/``serve``/``dev`` as subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import ROOT, fetch
from vango_actors.cli import main

CLI = [sys.executable, "-m", "vango_actors"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
        "error: bad routes package 'no_such_routes_pkg': routes package 'no_such_routes_pkg' "
        "cannot be imported: No module named 'no_such_routes_pkg'\n"
    )
    (tmp_path / "cli_broken_pkg").mkdir()
    (tmp_path / "cli_broken_pkg" / "__init__.py").write_text("")
    (tmp_path / "cli_broken_pkg" / "home.py").write_text("x = (\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["routes", "--routes", "cli_broken_pkg"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad routes package 'cli_broken_pkg': '(' was never closed (")
    assert "home.py, line 1)" in err


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


@contextmanager
def running(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
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
    port = free_port()
    args = ["serve", "--routes", "app_routes", "--bind", f"127.0.0.1:{port}"]
    with running(args, ROOT, {"VANGO_SECRET_KEY": "test-key"}):
        page = wait_for(f"http://127.0.0.1:{port}/counter", lambda t: 'id="count"' in t)
        assert "data-vango-dev" not in page  # production: no error overlay, minified client
        assert '"status": "ok"' in fetch(f"http://127.0.0.1:{port}/vango/health").text


@pytest.mark.slow
def test_dev_restarts_on_change_and_shows_start_errors(tmp_path: Path) -> None:
    subprocess.run([*CLI, "new", "devapp"], cwd=tmp_path, check=True, capture_output=True)
    app = tmp_path / "devapp"
    page = app / "devapp" / "index.py"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with running(["dev", "--bind", f"127.0.0.1:{port}", "--poll", "0.1"], app, {}):
        first = wait_for(url, lambda t: "Hello from devapp" in t)
        assert "data-vango-dev" in first  # dev mode: error overlay, readable client
        page.write_text(page.read_text().replace("Hello from", "Changed in"))
        wait_for(url, lambda t: "Changed in devapp" in t)
        page.write_text(page.read_text() + "\ndef broken(:\n")
        error = wait_for(url, lambda t: "The app did not start" in t)
        assert "SyntaxError" in error
        page.write_text(page.read_text().replace("\ndef broken(:\n", ""))
        wait_for(url, lambda t: "Changed in devapp" in t)
    # SIGTERM to the CLI also stops the server child it started: nothing listens any more
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
