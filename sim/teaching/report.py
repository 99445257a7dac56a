"""Terminal output: the step table a class reads on the projector, and the side-by-side
summary of an attack with its defence on and off."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from sim.teaching.citations import cite_safely
from sim.tracing import Event, Trace
from sim.tracing.printable import printable

KIND_STYLE = {
    "redirect": "cyan",
    "page": "white",
    "form-post": "yellow",
    "browser-call": "bright_cyan",
    "back-channel": "green",
    "api-call": "magenta",
}
#: A section's title is cut to this many characters beside its number in the step table
#: ("RFC 7636 §4.5 Client Sends the Authorization Code…"): the number is what a reader looks
#: up, the title says what it is about without doubling a step's height on the projector.
TITLE_WIDTH = 34
SHOWN_PARAMS = ("response_type", "grant_type", "code", "state", "code_challenge", "error", "iss")


def short(value: str, width: int = 12) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def request_text(event: Event) -> str:
    params = event.params
    pairs = params.url.query + params.body
    shown = [f"{k}={short(v)}" for k, v in pairs if k in SHOWN_PARAMS and v]
    return printable(event.request_line + (" " + " ".join(shown) if shown else ""))


def response_text(event: Event) -> str:
    location = event.params.location
    if location is None:
        return str(event.status)
    names = SHOWN_PARAMS + ("access_token",)
    shown = [f"{k}={short(v)}" for k, v in location.pairs if k in names and v]
    target = location.path or "/"
    scheme = urlsplit(event.location or "").scheme
    if scheme not in ("", "http", "https"):  # a native app's private-use scheme: show it
        target = f"{scheme}:{target}"
    return printable(f"{event.status} → {target}" + (" " + " ".join(shown) if shown else ""))


#: Narrower than this, the steps are stacked (the explanation under the request line):
#: a five-column table would squeeze the explanation into ~17 characters at 80 columns.
WIDE_TABLE = 110


def _who(event: Event) -> Text:
    who = Text(f"{event.sender}\n→ {event.to}")
    if "attacker" in (event.sender, event.to):
        who.stylize("bold red")
    return who


def _answer(event: Event) -> Text:
    style = "red" if event.status >= 400 else ("cyan" if event.status >= 300 else "")
    return Text(response_text(event), style=style)


def _jwt_lines(event: Event, seen: set[str]) -> list[str]:
    """A JWT's readable claims, the first time that token appears in the trace only."""
    lines = []
    values = dict(event.values)
    for name, decoded in event.jwts.items():
        token = values.get(name, name)
        if token in seen:
            continue
        seen.add(token)
        claims = decoded["claims"]
        shown = ", ".join(
            f"{k}={claims[k]}" for k in ("sub", "client_id", "scope", "aud", "exp") if k in claims
        )
        # The simulator decodes it for the viewer; the client itself must treat an access
        # token as opaque (RFC 9068 §6), only its audience (the resource server) reads it.
        lines.append(
            printable(
                f"{name} is a JWT, decoded here by the simulator (the client treats it as "
                f"opaque, RFC 9068 §6): {shown}"
            )
        )
    return lines


def _explanation(event: Event, explain: bool, seen: set[str]) -> Text:
    """What the step teaches: its note and RFC section (never dimmed: it is the point), the
    secrets it carries, a JWT's claims the first time it appears, the defence that acted."""
    text = Text()

    def line(content: str, style: str = "") -> None:
        if text:
            text.append("\n")
        text.append(content, style=style)

    if explain and event.note:
        line(printable(event.note))
        if event.rfc:
            cited = cite_safely(event.rfc, TITLE_WIDTH)
            text.append(f"  [{printable(cited)}]", style="italic cyan")
    if explain and event.secrets:
        names = ", ".join(sorted({name for name, _ in event.secrets}))
        line(f"🔑 carries secrets: {names}", "bold yellow")
    if explain:
        for jwt_line in _jwt_lines(event, seen):
            line(jwt_line, "green")
    if event.defence:
        line(f"🛡 {printable(event.defence)}", "bold yellow")
    return text


