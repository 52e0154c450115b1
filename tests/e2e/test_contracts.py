"""The demo's contracts (DESIGN.md, "Demo application contracts") as an outside checker sees
them: a plain HTTP client reading ids from the HTML, Chromium with JavaScript off, and
Chromium driving each page the obvious way (no waiting for the socket before clicking)."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page
from prometheus_client.parser import text_string_to_metric_families

from tests.browser import assert_not_reloaded, open_live, wait_synced
from tests.servers import Server, fetch

CONTRACT_IDS = {
    "/": ["demos"],
    "/counter": ["count", "inc", "dec"],
    "/todos": ["todo-form", "new-todo", "todo-list", "todo-count"],
    "/chat": ["chat-form", "chat-input", "messages", "online"],
    "/clock": ["clock"],
    "/form": ["email", "email-error", "form-result"],
    "/crash": ["boom", "restarts"],
    "/users/42": ["user-id"],
}


@pytest.mark.parametrize("path", sorted(CONTRACT_IDS))
def test_a_plain_http_get_has_the_contract_ids(server: Server, path: str) -> None:
    page = fetch(server.url + path)
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    for ident in CONTRACT_IDS[path]:
        assert f'id="{ident}"' in page.text, (path, ident)


def test_the_index_links_every_demo(server: Server) -> None:
    links = re.findall(r'href="([^"]+)"', fetch(server.url + "/").text)
    for path in CONTRACT_IDS:
        if path != "/":
            assert path in links


def test_first_render_values_are_in_the_html(server: Server) -> None:
    assert re.search(r'id="count">0<', fetch(server.url + "/counter").text)
    assert re.search(r'id="user-id">42<', fetch(server.url + "/users/42").text)
    assert re.search(r'id="clock">\d\d:\d\d:\d\d<', fetch(server.url + "/clock").text)
    assert re.search(r'id="restarts">0<', fetch(server.url + "/crash").text)
    assert re.search(
        r'id="todo-count"><strong[^>]*>0</strong> items left<', fetch(server.url + "/todos").text
    )


@pytest.mark.parametrize("path", ["/users/abc", "/users/", "/users/4.2", "/users/1_000"])
def test_a_user_id_that_is_no_integer_is_not_found(server: Server, path: str) -> None:
    assert fetch(server.url + path).status == 404


def test_health_and_metrics_are_what_a_monitor_parses(server: Server) -> None:
    health = fetch(server.url + "/vango/health")
    assert health.status == 200 and health.headers["content-type"] == "application/json"
    body = json.loads(health.text)
    assert body["status"] == "ok"
    assert all(isinstance(body["sessions"][s], int) for s in ("live", "parked", "disconnected"))
    metrics = fetch(server.url + "/vango/metrics")
    assert metrics.status == 200 and metrics.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
    states = {s.labels["state"] for s in families["vango_sessions"].samples}
    assert states == {"live", "parked", "disconnected"}


@pytest.mark.browser
def test_with_javascript_off_every_page_shows_its_ids_and_content(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        for path, ids in CONTRACT_IDS.items():
            page.goto(server.url + path)
            for ident in ids:
                assert page.query_selector(f"#{ident}") is not None, (path, ident)
        page.goto(server.url + "/users/42")
        assert page.text_content("#user-id") == "42"
        page.goto(server.url + "/counter")
        assert page.text_content("#count") == "0"
    finally:
        context.close()


@pytest.mark.browser
def test_clicks_sent_before_the_socket_connects_all_count(page: Page, server: Server) -> None:
    page.goto(server.url + "/counter", wait_until="domcontentloaded")
    for _ in range(7):
        page.click("#inc")
    page.click("#dec")
    wait_synced(page)
    assert page.text_content("#count") == "6"
    page.reload()
    assert page.text_content("#count") == "0"  # a reload is a new session


def _titles(page: Page) -> list[str]:
    return page.eval_on_selector_all("#todo-list > li label", "ls => ls.map(l => l.textContent)")


@pytest.mark.browser
def test_todos_add_by_enter_and_by_submit_toggle_and_delete(page: Page, server: Server) -> None:
    page.goto(server.url + "/todos")
    page.fill("#new-todo", "by enter")
    page.press("#new-todo", "Enter")
    wait_synced(page)
    page.fill("#new-todo", "by submit")
    page.eval_on_selector("#todo-form", "f => f.requestSubmit()")
    wait_synced(page)
    page.fill("#new-todo", "third")
    page.press("#new-todo", "Enter")
    wait_synced(page)
    assert _titles(page) == ["by enter", "by submit", "third"]
    assert page.text_content("#todo-count") == "3 items left"
    # keyed rows: the browser keeps each row's element when another row goes
    page.evaluate(
        "() => document.querySelectorAll('#todo-list > li').forEach((li, i) => { li.__row = i; })"
    )
    page.check("#todo-list > li:nth-child(2) .toggle")
    wait_synced(page)
    assert page.text_content("#todo-count") == "2 items left"
    page.uncheck("#todo-list > li:nth-child(2) .toggle")
    wait_synced(page)
    assert page.text_content("#todo-count") == "3 items left"
    page.check("#todo-list > li:nth-child(3) .toggle")
    page.click("#todo-list > li:nth-child(1) .destroy")
    wait_synced(page)
    assert _titles(page) == ["by submit", "third"]
    assert page.eval_on_selector_all("#todo-list > li", "ls => ls.map(li => li.__row)") == [1, 2]
    assert page.is_checked("#todo-list > li:nth-child(2) .toggle")
    assert page.text_content("#todo-count") == "1 item left"


@pytest.mark.browser
def test_the_clock_text_changes_every_second_with_no_client_event(
    page: Page, server: Server
) -> None:
    open_live(page, server.url + "/clock")
    seen = [page.text_content("#clock")]
    for _ in range(2):
        page.wait_for_function(
            "t => document.querySelector('#clock').textContent !== t", arg=seen[-1], timeout=3000
        )
        seen.append(page.text_content("#clock"))
    assert len(set(seen)) == 3
    assert_not_reloaded(page)


@pytest.mark.browser
def test_the_form_validates_as_typed_and_submits(page: Page, server: Server) -> None:
    open_live(page, server.url + "/form")
    page.type("#email", "not-an-email")
    page.wait_for_function("() => document.querySelector('#email-error').textContent !== ''")
    page.fill("#email", "ok@example.org")
    page.wait_for_function("() => document.querySelector('#email-error').textContent === ''")
    page.click("#submit")
    wait_synced(page)
    assert page.text_content("#form-result") == "Thanks, ok@example.org is signed up."
    assert_not_reloaded(page)


@pytest.mark.browser
def test_chat_between_two_browser_contexts(browser: Browser, server: Server) -> None:
    first, second = browser.new_context(), browser.new_context()
    try:
        one, two = first.new_page(), second.new_page()
        open_live(one, server.url + "/chat")
        open_live(two, server.url + "/chat")
        names = {one.text_content("#me"), two.text_content("#me")}
        for page in (one, two):
            page.wait_for_function(
                "names => names.every(n => [...document.querySelectorAll('#online li')]"
                ".some(li => li.dataset.name === n))",
                arg=sorted(names),
            )
        one.fill("#chat-input", "hello from one")
        one.press("#chat-input", "Enter")
        two.fill("#chat-input", "hello from two")
        two.click("#chat-send")
        for page in (one, two):
            page.wait_for_function(
                "() => ['hello from one', 'hello from two'].every(t => [...document"
                ".querySelectorAll('#messages li')].some(li => li.textContent.endsWith(': ' + t)))"
            )
            assert_not_reloaded(page)
    finally:
        first.close()
        second.close()
