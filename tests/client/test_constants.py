"""The wire constants in vango.js equal the IntEnums of vango_actors.protocol."""

from __future__ import annotations

import json
import re
from enum import IntEnum
from pathlib import Path

import pytest

from vango_actors import protocol
from vango_actors.clientjs import source_text

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "frames.json"

BLOCKS = {
    "F": protocol.FrameType,
    "O": protocol.Op,
    "E": protocol.ErrorCode,
    "C": protocol.CloseCode,
}


def js_constants(name: str) -> dict[str, int]:
    """Parse ``const NAME = {KEY: 1, ...};`` out of the client source."""
    match = re.search(rf"const {name} = \{{([^}}]*)\}};", source_text())
    assert match, f"vango.js has no constants block `const {name} = {{...}};`"
    pairs = re.findall(r"(\w+):\s*(\d+)", match.group(1))
    assert len(pairs) == match.group(1).count(":"), f"unparsed entries in {match.group(1)!r}"
    return {key: int(value) for key, value in pairs}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_constants_block_equals_protocol_enum(name: str) -> None:
    enum: type[IntEnum] = BLOCKS[name]
    assert js_constants(name) == {member.name: int(member) for member in enum}


def test_protocol_version_matches() -> None:
    match = re.search(r"const VERSION = (\d+);", source_text())
    assert match, "vango.js has no `const VERSION = N;`"
    assert int(match.group(1)) == protocol.VERSION


def test_op_arity_table_matches_every_op_in_the_vectors() -> None:
    """The client's shape check uses the arity of the ops the Python encoder wrote."""
    match = re.search(r"const ARITY = \[([\d, ]+)\];", source_text())
    assert match, "vango.js has no `const ARITY = [...]` table"
    arity = [int(n) for n in match.group(1).split(",")]
    vectors = json.loads(VECTORS.read_text("utf-8"))
    ops = next(v["frame"][3] for v in vectors if v["name"] == "patches_all_ops")
    assert sorted({op[0] for op in ops}) == [int(op) for op in protocol.Op]
    assert {op[0]: len(op) for op in ops} == dict(enumerate(arity))


def test_close_codes_the_client_acts_on_are_protocol_close_codes() -> None:
    """Used as numbers in the code (the block above is stripped from the minified build)."""
    used = {int(n) for n in re.findall(r"code === (\d{4})", source_text())}
    assert used == {1008, 1009, 4001, 4002}
    assert used <= {int(member) for member in protocol.CloseCode}
