"""Reading traces back: a saved `run --json` file, or a running `oauth-sim up`'s /trace."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import requests

from sim.teaching.explain import annotate
from sim.tracing import Event, Trace


class TraceFileError(ValueError):
    """The trace could not be read; the message says why, in one line."""


def _events(data, source: str) -> list[Event]:
    if isinstance(data, dict):
        data = data.get("events")
    if not isinstance(data, list):
        raise TraceFileError(f'{source}: expected an object with an "events" list')
    events = []
    for index, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise TraceFileError(f"{source}: event {index} is not an object")
        try:
            events.append(Event.from_dict(item))
        except ValueError as error:
            raise TraceFileError(f"{source}: event {index}: {error}") from None
    return events


def _annotate_missing(event: Event) -> tuple[str, str | None]:
    """Keep the notes a saved trace carries; write them only where they are missing."""
    return (event.note, event.rfc) if event.note else annotate(event)


def load_trace(path: str) -> Trace:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError) as error:
        raise TraceFileError(f"cannot read {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise TraceFileError(
            f"{path} is not valid JSON (line {error.lineno}): {error.msg}"
        ) from None
    return Trace(_events(data, path), path, _annotate_missing)


def _get(url: str, flow: str | None, **params: int) -> dict:
    """One answer of a running `oauth-sim up`'s GET /trace, as JSON."""
    try:
        response = requests.get(
            url.rstrip("/") + "/trace", params={"flow": flow or "", **params}, timeout=5
        )
    except requests.RequestException:
        raise TraceFileError(f"nothing answers at {url}: is `oauth-sim up` running?") from None
    if response.status_code == 404 and flow:
        raise TraceFileError(f"no flow {flow!r} at {url} (see `oauth-sim trace --url {url}`)")
    if response.status_code != 200:
        raise TraceFileError(f"{url}/trace answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise TraceFileError(f"{url}/trace did not answer JSON") from None
    if not isinstance(data, dict):
        raise TraceFileError(f'{url}/trace: expected an object with an "events" list')
    return data


def _title(url: str, data: dict) -> str:
    # A bounded store says once, at the top, that its oldest flows were dropped: so does
    # the title of what is shown.
    return f"{url} ({data['note']})" if isinstance(data.get("note"), str) else url


def fetch_trace(url: str, flow: str | None = None) -> Trace:
    data = _get(url, flow)
    return Trace(_events(data, url), _title(url, data), _annotate_missing)


#: Most events one poll of `follow_trace` asks for; a full page is followed at once.
FOLLOW_PAGE = 500


def follow_trace(url: str, flow: str | None = None, interval: float = 0.25) -> Iterator[Trace]:
    """The trace now, then each batch of events recorded after it, polling every
    `interval` seconds for only what is new (`?after=` the last cursor; never the whole
    trace again). Events carry their `seq` in the whole (or the flow's) trace. Runs until
    the caller stops; raises TraceFileError when the app stops answering."""
    data = _get(url, flow)
    cursor = data.get("cursor")
    yield Trace(_events(data, url), _title(url, data), _annotate_missing)
    if not isinstance(cursor, int):
        raise TraceFileError(f"{url}/trace gives no cursor to follow from")
    full = False
    while True:
        if not full:
            time.sleep(interval)
        data = _get(url, flow, after=cursor, limit=FOLLOW_PAGE)
        events = _events(data, url)
        full = len(events) >= FOLLOW_PAGE
        if isinstance(data.get("cursor"), int):
            cursor = data["cursor"]
        if events:
            yield Trace(events, _title(url, data), _annotate_missing)
