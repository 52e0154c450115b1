"""Uploads, server core (vango_actors.uploads): validation, spooling to disk, resume after a
re-send, gaps, cancel, consume. The socket/client part is not wired yet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vango_actors.uploads import DEFAULT_MAX_SIZE, UploadError, UploadSlot


def _slot(tmp_path: Path, **kw: object) -> UploadSlot:
    return UploadSlot("photos", directory=str(tmp_path), **kw)  # type: ignore[arg-type]


def test_validation_of_type_size_and_count(tmp_path: Path) -> None:
    slot = _slot(tmp_path, accept=("image/*", ".txt"), max_entries=2, max_size=10)
    entries = slot.start(
        [
            {"ref": "1", "name": "a.png", "type": "image/png", "size": 4},
            {"ref": "2", "name": "b.pdf", "type": "application/pdf", "size": 4},
            {"ref": "3", "name": "c.png", "type": "image/png", "size": 11},
            {"ref": "4", "name": "notes.TXT", "type": "", "size": 1},
            {"ref": "5", "name": "d.png", "type": "image/png", "size": 1},
        ]
    )
    assert [e.error for e in entries] == [
        None,
        "b.pdf: type application/pdf not accepted (image/*, .txt)",
        "c.png: 11 bytes, the limit is 10",
        None,
        "too many files: at most 2",
    ]
    assert slot.errors == ["too many files: at most 2"]
    assert UploadSlot("x").max_size == DEFAULT_MAX_SIZE == 8 * 1024 * 1024


def test_chunks_are_spooled_to_disk_resent_chunks_ignored_and_consumed(tmp_path: Path) -> None:
    slot = _slot(tmp_path)
    slot.start([{"ref": "r", "name": "../../etc/x.bin", "type": "", "size": 6}])
    entry = slot.chunk("r", 0, b"abc")
    assert entry is not None and entry.progress == 50 and not entry.done
    assert entry.name == "x.bin"
    assert slot.chunk("r", 0, b"abc") is entry  # re-sent after a reconnect: resumes
    slot.chunk("r", 3, b"def")
    assert entry.done and entry.progress == 100
    assert entry.path is not None and Path(entry.path).read_bytes() == b"abcdef"
    assert Path(entry.path).parent == tmp_path
    assert slot.consume() == [entry] and slot.entries == {}
    os.unlink(entry.path)


def test_gap_overflow_cancel_and_page_gone_remove_the_spool_file(tmp_path: Path) -> None:
    slot = _slot(tmp_path, max_entries=4)
    slot.start([{"ref": k, "name": k, "type": "", "size": 4} for k in "abcd"])
    slot.chunk("a", 0, b"xx")
    gap = slot.chunk("a", 3, b"x")
    assert gap is not None and gap.error == "chunk at offset 3, expected 2"
    big = slot.chunk("b", 0, b"12345")
    assert big is not None and big.error == "more bytes than announced: 5 > 4"
    slot.chunk("c", 0, b"1")
    slot.cancel("c")
    assert "c" not in slot.entries and slot.chunk("c", 1, b"2") is None
    slot.chunk("d", 0, b"1")
    slot.fail_incomplete("connection lost")
    assert slot.entries["d"].error == "connection lost"
    assert list(tmp_path.iterdir()) == []
    slot.close()
    assert slot.entries == {}


def test_malformed_announcements_say_what_was_expected(tmp_path: Path) -> None:
    slot = _slot(tmp_path)
    with pytest.raises(UploadError, match="expected an int 'size' >= 0, got -1"):
        slot.start([{"ref": "r", "name": "a", "type": "", "size": -1}])
    with pytest.raises(UploadError, match="expected a non-empty str 'ref', got None"):
        slot.start([{"name": "a"}])
    slot.start([{"ref": "r", "name": "a", "type": "", "size": 1}])
    with pytest.raises(UploadError, match="ref 'r' announced twice"):
        slot.start([{"ref": "r", "name": "a", "type": "", "size": 1}])
