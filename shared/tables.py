"""Tokens and users as columns: what a relay holds of a large install, at a few dozen bytes a row.

As Python objects a token cost ~530 bytes (an entry, its strings, two dict slots and the ledger's
four balances), so a slave of a 1,000,000-token install needed over 2 GB (issue 11's figures in the
README). Here a row is an index into typed arrays (the array module), its strings are interned
(model lists, subnets, groups, limits repeat across rows) or packed into one buffer (names), and
the key index is an open-addressing table of row numbers. So a token costs ~85 bytes, a table
ships as a few byte strings (tobytes on the master, frombytes on a slave: no per-row work when a
slave joins), and a change is applied in place in O(1). An entry (shared.snapshot.TokenEntry /
UserEntry) is built when a row is read (and kept until it is written), so a request holds an immutable row.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import orjson

from shared.limits import NO_LIMITS, Limits

T = TypeVar("T")
Profile = tuple[str, str, Limits, bool]  # a token's models, subnet, limits and unlimited_quota

KEY_BYTES = 16  # the first half of SHA-256(key): 128 bits, collision-free at any install size
MAX_TEXT_BYTES = 0xFFFF  # names and usernames are far shorter (the management API caps them)
DEAD = -128  # status of a row whose token or user is gone (until the table is compacted)
ENTRY_CACHE = 16_384  # entries kept built (the tokens and users in use): ~8 MB at most
_MIN_SLOTS = 1024


def key_digest(key_hash: str) -> bytes:
    """The index key of a token from its key hash (hex of SHA-256, or its first 32 digits)."""
    return bytes.fromhex(key_hash[: 2 * KEY_BYTES])


class Interned(Generic[T]):
    """Distinct values and their numbers. A value replaced by a change stays until the next full
    build of the table (a master restart, or a full snapshot on a slave)."""

    def __init__(self, values: list[T]) -> None:
        self.values = values
        self.index = {v: i for i, v in enumerate(values)}

    def add(self, value: T) -> int:
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.values)
            self.values.append(value)
        return i


class Texts:
    """Short strings packed in one buffer: a row's text is (start, size) into it. A changed text is
    appended and the row repointed; the old bytes stay until the next full build."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.start = array("I")
        self.size = array("H")

    def _store(self, text: str) -> tuple[int, int]:
        data = text.encode()
        if len(data) > MAX_TEXT_BYTES:
            data = data[:MAX_TEXT_BYTES].decode(errors="ignore").encode()
        start = len(self.blob)
        if start + len(data) > 0xFFFFFFFF:
            raise OverflowError("packed text buffer full")
        self.blob += data
        return start, len(data)

    def append(self, text: str) -> None:
        start, size = self._store(text)
        self.start.append(start)
        self.size.append(size)

    def set(self, row: int, text: str) -> None:
        if self.get(row) != text:
            self.start[row], self.size[row] = self._store(text)

    def get(self, row: int) -> str:
        start = self.start[row]
        return self.blob[start : start + self.size[row]].decode()


