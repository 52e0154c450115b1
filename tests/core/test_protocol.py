"""The wire codec: round trips, hostile input, the shared test vectors, exact errors and bytes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs
import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vectors import generate
from vango_actors import protocol
from vango_actors.protocol import (
    DEFAULT_LIMITS,
    MAX_SAFE_INT,
    SERVER_FRAME_LIMITS,
    VERSION,
    CloseCode,
    Error,
    ErrorCode,
    Event,
    Frame,
    FrameType,
    GoAway,
    Hello,
    Limits,
    Op,
    Patches,
    Ping,
    Pong,
    ProtocolError,
    Reload,
    Welcome,
    decode,
    decode_client,
    encode,
    encode_event,
    encode_patches,
    well_formed,
)

VECTORS = Path(__file__).parent.parent / "vectors"

# ------------------------------------------------------------------------------ strategies

uints = st.integers(min_value=0, max_value=MAX_SAFE_INT)
small_uints = st.integers(min_value=0, max_value=300)
text = st.text(max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INT, max_value=MAX_SAFE_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
payload_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(text, payload_values, max_size=6)

ops = st.one_of(
    st.tuples(st.just(0), uints, small_uints, text),
    st.tuples(st.just(1), uints, text, text),
    st.tuples(st.just(2), uints, text),
    st.tuples(st.just(3), uints, st.just("value"), text),
    st.tuples(st.just(3), uints, st.sampled_from(["checked", "selected"]), st.booleans()),
    st.tuples(st.just(4), uints, small_uints, text),
    st.tuples(st.just(5), uints, small_uints),
    st.tuples(st.just(6), uints, uints, small_uints),
    st.tuples(st.just(7), uints, text),
    st.tuples(st.just(8), text, st.booleans()),
    st.tuples(st.just(9), text),
    st.tuples(st.just(10), uints),
).map(list)

frames: st.SearchStrategy[Frame] = st.one_of(
    st.builds(Hello, st.just(VERSION), text, text, uints, uints, text),
    st.builds(Welcome, st.just(VERSION), uints, uints, uints, st.booleans()),
    st.builds(Event, uints, uints, text, payloads),
    st.builds(Patches, uints, uints, st.lists(ops, max_size=12)),
    st.builds(Ping, uints),
    st.builds(Pong, uints),
    st.builds(Error, uints, text),
    st.builds(Reload, text),
    st.builds(GoAway, text),
)


# ---------------------------------------------------------------------------- round trips


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_decode_inverts_encode(frame: Frame) -> None:
    assert decode(encode(frame), SERVER_FRAME_LIMITS) == frame


@given(uints, uints, st.lists(ops, max_size=8))
def test_encode_patches_matches_the_frame_encoder(seq: int, ack: int, op_list: Any) -> None:
    assert encode_patches(seq, ack, op_list) == encode(Patches(seq, ack, op_list))


@given(uints, uints, text, payloads)
def test_client_decoder_accepts_every_event_the_client_can_send(
    seq: int, hid: int, etype: str, payload: dict[str, Any]
) -> None:
    assert decode_client(encode_event(seq, hid, etype, payload)) == Event(seq, hid, etype, payload)


# ----------------------------------------------------------------- hostile input: fuzzing


def _decodes_or_protocol_error(data: bytes) -> None:
    """The only outcomes a decoder may have: a frame, or ProtocolError."""
    for decoder in (decode, decode_client):
        try:
            decoder(data)
        except ProtocolError as exc:
            assert exc.message
            assert isinstance(exc.code, ErrorCode)
            assert isinstance(exc.close_code, CloseCode)


# Hostile input: more than 10,000 cases in total. Hypothesis's cost per example dwarfs a decode
# (~1 ms vs ~10 µs), so each example decodes several related inputs ("cases").


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_only_raise_protocol_error(data: bytes) -> None:
    """2 cases per example: the bytes alone, and behind a valid EVENT header."""
    _decodes_or_protocol_error(data)
    _decodes_or_protocol_error(b"\x95\x03" + data)


# Mutations start from a fixed corpus of valid frames covering every frame type and op.
CORPUS = [encode(frame) for _, frame in generate.valid_frames()]
corpus_frames = st.sampled_from(CORPUS)


@settings(max_examples=1000, deadline=None)
@given(corpus_frames, st.integers(0, 400), st.integers(0, 400))
def test_bit_flipped_frames_only_raise_protocol_error(raw: bytes, at: int, other: int) -> None:
    """16 cases per example: each of the 8 one-bit flips of a byte, each with a second flip."""
    for bit in range(8):
        mutated = bytearray(raw)
        mutated[at % len(raw)] ^= 1 << bit
        _decodes_or_protocol_error(bytes(mutated))
        mutated[other % len(raw)] ^= 1 << (7 - bit)
        _decodes_or_protocol_error(bytes(mutated))


@settings(max_examples=1000, deadline=None)
@given(corpus_frames, st.integers(0, 400), st.binary(min_size=1, max_size=6))
def test_truncated_and_spliced_frames_only_raise_protocol_error(
    raw: bytes, at: int, junk: bytes
) -> None:
    """6 cases per example: cut, insert, delete, overwrite, swap and duplicate at one place."""
    at %= len(raw) + 1
    for mutated in (
        raw[:at],
        raw[:at] + junk + raw[at:],
        raw[:at] + raw[at + len(junk) :],
        raw[:at] + junk + raw[at + len(junk) :],
        raw[:at] + raw[at + 1 : at + 2] + raw[at : at + 1] + raw[at + 2 :],
        raw[:at] + raw[at:] + raw[at:],
    ):
        _decodes_or_protocol_error(mutated)


@pytest.mark.parametrize(
    "data",
    [
        "text",
        None,
        12,
        [3, 1, 5, "click", {}],
        b"\x91" * 5000 + b"\x01",  # deeper than msgpack's own stack
        b"\xdd\xff\xff\xff\xff",  # array32 claiming 4 billion items
        b"\xdb\x7f\xff\xff\xff",  # str32 claiming 2 GiB
        msgpack.packb([3, 1, 5, "click", {"a": 2**64 - 1}]),
        msgpack.packb([3, 1, 5, "click", {"a": float("inf")}]),
        msgpack.packb([3, 1, 5, "click", {"a": msgpack.ExtType(1, b"x")}]),
        msgpack.packb([3, 1, 5, "click", {b"bin-key": 1}], use_bin_type=True),
        msgpack.packb([3, 1, 5, "click", {(1, 2): 1}]),
        msgpack.Timestamp(1, 0).to_bytes(),
    ],
    ids=lambda d: repr(d)[:30],
)
def test_edge_inputs_raise_protocol_error(data: Any) -> None:
    with pytest.raises(ProtocolError):
        decode(data)


# --------------------------------------------------------------------------- test vectors


def _load(name: str) -> list[dict[str, Any]]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_committed_vectors_equal_the_generator_output() -> None:
    for name, expected in generate.render().items():
        committed = (VECTORS / name).read_text(encoding="utf-8")
        assert committed == expected, f"{name} is stale: run `python -m tests.vectors.generate`"


def _frame_array(frame: Frame) -> list[Any]:
    return [int(FrameType[type(frame).__name__.upper()]), *attrs.astuple(frame, recurse=False)]


@pytest.mark.parametrize("vector", _load("frames.json"), ids=lambda v: v["name"])
def test_valid_vector_decodes_to_its_stated_frame(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    frame = decode(data, SERVER_FRAME_LIMITS)
    assert _frame_array(frame) == vector["frame"]
    assert encode(frame) == data  # the hex is the canonical encoding
    if vector["direction"] in ("c2s", "both"):
        assert decode_client(data) == frame


def test_vectors_cover_every_frame_type_and_every_op() -> None:
    vectors = _load("frames.json")
    assert {v["frame"][0] for v in vectors} == {int(t) for t in FrameType}
    used_ops = {
        op[0] for v in vectors if v["frame"][0] == FrameType.PATCHES for op in v["frame"][3]
    }
    assert used_ops == {int(op) for op in Op}


@pytest.mark.parametrize("vector", _load("invalid.json"), ids=lambda v: v["name"])
def test_invalid_vector_raises_its_stated_error(vector: dict[str, Any]) -> None:
    decoder = decode_client if vector["decoder"] == "decode_client" else decode
    limits = attrs.evolve(DEFAULT_LIMITS, **vector.get("limits", {}))
    with pytest.raises(ProtocolError) as caught:
        decoder(bytes.fromhex(vector["hex"]), limits)
    assert caught.value.code == ErrorCode[vector["error"]] == vector["code"]
    assert caught.value.close_code == vector["close"]
    assert caught.value.message == vector["message"]


# ------------------------------------------------------------------ exact errors and bytes


def _error(data: object, limits: Limits = DEFAULT_LIMITS) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        decode_client(data, limits)  # type: ignore[arg-type]
    return caught.value


def test_wrong_field_type_names_frame_field_expectation_and_arrival() -> None:
    error = _error(msgpack.packb([3, 7, "h5", "click", {}]))
    assert error.message == "EVENT field 'hid': expected a non-negative int, got str"
    assert (error.code, error.close_code) == (ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR)


def test_bool_is_not_an_int() -> None:
    error = _error(msgpack.packb([5, True]))
    assert error.message == "PING field 'n': expected a non-negative int, got bool"


def test_seq_beyond_javascript_safe_integers_is_refused() -> None:
    error = _error(msgpack.packb([6, 2**53]))
    assert error.message == (
        "PONG field 'n': expected a non-negative int up to 2**53-1, got int 9007199254740992"
    )


def test_oversize_frame_is_refused_before_unpacking() -> None:
    data = b"\xc1" * (DEFAULT_LIMITS.max_frame_bytes + 1)  # garbage: size is checked first
    error = _error(data)
    assert error.message == "frame of 65537 bytes exceeds the limit of 65536 bytes"
    assert (error.code, error.close_code) == (ErrorCode.TOO_BIG, CloseCode.TOO_BIG)


def test_text_message_closes_with_unsupported_data() -> None:
    error = _error("[3, 1]")
    assert error.message == "expected a binary message, got a text message"
    assert error.close_code == CloseCode.UNSUPPORTED_DATA


def test_server_frame_sent_by_a_client_is_unexpected() -> None:
    error = _error(encode(Welcome(1, 0, 0, 30000, False)))
    assert error.message == (
        "unexpected frame type WELCOME (2) from a client: expected HELLO, EVENT, PING or PONG"
    )


def test_hello_of_another_version_asks_the_client_to_reload() -> None:
    error = _error(msgpack.packb([1, 2, "sid", "tok", 0, 0, "/", "a v2 extra field"]))
    assert error.message == "HELLO: unsupported protocol version 2, this server speaks version 1"
    assert (error.code, error.close_code) == (
        ErrorCode.UNSUPPORTED_VERSION,
        CloseCode.SESSION_GONE,
    )


def test_payload_nesting_limit_counts_the_payload_as_level_one() -> None:
    nested: Any = "leaf"
    for _ in range(7):
        nested = [nested]
    ok = encode_event(1, 5, "submit", {"a": nested})  # payload + 7 arrays = 8 levels
    assert decode_client(ok) == Event(1, 5, "submit", {"a": nested})
    error = _error(encode_event(1, 5, "submit", {"a": [nested]}))
    assert error.message == (
        "EVENT field 'payload[\"a\"][0][0][0][0][0][0][0]': expected a payload nested at most"
        " 8 levels deep, got an array at level 9"
    )


def test_non_finite_float_in_payload_is_refused() -> None:
    error = _error(encode_event(1, 5, "input", {"value": math.inf}))
    assert error.message == "EVENT field 'payload[\"value\"]': expected a finite float, got inf"


def test_decoder_accepts_bytearray_and_memoryview() -> None:
    data = encode(Ping(3))
    assert decode_client(bytearray(data)) == decode_client(memoryview(data)) == Ping(3)


def test_counter_patch_is_twelve_bytes() -> None:
    data = encode_patches(9, 3, [[Op.TEXT, 3, 0, "10"]])
    assert data == bytes.fromhex("94 04 09 03 91 94 00 03 00 a2 31 30")
    assert len(data) <= 16


def test_counter_patch_stays_within_sixteen_bytes_for_ids_below_128() -> None:
    assert len(encode_patches(127, 127, [[0, 127, 0, "10"]])) == 12


def test_codec_names_are_exported_from_the_package() -> None:
    import vango_actors

    assert vango_actors.Event is Event
    assert vango_actors.ProtocolError is ProtocolError
    assert vango_actors.Limits is Limits
    assert issubclass(ProtocolError, vango_actors.VangoError)


def test_decoded_events_are_plain_events() -> None:
    """The decoder builds EVENT without attrs' __init__ (make_event): same value, same type."""
    assert protocol.make_event is not Event  # the fast path is in use (fields unchanged)
    event = decode_client(encode(Event(5, 9, "input", {"value": "x"})))
    assert type(event) is Event and event == Event(5, 9, "input", {"value": "x"})
    assert repr(event) == "Event(seq=5, hid=9, type='input', payload={'value': 'x'})"


