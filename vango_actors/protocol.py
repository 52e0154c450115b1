"""The live wire protocol: frame values, op codes, limits and the msgpack codec (sans-IO).

Every WebSocket message is one binary msgpack array ``[frame_type, ...fields]``. The spec is
``docs/PROTOCOL.md`` (normative); the constants here and in ``client/vango.js`` must agree
(a test checks it). :func:`decode` turns any malformed input into :class:`ProtocolError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import IntEnum
from typing import Any, TypeAlias

import attrs
import msgpack  # type: ignore[import-untyped]

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
    REDIRECT = 11  # [11, url]                     full page load of url (location.assign)
    TOKEN = 12  # [12, token]                      the session's new token (after navigation)
    CALL = 13  # [13, name, args]                  client extension call (hooks, commands)


class ErrorCode(IntEnum):
    """Codes carried by ERROR frames; the message says what was expected and what arrived."""

    PROTOCOL = 1  # malformed frame
    TOO_BIG = 2  # frame above the size limit
    BAD_TOKEN = 3  # forged, expired or other-session token
    BAD_ORIGIN = 4
    NO_SESSION = 5  # session unknown or expired (client reloads)
    UNKNOWN_TARGET = 6  # event for an unknown hid or unbound event type (session goes on)
    RATE_LIMITED = 7  # reserved: no longer sent (the rate limit slows reading, drops nothing)
    COMPONENT_CRASHED = 8  # a component raised and was restarted
    INTERNAL = 9
    BUSY = 10  # session already has a live connection / server full
    UNSUPPORTED_VERSION = 11  # HELLO speaks another protocol version (client reloads)


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


def _make_event_factory() -> Callable[[int, int, str, dict[str, Any]], Event]:
    """The attrs ``__init__`` of a frozen slots class sets each field through
    ``object.__setattr__`` (~1 µs for EVENT's four); every user action decodes one EVENT, so
    the decoder sets the slots directly. Falls back to the class if the fields change."""
    names = tuple(f.name for f in attrs.fields(Event))
    if names != ("seq", "hid", "type", "payload"):
        return Event
    set_seq, set_hid, set_type, set_payload = (Event.__dict__[n].__set__ for n in names)
    new = object.__new__

    def make_event(seq: int, hid: int, etype: str, payload: dict[str, Any]) -> Event:
        event = new(Event)
        set_seq(event, seq)
        set_hid(event, hid)
        set_type(event, etype)
        set_payload(event, payload)
        return event

    return make_event


#: ``make_event(seq, hid, type, payload)``: an Event of checked fields, without attrs' __init__.
make_event = _make_event_factory()


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

_packb: Callable[[object], bytes] = msgpack.Packer(use_bin_type=True, autoreset=True).pack


def well_formed(text: str) -> str:
    """``text`` as the browser can hold it in UTF-8: surrogate pairs joined, lone surrogates
    replaced by U+FFFD.

    A Python str may hold lone surrogates (a file or database badly decoded, a ``"\\ud800"``
    JSON escape), which UTF-8 cannot encode; the page shows U+FFFD there instead of the
    session or the page failing, as the client's TextEncoder does for the same JS string.
    """
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _mend(value: Any) -> Any:
    """``value`` with every str (map keys too) made :func:`well_formed`."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, (list, tuple)):
        return [_mend(item) for item in value]
    if isinstance(value, dict):
        return {_mend(k): _mend(v) for k, v in value.items()}
    return value


def _pack(array: list[Any]) -> bytes:
    try:
        return _packb(array)
    except UnicodeEncodeError:  # a lone surrogate somewhere (rare): mend every str, once
        return _packb(_mend(array))


def encode(frame: Frame) -> bytes:
    """Encode a frame to one WebSocket message."""
    return _pack([int(_TYPE_OF[type(frame)]), *attrs.astuple(frame, recurse=False)])


def encode_patches(seq: int, ack: int, ops: list[Any]) -> bytes:
    """Hot-path encoder for PATCHES, without building a frame object. A str the page cannot
    hold (a lone surrogate) arrives as U+FFFD (:func:`well_formed`)."""
    try:
        return _packb([4, seq, ack, ops])
    except UnicodeEncodeError:
        return _packb(_mend([4, seq, ack, ops]))


def encode_event(seq: int, hid: int, type: str, payload: dict[str, Any]) -> bytes:
    return _pack([3, seq, hid, type, payload])


# --------------------------------------------------------------------------------- decoding

#: Largest int a field may carry: JavaScript numbers hold ints exactly up to 2**53 - 1.
MAX_SAFE_INT = 2**53 - 1

#: Limits for frames the *server* sent (Python test client, benchmarks): the peer is trusted,
#: so only sanity bounds apply (a full resync may carry a large page).
SERVER_FRAME_LIMITS = Limits(
    max_frame_bytes=64 * 1024 * 1024,
    max_str_len=64 * 1024 * 1024,
    max_items=1024 * 1024,
    max_depth=8,
)

ClientFrame: TypeAlias = Hello | Event | Ping | Pong
#: What the decoders take: one binary WebSocket message.
Message: TypeAlias = bytes | bytearray | memoryview

_UINT = "a non-negative int"
_KIND_NAMES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    bytes: "bin",
    list: "array",
    dict: "map",
    type(None): "nil",
}