class IdRows:
    """id -> row number. Ids are auto-increment, so a dense array indexed by id serves them; an id
    far past the rows there are (it would make the array huge) goes to a dict instead."""

    def __init__(self) -> None:
        self.dense = array("i")
        self.sparse: dict[int, int] = {}

    def get(self, ident: int) -> int:
        if 0 <= ident < len(self.dense):
            return self.dense[ident]
        return self.sparse.get(ident, -1)

    def set(self, ident: int, row: int, rows: int) -> None:
        dense = self.dense
        if ident >= len(dense) and ident < 4 * rows + 65536:
            grow = max(ident + 1, len(dense) + len(dense) // 4 + 64) - len(dense)
            dense.extend(array("i", [-1]) * grow)
            for moved in [i for i in self.sparse if i < len(dense)]:
                dense[moved] = self.sparse.pop(moved)
        if 0 <= ident < len(dense):
            dense[ident] = row
        else:
            self.sparse[ident] = row

    def pop(self, ident: int) -> None:
        if 0 <= ident < len(self.dense):
            self.dense[ident] = -1
        else:
            self.sparse.pop(ident, None)


def _pack(meta: dict[str, Any], parts: list[tuple[str, bytes | bytearray | array[Any]]]) -> bytes:
    """meta (JSON) + named binary parts, little-endian, in one byte string."""
    blobs = []
    for _name, part in parts:
        if isinstance(part, array) and sys.byteorder != "little":
            part = array(part.typecode, part)
            part.byteswap()
        blobs.append(part.tobytes() if isinstance(part, array) else bytes(part))
    header = orjson.dumps({"meta": meta, "parts": [[name, len(blob)] for (name, _), blob in zip(parts, blobs, strict=True)]})
    return b"".join([len(header).to_bytes(4, "little"), header, *blobs])


def _unpack(data: bytes) -> tuple[dict[str, Any], dict[str, memoryview]]:
    view = memoryview(data)
    size = int.from_bytes(view[:4], "little")
    head = orjson.loads(view[4 : 4 + size])
    offset = 4 + size
    parts: dict[str, memoryview] = {}
    for name, length in head["parts"]:
        parts[name] = view[offset : offset + length]
        offset += length
    if offset != len(view):
        raise ValueError("table parts do not add up to the message")
    return head["meta"], parts


def _load(typecode: str, data: memoryview, rows: int | None = None) -> array[Any]:
    out = array(typecode)
    out.frombytes(data)
    if sys.byteorder != "little":
        out.byteswap()
    if rows is not None and len(out) != rows:
        raise ValueError("a table column has the wrong length")
    return out


class _Table:
    """What both tables share: row numbers by id, the status column (DEAD marks a gone row) and
    the packed text column."""

    _columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.ids = array("i")
        self.status = array("b")
        self.texts = Texts()
        self.by_id = IdRows()
        self.live = 0
        self.entries: dict[int, Any] = {}  # row -> its built entry; dropped when the row is written

    def __len__(self) -> int:
        return self.live

    def row_of_id(self, ident: int) -> int:
        return self.by_id.get(ident)

    def live_rows(self) -> Iterator[int]:
        status = self.status
        return (row for row in range(len(status)) if status[row] != DEAD)

    def _kill(self, row: int) -> None:
        self.entries.pop(row, None)
        self.by_id.pop(self.ids[row])
        self.status[row] = DEAD
        self.live -= 1

    def _dead(self) -> int:
        return len(self.ids) - self.live

    def delete_id(self, ident: int) -> bool:
        row = self.by_id.get(ident)
        if row < 0:
            return False
        self._kill(row)
        self._compact_if_sparse()
        return True

    def _compact_if_sparse(self) -> None:
        if self._dead() > 1024 and 4 * self._dead() > self.live:
            self.compact()

    def compact(self) -> None:
        """Drop dead rows. Row numbers change: call only where no row number is held (never
        across an await)."""
        rows = list(self.live_rows())
        for name in ("ids", "status", *self._columns):
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, [column[r] for r in rows]))
        texts, self.texts = self.texts, Texts()
        for r in rows:
            self.texts.append(texts.get(r))
        self.by_id = IdRows()
        for row, ident in enumerate(self.ids):
            self.by_id.set(ident, row, len(rows))
        self.entries = {}
        self._compacted(rows)

    def _compacted(self, rows: list[int]) -> None:
        """What a subclass keeps beside the columns, cut to `rows` (the old numbers, in order)."""

    def _write(self, ident: int, status: int, text: str, values: tuple[int, ...]) -> int:
        """Set row `ident` (appended when new) to these values; its row number."""
        row = self.by_id.get(ident)
        if row >= 0:
            self.entries.pop(row, None)
            self.status[row] = status
            self.texts.set(row, text)
            for column, value in zip(self._columns, values, strict=True):
                getattr(self, column)[row] = value
            return row
        row = len(self.ids)
        self.ids.append(ident)
        self.status.append(status)
        self.texts.append(text)
        for column, value in zip(self._columns, values, strict=True):
            getattr(self, column).append(value)
        self.live += 1
        self.by_id.set(ident, row, self.live)
        return row

    def _common_parts(self) -> list[tuple[str, bytes | bytearray | array[Any]]]:
        parts: list[tuple[str, bytes | bytearray | array[Any]]] = [
            ("ids", self.ids),
            ("status", self.status),
            ("text", self.texts.blob),
            ("text_start", self.texts.start),
            ("text_size", self.texts.size),
            ("id_rows", self.by_id.dense),
        ]
        return parts + [(name, getattr(self, name)) for name in self._columns]

    def _load_common(self, meta: dict[str, Any], parts: dict[str, memoryview]) -> int:
        self.ids = _load("i", parts["ids"])
        rows = len(self.ids)
        self.status = _load("b", parts["status"], rows)
        self.texts.blob = bytearray(parts["text"])
        self.texts.start = _load("I", parts["text_start"], rows)
        self.texts.size = _load("H", parts["text_size"], rows)
        self.by_id.dense = _load("i", parts["id_rows"])
        self.by_id.sparse = {int(k): int(v) for k, v in meta["sparse"]}
        for name in self._columns:
            setattr(self, name, _load(getattr(self, name).typecode, parts[name], rows))
        self.live = int(meta["live"])
        if max(self.by_id.dense, default=-1) >= rows or any(v >= rows for v in self.by_id.sparse.values()):
            raise ValueError("a table's id index points past its rows")
        return rows


