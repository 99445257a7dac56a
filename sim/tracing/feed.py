"""The live trace as JSON, for `GET <client>/trace`: whole, or the part after a cursor.

A whole read (no `after`) is streamed: the answer is written event by event from batches of
store records, so the server holds one batch at a time, never the whole trace with every
header and body (5,900 events once cost the client app ~90 MB at the peak). Its shape is the
contract's, `{"flow", "flows", "events": [...]}`, plus `cursor`: the number of the newest
record it includes (records written while it streams are left for the next read).

A read with `after=N` (and optionally `limit`) answers `{"flow", "after", "cursor",
"events"}`: only the events recorded after N, at most `limit` of them, each with its `seq`
in the whole (or the flow's) trace; `cursor` is where the next read starts. This is what
`oauth-sim trace --follow` polls, so following a class costs only what is new.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sim.tracing.events import Event

#: Records read from the store at a time by a whole read (a few hundred KB of text: larger
#: pieces measurably raised the client's resident memory after each read).
BATCH = 25


def _dropped(store: Any) -> dict[str, Any]:
    """The store's one note that its oldest flows were dropped (said once, not per event)."""
    dropped = store.dropped_flows()
    if not dropped:
        return {}
    return {
        "dropped_flows": dropped,
        "note": f"The {dropped} oldest flows were dropped to keep the trace bounded.",
    }


def whole(store: Any, flow: str | None) -> Iterator[str]:
    """The whole trace (or one flow's) as JSON text, in pieces."""
    upto = store.last_recorded()
    head = {"flow": flow, "flows": store.flows(), "cursor": upto, **_dropped(store)}
    yield json.dumps(head)[:-1] + ', "events": ['
    seq = 0
    for batch in store.batches(flow, upto, BATCH):
        pieces = []
        for record in batch:
            seq += 1
            pieces.append(json.dumps(Event.from_record(seq, record).to_dict(detail=True)))
        yield ("," if seq > len(batch) else "") + ",".join(pieces)
    yield "]}"


def after(store: Any, flow: str | None, cursor: int, limit: int | None) -> dict[str, Any]:
    """The events recorded after `cursor` (see the module docstring)."""
    new_cursor, records = store.after(cursor, flow, limit)
    return {
        "flow": flow,
        "after": cursor,
        "cursor": new_cursor,
        "events": [Event.from_record(seq, r).to_dict(detail=True) for seq, r in records],
        **_dropped(store),
    }
