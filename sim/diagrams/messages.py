"""Turn each traced exchange into the two arrows a sequence diagram draws, with their text.

One `Event` is a request and its response, so it becomes two `Message`s: the request from
`sender` to `to`, and the response back. Every renderer (Graphviz, Mermaid, PlantUML) draws
from these, so the three formats always say the same thing, line for line.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from sim.diagrams.measure import text_width
from sim.diagrams.params import (
    COMPACT,
    FULL,
    RESPONSE_PARAMS,
    Detail,
    Origins,
    authorization_line,
    body_group,
    challenge_group,
    ellipsize,
    json_group,
    origins,
    short_url,
    url_groups,
)
from sim.diagrams.repeats import compress_repeats
from sim.tracing import Event, Trace
from sim.tracing.names import ATTACKER

#: Widest parameter line, in points at `LABEL_SIZE`; longer groups wrap.
LINE_LIMIT = 250.0
LABEL_SIZE = 12.0
PATH_LIMIT = 40


@dataclass(frozen=True)
class Defence:
    """A defence that acted (`on`) or was switched off on this step."""

    text: str
    on: bool


@dataclass(frozen=True)
class Message:
    """One arrow: a request (solid) or a response (dashed), with its label lines.

    `style` is the event's kind (`redirect`, `page`, `form-post`, `back-channel`,
    `api-call`), or `attacker` when the attacker sends or answers it.
    """

    seq: int
    sender: str
    to: str
    lines: tuple[str, ...]
    style: str
    response: bool
    defence: Defence | None = None


def style_of(event: Event) -> str:
    """The colour family of an exchange: the attacker's red wins over the kind."""
    if ATTACKER in (event.sender, event.to):
        return "attacker"
    return event.kind


def pack(groups: list[tuple[str, str, list[str]]], limit: float = LINE_LIMIT) -> list[str]:
    """Lay `name=value` items out on lines no wider than `limit` points.

    A group is (opener, joiner, items): `?a=1&b=2` for a query, `{a=1, b=2}` for JSON. A
    query line that wraps continues with `&`, as the URL would; a JSON line ends with `,`.
    """
    lines: list[str] = []
    for opener, joiner, items in groups:
        closer = "}" if opener == "{" else ""
        leading = joiner == joiner.strip()  # "&" leads the next item; ", " trails the last
        line = opener + items[0]
        for item in items[1:]:
            candidate = line + joiner + item
            if text_width(candidate + closer, LABEL_SIZE) <= limit:
                line = candidate
            elif leading:
                lines.append(line)
                line = joiner + item
            else:
                lines.append(line + joiner.rstrip())
                line = item
        lines.append(line + closer)
    return lines


def defence_of(event: Event) -> Defence | None:
    """The defence marker of an event: `OFF…` means the scenario switched it off."""
    text = " ".join((event.defence or "").split())
    if not text:
        return None
    if text.upper().startswith("OFF"):
        rest = text[3:].lstrip(" :-–—")
        return Defence(f"⚠ defence off: {rest}" if rest else "⚠ defence off", on=False)
    return Defence(f"✔ defence: {text}", on=True)


def _at_most(lines: list[str], detail: Detail) -> list[str]:
    """The first `detail.max_lines` lines, the last one ending in `…` if any were cut."""
    limit = detail.max_lines
    if limit is None or len(lines) <= limit:
        return lines
    kept = lines[:limit]
    kept[-1] = kept[-1].rstrip(",&") + " …"
    return kept


def request_lines(event: Event, known: Origins, detail: Detail = FULL) -> tuple[str, ...]:
    """`3. GET /authorize`, the credential its Authorization header carries, and the key
    query, fragment and body parameters below it."""
    params = event.params
    path = ellipsize(params.url.path or "/", PATH_LIMIT)
    groups = url_groups(params.url, known, detail=detail)
    if event.method.upper() != "GET":
        groups += body_group(params.body, known, detail)
    header = authorization_line(params.authorization, detail)
    lines = _at_most(pack(groups), detail)
    # The step number is the event's `seq`, the number the step table shows too.
    title = f"{event.seq}. {event.method.upper()} {path}"
    return (title, *filter(None, [header]), *lines)


def response_lines(event: Event, known: Origins, detail: Detail = FULL) -> tuple[str, ...]:
    """`302 Found → /callback` with the redirect's parameters, or the status and body keys."""
    try:
        phrase = HTTPStatus(event.status).phrase
    except ValueError:
        phrase = ""
    head = f"{event.status} {phrase}".strip()
    params = event.params
    if 300 <= event.status < 400 and event.location and params.location is not None:
        target = ellipsize(short_url(event.location, known), PATH_LIMIT)
        lines = pack(url_groups(params.location, known, RESPONSE_PARAMS, detail))
        if lines[:1] in (["?…"], ["#…"]):  # only hidden parameters: keep one line
            return (f"{head} → {target}{lines[0]}", *_at_most(lines[1:], detail))
        return (f"{head} → {target}", *_at_most(lines, detail))
    groups = json_group(params.answer_pairs, known, detail)
    if not params.answered("error"):
        groups += challenge_group(params.challenge)
    return (head, *_at_most(pack(groups), detail))


def nested_in(event: Event, parent: Event) -> bool:
    """True when `event` is a call the answering party made while handling `parent` (the
    client's token request during the browser's GET /callback). The tracer records that
    link; for traces without it (older JSON), fall back to time: sent by `parent`'s
    receiver and started inside `parent`'s time span."""
    if event.parent or parent.exchange:
        return bool(event.parent) and event.parent == parent.exchange
    if event.sender != parent.to or not parent.duration_ms:
        return False
    return parent.time <= event.time <= parent.time + parent.duration_ms / 1000


def messages(trace: Trace, compact: bool = False) -> list[Message]:
    """The request and response arrows of every event, in order. A response is drawn after
    the calls its server made before answering, as a sequence diagram nests them.
    `compact` draws fewer parameter lines with shorter values (for a projector)."""
    known = origins(trace)
    detail = COMPACT if compact else FULL
    out: list[Message] = []
    open_events: list[Event] = []

    def answer(event: Event) -> None:
        out.append(
            Message(
                event.seq,
                event.to,
                event.sender,
                response_lines(event, known, detail),
                style_of(event),
                True,
                defence_of(event),
            )
        )

    for event in trace.events:
        while open_events and not nested_in(event, open_events[-1]):
            answer(open_events.pop())
        out.append(
            Message(
                event.seq,
                event.sender,
                event.to,
                request_lines(event, known, detail),
                style_of(event),
                False,
            )
        )
        open_events.append(event)
    while open_events:
        answer(open_events.pop())
    return compress_repeats(out)  # polling drawn once, "× N"
