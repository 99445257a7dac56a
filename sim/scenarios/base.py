"""What every scenario shares: its name, one-line description, the defence it demonstrates
(if any), and the steps a resource owner's browser takes through the login."""

from __future__ import annotations

from typing import Any

import requests

from sim.user_agent import UserAgent


class ScenarioError(RuntimeError):
    """A scenario could not be played (a party answered something unexpected)."""


class Scenario:
    name: str = ""
    description: str = ""
    #: The defence `--insecure` switches off (sim.defences), or None for plain flows.
    defence: str | None = None
    defence_text: str = ""
    rfc: str | None = None

    def run(self, sim, insecure: bool = False):
        from sim.runtime.manager import ScenarioResult  # noqa: PLC0415

        if insecure and self.defence is None:
            raise ScenarioError(f"scenario {self.name!r} has no defence to switch off")
        options: dict[str, Any] = {"defence_off": self.defence} if insecure else {}
        flow = sim.new_flow(self.name, **options)
        try:
            outcome = self.play(sim, flow, insecure)
        finally:
            sim.end_flow(flow)
        title = self.name + (" (defence off)" if insecure else "")
        trace = sim.trace(flow, title)
        return ScenarioResult(self.name, insecure, trace, outcome, flow)

    def play(self, sim, flow: str, insecure: bool) -> dict[str, Any]:
        raise NotImplementedError


def log_in_and_consent(
    ua: UserAgent,
    start: requests.Response,
    username: str = "alice",
    password: str = "wonderland",
    approve: bool = True,
    scopes: set[str] | None = None,
    stop_at: str | None = None,
) -> requests.Response:
    """From the redirect to the authorization server, through login and consent, to the
    answer of the consent POST (followed unless it goes to `stop_at`)."""
    page = ua.follow(start)
    if 'name="password"' in page.text:
        page = ua.submit(page, {"username": username, "password": password})
    if page.status_code != 200 or "decision" not in page.text:
        raise ScenarioError(f"expected the consent page, got {page.status_code} at {page.url}")
    decision = "approve" if approve else "deny"
    return ua.submit(page, button=decision, checked=scopes, stop_at=stop_at)


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page that has one (the client's forms all
    carry the same one), as a browser would submit it."""
    from sim.user_agent import parse_forms  # noqa: PLC0415

    for form in parse_forms(html):
        for name, value in form.fields:
            if name == "csrf_token":
                return value
    raise ScenarioError("no CSRF token on the page")
