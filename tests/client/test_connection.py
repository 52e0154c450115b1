"""The client's connection state machine over the test transport: HELLO, WELCOME and resend,
patch sequencing, heartbeat, liveness, server frames. End-to-end behaviour against the real
server (WebSocket, reconnect backoff, replay) is covered by the live-front tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import ORIGIN, ClientPage
from vango_actors.inject import DEV_OVERLAY
from vango_actors.protocol import Error, GoAway, Patches, Ping, Reload

pytestmark = pytest.mark.browser

BUTTON = '<button id="b" data-hid="h2" data-on="click">+</button><ul data-hid="h3"></ul>'
SESSION = 'data-vango-session="S1" data-vango-token="T1" data-vango-live="ws://127.0.0.1:9/x"'


def test_hello_carries_session_token_and_resume_point(client: ClientPage) -> None:
    client.load(BUTTON, root_attrs=SESSION, paused_clock=True)
    assert client.connect() == [1, 1, "S1", "T1", 0, 0, f"{ORIGIN}/page"]
    assert client.state()["connected"] is True
    assert {"vango-connected"} <= client.classes() and {"vango-connected"} <= client.classes("html")


def test_events_made_offline_are_sent_after_welcome_minus_the_acked(client: ClientPage) -> None:
    client.load(BUTTON)
    for _ in range(3):
        client.page.click("#b")
    assert client.state() == {"connected": False, "lastSeq": 0, "eventSeq": 3, "pending": 3}
    client.connect()
    assert [f[1] for f in client.take_sent()] == [1, 2, 3]
    client.disconnect()  # the server handled event 1 only
    client.connect(ack=1)
    assert client.take_sent() == [[3, 2, 2, "click", {}], [3, 3, 2, "click", {}]]
    assert client.state()["pending"] == 2


def test_an_ack_past_what_the_page_sent_renumbers_its_unsent_events(client: ClientPage) -> None:
    # PROTOCOL 4.3: a copy of the page (same HTML, same session) took the session's seqs up to
    # 5. This page never sent its three clicks, so none of them was handled: they and the next
    # ones are numbered after the ack, or the server would take them for duplicates.
    client.load(BUTTON)
    for _ in range(3):
        client.page.click("#b")
    client.connect(ack=5)
    assert [f[1] for f in client.take_sent()] == [6, 7, 8]
    assert client.state()["pending"] == 3
    client.page.click("#b")
    assert [f[1] for f in client.take_sent()] == [9]
    client.disconnect()  # sent ones count as sent: a reconnect re-sends them with their seqs
    client.connect(ack=7)
    assert [f[1] for f in client.take_sent()] == [8, 9]


def test_reconnect_resends_unacked_events_in_order(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.page.click("#b")
    client.receive(Patches(1, 0, [[0, 2, 0, "1"]]))
    client.disconnect()
    assert client.state()["connected"] is False
    assert {"vango-disconnected"} <= client.classes() and {"vango-disconnected"} <= client.classes(
        "html"
    )
    client.page.click("#b")
    assert client.take_sent() == [[3, 1, 2, "click", {}]]
    hello = client.connect()
    assert hello[4:6] == [1, 1]  # last applied patch seq, last sent event seq
    assert client.take_sent() == [[3, 1, 2, "click", {}], [3, 2, 2, "click", {}]]
    assert "vango-disconnected" not in client.classes()


def test_a_close_for_a_too_big_message_drops_the_biggest_event_in_flight(
    client: ClientPage,
) -> None:
    # PROTOCOL 8: 1009 means "reconnect with backoff; the oversize event is lost". Resending
    # it would get the socket closed again at every reconnect, for ever.
    client.load(BUTTON + '<input id="i" data-hid="h4" data-on="input">')
    client.connect()
    client.page.click("#b")
    client.page.fill("#i", "x" * 70_000)
    client.page.click("#b")
    sent = [f[1:4] for f in client.take_sent()]
    assert sent == [[1, 2, "click"], [2, 4, "input"], [3, 2, "click"]]
    assert "vango-loading" in client.classes("#i")
    client.disconnect(1009)
    assert client.state()["pending"] == 2
    assert "vango-loading" not in client.classes("#i")
    assert "vango-input-loading" not in client.classes("#i")
    assert "vango-loading" in client.classes("#b")  # its clicks are still to be sent
    client.connect(ack=0)
    assert client.take_sent() == [[3, 1, 2, "click", {}], [3, 3, 2, "click", {}]]
    client.disconnect()  # any other close keeps every event: they are sent again
    assert client.state()["pending"] == 2


def test_input_while_offline_coalesces_into_one_event(client: ClientPage) -> None:
    client.load('<input id="i" data-hid="h2" data-on="input">')
    client.page.click("#i")
    client.page.keyboard.type("abc")
    client.connect()
    assert client.take_sent() == [[3, 1, 2, "input", {"value": "abc"}]]


def test_offline_queue_is_bounded(client: ClientPage) -> None:
    client.load(BUTTON)
    client.page.evaluate("for (let i = 0; i < 1005; i++) document.getElementById('b').click()")
    assert client.state()["pending"] == 1000
    assert client.state()["eventSeq"] == 1000


def test_patches_apply_in_seq_order_and_duplicates_are_ignored(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    insert = Patches(1, 0, [[4, 3, 0, '<li data-hid="h9">a</li>']])
    client.receive(insert)
    client.receive(insert)  # a replayed duplicate
    assert client.page.inner_html("ul") == '<li data-hid="h9">a</li>'
    assert client.state()["lastSeq"] == 1


def test_a_gap_in_patch_seq_drops_the_connection(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.receive(Patches(2, 0, [[4, 3, 0, "<li>x</li>"]]))
    assert client.page.inner_html("ul") == ""
    assert client.state()["connected"] is False
    assert client.connect()[4] == 0  # HELLO asks the server to replay from seq 0


def test_first_claim_applies_what_the_parked_session_sent(client: ClientPage) -> None:
    """WELCOME(resumed=false, seq=2) for a page at seq 0: frames 1 and 2 are replayed."""
    client.load(BUTTON)
    client.connect(seq=2, resumed=False)
    client.receive(Patches(1, 0, [[0, 2, 0, "1"]]))
    client.receive(Patches(2, 0, [[0, 2, 0, "2"]]))
    assert client.page.inner_text("#b") == "2"
    assert client.state()["lastSeq"] == 2


def test_remounted_session_restarts_the_seq(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect(seq=0, resumed=False)
    for seq in (1, 2, 3):
        client.receive(Patches(seq, 0, []))
    client.disconnect()
    assert client.connect(seq=1, resumed=False)[4] == 3  # a new server process, at seq 1
    client.receive(Patches(2, 0, [[7, 0, '<p data-hid="h1">fresh</p>']]))
    assert client.root_html() == '<p data-hid="h1">fresh</p>'
    assert client.state()["lastSeq"] == 2


def test_a_resync_applies_after_a_gap(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.receive(Patches(9, 0, [[7, 0, '<p data-hid="h1">x</p>'], [9, "t2"]]))
    assert client.root_html() == '<p data-hid="h1">x</p>'
    assert client.state() == {"connected": True, "lastSeq": 9, "eventSeq": 0, "pending": 0}


def test_malformed_batch_touches_nothing_and_resyncs(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect(seq=3)
    client.receive(Patches(1, 0, [[4, 3, 0, "<li>a</li>"]]))
    before = client.root_html()
    client.receive(Patches(2, 0, [[4, 3, 0, "<li>b</li>"], [0, 3]]))
    assert client.root_html() == before
    assert client.state()["connected"] is False
    assert client.connect()[4] == 0  # nothing trusted: the server sends a full resync


def test_unknown_hid_drops_the_connection(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.receive(Patches(1, 0, [[1, 99, "class", "x"]]))
    assert client.state() == {"connected": False, "lastSeq": 0, "eventSeq": 0, "pending": 0}


def test_ping_is_answered_with_the_same_n(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.receive(Ping(300))
    assert client.take_sent() == [[6, 300]]


def test_silence_past_two_and_a_half_heartbeats_drops_the_connection(
    page_client_paused: ClientPage,
) -> None:
    c = page_client_paused
    c.load(BUTTON, paused_clock=True)
    c.connect(heartbeat_ms=1000)
    c.page.clock.run_for(2000)
    c.receive(Ping(1))  # any frame restarts the liveness timer
    c.page.clock.run_for(2400)
    assert c.state()["connected"] is True
    c.page.clock.run_for(200)
    assert c.state()["connected"] is False
    assert "vango-disconnected" in c.classes()


def test_goaway_disconnects(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.receive(GoAway("draining"))
    assert client.state()["connected"] is False


def test_reload_frame_reloads_the_page(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.page.evaluate("window.__marker = 1")
    with client.page.expect_navigation():
        client.receive(Reload("session expired"))
    assert client.page.evaluate("window.__marker") is None


def test_error_frame_shows_overlay_only_in_dev(client: ClientPage) -> None:
    crashed = Error(8, "Counter crashed and was restarted: ZeroDivisionError")
    client.load(BUTTON)
    client.connect()
    client.page.evaluate(
        "() => document.addEventListener('vango:error', (e) => { window.__err = e.detail; })"
    )
    client.receive(crashed)
    assert client.page.query_selector("#vango-overlay") is None
    assert client.page.evaluate("window.__err") == {"code": 8, "message": crashed.message}
    client.load(BUTTON, root_attrs="data-vango-dev", tail=DEV_OVERLAY)
    client.connect()
    # an event for a hid a patch just removed (a double click on a delete button) is a
    # benign race: the console warns, the overlay stays away
    client.receive(Error(6, "EVENT for unknown hid 99"))
    assert client.page.query_selector("#vango-overlay") is None
    client.receive(crashed)
    assert client.page.inner_text("#vango-overlay") == (
        "vango error 8: Counter crashed and was restarted: ZeroDivisionError"
    )


def test_event_seq_survives_a_page_reload_of_the_same_session(client: ClientPage) -> None:
    client.load(BUTTON, root_attrs=SESSION, paused_clock=True)
    client.connect()
    client.page.click("#b")
    client.page.click("#b")
    client.load(BUTTON, root_attrs=SESSION, paused_clock=True)
    assert client.connect()[5] == 2
    client.page.click("#b")
    assert client.take_sent() == [[3, 3, 2, "click", {}]]


def test_latency_sim_delays_sends_and_persists_per_tab(page_client_paused: ClientPage) -> None:
    c = page_client_paused
    c.load(BUTTON, paused_clock=True)
    c.connect()
    c.page.evaluate("vango.enableLatencySim(50)")
    c.load(BUTTON, paused_clock=True)
    c.page.evaluate(
        "window.__sent = []; window.__conn = vango._attach((b) => __sent.push(Array.from(b)))"
    )
    c.page.clock.run_for(49)
    assert c.take_sent() == []
    c.page.clock.run_for(1)
    assert [f[0] for f in c.take_sent()] == [1]  # HELLO, 50 ms late
    c.page.evaluate("vango.enableLatencySim(0)")


def test_when_idle_waits_for_the_ack(client: ClientPage) -> None:
    client.load(BUTTON)
    client.connect()
    client.page.click("#b")
    client.page.evaluate("() => { vango._whenIdle().then(() => { window.__idle = true }) }")
    assert client.page.evaluate("window.__idle") is None
    client.receive(Patches(1, 1, []))
    assert client.page.evaluate("window.__idle") is True


RECOVERABLE = (
    '<form data-hid="h1"><input type="file" id="f" name="f" data-hid="h2">'
    '<input id="t" name="t" data-hid="h3" data-on="input"></form>'
    '<button id="b" data-hid="h4" data-on="click">+</button>'
)


def test_form_recovery_skips_a_file_input_and_keeps_the_rest(
    client: ClientPage, tmp_path: Path
) -> None:
    # a file input cannot be given a value back: recovering it threw, and the clicks held
    # for the remount and the other drafts were lost
    client.load(RECOVERABLE)
    client.connect()
    client.receive(Patches(1, 0, []))
    picked = tmp_path / "a.txt"
    picked.write_text("x")
    client.page.set_input_files("#f", str(picked))
    client.disconnect()
    client.page.fill("#t", "my note")
    client.page.click("#b")
    assert client.connect(seq=1, resumed=False)[4] == 1  # remounted elsewhere: held
    assert client.take_sent() == []
    client.receive(Patches(2, 0, [[7, 0, RECOVERABLE]]))  # the resync
    sent = [(f[2], f[3], f[4]) for f in client.take_sent()]
    # the draft (recovered, then its queued input event), then the held click; the file
    # input is left alone
    assert sent == [(3, "input", {"value": "my note"})] * 2 + [(4, "click", {})]
    assert client.page.input_value("#t") == "my note"


ROWS = (
    '<table data-hid="h1"><tr data-hid="h2"><td>B</td><td data-hid="h3">'
    '<button data-hid="h4" data-on="click">del</button></td></tr>'
    '<tr data-hid="h5"><td>C</td><td data-hid="h6">'
    '<button data-hid="h7" data-on="click">del</button></td></tr></table>'
)
# the same list remounted after B went meanwhile (another tab): C's button now has hid 4
REMOUNTED = (
    '<table data-hid="h1"><tr data-hid="h2"><td>C</td><td data-hid="h3">'
    '<button data-hid="h4" data-on="click">del</button></td></tr></table>'
)


def _remount_after_offline_clicks(
    client: ClientPage, rows: str, remounted: str, applied: int = 1
) -> list[Any]:
    """Click every row's button while offline, remount elsewhere with ``remounted``: the
    events the client sends after the resync. ``applied``: PATCHES frames the page applied
    before it went offline."""
    client.load(rows)
    client.connect(resumed=False)  # the first claim of the parked session
    for seq in range(1, applied + 1):
        client.receive(Patches(seq, 0, []))
    client.disconnect()
    for button in client.page.query_selector_all("button"):
        button.click()  # queued
    client.connect(seq=applied, resumed=False)  # remounted elsewhere: held for the resync
    assert client.take_sent() == []
    client.receive(Patches(applied + 1, 0, [[7, 0, remounted]]))
    return [f[2:4] for f in client.take_sent()]


def test_a_queued_click_is_replayed_after_a_remount_on_its_id_only(client: ClientPage) -> None:
    # a remount renders today's data with fresh hids: hid 4 is C's button now, and a click
    # queued on B's was sent there and deleted C; the text around a button (its cell) says
    # nothing about its row either
    warnings: list[str] = []
    client.page.on("console", lambda m: warnings.append(m.text))
    assert _remount_after_offline_clicks(client, ROWS, REMOUNTED) == []
    assert warnings.count("vango: not replayed after a remount (no id) click") == 2
    with_ids = ROWS.replace('<button data-hid="h4"', '<button id="del-b" data-hid="h4"')
    with_ids = with_ids.replace('<button data-hid="h7"', '<button id="del-c" data-hid="h7"')
    remounted = REMOUNTED.replace('<button data-hid="h4"', '<button id="del-c" data-hid="h4"')
    # B's is gone: not replayed; C's is replayed on C's button (its hid is 4 now)
    assert _remount_after_offline_clicks(client, with_ids, remounted) == [[4, "click"]]


def test_a_remount_holds_queued_clicks_of_a_page_that_never_applied_a_frame(
    client: ClientPage,
) -> None:
    # connected once, no PATCHES yet (lastSeq 0): a non-resumed WELCOME on a later socket is
    # a remount all the same. The clicks went out at once by the first render's hids, and
    # B's deleted C.
    assert _remount_after_offline_clicks(client, ROWS, REMOUNTED, applied=0) == []
    with_ids = ROWS.replace('<button data-hid="h7"', '<button id="del-c" data-hid="h7"')
    remounted = REMOUNTED.replace('<button data-hid="h4"', '<button id="del-c" data-hid="h4"')
    assert _remount_after_offline_clicks(client, with_ids, remounted, applied=0) == [[4, "click"]]


CHOICES = (
    '<form data-hid="h1"><select id="s" name="s" multiple data-hid="h2" data-on="change">'
    "<option>a</option><option>b</option><option>c</option></select></form>"
)


def test_form_recovery_restores_every_choice_of_a_multi_select(client: ClientPage) -> None:
    client.load(CHOICES)
    client.connect()
    client.receive(Patches(1, 0, []))
    client.disconnect()
    client.page.select_option("#s", ["a", "c"])  # chosen offline: queued
    assert client.connect(seq=1, resumed=False)[4] == 1  # remounted elsewhere: held
    client.receive(Patches(2, 0, [[7, 0, CHOICES]]))  # the resync renders none chosen
    chosen = "[...document.getElementById('s').selectedOptions].map((o) => o.value)"
    assert client.page.evaluate(chosen) == ["a", "c"]  # before, only "a"
    both = {"value": "a", "values": ["a", "c"]}
    assert [f[2:] for f in client.take_sent()] == [[2, "change", both]] * 2


def test_a_readonly_the_server_set_during_a_submit_stays(client: ClientPage) -> None:
    client.load(
        '<form data-hid="h1" data-on="submit"><input id="a" name="a" data-hid="h2">'
        '<input id="b" name="b" data-hid="h3"><button data-hid="h4">go</button></form>'
        '<button id="lock" data-hid="h5" data-on="click">lock</button>'
    )
    client.connect()
    client.page.click("#lock")  # event 1: the server will make field a read-only
    client.page.press("#a", "Enter")  # event 2, before the answer to 1
    read_only = "() => ['a', 'b'].map((i) => document.getElementById(i).readOnly)"
    assert client.page.evaluate(read_only) == [True, True]  # the submit lock
    client.receive(Patches(1, 1, [[1, 2, "readonly", ""]]))  # the answer to the click
    client.receive(Patches(2, 2, []))  # the submit's: the lock is released
    assert client.page.evaluate(read_only) == [True, False]
