"""The console's view of the trace store: flows named by user and client, and each flow's
steps with their explanation, RFC reference and what to point at.

The console only reads the store (as `GET <client>/trace` does); it never takes part in a
flow, so nothing here sends a request to a party.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sim.console.glossary import PARAMETERS
from sim.teaching import citations
from sim.teaching.explain import annotate
from sim.tracing import Event, Trace, build_trace
from sim.tracing.live import DEFAULT_FLOW, valid_flow_id

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
    if flow not in store.flows():
        raise BadRequest("no flow has this id", 404, "unknown_flow")
    return flow


def flow_trace(store: Any, flow: str) -> Trace:
    return build_trace(store.records(flow), flow, annotate)


def _user_and_client(records: list[dict[str, Any]]) -> tuple[str, str]:
    user = client = ""
    for record in records:
        for name, value in record.get("values", ()):
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


def summaries(store: Any) -> list[dict[str, Any]]:
    """Every flow, newest first, named by its user and client where the trace shows them."""
    out = []
    for flow in reversed(store.flows()):
        records = store.records(flow)
        user, client = _user_and_client(records)
        kind = flow.rsplit("-", 1)[0] if flow != DEFAULT_FLOW else "browsing"
        label = " · ".join(x for x in (user or "someone", client or kind) if x)
        out.append(
            {
                "id": flow,
                "label": f"{label} ({kind})",
                "user": user or None,
                "client": client or None,
                "kind": kind,
                "events": len(records),
                "started": records[0]["time"] if records else None,
            }
        )
    return out


def step(event: Event) -> dict[str, Any]:
    """One step as the console lists it: the contract's fields, its path, what to point at."""
    data = event.to_dict()
    data["path"] = event.path
    # "RFC 7636 §4.5 Client Sends the Authorization Code and …": sections with their titles.
    data["rfc_cited"] = citations.cite_safely(event.rfc) or None
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


def flow_steps(store: Any, flow: str) -> dict[str, Any]:
    records = store.records(flow)
    trace = build_trace(records, flow, annotate)
    return {
        "flow": flow,
        "newest": store.newest(flow) or "",
        "events": [step(e) for e in trace.events],
    }


def event_at(store: Any, flow: str, seq: str) -> tuple[Trace, Event]:
    if not seq.isdigit() or len(seq) > 6:
        raise BadRequest("malformed step number")
    trace = flow_trace(store, check_flow(store, flow))
    index = int(seq) - 1
    if not 0 <= index < len(trace.events):
        raise BadRequest("no such step in this flow", 404, "unknown_step")
    return trace, trace.events[index]


def path_of(url: str) -> str:
    return urlsplit(url).path
