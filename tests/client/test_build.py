"""The served builds: size budget, content-hashed URLs, and the minified build still runs."""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest
from playwright.sync_api import Page

from vango_actors import clientjs

BUDGET_GZIP = 6144  # docs/ARCHITECTURE.md: under 6 KB minified + gzip


def test_minified_gzip_build_is_within_the_budget() -> None:
    """A budget check on a static artifact, not a timing assertion."""
    sizes = clientjs.sizes()
    assert sizes["gzip"] < BUDGET_GZIP, sizes
    assert sizes["gzip"] == len(gzip.compress(clientjs.client_source(dev=False), 9, mtime=0))


def test_dev_build_is_the_source_and_production_is_smaller() -> None:
    dev, prod = clientjs.client_source(dev=True), clientjs.client_source(dev=False)
    assert dev == clientjs.source_text().encode()
    assert len(prod) < 0.75 * len(dev)
    assert b"/*" not in prod  # comments are gone


@pytest.mark.parametrize("dev", [True, False])
def test_url_is_content_hashed(dev: bool) -> None:
    url = clientjs.client_url(dev)
    digest = hashlib.sha256(clientjs.client_source(dev)).hexdigest()[:12]
    assert url == f"/vango/client.{digest}.js"
    assert clientjs.client_for_path(url) == clientjs.client_source(dev)


def test_builds_have_different_urls_and_unknown_paths_get_nothing() -> None:
    assert clientjs.client_url(True) != clientjs.client_url(False)
    assert clientjs.client_for_path("/vango/client.000000000000.js") is None
    assert re.search(r"max-age=\d{8}", clientjs.CACHE_HEADERS["Cache-Control"])
    assert "immutable" in clientjs.CACHE_HEADERS["Cache-Control"]


@pytest.mark.browser
def test_dev_build_runs_the_same(page: Page) -> None:
    """The readable build (served in dev mode) loads and applies ops like the minified one."""
    page.set_content('<div data-hid="h0" data-vango-root><b data-hid="h1">a</b></div>')
    page.add_script_tag(content=clientjs.client_source(dev=True).decode())
    page.evaluate("vango._apply([[0, 1, 0, 'b']])")
    assert page.inner_text("b") == "b"
