"""The console's view of the trace store: flows named by user and client, and each flow's
steps with their explanation, RFC reference and what to point at.

The console only reads the store (as `GET <client>/trace` does); it never takes part in a
flow, so nothing here sends a request to a party.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sim.console.glossary import PARAMETERS
from sim.console.inspect import inspect_step
from sim.teaching import citations
from sim.teaching.explain import annotate
from sim.tracing import Event, Trace, build_trace
from sim.tracing.live import DEFAULT_FLOW, valid_flow_id
from sim.tracing.values import record_values

#: Parameters worth pointing at on the projector, when a step carries them.
POINT_AT = (
    "state",
    "code_challenge",
    "code",
    "iss",
    "code_verifier",
    "client_secret",
    "access_token",
    "refresh_token",
    "redirect_uri",
)


class BadRequest(ValueError):
    """Input the console refuses with a 4xx (the message is safe to show)."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def check_flow(store: Any, flow: str) -> str:
    if not valid_flow_id(flow):
        raise BadRequest("malformed flow id")
    if not store.has_flow(flow):  # one index lookup, not every flow of the trace
        raise BadRequest("no flow has this id", 404, "unknown_flow")
    return flow


def flow_trace(store: Any, flow: str) -> Trace:
    return build_trace(store.records(flow), flow, annotate)


def _user_and_client(records: list[dict[str, Any]]) -> tuple[str, str]:
    user = client = ""
    for record in records:
        for name, value in () if client else record_values(record):
            if name == "client_id" and not client:
                client = value
        if (
            not user
            and record.get("method") == "POST"
            and "username=" in record.get("request_body", "")
        ):
            from urllib.parse import parse_qs  # noqa: PLC0415

            user = parse_qs(record["request_body"]).get("username", [""])[0]
        if not user and record.get("kind") == "api-call":
            try:
                body = json.loads(record.get("response_body") or "{}")
            except ValueError:
                body = {}
            if isinstance(body, dict) and isinstance(body.get("username"), str):
                user = body["username"]
    return user, client


class _SummaryCache:
    """Each flow's summary, kept until the store's change feed names the flow again.

    The page asks for the flow list at every stream event; reading every record of every
    flow each time cost the console ~0.2 ms per flow per event, growing with the class's
    trace. Only flows the feed (live mode's `changes`) names since the last look are read
    again; flows gone from `flows()` (clear, pruning) drop out. Without a live feed
    (nothing would name a changed flow) every flow is read each time, as before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: Any = None
        self._cursor = 0
        self._by_flow: dict[str, dict[str, Any]] = {}

    def summaries(self, store: Any) -> list[dict[str, Any]]:
        if not getattr(store, "live", False):
            return [summary_of(flow, store.records(flow)) for flow in reversed(store.flows())]
        with self._lock:
            if store is not self._store:
                self._store, self._cursor, self._by_flow = store, store.cursor(), {}
            else:
                cursor, changed = store.changes(self._cursor)
                if len(changed) != cursor - self._cursor:  # the feed dropped lines: start over
                    self._by_flow = {}
                for flow in changed:
                    self._by_flow.pop(flow, None)
                self._cursor = cursor
            flows = store.flows()
            self._by_flow = {f: self._by_flow[f] for f in flows if f in self._by_flow}
            for flow in flows:
                if flow not in self._by_flow:
                    self._by_flow[flow] = summary_of(flow, store.records(flow))
            return [self._by_flow[flow] for flow in reversed(flows)]


def summary_of(flow: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """The flow's entry in the flow list, from its records in start order."""
    user, client = _user_and_client(records)
    kind = flow.rsplit("-", 1)[0] if flow != DEFAULT_FLOW else "browsing"
    label = " · ".join(x for x in (user or "someone", client or kind) if x)
    return {
        "id": flow,
        "label": f"{label} ({kind})",
        "user": user or None,
        "client": client or None,
        "kind": kind,
        "events": len(records),
        "started": records[0]["time"] if records else None,
    }


_SUMMARIES = _SummaryCache()


def summaries(store: Any) -> list[dict[str, Any]]:
    """Every flow, newest first, named by its user and client where the trace shows them."""
    return _SUMMARIES.summaries(store)


def step(event: Event) -> dict[str, Any]:
    """One step as the console lists it: the contract's fields, its path, what to point at."""
    data = outline(event)
    # "RFC 7636 §4.5 Client Sends the Authorization Code and …": sections with their titles.
    data["rfc_cited"] = citations.cite_safely(event.rfc) or None
    return data


def outline(event: Event) -> dict[str, Any]:
    """A step without its explanation (`note`, `rfc`, `rfc_cited`): what the diagram and the
    message list draw. The explanation rules are most of what a step costs, and a page
    shows only the selected step's note (it comes with that step's inspection)."""
    data = event.to_dict()
    data["path"] = event.path
    data["exchange"] = event.exchange
    # Which credential travels in the Authorization header (the scheme only, never the value).
    authorization = event.request_headers.get("Authorization", "")
    data["auth"] = authorization.split(" ", 1)[0] if " " in authorization else None
    seen = {name for name, _ in event.values}
    data["point_at"] = [
        {"name": name, "text": f"{name}: {PARAMETERS[name][0]}", "rfc": PARAMETERS[name][1]}
        for name in POINT_AT
        if name in seen
    ]
    return data


