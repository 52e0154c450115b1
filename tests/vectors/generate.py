"""Regenerate the protocol test vectors: ``python -m tests.vectors.generate`` (from the repo root).

Deterministic: the same code writes the same files, and tests/core/test_protocol.py checks the
committed ``frames.json`` and ``invalid.json`` equal what this script produces. The JSON shape is
documented in docs/PROTOCOL.md, section "Test vectors".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]

from vango_actors.protocol import (
    DEFAULT_LIMITS,
    MAX_SAFE_INT,
    Error,
    Event,
    Frame,
    GoAway,
    Hello,
    Limits,
    Patches,
    Ping,
    Pong,
    ProtocolError,
    Reload,
    Welcome,
    decode,
    decode_client,
    encode,
)

HERE = Path(__file__).parent
_C2S, _S2C, _BOTH = "c2s", "s2c", "both"
_DIRECTION = {Hello: _C2S, Event: _C2S, Ping: _BOTH, Pong: _BOTH}

ALL_OPS: list[list[Any]] = [
    [0, 3, 0, "10"],
    [1, 4, "class", "done"],
    [2, 4, "disabled"],
    [3, 5, "value", ""],
    [3, 6, "checked", True],
    [3, 7, "selected", False],
    [4, 8, 2, '<li data-hid="h21" data-key="k3">Buy milk</li>'],
    [5, 8, 0],
    [6, 8, 21, 0],
    [7, 9, '<p data-hid="h22">&lt;b&gt; is escaped</p>'],
    [8, "/users/7?tab=posts", False],
    [9, "Todos (2) — vango"],
    [10, 5],
    [11, "/static-page"],
    [12, "eyJzIjoxfQ.new"],
    [13, "event", {"name": "points", "payload": {"x": [1, 2.5]}}],
]


def valid_frames() -> list[tuple[str, Frame]]:
    """Every frame type, every op, and every msgpack format the protocol uses."""
    return [
        ("hello", Hello(1, "q0Zb4sJkTQyR2w", "eyJzIjoxfQ.sig", 0, 0, "http://127.0.0.1/counter")),
        ("hello_resume", Hello(1, "q0Zb4sJkTQyR2w", "eyJzIjoxfQ.sig", 42, 7, "/counter")),
        ("welcome_fresh", Welcome(1, 0, 0, 30000, False)),
        ("welcome_resumed", Welcome(1, 42, 7, 30000, True)),
        ("event_click", Event(1, 5, "click", {})),
        ("event_input_utf8", Event(2, 12, "input", {"value": "héllo ✓ 🎉"})),
        ("event_checkbox", Event(3, 14, "change", {"value": "on", "checked": True})),
        ("event_keydown", Event(4, 12, "keydown", {"key": "Enter", "value": "Buy milk"})),
        (
            "event_submit",
            Event(5, 11, "submit", {"form": {"title": "Buy milk", "tags": ["a", "b"]}}),
        ),
        (
            "event_numbers",
            Event(
                200,
                300,
                "change",
                {
                    "neg_fixint": -1,
                    "int8": -100,
                    "int16": -1000,
                    "uint16": 60000,
                    "uint32": 70000,
                    "max_safe": MAX_SAFE_INT,
                    "min_safe": -MAX_SAFE_INT,
                    "float": 1.5,
                    "nil": None,
                    "false": False,
                },
            ),
        ),
        ("event_map16", Event(70000, 2, "submit", {f"field{i:02}": str(i) for i in range(16)})),
        ("event_max_seq", Event(MAX_SAFE_INT, MAX_SAFE_INT, "click", {})),
        ("patches_counter", Patches(9, 3, [[0, 3, 0, "10"]])),
        ("patches_ack_only", Patches(9, 4, [])),
        ("patches_all_ops", Patches(10, 5, ALL_OPS)),
        ("patches_array16", Patches(11, 5, [[0, 3, 0, str(i)] for i in range(20)])),
        ("patches_str8", Patches(12, 5, [[9, "t" * 40]])),
        ("patches_str16", Patches(13, 5, [[4, 8, 0, "<li>" + "x" * 300 + "</li>"]])),
        (
            "patches_resync",
            Patches(
                14, 6, [[7, 0, '<div data-hid="h1"><span id="count" data-hid="h3">10</span></div>']]
            ),
        ),
        ("ping", Ping(1)),
        ("pong", Pong(1)),
        ("ping_uint16", Ping(300)),
        ("error", Error(6, "EVENT for unknown hid 99")),
        ("reload", Reload("session expired")),
        ("goaway", GoAway("server draining")),
    ]


def _pack(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _event(payload: object) -> bytes:
    return _pack([3, 1, 5, "click", payload])


def invalid_inputs() -> list[tuple[str, bytes, str, Limits | None]]:
    """(name, bytes, decoder name, limits or None for the defaults)."""
    c, any_ = "decode_client", "decode"
    small = Limits(max_frame_bytes=16)
    return [
        ("empty", b"", c, None),
        ("too_big", _event({"value": "0123456789"}), c, small),
        ("reserved_byte_c1", b"\xc1", c, None),
        ("truncated", _event({"value": "abc"})[:-2], c, None),
        ("trailing_data", _pack([5, 1]) + b"\x00", c, None),
        ("ext_type", b"\xd4\x01\x00", c, None),
        ("ext_in_payload", _pack([3, 1, 5, "click", {}])[:-1] + b"\x81\xa1x\xd4\x01\x00", c, None),
        ("not_an_array", _pack({"type": 3}), c, None),
        ("empty_array", _pack([]), c, None),
        ("unknown_frame_type", _pack([12, 1]), c, None),
        ("frame_type_str", _pack(["EVENT", 1]), c, None),
        ("frame_type_bool", _pack([True, 1]), c, None),
        ("server_frame_from_client", _pack([4, 1, 1, []]), c, None),
        ("event_arity", _pack([3, 1, 5, "click"]), c, None),
        ("event_hid_str", _pack([3, 1, "h5", "click", {}]), c, None),
        ("event_hid_bool", _pack([3, 1, True, "click", {}]), c, None),
        ("event_seq_negative", _pack([3, -1, 5, "click", {}]), c, None),
        ("event_seq_above_2_53", _pack([3, MAX_SAFE_INT + 1, 5, "click", {}]), c, None),
        ("event_seq_float", _pack([3, 1.0, 5, "click", {}]), c, None),
        ("event_type_nil", _pack([3, 1, 5, None, {}]), c, None),
        ("event_payload_array", _pack([3, 1, 5, "click", []]), c, None),
        ("payload_bin_value", _event({"value": b"abc"}), c, None),
        ("upload_bin_not_data", _pack([3, 1, 5, "upload", {"x": b"a", "data": b"b"}]), c, None),
        ("payload_int_key", _event({1: "a"}), c, None),
        ("payload_nan", _event({"x": float("nan")}), c, None),
        ("payload_int_above_2_53", _event({"x": -(MAX_SAFE_INT + 1)}), c, None),
        ("payload_too_deep", _event({"a": [[[[[[[["deep"]]]]]]]]}), c, None),
        ("str_too_long", _event({"value": "x" * 9}), c, Limits(max_str_len=8)),
        ("too_many_items", _event({str(i): i for i in range(8)}), c, Limits(max_items=7)),
        ("invalid_utf8", _pack([3, 1, 5, "click", {}])[:-1] + b"\x81\xa1x\xa2\xc3\x28", c, None),
        ("msgpack_nesting", b"\x91" * 2000 + b"\x01", c, None),
        ("hello_version_2", _pack([1, 2, "sid", "tok", 0, 0, "/"]), c, None),
        ("hello_arity", _pack([1, 1, "sid", "tok", 0, 0]), c, None),
        ("hello_token_nil", _pack([1, 1, "sid", None, 0, 0, "/"]), c, None),
        ("ping_arity", _pack([5]), c, None),
        ("pong_n_str", _pack([6, "1"]), c, None),
        ("welcome_resumed_int", _pack([2, 1, 0, 0, 30000, 1]), any_, None),
        ("patches_ops_map", _pack([4, 1, 1, {}]), any_, None),
        ("patches_op_not_array", _pack([4, 1, 1, [0]]), any_, None),
        ("patches_unknown_opcode", _pack([4, 1, 1, [[99, 1]]]), any_, None),
        ("patches_call_args_list", _pack([4, 1, 1, [[13, "exec", []]]]), any_, None),
        ("patches_token_nil", _pack([4, 1, 1, [[12, None]]]), any_, None),
        ("patches_op_arity", _pack([4, 1, 1, [[0, 3, 0]]]), any_, None),
        ("patches_text_str_index", _pack([4, 1, 1, [[0, 3, "0", "x"]]]), any_, None),
        ("patches_set_prop_name", _pack([4, 1, 1, [[3, 5, "innerHTML", "<b>"]]]), any_, None),
        ("patches_set_prop_checked_str", _pack([4, 1, 1, [[3, 5, "checked", "true"]]]), any_, None),
        ("patches_push_url_replace_int", _pack([4, 1, 1, [[8, "/x", 0]]]), any_, None),
        ("error_code_negative", _pack([7, -1, "x"]), any_, None),
        ("reload_reason_bin", _pack([8, b"x"]), any_, None),
    ]


def _limits_json(limits: Limits | None) -> dict[str, int] | None:
    if limits is None:
        return None
    return {k: v for k, v in vars_of(limits).items() if v != vars_of(DEFAULT_LIMITS)[k]}


def vars_of(limits: Limits) -> dict[str, int]:
    return {name: getattr(limits, name) for name in limits.__slots__ if name != "__weakref__"}


def frames_doc() -> list[dict[str, Any]]:
    docs = []
    for name, frame in valid_frames():
        data = encode(frame)
        docs.append(
            {
                "name": name,
                "direction": _DIRECTION.get(type(frame), _S2C),
                "hex": data.hex(),
                "frame": msgpack.unpackb(data, raw=False),
                "valid": True,
            }
        )
    return docs


def invalid_doc() -> list[dict[str, Any]]:
    docs = []
    for name, data, decoder, limits in invalid_inputs():
        decode_fn = decode_client if decoder == "decode_client" else decode
        try:
            decode_fn(data, limits or DEFAULT_LIMITS)
        except ProtocolError as exc:
            error = exc
        else:
            raise AssertionError(f"invalid vector {name!r} decoded without error")
        doc: dict[str, Any] = {"name": name, "hex": data.hex(), "valid": False}
        doc["decoder"] = decoder
        if limits is not None:
            doc["limits"] = _limits_json(limits)
        doc |= {
            "error": error.code.name,
            "code": int(error.code),
            "close": int(error.close_code),
            "message": error.message,
        }
        docs.append(doc)
    return docs


def render() -> dict[str, str]:
    """File name -> exact file text."""
    return {
        "frames.json": json.dumps(frames_doc(), indent=1, ensure_ascii=False) + "\n",
        "invalid.json": json.dumps(invalid_doc(), indent=1, ensure_ascii=False) + "\n",
    }


def main() -> None:
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
