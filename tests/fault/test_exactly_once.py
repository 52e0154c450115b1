"""No event lost, none applied twice, no patch applied twice: 1,000 clicks through a proxy
that cuts the connection at random byte counts (mid-frame, either direction)."""

from __future__ import annotations

import trio

from vango_actors import dom
from vango_actors import html as html_render

from ..faultproxy import open_fault_proxy
from ..liveclient import load_page
from .inprocess import running_app
from .resilient import ResilientClient

EVENTS = 1000


async def test_a_thousand_clicks_through_fifty_cuts_apply_exactly_once() -> None:
    with trio.fail_after(120):
        async with running_app(event_rate=0) as server:
            async with open_fault_proxy(server.port, seed=11) as proxy:
                shell = await load_page(proxy.url, "/counter")
                # a handshake is ~500 bytes both ways, a click round trip ~25: each link
                # carries 0..40 events before the proxy cuts it somewhere
                proxy.drop_after = (500, 1500)
                client = ResilientClient(proxy.url, shell)
                await client.run_until_acked(EVENTS, client.hid("#inc"))
                proxy.drop_after = None
                stats = server.manager.session_statistics(shell.session_id)
                actor = server.manager.session(shell.session_id)
                server_dom = dom.Document.from_html(html_render.render(actor.root.tree))

    assert proxy.cuts >= 50, f"only {proxy.cuts} cuts"
    assert client.connections >= 50
    assert stats.events_handled == EVENTS  # each event handled once (duplicates are not)
    assert stats.ack == EVENTS
    assert client.text("#count") == str(EVENTS)
    assert client.document.to_html() == server_dom.to_html()
    assert client.applied == sorted(set(client.applied))  # each frame once, in order
    assert all(w.resumed for w in client.welcomes[1:])  # state kept across every cut