def step_table(trace: Trace, explain: bool = False, title: str | None = None) -> Table:
    """The steps as a five-column table (for 110 columns and more; see `steps`)."""
    table = Table(
        title=title if title is not None else trace.title,
        box=box.SIMPLE_HEAVY,
        show_lines=explain,
        expand=True,
    )
    table.add_column("#", justify="right", style="bold", width=3)
    table.add_column("from → to", no_wrap=True, width=22)
    # A long value is cut with an ellipsis rather than folded: never a token broken in two.
    table.add_column("request", overflow="ellipsis", ratio=3)
    table.add_column("answer", overflow="ellipsis", ratio=2)
    table.add_column("kind", no_wrap=True, width=12)
    seen: set[str] = set()
    for event in trace.events:
        request = Text(request_text(event))
        explanation = _explanation(event, explain, seen)
        if explanation:
            request.append("\n")
            request.append_text(explanation)
        table.add_row(
            str(event.seq),
            _who(event),
            request,
            _answer(event),
            Text(event.kind, style=KIND_STYLE.get(event.kind, "")),
        )
    return table


def _stacked(trace: Trace, explain: bool, title: str) -> Iterable[RenderableType]:
    """One block per step, for a narrow terminal: the step's number, parties and kind on a
    line, the request and the answer under it, then the explanation at the full width."""
    if title:
        yield Text(title, style="bold", justify="center")
    seen: set[str] = set()
    for event in trace.events:
        head = Text(f"{event.seq:>3}  ", style="bold")
        party_style = "bold red" if "attacker" in (event.sender, event.to) else "bold"
        head.append(f"{event.sender} → {event.to}", style=party_style)
        head.append(f"  {event.kind}", style=KIND_STYLE.get(event.kind, ""))
        body = Text(request_text(event), overflow="ellipsis", no_wrap=False)
        body.append("\n⇒ ")
        body.append_text(_answer(event))
        explanation = _explanation(event, explain, seen)
        if explanation:
            body.append("\n")
            body.append_text(explanation)
        yield Rule(style="grey50") if explain else Text()
        yield head
        yield Padding(body, (0, 0, 0, 5))


class Steps:
    """The steps of a trace for the terminal, laid out for the width it gets: the table
    from `WIDE_TABLE` columns on, stacked blocks below (a laptop's 80 columns)."""

    def __init__(self, trace: Trace, explain: bool = False, title: str | None = None) -> None:
        self.trace, self.explain = trace, explain
        self.title = title if title is not None else trace.title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= WIDE_TABLE:
            yield step_table(self.trace, self.explain, self.title)
        else:
            yield from _stacked(self.trace, self.explain, self.title)


def steps(trace: Trace, explain: bool = False, title: str | None = None) -> Steps:
    """What `oauth-sim run` prints: the step table, or stacked steps when narrow."""
    return Steps(trace, explain, title)


def outcome_table(outcome: dict, title: str = "outcome") -> Table:
    table = Table(title=title, box=box.SIMPLE, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in outcome.items():
        style = ""
        if key == "attack_succeeded":
            style = "bold red" if value else "bold green"
        table.add_row(key, Text(printable(value), style=style))
    return table


def compare_table(
    secure: dict, insecure: dict, left: str = "all defences on", right: str = "defences OFF"
) -> Table:
    """The two outcomes of one attack side by side; `left`/`right` say what was off."""
    table = Table(title=f"{left} vs {right}", box=box.SIMPLE_HEAVY)
    table.add_column("", style="bold")
    table.add_column(left, overflow="fold")
    table.add_column(right, overflow="fold")
    for key in dict.fromkeys(list(secure) + list(insecure)):
        left, right = secure.get(key, ""), insecure.get(key, "")
        table.add_row(key, printable(left), printable(right))
    return table


def console() -> Console:
    """Rich console; when piped (no terminal to measure) assume a projector-wide 120,
    unless COLUMNS says otherwise."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120
    return Console(highlight=False, soft_wrap=False, width=width)
