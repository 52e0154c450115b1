"""Uploads over the live socket: the server side (validation, spooling to disk, progress).

Wire: EVENT ``upload`` on the file input (``data-vango-upload``), payload
``{"op": "start", "entries": [{ref, name, type, size}]}``, ``{"op": "chunk", "ref", "offset",
"data": bin}`` (the only event payload where a bin value is allowed) or ``{"op": "cancel",
"ref"}``; the server answers refusals and cancels with ``[13, "upload", {name, stop: [ref]}]``.
Chunks are ordinary events, so they get the event guarantees: acknowledged (the client keeps
at most ``WINDOW`` chunks unacknowledged: the flow control), re-sent after a reconnect and
applied once (the upload resumes from the last chunk the server handled).

Design (sans-IO, one :class:`UploadSlot` per ``allow_upload(name, ...)``):
- ``start(entries)``: the client announces files ``{ref, name, type, size}``; each is checked
  against ``accept`` (MIME types, ``type/*`` or ``.ext``), ``max_size`` (default 8 MB) and
  ``max_entries``; a refused entry carries ``error`` (shown by the page) and gets no chunks.
- ``chunk(ref, offset, data)``: appended to a temporary file (never whole in memory). A chunk
  at an offset already written is a re-send after a reconnect (ignored: the entry resumes
  from the last offset the server has); a gap or more bytes than announced fails the entry.
- ``cancel(ref)``; ``fail_incomplete(reason)`` when the page goes away; ``consume()`` hands the
  finished entries to the component (it moves or reads ``path``) and forgets them.
- Spool files are named after the host and worker that write them
  (``vango-upload-<host>-<pid>-*``) until handed over; the first spool file a process writes
  in a directory sweeps there the files of this host's dead workers (killed mid-upload:
  their unmount never ran).
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .errors import VangoError
from .vdom import Element, h

if TYPE_CHECKING:
    from .component import Component

DEFAULT_MAX_SIZE = 8 * 1024 * 1024
CHUNK_SIZE = 32 * 1024  # the bin limit (max_str_len); the frame stays below 64 KB
#: Refused entries a slot keeps to show (the latest); older ones are forgotten.
REFUSED_KEPT = 16
#: Slot-level errors kept (the latest, each once) and the characters kept of each: a client
#: sending malformed upload events again and again, each quoting up to 32 KB of its own
#: values, must not grow the session's memory or its renders.
ERRORS_KEPT = 16
ERROR_CHARS = 300
WINDOW = 4  # chunks a client keeps unacknowledged per upload input


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

    def start(
        self, announced: Iterable[Mapping[str, Any]], *, more: bool = False
    ) -> list[UploadEntry]:
        """Register announced files; return them (refused ones carry ``error``). ``more``:
        the next part of the same selection (the errors of its first part stay)."""
        if not more:
            self.errors.clear()
        fresh = [_entry(item) for item in announced]
        live = sum(1 for e in self.entries.values() if e.error is None and not e.cancelled)
        for entry in fresh:
            if entry.ref in self.entries:
                raise UploadError(f"upload {self.name!r}: ref {entry.ref!r} announced twice")
            entry.error = self._refusal(entry)
            if entry.error is None and live >= self.max_entries:
                entry.error = f"too many files: at most {self.max_entries}"
                self.add_error(entry.error)
            if entry.error is None:
                live += 1
                if entry.size == 0:
                    self._spool(entry)  # done at once: an empty file
            self.entries[entry.ref] = entry
        self._forget_refused()
        return fresh

    def add_error(self, message: str) -> None:
        """Show ``message`` as a slot-level error: once (a repeat moves to the end),
        shortened, the latest ``ERRORS_KEPT`` only."""
        if len(message) > ERROR_CHARS:
            message = message[: ERROR_CHARS - 1] + "\u2026"
        if message in self.errors:
            self.errors.remove(message)
        self.errors.append(message)
        del self.errors[:-ERRORS_KEPT]

    def _forget_refused(self) -> None:
        """Keep the last ``REFUSED_KEPT`` refused entries (shown with their error): a client
        announcing thousands of files again and again must not grow the session's memory or
        its renders."""
        refused = [ref for ref, e in self.entries.items() if e.error is not None]
        for ref in refused[: max(0, len(refused) - REFUSED_KEPT)]:
            _unlink(self.entries.pop(ref))

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
        with open(self._spool(entry), "ab") as spool:
            spool.write(data)
        entry.received += len(data)
        return entry

    def cancel(self, ref: str) -> None:
        self.errors.clear()  # (what the user does next answers them)
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
        self.errors.clear()  # (about the files just taken, or ones picked before)
        for entry in done:
            del self.entries[entry.ref]
            _hand_over(entry)
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

    def _spool(self, entry: UploadEntry) -> str:
        if entry.path is None:
            directory = self.directory or tempfile.gettempdir()
            if directory not in _swept:
                _swept.add(directory)
                sweep_spool(directory)
            fd, entry.path = tempfile.mkstemp(prefix=_owned_prefix(), dir=directory)
            os.close(fd)
        return entry.path

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
    return UploadEntry(ref=ref, name=_file_name(name), type=kind, size=size)


NAME_BYTES = 255  # the file name limit of common file systems (ext4, XFS, btrfs), in bytes


def _file_name(name: str) -> str:
    """The base name of a client's file name, fit to name a file here: no directory (``/``
    or ``\\``), no NUL, not ``.`` or ``..`` (``"file"`` then), at most ``NAME_BYTES`` UTF-8
    bytes with the extension kept (the ``accept`` check and the saved file need it)."""
    base = name.replace("\\", "/").rpartition("/")[2].replace("\x00", "")
    if base in ("", ".", ".."):
        return "file"
    if len(base.encode()) <= NAME_BYTES:
        return base
    stem, ext = os.path.splitext(base)
    if len(ext.encode()) > 32:  # no real extension: cut the name as a whole
        stem, ext = base, ""
    cut = stem.encode()[: NAME_BYTES - len(ext.encode())].decode("utf-8", "ignore")
    return cut + ext


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


_SPOOL_PREFIX = "vango-upload-"
_swept: set[str] = set()  # directories swept by this process


def _owned_prefix() -> str:
    """The spool file name prefix of this host and worker (computed per file: a fork
    changes the pid)."""
    return f"{_SPOOL_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def sweep_spool(directory: str) -> list[str]:
    """Remove the spool files that dead workers of this host left in ``directory``; returns
    their names. A live worker's (any pid that answers signal 0), another host's (a shared
    volume) and a handed-over file (no owner in its name) are left alone."""
    if os.name != "posix":
        return []
    host, removed = socket.gethostname(), []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        owner = name[len(_SPOOL_PREFIX) :].rsplit("-", 2)
        if not name.startswith(_SPOOL_PREFIX) or len(owner) != 3 or owner[0] != host:
            continue
        if not owner[1].isdigit() or len(owner[1]) > 9 or _alive(int(owner[1])):
            continue
        try:
            os.unlink(os.path.join(directory, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _hand_over(entry: UploadEntry) -> None:
    """Rename a finished spool file without its owner's mark: it is the app's now, and no
    sweep may take it when this worker has gone."""
    if entry.path is not None:
        fd, path = tempfile.mkstemp(prefix=_SPOOL_PREFIX, dir=os.path.dirname(entry.path))
        os.close(fd)
        os.replace(entry.path, path)
        entry.path = path


def _unlink(entry: UploadEntry) -> None:
    if entry.path is not None:
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            pass
        entry.path = None


# ---------------------------------------------------------------------- component glue


def _slots(component: Component) -> dict[str, UploadSlot]:
    slots: dict[str, UploadSlot] | None = component.__dict__.get("_vango_uploads")
    if slots is None:
        slots = {}
        object.__setattr__(component, "_vango_uploads", slots)
    return slots


def allow(component: Component, slot: UploadSlot) -> UploadSlot:
    """Register ``slot`` on ``component``; its spool files go when the component unmounts."""
    slots = _slots(component)
    # the page needs vango.rich.js, even if its first render has no input yet
    component._runtime().page_op([13, "load", {}])
    if slot.name in slots:
        slots[slot.name].close()
    else:
        component.spawn(_keep_until_unmount, slots, slot.name)
    slots[slot.name] = slot
    return slot


async def _keep_until_unmount(slots: dict[str, UploadSlot], name: str) -> None:
    try:
        await trio.sleep_forever()
    finally:
        slot = slots.pop(name, None)
        if slot is not None:
            slot.close()


def slot_of(component: Component, name: str) -> UploadSlot:
    slot = _slots(component).get(name)
    if slot is None:
        raise VangoError(
            f"no upload {name!r} on {type(component).__name__}: call "
            f"self.allow_upload({name!r}, ...) in mount() first"
        )
    return slot


def file_input(component: Component, name: str, **attrs: Any) -> Element:
    """``<input type=file data-vango-upload=name>`` bound to the slot's upload events."""
    slot = slot_of(component, name)
    if slot.accept:
        attrs.setdefault("accept", ",".join(slot.accept))
    if slot.max_entries > 1:
        attrs.setdefault("multiple", True)

    def on_upload(event: Any) -> None:
        try:
            handle(component, slot, event.payload)
        except UploadError as exc:  # a bad client message: shown, the component goes on
            slot.add_error(str(exc))

    return h.input(
        type="file",
        data_vango_upload=name,
        data_upload_chunk=CHUNK_SIZE,
        data_upload_window=WINDOW,
        on_upload=on_upload,
        **attrs,
    )


