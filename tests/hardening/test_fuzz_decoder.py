"""Fuzz targets (hypothesis) for the client-frame decoder and event payload validation.

Whatever bytes arrive, ``decode_client`` returns a client frame or raises ``ProtocolError``
(never another exception), and an EVENT's payload is accepted exactly when it is within the
documented limits, and then decoded to an equal value.
"""

from __future__ import annotations

import math
from typing import Any

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from vango_actors.protocol import (
    DEFAULT_LIMITS,
    Event,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    decode_client,
    encode,
)

MAX_INT = 2**53 - 1

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.binary(max_size=8)
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-3, 3), inner, max_size=4)
    ),
    max_leaves=10,
)


def _valid(value: Any, depth: int) -> bool:
    """The payload rules of docs/PROTOCOL.md section 9, restated independently."""
    if value is None or isinstance(value, bool | str):
        return not isinstance(value, str) or len(value) <= DEFAULT_LIMITS.max_str_len
    if isinstance(value, int):
        return -MAX_INT <= value <= MAX_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return (
            depth < DEFAULT_LIMITS.max_depth
            and len(value) <= DEFAULT_LIMITS.max_items
            and all(_valid(v, depth + 1) for v in value)
        )
    if isinstance(value, dict):
        return (
            depth < DEFAULT_LIMITS.max_depth
            and len(value) <= DEFAULT_LIMITS.max_items
            and all(isinstance(k, str) and _valid(v, depth + 1) for k, v in value.items())
        )
    return False  # bytes


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_to_a_client_frame_or_a_protocol_error(data: bytes) -> None:
    try:
        frame = decode_client(data)
    except ProtocolError:
        return
    assert isinstance(frame, Hello | Event | Ping | Pong)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=7))
def test_any_msgpack_array_decodes_or_is_refused(items: list[Any]) -> None:
    try:
        decode_client(msgpack.packb(items))
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), values, max_size=5))
def test_event_payloads_are_accepted_exactly_when_valid(payload: dict[str, Any]) -> None:
    data = msgpack.packb([3, 1, 2, "click", payload])
    try:
        frame = decode_client(data)
    except ProtocolError:
        assert not _valid(payload, 1)
        return
    assert _valid(payload, 1)
    assert isinstance(frame, Event) and encode(frame) == data
