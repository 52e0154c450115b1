"""The session lifecycle, as one table: parked -> live -> disconnected -> ended.

Rules:

1. ``create()`` renders the page and leaves the session **parked**: nobody is attached yet.
   It must be claimed within ``unclaimed_ttl`` or it expires.
2. ``attach()`` makes it **live** from parked, disconnected or live (a second connection
   replaces the first, which is closed with ``REPLACED``). The first one (from parked) runs
   the components' ``connected`` hooks; a reconnect does not.
3. ``detach()`` (the socket went away, or the client read too slowly) makes a live session
   **disconnected**; its state is kept for ``grace_period``, then it expires.
4. ``end`` (restart budget spent, runtime bug, shutdown) moves any state to **ended**.
   Ended is final; ``attach()`` to an ended or unknown session raises ``SessionNotFound``.

Timers, background tasks and pub/sub keep running while parked or disconnected; their
patch frames go to the replay buffer for the next attach.
"""

from __future__ import annotations

import enum

from .errors import VangoError


class SessionState(enum.Enum):
    PARKED = "parked"
    LIVE = "live"
    DISCONNECTED = "disconnected"
    ENDED = "ended"


class Trigger(enum.Enum):
    ATTACH = "attach"
    DETACH = "detach"
    EXPIRE = "expire"
    END = "end"


P, L, D, E = SessionState.PARKED, SessionState.LIVE, SessionState.DISCONNECTED, SessionState.ENDED

#: (state, trigger) -> next state. A pair not in the table is a runtime bug.
TRANSITIONS: dict[tuple[SessionState, Trigger], SessionState] = {
    (P, Trigger.ATTACH): L,
    (P, Trigger.EXPIRE): E,
    (P, Trigger.END): E,
    (L, Trigger.ATTACH): L,
    (L, Trigger.DETACH): D,
    (L, Trigger.END): E,
    (D, Trigger.ATTACH): L,
    (D, Trigger.EXPIRE): E,
    (D, Trigger.END): E,
}

#: The states that expire, and the RuntimeConfig field that says after how long.
EXPIRES_AFTER: dict[SessionState, str] = {P: "unclaimed_ttl", D: "grace_period"}


class IllegalTransition(VangoError):
    """A lifecycle trigger arrived in a state that does not accept it (a runtime bug)."""


def next_state(state: SessionState, trigger: Trigger) -> SessionState:
    """Look the transition up in :data:`TRANSITIONS`; raise IllegalTransition if absent."""
    try:
        return TRANSITIONS[state, trigger]
    except KeyError:
        allowed = sorted(t.value for (s, t) in TRANSITIONS if s is state)
        raise IllegalTransition(
            f"session lifecycle: {trigger.value!r} is not allowed when {state.value}; "
            f"allowed: {allowed}"
        ) from None