class TokenTable(_Table):
    _columns = ("user_id", "expired", "remain", "used", "profile")

    def __init__(self, expected: int = 0) -> None:
        super().__init__()
        self.keys = bytearray()  # KEY_BYTES a row
        self.user_id = array("i")
        self.expired = array("q")
        self.remain = array("q")
        self.used = array("q")
        self.profile = array("i")
        # What tokens share: (models, subnet, limits, unlimited_quota); one number a row.
        self.profiles: Interned[Profile] = Interned([("", "", NO_LIMITS, False)])
        self.slots = array("i", bytes(4 * _slot_count(expected)))  # row + 1, 0 = empty
        self.occupied = 0  # slots in use: live rows and rows killed since the last reindex

    # -- reading

    def row_of_key(self, digest: bytes) -> int:
        slots, keys = self.slots, self.keys
        mask = len(slots) - 1
        i = int.from_bytes(digest[:8], "little") & mask
        while True:
            row = slots[i] - 1
            if row < 0:
                return -1
            if keys[KEY_BYTES * row : KEY_BYTES * row + KEY_BYTES] == digest:
                return row
            i = (i + 1) & mask

    def digest(self, row: int) -> bytes:
        return bytes(self.keys[KEY_BYTES * row : KEY_BYTES * row + KEY_BYTES])

    # -- writing (each O(1), amortised over the occasional resize or compaction)

    def _kill(self, row: int) -> None:
        super()._kill(row)
        self.keys[KEY_BYTES * row : KEY_BYTES * row + KEY_BYTES] = bytes(KEY_BYTES)  # unreachable by key

    def put(
        self,
        ident: int,
        digest: bytes,
        *,
        user_id: int,
        name: str,
        status: int,
        expired_time: int,
        remain_quota: int,
        unlimited_quota: bool,
        used_quota: int,
        models: str,
        subnet: str,
        limits: Limits,
    ) -> None:
        """Insert or replace token `ident`; a changed key moves it to a new row (the old key
        stops working at once)."""
        row = self.by_id.get(ident)
        moved = row >= 0 and self.digest(row) != digest
        if moved:
            self._kill(row)
            row = -1
        values = (user_id, expired_time, remain_quota, used_quota, self.profiles.add((models, subnet, limits, unlimited_quota)))
        new = row < 0
        row = self._write(ident, status, name, values)
        if not new:
            return
        self.keys += digest
        if 2 * (self.occupied + 1) > len(self.slots):
            self._reindex()
        else:
            self._slot_in(row, digest)
        if moved:
            self._compact_if_sparse()

    def _slot_in(self, row: int, digest: bytes) -> None:
        slots = self.slots
        mask = len(slots) - 1
        i = int.from_bytes(digest[:8], "little") & mask
        while slots[i]:
            i = (i + 1) & mask
        slots[i] = row + 1
        self.occupied += 1

    def _reindex(self) -> None:
        self.slots = array("i", bytes(4 * _slot_count(self.live)))
        self.occupied = 0
        for row in self.live_rows():
            self._slot_in(row, self.digest(row))

    def _compacted(self, rows: list[int]) -> None:
        keys = self.keys
        self.keys = bytearray(b"".join(keys[KEY_BYTES * r : KEY_BYTES * r + KEY_BYTES] for r in rows))
        self._reindex()

    # -- the wire

    def dump(self) -> bytes:
        meta = {
            "live": self.live,
            "sparse": list(self.by_id.sparse.items()),
            "profiles": [[m, s, [x.rpm, x.tpm, x.parallel], u] for m, s, x, u in self.profiles.values],
        }
        return _pack(meta, [*self._common_parts(), ("keys", self.keys), ("slots", self.slots)])

    @classmethod
    def load(cls, data: bytes) -> TokenTable:
        """Raises ValueError (or KeyError) on a malformed table."""
        meta, parts = _unpack(data)
        table = cls()
        rows = table._load_common(meta, parts)
        table.keys = bytearray(parts["keys"])
        table.slots = _load("i", parts["slots"])
        table.occupied = len(table.slots) - table.slots.count(0)
        table.profiles = Interned([(str(m), str(s), Limits(int(a), int(b), int(c)), bool(u)) for m, s, (a, b, c), u in meta["profiles"]])
        slots = len(table.slots)
        if len(table.keys) != KEY_BYTES * rows or slots < _MIN_SLOTS or slots & (slots - 1) or max(table.slots) > rows:
            raise ValueError("a token table's key index is malformed")
        if rows and max(table.profile) >= len(table.profiles.values):
            raise ValueError("a token table names a profile it does not carry")
        return table


