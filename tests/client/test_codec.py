"""The JS msgpack subset against the Python codec: shared vectors plus generated values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.client.conftest import ClientPage

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
FRAMES = json.loads((VECTORS / "frames.json").read_text("utf-8"))
INVALID = {v["name"]: v for v in json.loads((VECTORS / "invalid.json").read_text("utf-8"))}
MAX_SAFE = 2**53 - 1

pytestmark = pytest.mark.browser

DECODE = (
    "(hex) => vango._decode(new Uint8Array((hex.match(/../g) || []).map((h) => parseInt(h, 16))))"
)
ENCODE = "(v) => Array.from(vango._encode(v)).map((b) => b.toString(16).padStart(2, '0')).join('')"


def js_decode(client: ClientPage, data: bytes) -> Any:
    return client.page.evaluate(DECODE, data.hex())


def js_encode(client: ClientPage, value: Any) -> bytes:
    return bytes.fromhex(client.page.evaluate(ENCODE, value))


def test_every_vector_decodes_to_its_frame(shared_client: ClientPage) -> None:
    assert len(FRAMES) >= 20
    for vector in FRAMES:
        decoded = js_decode(shared_client, bytes.fromhex(vector["hex"]))
        assert decoded == vector["frame"], vector["name"]


@pytest.mark.parametrize(
    "vector", [v for v in FRAMES if v["direction"] in ("c2s", "both")], ids=lambda v: v["name"]
)
def test_client_frames_encode_to_the_vector_bytes(
    shared_client: ClientPage, vector: dict[str, Any]
) -> None:
    assert js_encode(shared_client, vector["frame"]).hex() == vector["hex"]


@pytest.mark.parametrize(
    "name",
    ["empty", "reserved_byte_c1", "truncated", "trailing_data", "ext_type", "ext_in_payload"],
)
def test_malformed_msgpack_throws(shared_client: ClientPage, name: str) -> None:
    data = bytes.fromhex(INVALID[name]["hex"])
    with pytest.raises(Exception, match="msgpack: "):
        js_decode(shared_client, data)


def test_bin_decodes_to_bytes(shared_client: ClientPage) -> None:
    for size in (0, 3, 300, 70000):
        packed = msgpack.packb([b"\x01" * size], use_bin_type=True)
        got = shared_client.page.evaluate(
            "(b) => { const v = vango._decode(new Uint8Array(b))[0];"
            " return [v instanceof Uint8Array, v.length, v[0] || 0] }",
            list(packed),
        )
        assert got == [True, size, 1 if size else 0]


def test_float32_decodes(shared_client: ClientPage) -> None:
    packed = msgpack.packb(0.5, use_single_float=True)
    assert packed[0] == 0xCA
    assert js_decode(shared_client, packed) == 0.5


def test_proto_key_decodes_as_an_ordinary_key(shared_client: ClientPage) -> None:
    packed = msgpack.packb({"__proto__": {"polluted": 1}, "a": 2})
    got = shared_client.page.evaluate(
        "(b) => { const m = vango._decode(new Uint8Array(b));"
        " return [Object.keys(m), m.polluted === undefined, Array.from(vango._encode(m))] }",
        list(packed),
    )
    assert got == [["__proto__", "a"], True, list(packed)]


def test_ints_beyond_2_53_are_refused(shared_client: ClientPage) -> None:
    for n in (MAX_SAFE + 1, -(MAX_SAFE + 1)):
        with pytest.raises(Exception, match="msgpack: int > 2\\^53"):
            js_decode(shared_client, msgpack.packb(n))


# Values JSON can carry both ways (what page.evaluate transports) and JS can tell apart.
_ints = st.integers(-MAX_SAFE, MAX_SAFE) | st.sampled_from(
    [
        *(b + d for b in (0, 127, 255, 65535, 2**32 - 1) for d in (-1, 0, 1)),
        *(-b + d for b in (32, 128, 32768, 2**31) for d in (-1, 0, 1)),
        MAX_SAFE,
        -MAX_SAFE,
    ]
)
_floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
_text = st.text() | st.sampled_from(["x" * n for n in (31, 32, 255, 256, 65535, 65536)])


def _plain_key(key: str) -> bool:
    """A key JS keeps in insertion order: not ``__proto__``, not an array index like "12"
    (JS objects list integer-like keys first, ascending, whatever order they were set in)."""
    return key != "__proto__" and not (key.isascii() and key.isdigit())


_values = st.recursive(
    st.none() | st.booleans() | _ints | _floats | _text,
    # "__proto__" keys cannot travel into the page as an evaluate() argument; see the test below
    lambda kids: (
        st.lists(kids, max_size=20) | st.dictionaries(_text.filter(_plain_key), kids, max_size=20)
    ),
    max_leaves=40,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_values)
def test_js_codec_agrees_with_msgpack_python(shared_client: ClientPage, value: Any) -> None:
    """JS encodes exactly the bytes msgpack-python writes and decodes them back to the value."""
    packed = msgpack.packb(value, use_bin_type=True)
    assert js_encode(shared_client, value) == packed
    assert js_decode(shared_client, packed) == value