#: Steps already explained, by exchange: a complete record never changes (its sender's
#: timing, which a step does not show, aside), so the page's fetch at every stream event
#: explains only the exchanges it has not seen; `seq` is set per fetch (an exchange
#: recorded late can start earlier and move the others down).
Key = tuple[str, Any, Any]
_STEPS: dict[Key, dict[str, Any]] = {}
_STEPS_MAX = 20_000


def explained(flow: str, records: list[dict[str, Any]]) -> list[tuple[Key, dict[str, Any]]]:
    """Each record's step, with the key it is kept under, in the records' order. A step's
    `seq` is not its own (an exchange recorded late can start earlier and move the others
    down): readers number the list."""
    keys = [(r.get("exchange") or "", r.get("time"), r.get("status")) for r in records]
    steps = [_STEPS.get(key) if key[0] else None for key in keys]
    missing = [i for i, cached in enumerate(steps) if cached is None]
    if missing:
        fresh = build_trace([records[i] for i in missing], flow, annotate).events
        if len(_STEPS) + len(missing) > _STEPS_MAX:
            _STEPS.clear()
        for i, event in zip(missing, fresh, strict=True):
            steps[i] = step(event)
            if keys[i][0]:
                _STEPS[keys[i]] = steps[i]
    return list(zip(keys, steps, strict=True))  # type: ignore[arg-type]


def flow_steps(store: Any, flow: str) -> dict[str, Any]:
    records = store.records(flow)
    events = [{**data, "seq": seq} for seq, (_, data) in enumerate(explained(flow, records), 1)]
    return {"flow": flow, "newest": store.newest(flow) or "", "events": events}


#: Steps outlined (`outline`), by exchange, as `_STEPS`.
_OUTLINES: dict[Key, dict[str, Any]] = {}


def outlined(flow: str, records: list[dict[str, Any]]) -> list[tuple[Key, dict[str, Any]]]:
    """Each record's step outlined (not explained), as `explained` gives them."""
    keys = [(r.get("exchange") or "", r.get("time"), r.get("status")) for r in records]
    steps = [_OUTLINES.get(key) if key[0] else None for key in keys]
    missing = [i for i, kept in enumerate(steps) if kept is None]
    if missing:
        fresh = build_trace([records[i] for i in missing], flow).events
        if len(_OUTLINES) + len(missing) > _STEPS_MAX:
            _OUTLINES.clear()
        for i, event in zip(missing, fresh, strict=True):
            data = outline(event)
            for name in ("note", "rfc", "seq"):
                del data[name]
            steps[i] = data
            if keys[i][0]:
                _OUTLINES[keys[i]] = data
    return list(zip(keys, steps, strict=True))  # type: ignore[arg-type]


def record_index(store: Any, flow: str, seq: str) -> tuple[list[dict[str, Any]], int]:
    """The flow's records and the index of step `seq` among them (checked)."""
    if not seq.isdigit() or len(seq) > 6:
        raise BadRequest("malformed step number")
    records = store.records(check_flow(store, flow))
    index = int(seq) - 1
    if not 0 <= index < len(records):
        raise BadRequest("no such step in this flow", 404, "unknown_step")
    return records, index


#: Inspected steps by exchange (as `explained` keys them): a page following the newest
#: flow inspects each new step as it arrives, on every open screen, and a recorded
#: exchange does not change; one inspection serves them all (and the stream's messages).
_DETAILS: dict[Key, dict[str, Any]] = {}
_DETAILS_MAX = 2_000


def detail(flow: str, records: list[dict[str, Any]], index: int, issuer: str) -> dict[str, Any]:
    """Step `index + 1` of the flow inspected (`sim.console.inspect`), explained from the
    kept steps: the trace itself is not annotated, only this step needs its note."""
    record = records[index]
    key = (record.get("exchange") or "", record.get("time"), record.get("status"))
    kept = _DETAILS.get(key) if key[0] else None
    if kept is None:
        # The trace's events are made only if read (a token request's PKCE check reads the
        # flow's challenge): this step's event is made alone, as the trace would number it.
        trace = build_trace(records, flow)
        note = explained(flow, [record])[0][1]
        event = replace(Event.from_record(index + 1, record), note=note["note"], rfc=note["rfc"])
        kept, complete = inspect_step(trace, event, issuer)
        kept["rfc_cited"] = note["rfc_cited"]  # the step's explanation, as its list entry has it
        if key[0] and complete:
            if len(_DETAILS) >= _DETAILS_MAX:
                _DETAILS.clear()
            _DETAILS[key] = kept
    return {**kept, "seq": index + 1}


def path_of(url: str) -> str:
    return urlsplit(url).path
