"""The live wire protocol: frame values, op codes, limits and the msgpack codec (sans-IO).

Every WebSocket message is one binary msgpack array ``[frame_type, ...fields]``. The spec is
``docs/PROTOCOL.md`` (normative); the constants here and in ``client/vango.js`` must agree
(a test checks it). :func:`decode` turns any malformed input into :class:`ProtocolError`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, TypeAlias

import attrs
import msgpack

from .errors import VangoError

VERSION = 1


class FrameType(IntEnum):
    HELLO = 1  # c->s
    WELCOME = 2  # s->c
    EVENT = 3  # c->s
    PATCHES = 4  # s->c
    PING = 5  # both ways
    PONG = 6  # both ways
    ERROR = 7  # s->c
    RELOAD = 8  # s->c
    GOAWAY = 9  # s->c


class Op(IntEnum):
    """Patch op codes. Structural ops address a child by (parent hid, index)."""

    TEXT = 0  # [0, parent_hid, index, text]       set the text node at index
    SET_ATTR = 1  # [1, hid, name, value]          value: str
    REMOVE_ATTR = 2  # [2, hid, name]
    SET_PROP = 3  # [3, hid, name, value]          value/checked/selected; str or bool
    INSERT = 4  # [4, parent_hid, index, html]     insert parsed html before child at index
    REMOVE = 5  # [5, parent_hid, index]
    MOVE = 6  # [6, parent_hid, child_hid, index]  detach child, reinsert at index
    REPLACE = 7  # [7, hid, html]                  replace element hid by html
    PUSH_URL = 8  # [8, url, replace]
    TITLE = 9  # [9, title]
    FOCUS = 10  # [10, hid]


class ErrorCode(IntEnum):
    """Codes carried by ERROR frames; the message says what was expected and what arrived."""

    PROTOCOL = 1  # malformed frame
    TOO_BIG = 2  # frame above the size limit
    BAD_TOKEN = 3  # forged, expired or other-session token
    BAD_ORIGIN = 4
    NO_SESSION = 5  # session unknown or expired (client reloads)
    UNKNOWN_TARGET = 6  # event for an unknown hid or unbound event type (session goes on)
    RATE_LIMITED = 7  # event dropped by the rate limit
    COMPONENT_CRASHED = 8  # a component raised and was restarted
    INTERNAL = 9
    BUSY = 10  # session already has a live connection / server full


class CloseCode(IntEnum):
    """WebSocket close codes the server uses."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003  # text frame
    POLICY_VIOLATION = 1008  # bad Origin or token
    TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SESSION_GONE = 4001  # reload the page
    REPLACED = 4002  # another connection claimed the session
    IDLE_TIMEOUT = 4003  # heartbeat missed


@attrs.frozen(slots=True)
class Limits:
    """Decoder limits for client-to-server frames."""

    max_frame_bytes: int = 64 * 1024
    max_str_len: int = 32 * 1024
    max_items: int = 1024  # per array / map
    max_depth: int = 8  # nesting inside an event payload


DEFAULT_LIMITS = Limits()


class ProtocolError(VangoError):
    """A frame broke the protocol. ``code`` goes in the ERROR frame, ``close_code`` on close."""

    def __init__(
        self,
        message: str,
        code: ErrorCode = ErrorCode.PROTOCOL,
        close_code: CloseCode = CloseCode.PROTOCOL_ERROR,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.close_code = close_code


# ---------------------------------------------------------------------------------- frames


@attrs.frozen(slots=True)
class Hello:
    """c->s: first frame on a connection; resumes from the last applied patch seq."""

    version: int
    session_id: str
    token: str
    last_seq: int  # last PATCHES seq the client applied (0: none)
    last_event: int  # last EVENT seq the client sent (0: none)
    url: str


@attrs.frozen(slots=True)
class Welcome:
    """s->c: the connection is live; ``resumed`` is False for a fresh or remounted session."""

    version: int
    seq: int  # seq of the last PATCHES frame sent before this WELCOME
    ack: int  # highest event seq handled: the client re-sends its unacked events above it
    heartbeat_ms: int
    resumed: bool


@attrs.frozen(slots=True)
class Event:
    """c->s: a DOM event on element ``hid``; ``seq`` increases by one per event."""

    seq: int
    hid: int
    type: str
    payload: dict[str, Any]


@attrs.frozen(slots=True)
class Patches:
    """s->c: ops to apply in order; ``ack`` is the highest event seq handled so far."""

    seq: int
    ack: int
    ops: list[list[Any]]


@attrs.frozen(slots=True)
class Ping:
    n: int


@attrs.frozen(slots=True)
class Pong:
    n: int


@attrs.frozen(slots=True)
class Error:
    code: int
    message: str


@attrs.frozen(slots=True)
class Reload:
    reason: str


@attrs.frozen(slots=True)
class GoAway:
    reason: str


Frame: TypeAlias = Hello | Welcome | Event | Patches | Ping | Pong | Error | Reload | GoAway

_TYPE_OF: dict[type, FrameType] = {
    Hello: FrameType.HELLO,
    Welcome: FrameType.WELCOME,
    Event: FrameType.EVENT,
    Patches: FrameType.PATCHES,
    Ping: FrameType.PING,
    Pong: FrameType.PONG,
    Error: FrameType.ERROR,
    Reload: FrameType.RELOAD,
    GoAway: FrameType.GOAWAY,
}
_CLASS_OF: dict[int, type] = {int(v): k for k, v in _TYPE_OF.items()}

_packb = msgpack.Packer(use_bin_type=True, autoreset=True).pack


def encode(frame: Frame) -> bytes:
    """Encode a frame to one WebSocket message."""
    return _packb([int(_TYPE_OF[type(frame)]), *attrs.astuple(frame, recurse=False)])


def encode_patches(seq: int, ack: int, ops: list[Any]) -> bytes:
    """Hot-path encoder for PATCHES, without building a frame object."""
    return _packb([4, seq, ack, ops])


def encode_event(seq: int, hid: int, type: str, payload: dict[str, Any]) -> bytes:
    return _packb([3, seq, hid, type, payload])
