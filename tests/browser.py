"""Shared Playwright fixtures: one headless Chromium per test session, a fresh page per test.

Registered as a pytest plugin from ``tests/conftest.py``. Uses the sync API: browser tests are
plain (non-async) pytest functions, which pytest-trio leaves alone. Debian's Chromium is
required; when it is missing the tests fail rather than skip. A failing test leaves a
screenshot in ``test-artifacts/<test name>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

_failed_key = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test body failed, so ``page`` can take a screenshot."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_failed_key] = True
    return report


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium, shared by every browser test of the session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM}; it is missing")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context; screenshot to test-artifacts/ if the test failed."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    if request.node.stash.get(_failed_key, False):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a dead page must not hide the real failure
            print(f"screenshot of {name} failed: {exc}")
    context.close()


# ------------------------------------------------------------------- waiting on the client

IDLE = """(ms) => Promise.race([
    window.vango._whenIdle().then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), ms)),
])"""


def wait_synced(page: Page, timeout_ms: int = 15_000) -> None:
    """Connected, nothing queued or in flight: every event sent so far was answered."""
    page.wait_for_function("() => window.vango && window.vango.state.connected", timeout=timeout_ms)
    assert page.evaluate(IDLE, timeout_ms), "the client did not become idle"


def open_live(page: Page, url: str) -> None:
    """Load a live page, wait until synced, and mark the window to detect a full reload."""
    page.goto(url)
    wait_synced(page)
    page.evaluate("() => { window.__notReloaded = true; }")  # vanishes on a full reload


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("() => window.__notReloaded === true"), "the page reloaded"


def console_errors(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions from now on (a live list)."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    return found
