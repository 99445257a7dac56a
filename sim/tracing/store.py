"""Where exchanges are kept: one SQLite table shared by every recorder.

Threads mode keeps its records in memory (`MemoryTraceStore`, below). Process mode
(`oauth-sim up`) gives every process the same SQLite file in WAL mode, so events from
separate processes reach one store. Each exchange is one row keyed by its exchange id: the
receiver's record and the sender's timing upsert into the same row in either order, so an
exchange is stored exactly once.

Writing: a journal, read into the table by whoever reads
---------------------------------------------------------
A record must be in the store before its response is sent (a reader never waits for it).
A transaction on a file four processes share cost ~180 us of CPU per record in the AS
(the row, four indexes, the feed line, the WAL frames and the locks), more than the rest of
tracing together. So a record is one line appended to the store's *journal*
(`<path>.journal`, one `write` of a few KB; appends from every process land whole, one
after another), and the journal is read into the table in batches, in its order, by any
process before it reads (`_ingest`): a reader always sees every line appended before it
asked, and a batch of lines costs one transaction. A process that writes much and never
reads (an authorization server) ingests in the background once it has appended
`INGEST_AFTER` bytes, so the journal stays short. Ingesting a journal read to its end and
longer than `JOURNAL_LIMIT` empties it (under an exclusive `flock`, which every append
holds shared for its `write`, so no line is lost); its header carries a generation number,
so a process never mistakes an emptied and refilled journal for the one it last read.
A record's line is its head (JSON: kind, exchange, flow, start, links, the data's size), a
tab, and its data: `marshal`'s bytes (`_pack`), taken by their size (they may hold any byte),
then a newline; the table keeps those bytes. Every other line is JSON ending at a newline.

Each record gets its number (`recorded`, one counter for the whole file) and, in live mode,
its line in the feed (`changes`) when it is read in, in journal order: the order records
were written. The sender's timing is not needed by any reader at once, so it waits in
memory and rides along with this process's next line (or goes on its own at most
`SENDER_DELAY` seconds later, or before this process reads).

Live mode (`live = True`, set by `oauth-sim up`) adds what watching a real browser needs:
`link`/`linked` tie codes and tokens to the flow that issued them (`sim.tracing.live`), and
`changes` is a feed of recorded exchanges for the classroom console to follow.

What a request asks the store on every request (live mode: is pause on? is any value linked
to a flow at all?) is answered from this process's memory, checked against the store's
*version*: a counter in `<path>.version`, mapped into every process's memory. Every change of
the flow options or the links counts it up (under an exclusive `flock`), after the change is
made and before the writer's response is sent, so reading eight bytes of memory, without a
system call or a lock, tells whether anything such a cache holds may have changed since.

A private in-memory SQLite store (`TraceStore()`, path ":memory:") has one process and no
journal: it writes each line's change to the table at once.

Both stores are bounded (`sim.tracing.limits`): text values are cut to `MAX_VALUE` with a
visible marker, and at most `max_flows` flows are kept; when a new flow would pass that, the
oldest flow is dropped whole and `dropped_flows()` counts it, so a reader can say so once.
"""

from __future__ import annotations

import fcntl
import json
import marshal
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sim.tracing.counter import KeptWhileUnmoved, SharedCounter
from sim.tracing.limits import MAX_FLOWS, MAX_VALUE, cut_record
from sim.tracing.seen import Seen, record_of

#: `json.dumps` without its check for circular references (a journal line's head is a list
#: of plain values): the same text, for less CPU on every record.
_encode = json.JSONEncoder(check_circular=False).encode
#: Longest a sender's timing waits in memory before it is written on its own.
SENDER_DELAY = 0.1
#: Bytes a process appends to the journal before it reads the journal in itself.
INGEST_AFTER = 512 * 1024
#: A journal read to its end and longer than this is emptied.
JOURNAL_LIMIT = 4 * 1024 * 1024
#: Most journal bytes read into the table in one transaction.
INGEST_CHUNK = 4 * 1024 * 1024
#: The journal's header: its generation number, fixed width.
HEADER = 32

SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    exchange TEXT PRIMARY KEY,
    flow TEXT NOT NULL DEFAULT '',
    start_ns INTEGER NOT NULL DEFAULT 0,
    recorded INTEGER,
    data BLOB,
    sender_ms REAL
);
CREATE INDEX IF NOT EXISTS exchanges_flow ON exchanges (flow, start_ns, recorded);
CREATE INDEX IF NOT EXISTS exchanges_start ON exchanges (start_ns, recorded);
CREATE INDEX IF NOT EXISTS exchanges_recorded ON exchanges (recorded);
CREATE TABLE IF NOT EXISTS flow_options (
    flow TEXT PRIMARY KEY,
    options TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    value TEXT NOT NULL UNIQUE,
    flow TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dropped_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flow TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exchange TEXT NOT NULL,
    flow TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_flow ON log (flow);
CREATE INDEX IF NOT EXISTS links_flow ON links (flow);
CREATE TABLE IF NOT EXISTS flows (
    flow TEXT PRIMARY KEY,
    start_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_start ON flows (start_ns);
"""


#: The newest record's number, also across a `clear` (which keeps it in `meta`).
_LAST_RECORDED = "COALESCE(MAX(recorded), (SELECT value FROM meta WHERE key = 'recorded_base'), 0)"

#: Counts clears of the links, so a process's copy of them knows to copy the table again.
_LINKS_CLEARED = (
    "INSERT INTO meta (key, value) VALUES ('links_cleared', 1) "
    "ON CONFLICT(key) DO UPDATE SET value = value + 1"
)
#: How many of the newest dropped flows `dropped_links` keeps for the processes' copies of
#: the links (a copy further behind is made again whole).
DROPPED_KEPT = 1000

_UPSERT_RECORD = (
    "INSERT INTO exchanges (exchange, flow, start_ns, recorded, data) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(exchange) DO UPDATE SET flow=excluded.flow, start_ns=excluded.start_ns, "
    "recorded=excluded.recorded, data=excluded.data"
)
_UPSERT_BEGIN = (
    "INSERT INTO exchanges (exchange, flow, start_ns) VALUES (?, ?, ?) "
    "ON CONFLICT(exchange) DO UPDATE SET flow=excluded.flow, start_ns=excluded.start_ns"
)
_UPSERT_SENDER = (
    "INSERT INTO exchanges (exchange, sender_ms) VALUES (?, ?) "
    "ON CONFLICT(exchange) DO UPDATE SET sender_ms=excluded.sender_ms"
)


def _header(generation: int) -> bytes:
    return f"oauth-sim journal {generation:>0}".ljust(HEADER - 1).encode()[: HEADER - 1] + b"\n"


def _generation(header: bytes) -> int | None:
    try:
        return int(header.split()[-1]) if len(header) == HEADER else None
    except (ValueError, IndexError):
        return None


class _Journal:
    """The append-only file every process of one store writes its lines to (see the top)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if not os.path.exists(path):
            # Created whole (header included) or not at all: a line appended by another
            # process can never land where the header should be.
            temporary = f"{path}.{os.getpid()}.{threading.get_ident()}"
            with open(temporary, "wb") as f:
                f.write(_header(0))
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        self.append_fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        #: A second open file: its exclusive `flock` conflicts with this process's appends too.
        self.fd = os.open(path, os.O_RDWR)
        self.append_lock = threading.Lock()
        self.closed = False

    def append(self, data: bytes) -> None:
        with self.append_lock:
            if self.closed:  # never write to a descriptor number reused since
                raise ValueError("the trace store is closed")
            fcntl.flock(self.append_fd, fcntl.LOCK_SH)
            try:
                os.write(self.append_fd, data)
            finally:
                fcntl.flock(self.append_fd, fcntl.LOCK_UN)

    def state(self) -> tuple[int | None, int]:
        """(generation, size) as the file is now."""
        return _generation(os.pread(self.fd, HEADER, 0)), os.fstat(self.fd).st_size

    def close(self) -> None:
        with self.append_lock:
            if not self.closed:
                self.closed = True
                os.close(self.append_fd)
                os.close(self.fd)


class TraceStore:
    """Thread-safe store of raw exchange records (dicts), grouped by flow id."""

    #: A record is written at once, for other processes to read: the middleware makes it.
    keeps_seen = False

    def __init__(self, path: str = ":memory:", live: bool = False, max_flows: int = MAX_FLOWS):
        self.path = path
        self.live = live
        self.max_flows = max_flows
        self._known_flows: set[str] = set()
        self._lock = threading.Lock()
        #: Notified on every record written by this process (see `wait_settled`).
        self._recorded = threading.Condition()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            # The file lives in the simulation's own work folder and goes with it: a trace
            # need not survive the machine crashing, so no fsync at each checkpoint; and a
            # longer WAL between checkpoints copies each index page it rewrote once, not often.
            self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.execute("PRAGMA wal_autocheckpoint=4000")
            self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)
        #: Senders' timings not yet written, as (exchange, ms); see the module docstring.
        self._senders: list[tuple[str, float]] = []
        self._senders_lock = threading.Lock()
        #: Wakes the background worker: senders' timings are waiting, or a read-in is due.
        self._work_due = threading.Event()
        self._worker: threading.Thread | None = None
        self._journal: _Journal | None = None
        #: Set by `_apply` when it dropped flows (see `_transaction`).
        self._dropped = False
        #: (generation, offset) of the journal up to which this process knows it is read in.
        self._seen: tuple[int | None, int] = (None, -1)
        #: Bytes this process appended since it last read the journal in.
        self._appended = 0
        self._ingest_due = False
        #: The version (see the module docstring): a file every process maps; a private
        #: in-memory store, whose only writer is this object, counts in memory.
        self._counter = SharedCounter(None if path == ":memory:" else path + ".version")
        if path != ":memory:":
            self._journal = _Journal(path + ".journal")
        #: Waiters in `wait_settled` (a record notifies only when there are some).
        self._waiters = 0
        #: Each flow's options, kept until the version moves; (version, any link at all).
        self._options_kept: KeptWhileUnmoved[dict[str, Any]] = KeptWhileUnmoved(
            self._counter, self._lock
        )
        self._links_cache: tuple[int, bool] = (-1, False)
        #: The version at which a question about links last read the journal in.
        self._links_read_at = -1
        #: This process's copy of the links table (value -> flow), as of `_links_read_at`;
        #: each flow's values in it; the newest link id and dropped flow id it has applied;
        #: the count of clears it was copied at (see `_copy_links`).
        self._links: dict[str, str] = {}
        self._flow_links: dict[str, list[str]] = {}
        self._links_id = 0
        self._dropped_id = 0
        self._links_cleared = -1

    # -- the version file -------------------------------------------------------------------
    def _version(self) -> int:
        """The store's version: moves whenever flow options or links change (any process)."""
        return self._counter.value()

    def _changed(self) -> None:
        """Flow options or links changed: move the version (after the change is made, so a
        process that sees the new version also sees the change)."""
        self._counter.bump()

    # -- writing ----------------------------------------------------------------------------
    def _write(self, line: bytes, entry: list[Any] | None = None) -> None:
        """Write one journal line (with the senders' timings waiting here), or without a
        journal apply `entry` to the table at once."""
        senders: list[tuple[str, float]] = []
        if self._senders:
            with self._senders_lock:
                senders, self._senders = self._senders, []
        if self._journal is None:
            with self._lock:
                self._transaction(
                    lambda: self._apply(([["s", senders]] if senders else []) + [entry])
                )
            return
        if senders:
            line = _line(["s", senders]) + line
        if not line:
            return
        self._journal.append(line)
        self._appended += len(line)
        if self._appended > INGEST_AFTER and not self._ingest_due:
            self._ingest_due = True
            self._wake_worker()

    def begin(self, exchange: str, flow: str, start_ns: int) -> None:
        """An exchange whose response is a stream has started: it is recorded only when the
        stream ends, after its sender has the first bytes, so a reader can wait for begun
        exchanges to complete (`wait_settled`). Other exchanges need no `begin`: their
        record is written before their response is sent (see `sim.tracing.middleware`)."""
        entry = ["b", exchange, flow, start_ns]
        self._write(_line(entry), entry)

    def record(
        self,
        exchange: str,
        flow: str,
        start_ns: int,
        data: dict[str, Any],
        links: tuple[str, ...] = (),
    ) -> None:
        """The receiver's full record of an exchange: one journal line (see the top) with
        what goes with it: the `links` (values such as codes and tokens) that tie later
        requests to `flow`, and in live mode its line in the feed when it is read in.
        The record is whole: another process reads it (`keeps_seen` is False)."""
        blob = _pack(data)
        if len(blob) > MAX_VALUE:
            # Only then can a value be over MAX_VALUE (its bytes are never fewer than its
            # characters), and only then is the copy with long values cut worth making.
            blob = _pack(cut_record(data))
        head = ["r", exchange, flow, start_ns, list(links), len(blob)]
        self._write(_encode(head).encode() + b"\t" + blob + b"\n", [*head[:5], blob])
        if links:
            self._changed()
        if self._waiters:
            with self._recorded:
                self._recorded.notify_all()

    def record_sender(self, exchange: str, duration_ms: float) -> None:
        """The sender's timing of the same exchange (round trip as the sender saw it):
        kept in memory until this process next writes (see the module docstring)."""
        with self._senders_lock:
            self._senders.append((exchange, duration_ms))
        self._wake_worker()

    def _wake_worker(self) -> None:
        if self._worker is None:
            with self._senders_lock:
                if self._worker is None:
                    self._worker = threading.Thread(
                        target=self._work, name="trace-journal", daemon=True
                    )
                    self._worker.start()
        self._work_due.set()

    def _work(self) -> None:
        """Background: write senders' timings that waited `SENDER_DELAY`; read the journal
        in when this process has appended `INGEST_AFTER` bytes since it last did."""
        while True:
            self._work_due.wait()
            time.sleep(SENDER_DELAY)
            self._work_due.clear()
            try:
                with self._senders_lock:
                    waiting = bool(self._senders)
                if waiting:
                    self._write(b"", ["s", []])
                if self._ingest_due:
                    with self._lock:
                        self._ingest()
            except (sqlite3.Error, OSError, ValueError):  # closed under us: nothing to do
                return

    # -- reading the journal in ---------------------------------------------------------------
    def _transaction(self, work: Any) -> Any:
        """Run `work()` in one write transaction; afterwards (once committed) move the
        version if it dropped flows, whose options and links went with them."""
        self._dropped = False
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            result = work()
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        if self._dropped:
            self._changed()
        return result

    def _read_position(self) -> tuple[int, int]:
        """(generation, offset) of the journal up to which the table has it, as noted."""
        rows = dict(
            self._conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('journal_gen', 'journal_offset')"
            ).fetchall()
        )
        return rows.get("journal_gen", 0), rows.get("journal_offset", HEADER)

    def _ingest(self) -> None:
        """Bring the table up to date with everything written before now (the caller holds
        the lock): read every complete journal line not yet in it, in journal order. One
        `fstat` and one `pread` when there is none. Without a journal: the senders' timings
        waiting here."""
        with self._senders_lock:
            senders, self._senders = self._senders, []
        journal = self._journal
        if journal is None:
            if senders:
                self._transaction(lambda: self._apply([["s", senders]]))
            return
        if senders:
            journal.append(_line(["s", senders]))
        if journal.state() == self._seen:
            return
        self._ingest_due = False
        self._appended = 0
        position = self._read_position()  # without the write lock: often already read in
        if position == journal.state():
            self._seen = position
            return
        self._seen = self._transaction(self._read_in)

    def _read_in(self) -> tuple[int, int]:
        """`_ingest`'s transaction: apply the journal's new lines, note how far it is read,
        and empty it if it is read to its end and long. Returns (generation, offset)."""
        journal = self._journal
        assert journal is not None
        generation, offset = self._read_position()
        file_generation, size = journal.state()
        if file_generation is not None and file_generation != generation:
            # Emptied by a process that stopped before it noted so: all of it was read in.
            generation, offset = file_generation, HEADER
        while offset < size:
            entries, used = _entries(os.pread(journal.fd, min(size - offset, INGEST_CHUNK), offset))
            if used == 0:
                break  # a line being written: it is read in next time
            self._apply(entries)
            offset += used
        if offset == size and size > JOURNAL_LIMIT:
            fcntl.flock(journal.fd, fcntl.LOCK_EX)  # no append is half written, none starts
            try:
                if os.fstat(journal.fd).st_size == size:
                    generation += 1
                    os.pwrite(journal.fd, _header(generation), 0)
                    os.ftruncate(journal.fd, HEADER)
                    offset = HEADER
            finally:
                fcntl.flock(journal.fd, fcntl.LOCK_UN)
        self._conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [("journal_gen", generation), ("journal_offset", offset)],
        )
        return generation, offset

    def _apply(self, entries: list[list[Any]]) -> None:
        """Apply journal entries to the table, in order (the caller holds a transaction):
        a record gets the next number, its links and, in live mode, its line in the feed."""
        if not entries:
            return
        (last,) = self._conn.execute(f"SELECT {_LAST_RECORDED} FROM exchanges").fetchone()
        for entry in entries:
            kind = entry[0]
            if kind == "s":
                if entry[1]:
                    self._conn.executemany(_UPSERT_SENDER, entry[1])
                continue
            exchange, flow, start_ns = entry[1], entry[2], entry[3]
            if flow not in self._known_flows and self._new_flow(flow, start_ns):
                self._dropped = True
            if kind == "b":
                self._conn.execute(_UPSERT_BEGIN, (exchange, flow, start_ns))
                continue
            links, blob = entry[4], entry[5]
            last += 1
            self._conn.execute(_UPSERT_RECORD, (exchange, flow, start_ns, last, blob))
            if self.live:
                self._conn.execute(
                    "INSERT INTO log (exchange, flow) VALUES (?, ?)", (exchange, flow)
                )
            if links:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO links (value, flow) VALUES (?, ?)",
                    [(value, flow) for value in links],
                )

    def _new_flow(self, flow: str, start_ns: int) -> bool:
        """First sight of `flow` in this process: if the store has no row of it yet, note it
        in `flows` (with its first recorded start), and if that passes `max_flows`, drop the
        oldest flows (every process shares the file, so ask the file). True when flows were
        dropped (their options and links went with them). The work is the same whatever
        the store holds: `flows` is counted and searched by its indexes, never the table of
        exchanges listed (which made each new flow cost more the more flows were kept)."""
        if len(self._known_flows) > 4 * self.max_flows:
            self._known_flows.clear()
        self._known_flows.add(flow)
        conn = self._conn
        if conn.execute("SELECT 1 FROM flows WHERE flow = ?", (flow,)).fetchone():
            return False
        (count,) = conn.execute("SELECT COUNT(*) FROM flows").fetchone()
        conn.execute("INSERT INTO flows (flow, start_ns) VALUES (?, ?)", (flow, start_ns))
        excess = count - self.max_flows + 1
        if excess <= 0:
            return False
        old_flows = [
            row[0]
            for row in conn.execute(
                "SELECT flow FROM flows WHERE flow != ? ORDER BY start_ns, flow LIMIT ?",
                (flow, excess),
            ).fetchall()
        ]
        for old in old_flows:
            for table in ("exchanges", "flow_options", "links", "log", "flows"):
                conn.execute(f"DELETE FROM {table} WHERE flow = ?", (old,))
            self._known_flows.discard(old)
        # Senders' timings of exchanges no receiver recorded belong to no flow: they go too.
        conn.execute("DELETE FROM exchanges WHERE flow = '' AND data IS NULL")
        conn.executemany("INSERT INTO dropped_links (flow) VALUES (?)", [(o,) for o in old_flows])
        conn.execute(
            "DELETE FROM dropped_links WHERE id <= (SELECT MAX(id) FROM dropped_links) - ?",
            (DROPPED_KEPT,),
        )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('dropped_flows', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
            (len(old_flows),),
        )
        return True

    # -- reading ----------------------------------------------------------------------------
    def dropped_flows(self) -> int:
        """How many of the oldest flows were dropped to keep the store bounded."""
        with self._lock:
            self._ingest()
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'dropped_flows'"
            ).fetchone()
        return row[0] if row else 0

    def pending(self, flow: str) -> int:
        with self._lock:
            self._ingest()
            row = self._conn.execute(
                "SELECT COUNT(*) FROM exchanges WHERE flow = ? AND data IS NULL", (flow,)
            ).fetchone()
        return row[0]

    def wait_settled(self, flow: str, timeout: float = 5.0) -> None:
        """Wait until every begun exchange of `flow` is recorded.

        A record written by this process wakes the wait at once (a Condition). The other
        processes of `oauth-sim up` write to the same journal and cannot notify it, so the
        wait also looks again after a pause that doubles from 1 ms to 50 ms."""
        deadline = time.monotonic() + timeout
        pause = 0.001
        with self._recorded:
            self._waiters += 1
        try:
            while self.pending(flow):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                with self._recorded:
                    self._recorded.wait(min(pause, remaining))
                pause = min(pause * 2, 0.05)
        finally:
            with self._recorded:
                self._waiters -= 1

    def records(self, flow: str | None = None) -> list[dict[str, Any]]:
        """Complete records in the order their requests started."""
        query = "SELECT data, sender_ms FROM exchanges WHERE data IS NOT NULL"
        args: list[Any] = []
        if flow is not None:
            query += " AND flow = ?"
            args.append(flow)
        query += " ORDER BY start_ns, rowid"
        with self._lock:
            self._ingest()
            rows = self._conn.execute(query, args).fetchall()
        out = []
        for data, sender_ms in rows:
            record = _unpack(data)
            record["sender_ms"] = sender_ms
            out.append(record)
        return out

    def snapshot(self, flow: str) -> Callable[[], list[dict[str, Any]]]:
        """The flow's records as they are now, given when called (read now: another
        process may drop the flow later)."""
        records = self.records(flow)
        return lambda: records

    def flows(self) -> list[str]:
        with self._lock:
            self._ingest()
            rows = self._conn.execute(
                "SELECT flow FROM exchanges WHERE recorded IS NOT NULL "
                "GROUP BY flow ORDER BY MIN(start_ns)"
            ).fetchall()
        return [r[0] for r in rows]

    def has_flow(self, flow: str) -> bool:
        with self._lock:
            self._ingest()
            row = self._conn.execute(
                "SELECT 1 FROM exchanges WHERE flow = ? AND recorded IS NOT NULL LIMIT 1", (flow,)
            ).fetchone()
        return row is not None

    # -- reading in pieces (`sim.tracing.feed`) ---------------------------------------------
    # Every complete record has a `recorded` number, counting up in the order records were
    # written (one counter for the whole file): a reader that has seen everything up to N
    # asks for what came after N, and a whole read stops at the N it started at.

    def last_recorded(self) -> int:
        with self._lock:
            self._ingest()
            row = self._conn.execute(f"SELECT {_LAST_RECORDED} FROM exchanges").fetchone()
        return row[0]

    def batches(
        self, flow: str | None, upto: int, size: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        """The complete records numbered up to `upto`, in start order, `size` at a time;
        the lock is held for one batch at a time, never while the caller uses it."""
        where = "recorded IS NOT NULL AND recorded <= ? AND (start_ns, rowid) > (?, ?)"
        args: list[Any] = [upto]
        if flow is not None:
            where += " AND flow = ?"
        last = (-1, -1)
        while True:
            with self._lock:
                self._ingest()
                rows = self._conn.execute(
                    f"SELECT data, sender_ms, start_ns, rowid FROM exchanges WHERE {where} "
                    "ORDER BY start_ns, rowid LIMIT ?",
                    [*args, *last, *([flow] if flow is not None else []), size],
                ).fetchall()
            if not rows:
                return
            yield [{**_unpack(data), "sender_ms": ms} for data, ms, _, _ in rows]
            last = rows[-1][2:]

    def after(
        self, cursor: int, flow: str | None = None, limit: int | None = None
    ) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
        """The complete records numbered after `cursor` (of `flow`, if given), at most
        `limit` of them in the order they were recorded, then put in start order, each with
        its `seq` in the whole (or the flow's) trace; and the cursor to ask from next."""
        flow_clause = " AND flow = ?" if flow is not None else ""
        flow_args = [flow] if flow is not None else []
        with self._lock:
            self._ingest()
            rows = self._conn.execute(
                "SELECT data, sender_ms, recorded, start_ns, rowid FROM exchanges "
                f"WHERE recorded > ?{flow_clause} ORDER BY recorded LIMIT ?",
                [cursor, *flow_args, -1 if limit is None else limit],
            ).fetchall()
            out = []
            for data, ms, _, start_ns, rowid in rows:
                (seq,) = self._conn.execute(
                    "SELECT COUNT(*) FROM exchanges WHERE recorded IS NOT NULL"
                    f"{flow_clause} AND (start_ns, rowid) <= (?, ?)",
                    [*flow_args, start_ns, rowid],
                ).fetchone()
                out.append((seq, {**_unpack(data), "sender_ms": ms}))
        out.sort(key=lambda pair: pair[0])
        return (rows[-1][2] if rows else cursor), out

    def set_flow_options(self, flow: str, options: dict[str, Any]) -> None:
        """Per-flow settings every party can read, e.g. the one defence switched off for
        this run only (`--insecure`), so concurrent runs never affect each other."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO flow_options (flow, options) VALUES (?, ?)",
                (flow, json.dumps(options)),
            )
            self._changed()

    def _cached_options(self, flow: str) -> dict[str, Any]:
        """A flow's options as kept in memory until the store's version moves (not a copy:
        callers never change it)."""
        return self._options_kept.get(flow, self._read_options)

    def _read_options(self, flow: str) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT options FROM flow_options WHERE flow = ?", (flow,)
        ).fetchone()
        return json.loads(row[0]) if row else {}

    def flow_options(self, flow: str | None) -> dict[str, Any]:
        """A flow's options (a copy). Pause mode asks on every request of a browser, so the
        answer is kept until the store's version moves (see the module docstring)."""
        return dict(self._cached_options(flow)) if flow else {}

    def flow_option(self, flow: str, key: str, default: Any = None) -> Any:
        """One of a flow's options (what pause mode asks on every request of a browser)."""
        return self._cached_options(flow).get(key, default)

    def clear(self) -> None:
        """Forget every exchange, journal lines not yet read in included. Record numbers go
        on from where they were, so a reader following with `after` misses nothing recorded
        after the clear."""
        with self._lock:

            def forget() -> tuple[int | None, int]:
                seen = self._seen
                if self._journal is not None:
                    seen = self._read_in()  # their numbers count, then they go too
                (last,) = self._conn.execute(f"SELECT {_LAST_RECORDED} FROM exchanges").fetchone()
                for table in ("exchanges", "flow_options", "links", "log", "flows"):
                    self._conn.execute(f"DELETE FROM {table}")
                self._conn.execute(
                    "DELETE FROM meta WHERE key NOT IN "
                    "('journal_gen', 'journal_offset', 'links_cleared')"
                )
                self._conn.execute(_LINKS_CLEARED)
                self._conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('recorded_base', ?)", (last,)
                )
                return seen

            with self._senders_lock:
                self._senders = []
            self._seen = self._transaction(forget)
            self._known_flows.clear()
            self._changed()

    def close(self) -> None:
        with self._lock:
            try:
                self._ingest()
            except (sqlite3.Error, OSError):
                pass
            self._conn.close()
            if self._journal is not None:
                self._journal.close()
            self._counter.close()

    # -- live mode -------------------------------------------------------------------
    def link(self, value: str, flow: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO links (value, flow) VALUES (?, ?)", (value, flow)
            )
            self._changed()

    def linked(self, value: str) -> str | None:
        """The flow `value` is linked to, from this process's copy of the links table.

        The copy is brought up to date (the journal read in, then the links added since)
        only if the store's version moved since it last was: a link is appended with the
        record that makes it and moves the version before that record's answer is sent, and
        dropping or clearing links moves it too, so an unmoved version means the copy is
        the table. (A look-up in SQLite, and before that a read-in, on every token request
        of a browser was what a simulation paid per flow for having served logins.)"""
        if self._version() != self._links_read_at:
            with self._lock:
                self._read_in_links()
        return self._links.get(value)

    def _read_in_links(self) -> int:
        """Read the journal in and bring the copy of the links up to date if the version
        moved since the last time links were asked about (the caller holds the lock); the
        version the answer will be good for."""
        version = self._version()  # before reading in: a later move is seen next time
        if version != self._links_read_at:
            self._ingest()
            self._copy_links()
            self._links_read_at = version
        return version

    def _copy_links(self) -> None:
        """Bring this process's copy of the links up to date with the table (the caller
        holds the lock): forget the values of flows dropped since, then add the links made
        since (ids only grow: AUTOINCREMENT), so the work is the change, not the table. After
        a clear, or when further behind than the dropped flows kept, copy the table whole."""
        conn = self._conn
        (cleared,) = conn.execute(
            "SELECT COALESCE((SELECT value FROM meta WHERE key = 'links_cleared'), 0)"
        ).fetchone()
        dropped = conn.execute(
            "SELECT id, flow FROM dropped_links WHERE id > ? ORDER BY id", (self._dropped_id,)
        ).fetchall()
        if cleared != self._links_cleared or (dropped and dropped[0][0] != self._dropped_id + 1):
            self._links, self._flow_links, self._links_id = {}, {}, 0
            self._links_cleared = cleared
        for self._dropped_id, flow in dropped:
            for value in self._flow_links.pop(flow, ()):
                if self._links.get(value) == flow:
                    del self._links[value]
        rows = conn.execute(
            "SELECT id, value, flow FROM links WHERE id > ? ORDER BY id", (self._links_id,)
        ).fetchall()
        for self._links_id, value, flow in rows:
            self._links[value] = flow
            self._flow_links.setdefault(flow, []).append(value)

    def has_links(self) -> bool:
        """Whether any value is linked to a flow: until a browser starts a flow none is, and
        a request outside every flow need not be parsed for values to look up (live.resolve).
        Once true it stays true (a stale yes costs only a look-up that finds nothing); a no is
        kept until the store's version moves."""
        cached = self._links_cache
        if cached[1] or cached[0] == self._version():
            return cached[1]
        with self._lock:
            version = self._read_in_links()
            if self._links_cache[0] != version:
                row = self._conn.execute("SELECT 1 FROM links LIMIT 1").fetchone()
                self._links_cache = (version, row is not None)
            return self._links_cache[1]

    def changes(self, after: int, timeout: float = 0.0) -> tuple[int, list[str]]:
        """Exchanges recorded after cursor `after`: (new cursor, their flows in order).
        Waits up to `timeout` seconds for one (polling: other processes write the file)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._ingest()
                rows = self._conn.execute(
                    "SELECT id, flow FROM log WHERE id > ? ORDER BY id", (after,)
                ).fetchall()
            if rows or time.monotonic() >= deadline:
                break
            time.sleep(0.04)
        if not rows:
            return after, []
        return rows[-1][0], [flow for _, flow in rows]

    def cursor(self) -> int:
        with self._lock:
            self._ingest()
            row = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM log").fetchone()
        return row[0]

    def newest(self, flow: str) -> str | None:
        """The exchange of `flow` recorded last (its response came last)."""
        with self._lock:
            self._ingest()
            row = self._conn.execute(
                "SELECT exchange FROM log WHERE flow = ? ORDER BY id DESC LIMIT 1", (flow,)
            ).fetchone()
        return row[0] if row else None


def _pack(data: dict[str, Any]) -> bytes:
    """A record's data as the journal and the table keep it: `marshal`, about 3x cheaper than
    JSON to write and to read, on the path of every request. Only this interpreter reads it
    back (every process of a simulation runs the same one, and the file lives in the
    simulation's private work folder and goes with it), and it reads back what was written:
    tuples stay tuples, as in threads mode's store, which keeps the records themselves."""
    return marshal.dumps(data)


def _unpack(blob: bytes) -> dict[str, Any]:
    return marshal.loads(blob)


def _line(entry: list[Any]) -> bytes:
    return (json.dumps(entry) + "\n").encode()


_ARITY = {"r": 6, "b": 4, "s": 2}
#: Largest record data a journal line may declare (a longer one is no record: see `_entries`).
MAX_RECORD = INGEST_CHUNK // 2


def _entries(data: bytes) -> tuple[list[list[Any]], int]:
    """The complete entries at the start of `data` (journal bytes from the start of a line),
    as `_apply` takes them, and how many bytes they took. A record's data is the size its
    head declares, any bytes; every other line ends at its first newline. A line that is no
    entry (never written by a store, or a record cut short by a process killed while writing
    it) is skipped to its first newline, rather than stopping every later line from being
    read in; the search for the next line then goes on from there."""
    entries: list[list[Any]] = []
    pos, end = 0, len(data)
    while pos < end:
        newline = data.find(b"\n", pos)
        if newline < 0:
            break  # not all written yet
        tab = data.find(b"\t", pos, newline)  # a head is JSON: it holds no tab or newline
        entry = _entry(data[pos : newline if tab < 0 else tab])
        if entry is not None and entry[0] == "r":
            if tab < 0:
                entry = None
            else:
                stop = tab + 1 + entry[5]
                if stop >= end and entry[5] <= MAX_RECORD:
                    break  # not all written yet
                if stop < end and data[stop] == 10:  # its newline: a whole record
                    entry[5] = data[tab + 1 : stop]
                    entries.append(entry)
                    pos = stop + 1
                    continue
                entry = None
        if entry is not None:
            entries.append(entry)
        pos = newline + 1
    return entries, pos


def _entry(head: bytes) -> list[Any] | None:
    """A journal line's head as an entry, or None if it is none (a record's data is added by
    `_entries`)."""
    try:
        entry = json.loads(head)
        if not isinstance(entry, list) or _ARITY.get(entry[0]) != len(entry):
            return None
        if entry[0] == "r":
            size = entry[5]
            if not isinstance(entry[4], list) or type(size) is not int or size < 0:
                return None
        elif entry[0] == "s" and not all(isinstance(p, list) and len(p) == 2 for p in entry[1]):
            return None
    except (ValueError, IndexError, TypeError, UnicodeDecodeError):
        return None
    return entry


class MemoryTraceStore:
    """The same store for threads mode, kept in this process's memory: no SQL and no JSON
    on the request path, which is most of what tracing costs per exchange. Rows are indexed
    by flow, so a flow's reads do not slow down as other flows accumulate.

    A row (an exchange's flow, start, number, sender's timing) holds only text and numbers,
    and its record is kept apart (`_data`): the garbage collector does not track such a row,
    nor what the middleware saw (`Seen`), so thousands of kept exchanges neither lengthen
    nor bring forward its full collections."""

    #: What the tracing middleware saw is kept as it is (`Seen`), its record made when read.
    keeps_seen = True

    def __init__(self, live: bool = False, max_flows: int = MAX_FLOWS) -> None:
        self.path = ":memory:"
        self.live = live
        self.max_flows = max_flows
        self._dropped = 0
        # Held as the lock itself on every path: the Condition's own `with` costs a Python
        # call in and out, ~46 per happy path.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        #: Readers waiting on `_changed` (a record wakes them; with none, it need not try).
        self._waiting = 0
        self._links: dict[str, str] = {}
        self._log: list[str] = []
        self._newest: dict[str, str] = {}
        self._log_start = 0
        self._rows: dict[str, dict[str, Any]] = {}
        #: Each complete exchange's record, or what the middleware saw of it (`Seen`).
        self._data: dict[str, dict[str, Any] | Seen] = {}
        self._by_flow: dict[str, list[dict[str, Any]]] = {}
        self._options: dict[str, dict[str, Any]] = {}
        #: Records written so far: each record's `recorded` number (see `TraceStore.after`).
        self._recorded_count = 0

    def _row(self, exchange: str, flow: str | None = None) -> dict[str, Any]:
        row = self._rows.get(exchange)
        if row is None:
            row = {"exchange": exchange, "flow": None, "start_ns": 0, "recorded": None}
            row["sender_ms"] = None
            self._rows[exchange] = row
        if flow is not None and row["flow"] is None:
            if flow not in self._by_flow and len(self._by_flow) >= self.max_flows:
                self._drop_oldest(len(self._by_flow) - self.max_flows + 1)
            row["flow"] = flow
            self._by_flow.setdefault(flow, []).append(row)
        return row

    def _drop_oldest(self, count: int) -> None:
        """Forget the `count` flows seen first (dicts keep insertion order)."""
        for old in list(self._by_flow)[:count]:
            for row in self._by_flow.pop(old):
                self._rows.pop(row["exchange"], None)
                self._data.pop(row["exchange"], None)
            self._options.pop(old, None)
            self._newest.pop(old, None)
            for value in [v for v, f in self._links.items() if f == old]:
                del self._links[value]
            self._dropped += 1

    def dropped_flows(self) -> int:
        """How many of the oldest flows were dropped to keep the store bounded."""
        return self._dropped

    def begin(self, exchange: str, flow: str, start_ns: int) -> None:
        with self._lock:
            self._row(exchange, flow)["start_ns"] = start_ns

    def record(
        self,
        exchange: str,
        flow: str,
        start_ns: int,
        data: dict[str, Any] | Seen,
        links: tuple[str, ...] = (),
    ) -> None:
        """What the middleware saw (`Seen`) is kept as it is, and made into its record
        when first read (`_made`): a run whose trace nobody reads does not pay for it."""
        if type(data) is not Seen:
            data = cut_record(data)
        with self._lock:
            row = self._row(exchange, flow)
            self._recorded_count += 1
            row["start_ns"], row["recorded"] = start_ns, self._recorded_count
            self._data[exchange] = data
            for value in links:
                self._links[value] = flow
            if self.live:
                self._log.append(flow)
                self._newest[flow] = exchange
                if len(self._log) > 200 * self.max_flows:  # keep the feed bounded too
                    half = len(self._log) // 2
                    del self._log[:half]
                    self._log_start += half
            if self._waiting:
                self._changed.notify_all()

    def record_sender(self, exchange: str, duration_ms: float) -> None:
        with self._lock:
            self._row(exchange)["sender_ms"] = duration_ms

    def _with_data(self, rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
        """Each row with its data (the caller holds the lock)."""
        return [(row, self._data[row["exchange"]]) for row in rows]

    def _made(self, row: dict[str, Any], data: dict[str, Any] | Seen) -> dict[str, Any]:
        """A row and its data as a record: made from what the middleware saw, the first
        time it is read (two readers at once make the same record; either copy is kept)."""
        if type(data) is Seen:
            made = cut_record(record_of(data))
            with self._lock:  # not if the flow was dropped meanwhile: it would stay for ever
                if self._data.get(row["exchange"]) is data:
                    self._data[row["exchange"]] = made
            data = made
        return {**data, "sender_ms": row["sender_ms"]}

    def records(self, flow: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            pairs = self._with_data(self._complete(flow))
        return [self._made(row, data) for row, data in pairs]

    def snapshot(self, flow: str) -> Callable[[], list[dict[str, Any]]]:
        """The flow's records as they are now, made when called: a run whose trace is never
        read does not make them. The rows are held, so a flow dropped from the store later
        (`max_flows`) still reads whole; a sender's timing that lands later is included."""
        with self._lock:
            pairs = self._with_data(self._complete(flow))
        return lambda: [self._made(row, data) for row, data in pairs]

    def has_flow(self, flow: str) -> bool:
        with self._lock:
            return any(r["recorded"] is not None for r in self._by_flow.get(flow, ()))

    # -- reading in pieces: the same as `TraceStore`'s ----------------------------------------
    def last_recorded(self) -> int:
        with self._lock:
            return self._recorded_count

    def _complete(self, flow: str | None) -> list[dict[str, Any]]:
        """Complete rows (of `flow`) in start order (the caller holds the lock)."""
        source = self._rows.values() if flow is None else self._by_flow.get(flow, [])
        return sorted((r for r in source if r["recorded"] is not None), key=lambda r: r["start_ns"])

    def batches(
        self, flow: str | None, upto: int, size: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        with self._lock:
            pairs = self._with_data([r for r in self._complete(flow) if r["recorded"] <= upto])
        for start in range(0, len(pairs), size):
            yield [self._made(row, data) for row, data in pairs[start : start + size]]

    def after(
        self, cursor: int, flow: str | None = None, limit: int | None = None
    ) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
        with self._lock:
            rows = self._complete(flow)
            new = sorted(
                ((seq, r) for seq, r in enumerate(rows, 1) if r["recorded"] > cursor),
                key=lambda pair: pair[1]["recorded"],
            )[:limit]
            out = [(seq, self._made(r, self._data[r["exchange"]])) for seq, r in new]
        out.sort(key=lambda pair: pair[0])
        return (new[-1][1]["recorded"] if new else cursor), out

    def flows(self) -> list[str]:
        with self._lock:
            first = {
                flow: min(r["start_ns"] for r in rows)
                for flow, rows in self._by_flow.items()
                if any(r["recorded"] is not None for r in rows)
            }
        return sorted(first, key=first.__getitem__)

    def _pending(self, flow: str) -> int:
        return sum(1 for r in self._by_flow.get(flow, ()) if r["recorded"] is None)

    def pending(self, flow: str) -> int:
        with self._lock:
            return self._pending(flow)

    def wait_settled(self, flow: str, timeout: float = 5.0) -> None:
        with self._lock:
            self._wait_for(lambda: not self._pending(flow), timeout)

    def _wait_for(self, predicate, timeout: float) -> None:
        """`_changed.wait_for`, counted in `_waiting` (the caller holds the lock)."""
        self._waiting += 1
        try:
            self._changed.wait_for(predicate, timeout)
        finally:
            self._waiting -= 1

    def set_flow_options(self, flow: str, options: dict[str, Any]) -> None:
        with self._lock:
            self._options[flow] = dict(options)

    def flow_options(self, flow: str | None) -> dict[str, Any]:
        return self._options.get(flow, {}) if flow else {}

    def flow_option(self, flow: str, key: str, default: Any = None) -> Any:
        return self._options.get(flow, {}).get(key, default)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._data.clear()
            self._by_flow.clear()
            self._options.clear()
            self._links.clear()
            self._log_start += len(self._log)
            self._log.clear()
            self._newest.clear()
            self._dropped = 0

    def close(self) -> None:
        self.clear()

    # -- live mode -------------------------------------------------------------------
    def link(self, value: str, flow: str) -> None:
        with self._lock:
            self._links[value] = flow

    def linked(self, value: str) -> str | None:
        return self._links.get(value)

    def has_links(self) -> bool:
        return bool(self._links)

    def cursor(self) -> int:
        with self._lock:
            return self._log_start + len(self._log)

    def newest(self, flow: str) -> str | None:
        """The exchange of `flow` recorded last (its response came last)."""
        return self._newest.get(flow)

    def changes(self, after: int, timeout: float = 0.0) -> tuple[int, list[str]]:
        """Exchanges recorded after cursor `after`: (new cursor, their flows in order),
        waiting up to `timeout` seconds for one."""
        with self._lock:
            end = lambda: self._log_start + len(self._log)  # noqa: E731
            if end() <= after and timeout > 0:
                self._wait_for(lambda: end() > after, timeout)
            start = max(after - self._log_start, 0)
            return end(), self._log[start:]
