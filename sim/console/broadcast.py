"""The console's event stream: one poller per console process, fanning the trace store's
changes out to every open `GET /api/stream`, each change sent with what the page draws.

Why one poller: each open console tab used to look at the store's change feed every 40 ms
in a thread of its own (in process mode a SQLite query each time, ~3 ms of CPU per second
per tab, idle or not), so a class with the console open on 30 screens paid 30 times for
the same answer. Now one thread looks, and the streams wait on it.

Why the data rides along: at each change every tab asked for the flow list and for the
changed flow, two HTTP requests per tab per change (~1 ms of console CPU each before any
work), and a third for the newest step's inspection when following. Each message is now
built and encoded once, for every tab, as JSON with:

- `flows`: the flows that changed, in order (what the stream always said);
- `summaries`: their entries in the flow list, as `GET /api/flows` gives them;
- `steps`: for each of them `order` (its exchanges in start order), `new` (the steps not
  carried by an earlier message, by exchange, outlined: without `seq`, which a reader
  numbers from `order`, nor the explanation, which comes with a step's inspection),
  `newest` (the exchange recorded last) and, for the flow a following page shows (the
  newest flow not just browsing), `detail`: its newest step inspected as
  `GET /api/flows/<flow>/steps/<seq>` answers. Only the steps a page shows are explained
  and inspected: the rules cost ~0.15 ms a step, an inspection ~0.5 ms; a page shown
  another flow's newest step asks for it;
- `list`: every flow id newest first, only when the set of flows changed.

A reader that lacks something (it connected mid-flow, or lagged behind the messages kept
here and got a catch-up message naming the `flows` only) asks the JSON API, as before.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from sim.console import flows as F

#: How long a stream waits for a change before sending a keep-alive comment.
KEEPALIVE = 5.0
#: The longest one look at the store waits, so the poller soon notices the last stream gone.
POLL = 1.0
#: Messages kept for streams that have not sent them yet; one further behind catches up.
KEPT = 256
#: After the poller failed (a closed store), how long before a stream starts it again.
RETRY = 1.0
#: The shortest time between two messages: changes during it wait for the next message.
#: A change after a quiet spell still goes out at the store's next look (~40 ms); a burst
#: (a scripted login records 15 exchanges in ~25 ms) is drawn ten times a second, not at
#: every look, and each message's fixed work (reading the changed flows, their summaries,
#: the newest step's inspection, encoding) is done once for the changes of 100 ms.
GAP = 0.1


class Broadcast:
    """One store's changes, polled by one thread while any stream is open."""

    def __init__(self, store: Any, issuer: str = "") -> None:
        self.store, self.issuer = store, issuer
        self._cond = threading.Condition()
        #: (since, cursor, frame): each message covers the changes in (since, cursor].
        self._messages: deque[tuple[int, int, str]] = deque(maxlen=KEPT)
        self._cursor = 0
        self._streams = 0
        self._thread: threading.Thread | None = None
        self._failed_at = -RETRY
        # What the messages already carried (the poller thread's own).
        self._list: set[str] | None = None
        self._sent: dict[str, dict[str, F.Key]] = {}
        self._followed = ""

    # -- the streams' side -------------------------------------------------------------------
    def stream(self, cursor: int) -> Iterator[str]:
        """The frames of one stream from `cursor` on: messages, or keep-alive comments."""
        with self._cond:
            self._streams += 1
        try:
            yield "retry: 1000\n\n"
            while True:
                frames, cursor = self._next(cursor)
                yield "".join(frames) if frames else ": keep-alive\n\n"
        finally:
            with self._cond:
                self._streams -= 1

    def _next(self, cursor: int) -> tuple[list[str], int]:
        deadline = time.monotonic() + KEEPALIVE
        with self._cond:
            while True:
                self._ensure_polling()
                base = self._messages[0][0] if self._messages else self._cursor
                if cursor < base:
                    break  # changes this stream missed are older than the kept messages
                frames = [frame for _, upto, frame in self._messages if upto > cursor]
                if frames:
                    return frames, self._messages[-1][1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return [], cursor
                self._cond.wait(remaining)
        # Catching up: the flows only, so the reader asks for them; then the kept messages.
        upto, changed = self.store.changes(cursor)
        if not changed:
            return [], max(cursor, base)
        return [frame(upto, {"flows": list(dict.fromkeys(changed)), "cursor": upto})], upto

    def _ensure_polling(self) -> None:
        """Start the poller (the caller holds the condition) unless it runs or just failed."""
        if self._thread is not None or time.monotonic() - self._failed_at < RETRY:
            return
        try:
            self._cursor = self.store.cursor()
        except Exception:  # noqa: BLE001 - a closed store: streams keep alive, try later
            self._failed_at = time.monotonic()
            return
        self._messages.clear()
        self._list, self._sent = None, {}
        self._thread = threading.Thread(target=self._poll, name="console-stream", daemon=True)
        self._thread.start()

    # -- the poller --------------------------------------------------------------------------
    def _poll(self) -> None:
        sent = -GAP
        try:
            while True:
                with self._cond:
                    if not self._streams:
                        self._thread = None
                        return
                    since = self._cursor
                wait = sent + GAP - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                upto, changed = self.store.changes(since, timeout=POLL)
                with self._cond:
                    if not changed or not self._streams:
                        continue  # (the last stream closed while we waited: none to build for)
                sent = time.monotonic()
                text = frame(upto, self.message(upto, changed))
                with self._cond:
                    self._messages.append((since, upto, text))
                    self._cursor = upto
                    self._cond.notify_all()
        except Exception:  # noqa: BLE001 - e.g. a store closed under us: streams keep alive
            with self._cond:
                self._thread = None
                self._failed_at = time.monotonic()

    def message(self, cursor: int, changed: list[str]) -> dict[str, Any]:
        """The message for the changes up to `cursor` (see the module docstring)."""
        flows = list(dict.fromkeys(changed))
        out: dict[str, Any] = {"flows": flows, "cursor": cursor}
        if self._list is None or not self._list.issuperset(flows):
            listing = self.store.flows()
            self._list = set(listing)
            self._sent = {f: sent for f, sent in self._sent.items() if f in self._list}
            out["list"] = listing[::-1]
            # The flow a following page shows (console.js: the newest not just browsing).
            self._followed = next(
                (f for f in reversed(listing) if f != F.DEFAULT_FLOW),
                listing[-1] if listing else "",
            )
        summaries, steps = [], {}
        for flow in flows:
            newest = self.store.newest(flow) or ""  # before the records: it is among them
            records = self.store.records(flow)
            if not records:
                continue  # dropped or cleared since
            summaries.append(F.summary_of(flow, records))
            outlined = F.outlined(flow, records)
            if not all(key[0] for key, _ in outlined):
                continue  # a record without an exchange id: only the API can number it
            sent = self._sent.setdefault(flow, {})
            new = {}
            for key, step in outlined:
                if sent.get(key[0]) != key:
                    sent[key[0]] = key
                    new[key[0]] = step
            order = [key[0] for key, _ in outlined]
            steps[flow] = {"order": order, "new": new, "newest": newest}
            if newest in order and flow == self._followed:  # what a following page shows
                steps[flow]["detail"] = F.detail(flow, records, order.index(newest), self.issuer)
        out["summaries"], out["steps"] = summaries, steps
        return out


def frame(cursor: int, data: dict[str, Any]) -> str:
    """One server-sent event: its id is the cursor a reconnecting page resumes from."""
    return f"id: {cursor}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


_LOCK = threading.Lock()


def of(app: Any, store: Any) -> Broadcast:
    """The console app's one broadcast of `store` (made at the first stream)."""
    with _LOCK:
        broadcast = app.extensions.get("console_broadcast")
        if broadcast is None or broadcast.store is not store:
            issuer = app.config["URLS"].get("authorization-server", "")
            broadcast = app.extensions["console_broadcast"] = Broadcast(store, issuer)
        return broadcast
