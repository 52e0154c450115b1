"""Uploads over the live socket: the server side (validation, spooling to disk, progress).

STATUS: server core only (this module + tests/rich/test_uploads.py). The client part
(vango.rich.js sending chunks), the wire change (bin values in the ``upload`` event payload)
and the component API (``allow_upload`` / ``consume_uploads``) are NOT wired yet; see
docs/guides/interaction.md, section 2.

Design (sans-IO, one :class:`UploadSlot` per ``allow_upload(name, ...)``):
- ``start(entries)``: the client announces files ``{ref, name, type, size}``; each is checked
  against ``accept`` (MIME types, ``type/*`` or ``.ext``), ``max_size`` (default 8 MB) and
  ``max_entries``; a refused entry carries ``error`` (shown by the page) and gets no chunks.
- ``chunk(ref, offset, data)``: appended to a temporary file (never whole in memory). A chunk
  at an offset already written is a re-send after a reconnect (ignored: the entry resumes
  from the last offset the server has); a gap or more bytes than announced fails the entry.
- ``cancel(ref)``; ``fail_incomplete(reason)`` when the page goes away; ``consume()`` hands the
  finished entries to the component (it moves or reads ``path``) and forgets them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

DEFAULT_MAX_SIZE = 8 * 1024 * 1024
CHUNK_SIZE = 32 * 1024  # below the 64 KB frame limit with room for the event envelope


class UploadError(ValueError):
    """A client message about an upload was malformed."""


@attrs.define
class UploadEntry:
    """One file of an upload: what the client announced, how far it is, where it is spooled."""

    ref: str
    name: str
    type: str
    size: int
    received: int = 0
    path: str | None = None
    error: str | None = None
    cancelled: bool = False

    @property
    def done(self) -> bool:
        return self.error is None and not self.cancelled and self.received == self.size

    @property
    def progress(self) -> int:
        """Percent received, 0..100."""
        return 100 if self.size == 0 else self.received * 100 // self.size


@attrs.define
class UploadSlot:
    """The uploads of one named input: its rules and its current entries."""

    name: str
    accept: tuple[str, ...] = ()
    max_entries: int = 1
    max_size: int = DEFAULT_MAX_SIZE
    directory: str | None = None
    entries: dict[str, UploadEntry] = attrs.field(factory=dict)
    errors: list[str] = attrs.field(factory=list)  # slot-level errors (too many files)

    # ------------------------------------------------------------------ client messages

    def start(self, announced: Iterable[Mapping[str, Any]]) -> list[UploadEntry]:
        """Register announced files; return them (refused ones carry ``error``)."""
        self.errors.clear()
        fresh = [_entry(item) for item in announced]
        live = sum(1 for e in self.entries.values() if e.error is None and not e.cancelled)
        for entry in fresh:
            if entry.ref in self.entries:
                raise UploadError(f"upload {self.name!r}: ref {entry.ref!r} announced twice")
            entry.error = self._refusal(entry)
            if entry.error is None and live >= self.max_entries:
                entry.error = f"too many files: at most {self.max_entries}"
                if entry.error not in self.errors:
                    self.errors.append(entry.error)
            if entry.error is None:
                live += 1
            self.entries[entry.ref] = entry
        return fresh

    def chunk(self, ref: str, offset: int, data: bytes) -> UploadEntry | None:
        """Write ``data`` at ``offset``; None for an unknown, refused or finished entry."""
        entry = self.entries.get(ref)
        if entry is None or entry.error is not None or entry.cancelled:
            return None
        if offset + len(data) <= entry.received:
            return entry  # re-sent after a reconnect: written already
        if offset != entry.received:
            return self._fail(entry, f"chunk at offset {offset}, expected {entry.received}")
        if entry.received + len(data) > entry.size:
            return self._fail(
                entry, f"more bytes than announced: {entry.received + len(data)} > {entry.size}"
            )
        if entry.path is None:
            fd, entry.path = tempfile.mkstemp(prefix="vango-upload-", dir=self.directory)
            os.close(fd)
        with open(entry.path, "ab") as spool:
            spool.write(data)
        entry.received += len(data)
        return entry

    def cancel(self, ref: str) -> None:
        entry = self.entries.pop(ref, None)
        if entry is not None:
            entry.cancelled = True
            _unlink(entry)

    def fail_incomplete(self, reason: str) -> None:
        """The page went away: every unfinished entry fails and its spool file goes."""
        for entry in self.entries.values():
            if entry.error is None and not entry.cancelled and not entry.done:
                self._fail(entry, reason)

    def consume(self) -> list[UploadEntry]:
        """The finished entries (their ``path`` is now the caller's); others stay."""
        done = [e for e in self.entries.values() if e.done]
        for entry in done:
            del self.entries[entry.ref]
        return done

    def close(self) -> None:
        """Remove every spool file not consumed (unmount)."""
        for entry in self.entries.values():
            _unlink(entry)
        self.entries.clear()

    # ------------------------------------------------------------------ rules

    def _refusal(self, entry: UploadEntry) -> str | None:
        if entry.size > self.max_size:
            return f"{entry.name}: {entry.size} bytes, the limit is {self.max_size}"
        if self.accept and not _accepted(entry, self.accept):
            rules = ", ".join(self.accept)
            return f"{entry.name}: type {entry.type or 'unknown'} not accepted ({rules})"
        return None

    def _fail(self, entry: UploadEntry, reason: str) -> UploadEntry:
        entry.error = reason
        _unlink(entry)
        return entry


def _entry(item: Mapping[str, Any]) -> UploadEntry:
    ref, name, kind, size = (item.get(k) for k in ("ref", "name", "type", "size"))
    if not isinstance(ref, str) or not ref:
        raise UploadError(f"upload entry: expected a non-empty str 'ref', got {ref!r}")
    if not isinstance(name, str) or not isinstance(kind, str):
        raise UploadError(f"upload entry {ref!r}: expected str 'name' and 'type'")
    if type(size) is not int or size < 0:
        raise UploadError(f"upload entry {ref!r}: expected an int 'size' >= 0, got {size!r}")
    return UploadEntry(ref=ref, name=os.path.basename(name)[:255], type=kind, size=size)


def _accepted(entry: UploadEntry, accept: tuple[str, ...]) -> bool:
    lower = entry.name.lower()
    for rule in accept:
        rule = rule.lower()
        if rule.startswith(".") and lower.endswith(rule):
            return True
        if rule.endswith("/*") and entry.type.lower().startswith(rule[:-1]):
            return True
        if rule == entry.type.lower():
            return True
    return False


def _unlink(entry: UploadEntry) -> None:
    if entry.path is not None:
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            pass
        entry.path = None