class UserTable(_Table):
    _columns = ("role", "quota", "used", "group", "limits")

    def __init__(self) -> None:
        super().__init__()
        self.role = array("h")
        self.quota = array("q")
        self.used = array("q")
        self.group = array("i")
        self.limits = array("i")
        self.groups: Interned[str] = Interned(["default"])
        self.limit_sets: Interned[Limits] = Interned([NO_LIMITS])

    def put(self, ident: int, *, username: str, group: str, status: int, role: int, quota: int, used_quota: int, limits: Limits) -> None:
        self._write(ident, status, username, (role, quota, used_quota, self.groups.add(group), self.limit_sets.add(limits)))

    def dump(self) -> bytes:
        meta = {
            "live": self.live,
            "sparse": list(self.by_id.sparse.items()),
            "groups": self.groups.values,
            "limits": [[x.rpm, x.tpm, x.parallel] for x in self.limit_sets.values],
        }
        return _pack(meta, self._common_parts())

    @classmethod
    def load(cls, data: bytes) -> UserTable:
        meta, parts = _unpack(data)
        table = cls()
        rows = table._load_common(meta, parts)
        table.groups = Interned([str(v) for v in meta["groups"]])
        table.limit_sets = Interned([Limits(int(a), int(b), int(c)) for a, b, c in meta["limits"]])
        if rows and (max(table.group) >= len(table.groups.values) or max(table.limits) >= len(table.limit_sets.values)):
            raise ValueError("a user table names a value it does not carry")
        return table


def _slot_count(rows: int) -> int:
    """A power of two over twice the rows (probes stay short: the load stays under one half)."""
    need = max(_MIN_SLOTS, 2 * rows + 1024)
    return 1 << (need - 1).bit_length()


class RowsView(Mapping[Any, T]):
    """A read-only mapping over a table: an entry is built on its first read and kept (up to
    ENTRY_CACHE of them) until its row is written."""

    def __init__(self, table: Any, find: Callable[[Any], int], build: Callable[[int], T], key: Callable[[int], Any]) -> None:
        self.table, self._find, self._build, self._key = table, find, build, key

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            row = self._find(key)
        except (ValueError, TypeError):
            return default
        if row < 0:
            return default
        cache = self.table.entries
        entry = cache.get(row)
        if entry is None:
            entry = self._build(row)
            if len(cache) >= ENTRY_CACHE:
                del cache[next(iter(cache))]  # the oldest built
            cache[row] = entry
        return entry

    def __getitem__(self, key: Any) -> T:
        entry = self.get(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def __contains__(self, key: object) -> bool:
        try:
            return self._find(key) >= 0
        except (ValueError, TypeError):
            return False

    def __iter__(self) -> Iterator[Any]:
        return (self._key(row) for row in self.table.live_rows())

    def __len__(self) -> int:
        return len(self.table)

    def values(self) -> Iterator[T]:  # type: ignore[override]
        return (self._build(row) for row in self.table.live_rows())
