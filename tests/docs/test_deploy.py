"""The files in deploy/ say what the server really does: hypercorn reads every setting in
hypercorn.toml, and the process managers restart a server whose worker was killed."""

from __future__ import annotations

import os
import re
import signal
import time
import tomllib

from hypercorn.config import Config

from tests.servers import ROOT, spawn_hypercorn

DEPLOY = ROOT / "deploy"


def test_every_setting_in_hypercorn_toml_is_one_hypercorn_reads() -> None:
    # hypercorn ignores an unknown key without a word (a commented `forwarded_allow_ips`,
    # which hypercorn does not have, told operators X-Forwarded-* would be trusted)
    text = (DEPLOY / "hypercorn.toml").read_text()
    names = set(tomllib.loads(text)) | set(re.findall(r"^# ?([a-z_]+) = ", text, re.M))
    assert {name for name in names if not hasattr(Config(), name)} == set()
    config = Config.from_toml(DEPLOY / "hypercorn.toml")
    assert (config.worker_class, config.workers, config.backlog) == ("trio", 2, 4096)


def test_a_killed_worker_ends_hypercorn_with_status_0_so_the_managers_restart_always() -> None:
    # hypercorn's supervisor exits 0 when its worker is killed (the OOM killer, SIGKILL), so a
    # systemd Restart=on-failure (or a compose service without a restart policy) left the
    # site down for good
    server = spawn_hypercorn(env={"VANGO_SECRET_KEY": "deploy-key"}, extra_args=["-w", "1"])
    try:
        server.wait_running(30)
        worker = _worker_of(server.process.pid)
        os.kill(worker, signal.SIGKILL)
        assert server.process.wait(20) == 0, server.output()
    finally:
        server.stop()
    unit = (DEPLOY / "vango-actors@.service").read_text()
    assert re.findall(r"^Restart=(\S+)", unit, re.M) == ["always"]
    compose = (DEPLOY / "compose.yaml").read_text()
    services = re.findall(r"^  (\w+):", compose, re.M)
    assert services == ["redis", "app1", "app2", "nginx"]
    # app2 is `*app`: it inherits app1's policy
    assert len(re.findall(r"^    restart: unless-stopped$", compose, re.M)) == 3


def _worker_of(supervisor: int) -> int:
    """The pid of the one worker hypercorn's ``supervisor`` runs (polled: another process)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline") as cmd:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
                    if parent == supervisor and "spawn_main" in cmd.read():
                        return int(entry)
            except OSError:
                continue
        time.sleep(0.1)
    raise AssertionError(f"no worker under {supervisor}")