def _kind(value: object) -> str:
    """The msgpack name of a decoded value's type, for error messages."""
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _got(value: object) -> str:
    """What arrived: the type, plus the value for ints (so range errors show it)."""
    return f"int {value}" if type(value) is int else _kind(value)


def _field_error(frame: str, field: str, expected: str, value: object) -> ProtocolError:
    return ProtocolError(f"{frame} field {field!r}: expected {expected}, got {_got(value)}")


def _arity_error(frame: str, shape: str, array: list[Any]) -> ProtocolError:
    return ProtocolError(f"{frame}: expected {shape}, got {_items(len(array))}")


def _items(n: int) -> str:
    return _plural(n, "item")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _uint(frame: str, field: str, value: Any) -> int:
    if type(value) is int and 0 <= value <= MAX_SAFE_INT:
        return value
    expected = f"{_UINT} up to 2**53-1" if type(value) is int and value > 0 else _UINT
    raise _field_error(frame, field, expected, value)


def _str(frame: str, field: str, value: Any) -> str:
    if type(value) is str:
        return value
    raise _field_error(frame, field, "str", value)


def _bool(frame: str, field: str, value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _field_error(frame, field, "bool", value)


def _reject_ext(code: int, data: bytes) -> object:
    raise ProtocolError(f"invalid msgpack: ext type {code} is not allowed in frames")


def _as_bytes(data: object) -> bytes:
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        raise ProtocolError(
            "expected a binary message, got a text message", close_code=CloseCode.UNSUPPORTED_DATA
        )
    raise ProtocolError(f"expected a binary message (bytes), got {type(data).__name__}")


def _unpack(data: object, limits: Limits) -> list[Any]:
    """Bytes to the frame array; every msgpack failure becomes a ProtocolError here."""
    raw = data if type(data) is bytes else _as_bytes(data)
    if len(raw) > limits.max_frame_bytes:
        raise ProtocolError(
            f"frame of {len(raw)} bytes exceeds the limit of {limits.max_frame_bytes} bytes",
            ErrorCode.TOO_BIG,
            CloseCode.TOO_BIG,
        )
    if not raw:
        raise ProtocolError("empty message: expected a msgpack array [frame_type, ...]")
    try:
        array = msgpack.unpackb(
            raw,
            raw=False,
            strict_map_key=True,
            ext_hook=_reject_ext,
            max_str_len=limits.max_str_len,
            max_bin_len=limits.max_str_len,
            max_array_len=limits.max_items,
            max_map_len=limits.max_items,
            max_ext_len=0,
        )
    except ProtocolError:
        raise
    except msgpack.ExtraData as exc:
        raise ProtocolError(
            f"invalid msgpack: {_plural(len(exc.extra), 'byte')} of trailing data after the frame"
        ) from None
    except Exception as exc:  # msgpack raises many types; each means "malformed frame"
        reason = _msgpack_reason(exc)
        if reason.startswith("limit exceeded"):
            # a str or list too long is data too big (a 40 KB paste), not a broken client:
            # TOO_BIG makes the client drop that event instead of resending it forever
            raise ProtocolError(
                f"invalid msgpack: {reason}", ErrorCode.TOO_BIG, CloseCode.TOO_BIG
            ) from None
        raise ProtocolError(f"invalid msgpack: {reason}") from None
    if type(array) is not list or not array:
        got = "an empty array" if array == [] else _kind(array)
        raise ProtocolError(f"expected a msgpack array [frame_type, ...], got {got}")
    return array


def _msgpack_reason(exc: Exception) -> str:
    if isinstance(exc, msgpack.StackError):
        return "nested too deeply"
    if isinstance(exc, msgpack.FormatError):
        return "malformed data (reserved type byte 0xc1?)"
    if isinstance(exc, UnicodeDecodeError):
        return f"str is not valid UTF-8 ({exc.reason} at offset {exc.start} of the str)"
    text = str(exc)
    if "incomplete input" in text:
        return "truncated (incomplete input)"
    if "max_ext_len" in text:
        return "ext types are not allowed in frames"
    if "exceeds max_" in text:
        return f"limit exceeded ({text})"
    if "map key" in text:
        return "map keys must be str"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _type_error(ftype: object) -> ProtocolError:
    if type(ftype) is int:
        return ProtocolError(f"unknown frame type {ftype}: expected 1..9")
    return ProtocolError(f"frame type: expected an int 1..9, got {_kind(ftype)}")


def decode(data: Message, limits: Limits = DEFAULT_LIMITS) -> Frame:
    """Decode one WebSocket message into a frame; any malformed input raises ProtocolError."""
    array = _unpack(data, limits)
    ftype = array[0]
    decoder = _DECODERS.get(ftype) if type(ftype) is int else None
    if decoder is None:
        raise _type_error(ftype)
    return decoder(array, limits)


def decode_client(data: Message, limits: Limits = DEFAULT_LIMITS) -> ClientFrame:
    """Decode a message a client sent: only HELLO, EVENT, PING and PONG are accepted."""
    array = _unpack(data, limits)
    ftype = array[0]
    decoder = _CLIENT_DECODERS.get(ftype) if type(ftype) is int else None
    if decoder is None:
        if type(ftype) is int and ftype in _DECODERS:
            raise ProtocolError(
                f"unexpected frame type {FrameType(ftype).name} ({ftype}) from a client:"
                " expected HELLO, EVENT, PING or PONG"
            )
        raise _type_error(ftype)
    return decoder(array, limits)  # type: ignore[return-value]


# ----------------------------------------------------------------- one decoder per frame type


def _decode_hello(a: list[Any], limits: Limits) -> Hello:
    if len(a) >= 2 and type(a[1]) is int and a[1] != VERSION:
        raise ProtocolError(
            f"HELLO: unsupported protocol version {a[1]}, this server speaks version {VERSION}",
            ErrorCode.UNSUPPORTED_VERSION,
            CloseCode.SESSION_GONE,
        )
    if len(a) != 7:
        shape = "7 items [1, version, session_id, token, last_seq, last_event, url]"
        raise _arity_error("HELLO", shape, a)
    _, version, session_id, token, last_seq, last_event, url = a
    return Hello(
        _uint("HELLO", "version", version),
        _str("HELLO", "session_id", session_id),
        _str("HELLO", "token", token),
        _uint("HELLO", "last_seq", last_seq),
        _uint("HELLO", "last_event", last_event),
        _str("HELLO", "url", url),
    )


def _decode_welcome(a: list[Any], limits: Limits) -> Welcome:
    if len(a) != 6:
        raise _arity_error("WELCOME", "6 items [2, version, seq, ack, heartbeat_ms, resumed]", a)
    _, version, seq, ack, heartbeat_ms, resumed = a
    return Welcome(
        _uint("WELCOME", "version", version),
        _uint("WELCOME", "seq", seq),
        _uint("WELCOME", "ack", ack),
        _uint("WELCOME", "heartbeat_ms", heartbeat_ms),
        _bool("WELCOME", "resumed", resumed),
    )


def _decode_event(a: list[Any], limits: Limits) -> Event:
    if len(a) != 5:
        raise _arity_error("EVENT", "5 items [3, seq, hid, type, payload]", a)
    _, seq, hid, etype, payload = a
    # The hot path (every user action): checks inline, helpers only to raise.
    if type(seq) is not int or not 0 <= seq <= MAX_SAFE_INT:
        _uint("EVENT", "seq", seq)
    if type(hid) is not int or not 0 <= hid <= MAX_SAFE_INT:
        _uint("EVENT", "hid", hid)
    if type(etype) is not str:
        _str("EVENT", "type", etype)
    if type(payload) is not dict:
        raise _field_error("EVENT", "payload", "a map", payload)
    if payload and not _payload_ok(payload, 1, limits.max_depth):
        if etype == "upload" and type(payload.get("data")) is bytes:  # an upload chunk
            rest = {k: v for k, v in payload.items() if k != "data"}
            if _payload_ok(rest, 1, limits.max_depth):
                return make_event(seq, hid, etype, payload)
            _explain_map(rest, 1, limits.max_depth, "payload")
        _explain_map(payload, 1, limits.max_depth, "payload")
        raise ProtocolError("EVENT field 'payload': invalid")  # not reached: explain raises
    return make_event(seq, hid, etype, payload)


# Payload validation runs twice only on failure: a fast walk that answers yes/no, then a walk
# that tracks the path to say where and what (no path strings are built on the happy path).


def _payload_ok(value: dict[Any, Any], depth: int, max_depth: int) -> bool:
    """A payload map at nesting level ``depth`` (the payload itself is level 1) is valid."""
    for key, item in value.items():
        if type(key) is not str:
            return False
        if type(item) is not str and not _value_ok(item, depth, max_depth):
            return False
    return True


def _value_ok(item: Any, depth: int, max_depth: int) -> bool:
    t = type(item)
    if t is str or t is bool or item is None:
        return True
    if t is int:
        return -MAX_SAFE_INT <= item <= MAX_SAFE_INT  # type: ignore[no-any-return]
    if t is float:
        return math.isfinite(item)
    if depth >= max_depth:
        return False
    if t is dict:
        return _payload_ok(item, depth + 1, max_depth)
    if t is list:
        for element in item:
            if not _value_ok(element, depth + 1, max_depth):
                return False
        return True
    return False


def _explain_map(value: dict[Any, Any], depth: int, max_depth: int, path: str) -> None:
    """Raise the ProtocolError that says where and why a payload map is invalid."""
    for key, item in value.items():
        if type(key) is not str:
            raise ProtocolError(f"EVENT field {path!r}: expected str map keys, got {_kind(key)}")
        if type(item) is not str:
            _explain_value(item, depth, max_depth, f'{path}["{key}"]')


def _explain_value(item: Any, depth: int, max_depth: int, path: str) -> None:
    t = type(item)
    if t is str or t is bool or item is None:
        return
    if t is int:
        if -MAX_SAFE_INT <= item <= MAX_SAFE_INT:
            return
        raise _field_error("EVENT", path, "an int within +-(2**53-1)", item)
    if t is float:
        if math.isfinite(item):
            return
        raise ProtocolError(f"EVENT field {path!r}: expected a finite float, got {item}")
    if t is not dict and t is not list:
        raise _field_error("EVENT", path, "str, int, float, bool, nil, array or map", item)
    if depth >= max_depth:
        raise ProtocolError(
            f"EVENT field {path!r}: expected a payload nested at most {max_depth} levels deep,"
            f" got {'a map' if t is dict else 'an array'} at level {depth + 1}"
        )
    if t is dict:
        _explain_map(item, depth + 1, max_depth, path)
    else:
        for i, element in enumerate(item):
            _explain_value(element, depth + 1, max_depth, f"{path}[{i}]")


def _decode_patches(a: list[Any], limits: Limits) -> Patches:
    if len(a) != 4:
        raise _arity_error("PATCHES", "4 items [4, seq, ack, ops]", a)
    _, seq, ack, ops = a
    _uint("PATCHES", "seq", seq)
    _uint("PATCHES", "ack", ack)
    if type(ops) is not list:
        raise _field_error("PATCHES", "ops", "an array of ops", ops)
    ok = _OP_OK.get
    for op in ops:
        if type(op) is not list or not op or type(op[0]) is not int:
            break
        check = ok(op[0])
        if check is None or not check(op):
            break
    else:
        return Patches(seq, ack, ops)
    raise _explain_ops(ops)


def _decode_ping(a: list[Any], limits: Limits) -> Ping:
    if len(a) != 2:
        raise _arity_error("PING", "2 items [5, n]", a)
    return Ping(_uint("PING", "n", a[1]))


def _decode_pong(a: list[Any], limits: Limits) -> Pong:
    if len(a) != 2:
        raise _arity_error("PONG", "2 items [6, n]", a)
    return Pong(_uint("PONG", "n", a[1]))


def _decode_error(a: list[Any], limits: Limits) -> Error:
    if len(a) != 3:
        raise _arity_error("ERROR", "3 items [7, code, message]", a)
    return Error(_uint("ERROR", "code", a[1]), _str("ERROR", "message", a[2]))


def _decode_reload(a: list[Any], limits: Limits) -> Reload:
    if len(a) != 2:
        raise _arity_error("RELOAD", "2 items [8, reason]", a)
    return Reload(_str("RELOAD", "reason", a[1]))


def _decode_goaway(a: list[Any], limits: Limits) -> GoAway:
    if len(a) != 2:
        raise _arity_error("GOAWAY", "2 items [9, reason]", a)
    return GoAway(_str("GOAWAY", "reason", a[1]))


_DECODERS: dict[int, Callable[[list[Any], Limits], Frame]] = {
    FrameType.HELLO: _decode_hello,
    FrameType.WELCOME: _decode_welcome,
    FrameType.EVENT: _decode_event,
    FrameType.PATCHES: _decode_patches,
    FrameType.PING: _decode_ping,
    FrameType.PONG: _decode_pong,
    FrameType.ERROR: _decode_error,
    FrameType.RELOAD: _decode_reload,
    FrameType.GOAWAY: _decode_goaway,
}
_CLIENT_DECODERS = {t: _DECODERS[t] for t in (1, 3, 5, 6)}


# ------------------------------------------------------------------- one check per patch op
# A fast yes/no check per opcode runs on every op; only when one says no does the table-driven
# explainer below walk the ops again to name the op, the field, what was expected and what came.


def _u(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_SAFE_INT


_M = MAX_SAFE_INT  # short, for the inlined checks below


def _text_ok(op: list[Any]) -> bool:
    return (
        len(op) == 4
        and type(op[1]) is int
        and 0 <= op[1] <= _M
        and type(op[2]) is int
        and 0 <= op[2] <= _M
        and type(op[3]) is str
    )


def _set_attr_ok(op: list[Any]) -> bool:
    return (
        len(op) == 4
        and type(op[1]) is int
        and 0 <= op[1] <= _M
        and type(op[2]) is str
        and type(op[3]) is str
    )


def _remove_attr_ok(op: list[Any]) -> bool:
    return len(op) == 3 and type(op[1]) is int and 0 <= op[1] <= _M and type(op[2]) is str


_PROP_KINDS: dict[str, type] = {"value": str, "checked": bool, "selected": bool}


def _set_prop_ok(op: list[Any]) -> bool:
    return (
        len(op) == 4
        and type(op[1]) is int
        and 0 <= op[1] <= _M
        and type(op[2]) is str
        and _PROP_KINDS.get(op[2]) is type(op[3])
    )


def _insert_ok(op: list[Any]) -> bool:
    return (
        len(op) == 4
        and type(op[1]) is int
        and 0 <= op[1] <= _M
        and type(op[2]) is int
        and 0 <= op[2] <= _M
        and type(op[3]) is str
    )


def _remove_ok(op: list[Any]) -> bool:
    return (
        len(op) == 3
        and type(op[1]) is int
        and 0 <= op[1] <= _M
        and type(op[2]) is int
        and 0 <= op[2] <= _M
    )


def _move_ok(op: list[Any]) -> bool:
    return (
        len(op) == 4
        and type(op[1]) is int
        and 0 <= op[1] <= _M
        and type(op[2]) is int
        and 0 <= op[2] <= _M
        and type(op[3]) is int
        and 0 <= op[3] <= _M
    )


def _replace_ok(op: list[Any]) -> bool:
    return len(op) == 3 and type(op[1]) is int and 0 <= op[1] <= _M and type(op[2]) is str


def _push_url_ok(op: list[Any]) -> bool:
    return len(op) == 3 and type(op[1]) is str and type(op[2]) is bool


def _title_ok(op: list[Any]) -> bool:
    return len(op) == 2 and type(op[1]) is str


def _focus_ok(op: list[Any]) -> bool:
    return len(op) == 2 and type(op[1]) is int and 0 <= op[1] <= _M


def _redirect_ok(op: list[Any]) -> bool:
    return len(op) == 2 and type(op[1]) is str


def _call_ok(op: list[Any]) -> bool:
    return len(op) == 3 and type(op[1]) is str and type(op[2]) is dict


_OP_OK: dict[int, Callable[[list[Any]], bool]] = {  # plain int keys: faster lookups
    Op.TEXT: _text_ok,
    Op.SET_ATTR: _set_attr_ok,
    Op.REMOVE_ATTR: _remove_attr_ok,
    Op.SET_PROP: _set_prop_ok,
    Op.INSERT: _insert_ok,
    Op.REMOVE: _remove_ok,
    Op.MOVE: _move_ok,
    Op.REPLACE: _replace_ok,
    Op.PUSH_URL: _push_url_ok,
    Op.TITLE: _title_ok,
    Op.FOCUS: _focus_ok,
    Op.REDIRECT: _redirect_ok,
    Op.TOKEN: _redirect_ok,  # same shape: one str
    Op.CALL: _call_ok,
}
_OP_OK = {int(code): check for code, check in _OP_OK.items()}

# Each op's fields as written in docs/PROTOCOL.md: (name, kind); "prop" is SET_PROP's value.
_OP_FIELDS: dict[int, tuple[tuple[str, str], ...]] = {
    Op.TEXT: (("parent", "uint"), ("index", "uint"), ("text", "str")),
    Op.SET_ATTR: (("hid", "uint"), ("name", "str"), ("value", "str")),
    Op.REMOVE_ATTR: (("hid", "uint"), ("name", "str")),
    Op.SET_PROP: (("hid", "uint"), ("name", "prop name"), ("value", "prop")),
    Op.INSERT: (("parent", "uint"), ("index", "uint"), ("html", "str")),
    Op.REMOVE: (("parent", "uint"), ("index", "uint")),
    Op.MOVE: (("parent", "uint"), ("child", "uint"), ("index", "uint")),
    Op.REPLACE: (("hid", "uint"), ("html", "str")),
    Op.PUSH_URL: (("url", "str"), ("replace", "bool")),
    Op.TITLE: (("title", "str"),),
    Op.FOCUS: (("hid", "uint"),),
    Op.REDIRECT: (("url", "str"),),
    Op.TOKEN: (("token", "str"),),
    Op.CALL: (("name", "str"), ("args", "map")),
}


def _explain_ops(ops: list[Any]) -> ProtocolError:
    """The error for the first invalid op in ``ops`` (the fast checks found one)."""
    for i, op in enumerate(ops):
        if type(op) is not list or not op:
            got = "an empty array" if op == [] else _got(op)
            return ProtocolError(f"PATCHES op {i}: expected an array [opcode, ...], got {got}")
        fields = _OP_FIELDS.get(op[0]) if type(op[0]) is int else None
        if fields is None:
            return ProtocolError(
                f"PATCHES op {i}: expected an opcode 0..{len(_OP_FIELDS) - 1}, got {_got(op[0])}"
            )
        name = f"PATCHES op {i} ({Op(op[0]).name})"
        if len(op) != len(fields) + 1:
            shape = ", ".join([str(op[0]), *(field for field, _ in fields)])
            return ProtocolError(
                f"{name}: expected {_items(len(fields) + 1)} [{shape}], got {_items(len(op))}"
            )
        for (field, kind), value in zip(fields, op[1:], strict=True):
            expected = _op_field_problem(kind, value, op)
            if expected is not None:
                got = repr(value) if kind == "prop name" and type(value) is str else _got(value)
                return ProtocolError(f"{name} field {field!r}: expected {expected}, got {got}")
    return ProtocolError("PATCHES field 'ops': invalid")  # not reached: one op is invalid


def _op_field_problem(kind: str, value: Any, op: list[Any]) -> str | None:
    """What ``value`` should have been for a field of ``kind``, or None if it is fine."""
    if kind == "uint":
        return None if _u(value) else _UINT
    if kind == "prop name":
        return None if value in _PROP_KINDS and type(value) is str else _PROP_NAMES
    if kind == "prop":
        expected = _PROP_KINDS[op[2]]
        return None if type(value) is expected else f"{_KIND_NAMES[expected]} for {op[2]!r}"
    if kind == "map":
        return None if type(value) is dict else "a map"
    expected_type = str if kind == "str" else bool
    return None if type(value) is expected_type else kind


_PROP_NAMES = "'value', 'checked' or 'selected'"