def handle(component: Component, slot: UploadSlot, payload: Mapping[str, Any]) -> None:
    """One ``upload`` event: start, chunk or cancel; refused entries are stopped client-side."""
    op = payload.get("op")
    if op == "start":
        entries = payload.get("entries")
        if not isinstance(entries, list):
            raise UploadError(f"upload start: expected a list 'entries', got {entries!r}")
        fresh = slot.start(
            (e for e in entries if isinstance(e, dict)), more=bool(payload.get("more"))
        )
        _stop(component, slot, [e.ref for e in fresh if e.error is not None])
    elif op == "chunk":
        ref, offset, data = payload.get("ref"), payload.get("offset"), payload.get("data")
        if not isinstance(ref, str) or type(offset) is not int or type(data) is not bytes:
            raise UploadError("upload chunk: expected str 'ref', int 'offset' and bin 'data'")
        entry = slot.chunk(ref, offset, data)
        if entry is None and ref not in slot.entries:  # unknown: cancelled, or a remount
            _stop(component, slot, [ref])
        elif entry is not None and entry.error is not None:
            _stop(component, slot, [ref])
    elif op == "cancel":
        slot.cancel(str(payload.get("ref", "")))
    else:
        raise UploadError(f"upload event: expected op start, chunk or cancel, got {op!r}")


def cancel(component: Component, name: str, ref: str) -> None:
    """Cancel an entry from the server (e.g. a Cancel button): the client stops sending it."""
    slot = slot_of(component, name)
    slot.cancel(ref)
    _stop(component, slot, [ref])


def _stop(component: Component, slot: UploadSlot, refs: list[str]) -> None:
    if refs:
        component._runtime().page_op([13, "upload", {"name": slot.name, "stop": refs}])