def test_lone_surrogates_are_sent_as_replacement_characters() -> None:
    # a str from a badly decoded file holds lone surrogates UTF-8 cannot encode: the frame
    # carries U+FFFD there (a split pair joined), as the client's TextEncoder does
    bad = "caf\udce9 \ud83d\ude00 \ud800"
    shown = "caf\ufffd \U0001f600 \ufffd"
    assert well_formed(bad) == shown
    assert well_formed("e\U0001f600\u0301") == "e\U0001f600\u0301"
    ops = [[Op.TEXT, 1, 0, bad], [Op.CALL, "hook", {bad: [bad]}]]
    frame = decode(encode_patches(3, 1, ops), SERVER_FRAME_LIMITS)
    assert frame == Patches(3, 1, [[0, 1, 0, shown], [13, "hook", {shown: [shown]}]])
    assert decode(encode(Error(ErrorCode.COMPONENT_CRASHED, bad))) == Error(
        ErrorCode.COMPONENT_CRASHED, shown
    )
    assert decode(encode_patches(4, 1, [[Op.TITLE, "ok"]])) == Patches(4, 1, [[9, "ok"]])


def test_a_str_or_list_above_its_limit_is_too_big_not_malformed() -> None:
    # the client drops an event refused as TOO_BIG (1009); one refused as PROTOCOL (1002)
    # it would resend after every reconnect, and no later event would arrive
    long_str = _error(encode_event(1, 5, "input", {"value": "x" * 9}), Limits(max_str_len=8))
    many = _error(encode_event(1, 5, "submit", {str(i): i for i in range(8)}), Limits(max_items=7))
    for error in (long_str, many):
        assert (error.code, error.close_code) == (ErrorCode.TOO_BIG, CloseCode.TOO_BIG)
    deep = _error(encode_event(1, 5, "click", {"a": [[[[[[[["deep"]]]]]]]]}))
    assert (deep.code, deep.close_code) == (ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR)
