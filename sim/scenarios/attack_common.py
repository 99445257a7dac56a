"""What the attack scenarios share: the `AttackScenario` base (outcome shape, the marker on
the step where the defence acted or was switched off) and small helpers that play the
single-page app in the victim's browser and the malicious app that intercepts its redirect.

Theory of operation: a scenario's `play()` drives the parties over real HTTP and returns
its outcome plus `Mark`s naming the steps where its defence acts. `run()` (here) turns each
mark into `Event.defence` on the first matching event of the finished trace: the defence's
one-line story when it is on, or "OFF: ..." (where it would have acted) with `--insecure`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sim.attacker import Attacker
from sim.parties import ALL_SCOPES, client_by_id
from sim.scenarios.base import Scenario
from sim.tracing import Event, Trace

SPA = client_by_id("demo-spa")


@dataclass(frozen=True)
class Mark:
    """The `nth` event (0 = first) from `sender` to `to` with this method and path (and
    `contains` in its URL or body, if given) gets `text` as its defence marker."""

    sender: str
    to: str
    method: str
    path: str
    text: str
    contains: str | None = None
    lacks: str | None = None
    nth: int = 0

    def matches(self, event: Event) -> bool:
        if (event.sender, event.to, event.method) != (self.sender, self.to, self.method):
            return False
        if urlsplit(event.url).path != self.path:
            return False
        where = event.url + "\n" + event.request_body
        if self.contains is not None and self.contains not in where:
            return False
        return self.lacks is None or self.lacks not in where


def apply_marks(trace: Trace, marks: list[Mark]) -> Trace:
    events = list(trace.events)
    for mark in marks:
        found = [i for i, e in enumerate(events) if mark.matches(e)]
        if len(found) > mark.nth:
            i = found[mark.nth]
            events[i] = replace(events[i], defence=mark.text)
    return trace.with_events(events)  # the same type: a drawn trace stays drawn


class AttackScenario(Scenario):
    """An attack with one defence: on by default, off (for this run only) with --insecure.

    Subclasses implement `attack(sim, flow, insecure, attacker)` returning (evidence,
    succeeded, marks); the outcome always starts with attack_succeeded, defence and rfc."""

    def play(self, sim, flow: str, insecure: bool) -> dict[str, Any]:
        attacker = Attacker(flow, sim.attacker_url, sim.store)
        try:
            evidence, succeeded, marks = self.attack(sim, flow, insecure, attacker)
        finally:
            attacker.close()
        defence = self.defence_text
        if insecure:
            defence = f"OFF for this run ({self.defence}): " + defence
        return {
            "attack_succeeded": succeeded,
            "defence": defence,
            "rfc": self.rfc,
            **evidence,
            "_marks": marks,
        }

    def attack(
        self, sim, flow: str, insecure: bool, attacker: Attacker
    ) -> tuple[dict[str, Any], bool, list[Mark]]:
        raise NotImplementedError

    def run(self, sim, insecure: bool = False):
        result = super().run(sim, insecure=insecure)
        marks = result.outcome.pop("_marks", [])
        result.trace = apply_marks(result.trace, marks)
        return result

    @staticmethod
    def marker(insecure: bool, on: str, off: str) -> str:
        """The marker text: what the defence did, or (switched off) what it would have."""
        return f"OFF: {off}" if insecure else on


# -- the single-page app (public client demo-spa), played in the victim's browser -----------


def pkce_pair() -> tuple[str, str]:
    """A PKCE code_verifier and its S256 code_challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def spa_redirect_uri(sim) -> str:
    return sim.client_url + (SPA.redirect_path or "")


def spa_authorization_url(sim, state: str, challenge: str | None, **extra: str) -> str:
    """The authorization request the SPA's script sends the browser to. With `challenge`
    None it carries no PKCE at all (a public client without PKCE)."""
    params = {
        "response_type": "code",
        "client_id": SPA.client_id,
        "redirect_uri": spa_redirect_uri(sim),
        "scope": ALL_SCOPES,
        "state": state,
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return sim.authorization_server_url + "/authorize?" + urlencode(params)


def without_params(url: str, *names: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(pairs + list(params.items()))))


def on_attacker_origin(url: str, attacker_url: str) -> str:
    """The same path and query on the attacker's server: how a malicious app that claimed
    the same redirect URI on the victim's device receives the authorization response."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="http", netloc=urlsplit(attacker_url).netloc))


def query_param(url: str | None, name: str) -> str:
    values = parse_qs(urlsplit(url or "").query).get(name)
    return values[0] if values else ""


def token_request(ua, sim, data: dict[str, str]):
    """The SPA's script calling the token endpoint from the page (CORS, no secret)."""
    return ua.request(
        "POST",
        sim.authorization_server_url + "/token",
        data=data,
        headers={"Origin": sim.client_url},
    )


def error_of(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return body.get("error", "") if isinstance(body, dict) else ""
