"""Every ```python sample in the user docs runs (README, getting started, guides, metrics).

Conventions for fenced blocks (the info string after the backticks):

- ``python``: executed, in order, in one namespace per document; top-level ``await`` works
  (the block runs in ``trio.run``).
- ``python file=PATH``: written to PATH in a fresh project directory (the working directory
  and on ``sys.path`` while the document runs; package folders get an ``__init__.py``). If any
  ``tests/test_*.py`` file is written, pytest runs that project in a subprocess and must pass.
- ``python fragment``: only compiled (for excerpts that cannot run alone).
Other languages (sh, toml) are not executed; the CLI tests cover the commands.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from tests.servers import ROOT

DOCS = ROOT / "docs"
USER_DOCS = sorted(
    [
        ROOT / "README.md",
        DOCS / "GETTING_STARTED.md",
        DOCS / "METRICS.md",
        *DOCS.glob("guides/*.md"),
    ]
)
_FENCE = re.compile(r"^```(\S*)[ \t]*(.*)$")


@attrs.frozen
class Sample:
    doc: Path
    line: int
    lang: str
    options: dict[str, str]
    code: str


def samples(doc: Path) -> list[Sample]:
    found: list[Sample] = []
    lines = doc.read_text().splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, lang, info = i + 1, match.group(1), match.group(2).split()
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        i += 1
        options = dict(opt.partition("=")[::2] for opt in info)
        found.append(Sample(doc, start, lang, options, "\n".join(body) + "\n"))
    return found


def run_block(sample: Sample, namespace: dict[str, Any]) -> None:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(sample.code, f"{sample.doc.name}:{sample.line}", "exec", flags=flags)
    result = eval(code, namespace)
    if result is not None:  # a coroutine: the block awaited at top level

        async def run() -> None:
            await result

        trio.run(run)


def write_project(project: Path, files: list[Sample]) -> bool:
    """Write the file= samples; True if there is a test file to run."""
    has_tests = False
    for sample in files:
        path = project / sample.options["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sample.code)
        has_tests |= path.name.startswith("test_")
    packages = {p.parent for p in project.rglob("*.py") if p.parent != project}
    for folder in packages:
        if folder.name != "tests" and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    routes = next(
        (p.name for p in sorted(packages) if p.parent == project and p.name != "tests"), ""
    )
    (project / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\ntrio_mode = true\npythonpath = ['.']\n"
        f"vango_routes = '{routes}'\nfilterwarnings = ['error']\n"
    )
    return has_tests


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_samples_run(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = [s for s in samples(doc) if s.lang == "python"]
    files = [s for s in python if "file" in s.options]
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    has_tests = write_project(tmp_path, files)
    namespace: dict[str, Any] = {"__name__": f"docs_{doc.stem}"}
    before = set(sys.modules)
    try:
        for sample in python:
            if "fragment" in sample.options:
                compile(sample.code, f"{doc.name}:{sample.line}", "exec", ast.PyCF_ONLY_AST)
            elif "file" not in sample.options:
                run_block(sample, namespace)
    finally:
        for name in set(sys.modules) - before:
            if str(tmp_path) in str(getattr(sys.modules[name], "__file__", "") or ""):
                del sys.modules[name]
    if has_tests:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"tests in {doc.name} failed:\n{done.stdout}{done.stderr}"


def test_every_user_doc_has_a_runnable_sample() -> None:
    for doc in USER_DOCS:
        if doc.name == "README.md":
            continue
        assert any(s.lang == "python" for s in samples(doc)), f"{doc} has no python sample"


def test_the_metrics_table_matches_a_real_scrape() -> None:
    from vango_actors.live import LiveStats
    from vango_actors.metrics import FrontStats, make_registry, render_metrics

    scrape = render_metrics(make_registry(lambda: None, LiveStats(), FrontStats())).decode()
    exported = set(re.findall(r"^# TYPE (\w+) (\w+)", scrape, re.M))
    names = {name for name, _kind in exported}  # counters are typed with their _total name
    documented = set(
        re.findall(r"^\| `(\w+)(?:\{\w+\})?` \|", (DOCS / "METRICS.md").read_text(), re.M)
    )
    assert documented == names, f"undocumented: {names - documented}, gone: {documented - names}"
