"""Terminal output: the step table a class reads on the projector, and the side-by-side
summary of an attack with its defence on and off."""

from __future__ import annotations

import sys

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.tracing import Event, Trace
from sim.tracing.printable import printable

KIND_STYLE = {
    "redirect": "cyan",
    "page": "white",
    "form-post": "yellow",
    "back-channel": "green",
    "api-call": "magenta",
}
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
    return printable(f"{event.status} → {target}" + (" " + " ".join(shown) if shown else ""))


def step_table(trace: Trace, explain: bool = False, title: str | None = None) -> Table:
    table = Table(
        title=title if title is not None else trace.title,
        box=box.SIMPLE_HEAVY,
        show_lines=explain,
        expand=True,
    )
    table.add_column("#", justify="right", style="bold", width=3)
    table.add_column("from → to", no_wrap=True, width=22)
    table.add_column("request", overflow="fold", ratio=3)
    table.add_column("answer", overflow="fold", ratio=2)
    table.add_column("kind", no_wrap=True, width=12)
    for event in trace.events:
        who = Text(f"{event.sender}\n→ {event.to}")
        if "attacker" in (event.sender, event.to):
            who.stylize("bold red")
        request = Text(request_text(event))
        if explain and event.note:
            request.append(f"\n{printable(event.note)}", style="dim")
            if event.rfc:
                request.append(f"  [{printable(event.rfc)}]", style="dim italic")
        if explain and event.secrets:
            names = ", ".join(sorted({name for name, _ in event.secrets}))
            request.append(f"\n🔑 carries secrets: {names}", style="bold yellow")
        if explain:
            for name, decoded in event.jwts.items():
                claims = decoded["claims"]
                shown = ", ".join(
                    f"{k}={claims[k]}"
                    for k in ("sub", "client_id", "scope", "aud", "exp")
                    if k in claims
                )
                line = printable(f"{name} is a JWT (anyone can read it): {shown}")
                request.append("\n" + line, style="dim")
        if event.defence:
            request.append(f"\n🛡 {printable(event.defence)}", style="bold yellow")
        status_style = "red" if event.status >= 400 else ("cyan" if event.status >= 300 else "")
        table.add_row(
            str(event.seq),
            who,
            request,
            Text(response_text(event), style=status_style),
            Text(event.kind, style=KIND_STYLE.get(event.kind, "")),
        )
    return table


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


def compare_table(secure: dict, insecure: dict) -> Table:
    table = Table(title="defence on vs off", box=box.SIMPLE_HEAVY)
    table.add_column("", style="bold")
    table.add_column("defence ON", overflow="fold")
    table.add_column("defence OFF (--insecure)", overflow="fold")
    for key in dict.fromkeys(list(secure) + list(insecure)):
        left, right = secure.get(key, ""), insecure.get(key, "")
        table.add_row(key, printable(left), printable(right))
    return table


def console() -> Console:
    """Rich console; when piped (no terminal to measure) assume a projector-wide 120."""
    width = None if sys.stdout.isatty() else 120
    return Console(highlight=False, soft_wrap=False, width=width)
