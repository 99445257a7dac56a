"""Drill questions built from live runs of the scenarios: the redirect URL of a fresh
happy-path run, its token request, its refresh, and each attack's trace with its defences
off, or on and off side by side.

The runs themselves are handed in (`sim.drill_set.Runs` plays them, above the runtime);
these builders only read them. Prompts show the run as a learner would study it (redacted,
ports as `oauth-sim up` prints them); answers are read from the run itself (which step
carried the verifier, which kind an exchange is, where the two runs part), and facts are
checked on the unredacted run (the S256 of the verifier equals the challenge).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, DEFAULT_PORT_BASE, RESOURCE_SERVER
from sim.teaching.citations import parse
from sim.teaching.drill import Question, Template, shuffled
from sim.tracing import KINDS, Event, Trace

# -- the runs ---------------------------------------------------------------------------


@dataclass
class Run:
    """One scenario run as the questions read it: the raw trace, the one shown (stable),
    the outcome, and the scenario (its description, defences and references)."""

    scenario: Any
    raw: Trace
    shown: Trace
    outcome: dict[str, Any]


#: Where each party is shown in prompts: `oauth-sim up`'s default addresses.
DEFAULT_HOSTS = {
    CLIENT: f"127.0.0.1:{DEFAULT_PORT_BASE}",
    AUTHORIZATION_SERVER: f"127.0.0.1:{DEFAULT_PORT_BASE + 1}",
    RESOURCE_SERVER: f"127.0.0.1:{DEFAULT_PORT_BASE + 2}",
    ATTACKER: f"localhost:{DEFAULT_PORT_BASE + 3}",
}


class RunSource(Protocol):
    """What the builders need: each scenario run once (see `sim.drill_set.Runs`)."""

    def get(self, name: str, off: tuple[str, ...] | bool = ()) -> Run: ...


def stable(trace: Trace, urls: dict[str, str]) -> Trace:
    """Redacted, and on the default ports (`urls`: the run's party -> base URL), so the
    same seed prints the same text."""
    from dataclasses import replace  # noqa: PLC0415

    swaps = []
    for party, shown in DEFAULT_HOSTS.items():
        netloc = urlsplit(urls.get(party, "")).netloc
        if netloc:
            host, port = netloc.rsplit(":", 1)
            for sep in (":", "%3A", "%253A"):
                swaps.append((f"{host}{sep}{port}", shown.replace(":", sep)))

    def fix(text):
        for old, new in swaps:
            text = text.replace(old, new) if text else text
        return text

    return Trace(
        [
            replace(
                e,
                url=fix(e.url),
                location=fix(e.location),
                request_body=fix(e.request_body),
                response_body=fix(e.response_body),
                request_headers={k: fix(v) for k, v in e.request_headers.items()},
            )
            for e in trace.redacted().events
        ],
        trace.title,
    )


# -- reading a trace --------------------------------------------------------------------


def step_line(event: Event) -> str:
    """One step as a learner reads it: number, parties, request, answer."""
    from sim.teaching.report import request_text, response_text  # noqa: PLC0415

    return f"{event.seq:>2}. {event.sender} → {event.to}: {request_text(event)} ⇒ " + (
        response_text(event)
    )


def step_label(event: Event) -> str:
    return f"step {event.seq}: {event.sender} → {event.to} {event.method} {_path(event)}"


def _path(event: Event) -> str:
    return event.params.url.path


def _form(event: Event) -> dict[str, str]:
    return dict(event.params.form)


def _first(trace: Trace, test) -> Event:
    for event in trace.events:
        if test(event):
            return event
    raise LookupError(f"no such step in {trace.title!r}")


def _token_request(trace: Trace, grant: str) -> Event:
    return _first(
        trace,
        lambda e: _path(e) == "/token" and _form(e).get("grant_type") == grant,
    )


def s256(verifier: str) -> str:
    """RFC 7636 §4.2, by hand: BASE64URL(SHA256(ASCII(code_verifier))), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# -- happy-path questions -----------------------------------------------------------------


def _authorize_redirect(run: Run) -> tuple[Event, Event]:
    """(raw, shown) of the client's redirect to /authorize: the authorization request."""
    index = next(i for i, e in enumerate(run.raw.events) if "/authorize?" in (e.location or ""))
    return run.raw.events[index], run.shown.events[index]


def state_purpose(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw, shown = _authorize_redirect(run)
    callback = _first(run.raw, lambda e: _path(e) == "/callback" and e.sender != CLIENT)
    return Question(
        id="run-state-purpose",
        topic="flows",
        prompt=(
            f"A fresh happy-path run, step {shown.seq}: the client answers the browser's "
            f"{shown.method} {_path(shown)} with {shown.status} and\n  Location: "
            f"{shown.location}\nWhat is the `state` parameter for?"
        ),
        choices=None,
        answer=(
            "CSRF protection of the client's callback: state is a random value the client "
            "binds to this browser's session; the authorization server sends it back "
            f"unchanged (here at step {callback.seq}, the browser's GET /callback), and the "
            "client refuses a callback whose state it did not issue to this browser, so an "
            "attacker cannot make the victim's browser deliver the attacker's code (login CSRF)."
        ),
        explanation=(
            "RFC 6749 §10.12: the client MUST implement CSRF protection for its redirection "
            "URI, by a value that binds the request to the user-agent's authenticated state, "
            "and SHOULD use the state parameter to carry it. RFC 9700 §2.1 lets a client rely "
            "on PKCE's CSRF protection once it has ensured the server supports PKCE; this "
            "client uses both."
        ),
        refs=(("RFC 6749", "10.12"), ("RFC 9700", "2.1"), ("RFC 9700", "4.7")),
        keywords=(("csrf", "cross-site request forgery", "forgery", "forged"),),
    )


def state_parameter(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw, shown = _authorize_redirect(run)
    names = [k for k, _ in raw.params.location.query] if raw.params.location else []
    return Question(
        id="run-which-parameter-csrf",
        topic="flows",
        prompt=(
            f"Step {shown.seq} of a fresh happy-path run sends the browser to\n  "
            f"{shown.location}\nWhich of this URL's parameters lets the client refuse an "
            "authorization response that its own browser did not ask for?"
        ),
        choices=shuffled(rng, "state", names),
        answer="state",
        explanation=(
            "The client makes state random, keeps it in this browser's session, and accepts "
            "the callback only when it comes back unchanged (RFC 6749 §10.12). "
            "code_challenge also protects the flow, but at the token endpoint, not at the "
            "client's callback."
        ),
        refs=(("RFC 6749", "10.12"), ("RFC 9700", "4.7")),
    )


def verifier_step(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw, shown = _authorize_redirect(run)
    challenge = raw.params.returned("code_challenge")
    carrying = _first(run.raw, lambda e: "code_verifier" in _form(e))
    matches = s256(_form(carrying)["code_verifier"]) == challenge
    events = run.shown.events
    others = [step_label(e) for e in events if e.seq != carrying.seq and e.seq in _keys(run)]
    return Question(
        id="run-verifier-step",
        topic="pkce",
        prompt=(
            f"In a fresh happy-path run the client sends the browser off with "
            f"code_challenge=<code-challenge-1>, code_challenge_method=S256 (step {shown.seq}). "
            "At which step does the matching code_verifier first travel?"
        ),
        choices=shuffled(rng, step_label(events[carrying.seq - 1]), others),
        answer=step_label(events[carrying.seq - 1]),
        explanation=(
            f"The verifier stays on the client until the token request (step {carrying.seq}, "
            f"{carrying.kind}), where the server checks it: BASE64URL(SHA256(code_verifier)) "
            "must equal the code_challenge it stored with the code. In this very run that "
            f"check, done again here with hashlib, gives {'equal' if matches else 'DIFFERENT'}"
            ". Someone who saw only the front channel has the challenge, never the verifier."
        ),
        refs=(("RFC 7636", "4.2"), ("RFC 7636", "4.5"), ("RFC 7636", "4.6")),
    )


def _keys(run: Run) -> set[int]:
    """Steps worth offering as choices: each distinct endpoint once."""
    seen, keep = set(), set()
    for e in run.raw.events:
        key = (e.sender, e.to, e.method, _path(e))
        if key not in seen:
            seen.add(key)
            keep.add(e.seq)
    return keep


def _show_request(event: Event) -> str:
    headers = {
        k: v
        for k, v in event.request_headers.items()
        if k.lower() in ("authorization", "content-type")
    }
    lines = [f"  {event.method} {_path(event)}"]
    lines += [f"  {k}: {v}" for k, v in headers.items()]
    lines.append(f"\n  {event.request_body}")
    return "\n".join(lines)


def exchange_kind(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw = _token_request(run.raw, "authorization_code")
    shown = run.shown.events[raw.seq - 1]
    kinds = [k for k in KINDS if k != raw.kind]
    return Question(
        id="run-token-request-kind",
        topic="flows",
        prompt=(
            f"Step {shown.seq} of a fresh happy-path run, sent by the {shown.sender} to the "
            f"{shown.to}:\n{_show_request(shown)}\nWhich kind of exchange is it?"
        ),
        choices=shuffled(rng, raw.kind, kinds),
        answer=raw.kind,
        explanation=(
            "The client's server calls the token endpoint itself, while it handles the "
            "browser's GET /callback: the browser never sees this request or its answer. "
            "RFC 6749 §1.3.1: the authorization code lets the server authenticate the "
            "client and send the access token directly to the client without passing it "
            "through the resource owner's user-agent."
        ),
        refs=(("RFC 6749", "1.3.1"), ("RFC 6749", "4.1.3")),
    )


def secret_back_channel(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw = _token_request(run.raw, "authorization_code")
    shown = run.shown.events[raw.seq - 1]
    scheme = raw.request_headers.get("Authorization", "").split(" ", 1)[0] or "a form field"
    return Question(
        id="run-secret-back-channel",
        topic="flows",
        prompt=(
            f"Step {shown.seq} of a fresh happy-path run carries the client's secret "
            f"({scheme} authentication):\n{_show_request(shown)}\nWhy does the secret "
            "travel on this request, and never through the browser?"
        ),
        choices=None,
        answer=(
            "This is a back-channel call: the client's server talks to the token endpoint "
            "directly, so the secret (and the tokens in the answer) never pass through the "
            "browser, where the user, extensions, history or injected scripts could read "
            "them. The code did cross the browser, but alone it is not enough: redeeming it "
            "takes the client's authentication (and here the PKCE verifier)."
        ),
        explanation=(
            "A confidential client authenticates at the token endpoint (RFC 6749 §4.1.3); "
            "RFC 6749 §1.3.1 names the benefit of the code: the access token goes to the "
            "client without passing through the resource owner's user-agent."
        ),
        refs=(("RFC 6749", "1.3.1"), ("RFC 6749", "4.1.3")),
        keywords=(
            ("back channel", "back-channel", "server-to-server", "server to server", "direct"),
            ("browser", "user agent", "user-agent", "front channel", "front-channel"),
        ),
    )


ROTATED = "issued a new refresh token: the one sent is spent (rotation)"
SAME = "returned the same refresh token again"
NONE = "issued an access token only, no refresh token"
REVOKED = "refused, and revoked every token of the grant"


def refresh_answer(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw = _token_request(run.raw, "refresh_token")
    shown = run.shown.events[raw.seq - 1]
    answer = raw.params.answer
    sent, got = _form(raw).get("refresh_token"), answer.get("refresh_token")
    if raw.status >= 400:
        correct = REVOKED
    else:
        correct = NONE if not got else (SAME if got == sent else ROTATED)
    return Question(
        id="run-refresh-rotation",
        topic="tokens",
        prompt=(
            f"Step {shown.seq} of a fresh happy-path run: the client refreshes.\n"
            f"{_show_request(shown)}\nanswered {shown.status}:\n  {shown.response_body[:300]}"
            "\nWhat did the authorization server do with the refresh token?"
        ),
        choices=shuffled(rng, correct, [ROTATED, SAME, NONE, REVOKED]),
        answer=correct,
        explanation=(
            "With rotation, every refresh answer carries a new refresh token and the old one "
            "is spent; if the old one ever comes back, someone else holds a copy, and the "
            "server revokes the whole family. RFC 9700 §2.2.2: refresh tokens for public "
            "clients MUST be sender-constrained or use rotation (§4.14)."
        ),
        refs=(("RFC 6749", "6"), ("RFC 9700", "2.2.2"), ("RFC 9700", "4.14")),
    )


HEADER = "in the Authorization header: Bearer <token>"


def token_presentation(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("happy-path")
    raw = _first(run.raw, lambda e: e.kind == "api-call" and e.to == RESOURCE_SERVER)
    shown = run.shown.events[raw.seq - 1]
    header = raw.request_headers.get("Authorization", "")
    where = (
        HEADER
        if header.startswith("Bearer ")
        else ("as access_token in the query string" if "access_token=" in raw.url else "other")
    )
    return Question(
        id="run-token-presentation",
        topic="tokens",
        prompt=(
            f"Step {shown.seq} of a fresh happy-path run: the client calls "
            f"{shown.method} {_path(shown)} on the resource server, which answers "
            f"{shown.status}. How does the request carry the access token?"
        ),
        choices=shuffled(
            rng,
            where,
            [
                HEADER,
                "as access_token in the query string",
                "in a cookie set by the authorization server",
                "in the JSON body of the request",
            ],
        ),
        answer=where,
        explanation=(
            "RFC 6750 §2.1: the client sends the token in the Authorization request header "
            "with the Bearer scheme. This resource server refuses a token in the query string: "
            "URLs end up in logs, history and Referer headers."
        ),
        refs=(("RFC 6750", "2.1"),),
    )


SPA_VERIFIER = "the code_verifier, which only the page that started the login holds (PKCE)"


def spa_proof(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("public-client-pkce")
    raw = _token_request(run.raw, "authorization_code")
    form = _form(raw)
    has_secret = "client_secret" in form or raw.request_headers.get("Authorization")
    correct = SPA_VERIFIER if "code_verifier" in form and not has_secret else "a client secret"
    shown = run.shown.events[raw.seq - 1]
    return Question(
        id="run-spa-proof",
        topic="pkce",
        prompt=(
            f"Step {shown.seq} of a fresh public-client-pkce run: the single-page app "
            f"redeems its code from the browser ({shown.kind}).\n{_show_request(shown)}\n"
            "The app has no secret. What tells the server the request comes from the app "
            "instance that started this login?"
        ),
        choices=shuffled(
            rng,
            correct,
            [
                SPA_VERIFIER,
                "a client secret",
                "the state parameter",
                "the session cookie of the authorization server",
            ],
        ),
        answer=correct,
        explanation=(
            "A public client cannot keep a secret (its code ships to every browser), so "
            "RFC 9700 §2.1.1 says public clients MUST use PKCE: the server checks "
            "BASE64URL(SHA256(code_verifier)) against the challenge sent at the start "
            "(RFC 7636 §4.6). An app that intercepted the code has no verifier (RFC 7636 §1)."
        ),
        refs=(("RFC 9700", "2.1.1"), ("RFC 7636", "1"), ("RFC 7636", "4.6")),
    )


def _jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying (what anyone holding it can read)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def id_token_nonce(runs: RunSource, rng: random.Random) -> Question:
    run = runs.get("openid-connect")
    authz = _first(run.raw, lambda e: _path(e) == "/authorize" and e.method == "GET")
    sent = authz.params.url.get("nonce")
    redeem = _token_request(run.raw, "authorization_code")
    claims = _jwt_claims(redeem.params.answered("id_token"))
    tying = [name for name, value in claims.items() if value == sent and sent]
    answer = tying[0] if tying else "none of them"
    shown = {k: ("<" + k + ">" if k in ("nonce", "at_hash") else v) for k, v in claims.items()}
    shown = {k: ("<time>" if k in ("exp", "iat", "auth_time") else v) for k, v in shown.items()}
    shown["iss"] = f"http://{DEFAULT_HOSTS[AUTHORIZATION_SERVER]}"
    return Question(
        id="run-id-token-nonce",
        topic="oidc",
        prompt=(
            f"A fresh openid-connect run. At step {authz.seq} the client sent the browser to "
            "/authorize with scope openid and a nonce; at step "
            f"{redeem.seq} the token response carried an ID token whose claims are\n  "
            f"{json.dumps(shown, sort_keys=True)}\nWhich claim ties this ID token to the "
            "client's own login request, so an ID token from another login is refused?"
        ),
        choices=shuffled(rng, answer, sorted(claims)),
        answer=answer,
        explanation=(
            "The nonce is passed through unmodified from the authentication request to the ID "
            "token, and the client MUST check it equals the value it sent (here it does: "
            f"{'equal' if tying else 'NOT equal'}). aud names the client, iss the server and "
            "sub the user, but only nonce is specific to this one login. OpenID Connect Core "
            "§3.1.2.1: nonce associates a client session with an ID token and mitigates "
            "replay attacks."
        ),
        refs=(("OpenID Connect Core 1.0", "3.1.2.1"), ("OpenID Connect Core 1.0", "2")),
    )


# -- attack questions --------------------------------------------------------------------


def defences_of(scenario) -> list[str]:
    listed = getattr(scenario, "defences", None)
    if listed:
        return [getattr(d, "name", d) for d in listed]
    return []


def _is_attack(scenario) -> bool:
    return getattr(scenario, "kind", None) == "attack" or bool(defences_of(scenario))


def _story(scenario) -> str:
    """The description without its trailing "(defence)" hint."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", scenario.description)


def _all_defences() -> list[str]:
    from sim import defences  # noqa: PLC0415

    return list(defences.NAMES)


def _refused_step(run: Run) -> Event | None:
    seq = run.outcome.get("refused_at")
    if isinstance(seq, int) and 1 <= seq <= len(run.shown.events):
        return run.shown.events[seq - 1]
    marked = [e for e in run.raw.events if e.defence and e.status >= 400]
    return run.shown.events[marked[0].seq - 1] if marked else None


def which_defence(name: str):
    def build(runs: RunSource, rng: random.Random) -> Question:
        off = runs.get(name, True)
        on = runs.get(name)
        scenario = off.scenario
        stopped = on.outcome.get("stopped_by") or defences_of(scenario)[0]
        refused = _refused_step(on)
        listing = "\n".join(step_line(e) for e in off.shown.events)
        where = (
            f" With the defences on, the attack is refused at step {refused.seq} "
            f"({refused.sender} → {refused.to} {refused.method} {_path(refused)}, "
            f"{refused.status})."
            if refused is not None
            else ""
        )
        return Question(
            id=f"attack-{name}-defence",
            topic="attacks",
            prompt=(
                f"A run of the attack `{name}` ({_story(scenario)}) with its defences "
                f"switched off; attack_succeeded = {off.outcome.get('attack_succeeded')}.\n"
                f"{listing}\nWhich defence, switched on, is the first this attack meets?"
            ),
            choices=shuffled(rng, stopped, _all_defences() + defences_of(scenario)),
            answer=stopped,
            explanation=f"{on.outcome.get('defence', '')}{where}",
            refs=tuple(parse(scenario.rfc)),
        )

    return build


def what_changed(name: str):
    def build(runs: RunSource, rng: random.Random) -> Question:
        on, off = runs.get(name), runs.get(name, True)
        index = _parting(on.raw.events, off.raw.events)
        a = on.shown.events[index] if index < len(on.shown.events) else None
        b = off.shown.events[index] if index < len(off.shown.events) else None
        answer = step_label(a if a is not None else b)
        labels = [step_label(e) for e in on.shown.events if e.seq != index + 1]
        listing = "\n".join(f"  on : {step_line(e)}" for e in on.shown.events)
        listing += "\n" + "\n".join(f"  off: {step_line(e)}" for e in off.shown.events)
        return Question(
            id=f"compare-{name}",
            topic="attacks",
            prompt=(
                f"The attack `{name}` run twice, defence on and defence off:\n{listing}\n"
                "At which step do the two runs part ways?"
            ),
            choices=shuffled(rng, answer, labels),
            answer=answer,
            explanation=(
                f"Step {index + 1} with the defence on: {_outcome_of(a)}; with it off: "
                f"{_outcome_of(b)}. attack_succeeded goes from "
                f"{on.outcome.get('attack_succeeded')} to {off.outcome.get('attack_succeeded')}"
                f". {on.outcome.get('defence', '')}"
            ),
            refs=tuple(parse(on.scenario.rfc)),
        )

    return build


def _outcome_of(event: Event | None) -> str:
    if event is None:
        return "no such step (the run ended before it)"
    marker = f" ({event.defence})" if event.defence else ""
    return (
        f"{event.sender} → {event.to} {event.method} {_path(event)} answered {event.status}{marker}"
    )


def _parting(on: list[Event], off: list[Event]) -> int:
    """Index of the first step that differs (endpoint or status) between two runs."""
    for i, (a, b) in enumerate(zip(on, off, strict=False)):
        if (a.sender, a.to, a.method, _path(a), a.status) != (
            b.sender,
            b.to,
            b.method,
            _path(b),
            b.status,
        ):
            return i
    shorter = min(len(on), len(off))
    return shorter if len(on) != len(off) else shorter - 1


def templates(catalogue: dict[str, Any]) -> list[Template]:
    """The live-run templates; one pair per attack of `catalogue` (name -> scenario)."""
    found = [
        Template("run-state-purpose", "flows", state_purpose, ("happy-path",)),
        Template("run-which-parameter-csrf", "flows", state_parameter, ("happy-path",)),
        Template("run-token-request-kind", "flows", exchange_kind, ("happy-path",)),
        Template("run-secret-back-channel", "flows", secret_back_channel, ("happy-path",)),
        Template("run-verifier-step", "pkce", verifier_step, ("happy-path",)),
        Template("run-spa-proof", "pkce", spa_proof, ("public-client-pkce",)),
        Template("run-refresh-rotation", "tokens", refresh_answer, ("happy-path",)),
        Template("run-token-presentation", "tokens", token_presentation, ("happy-path",)),
        Template("run-id-token-nonce", "oidc", id_token_nonce, ("openid-connect",)),
    ]
    for name, scenario in catalogue.items():
        if _is_attack(scenario):
            found.append(
                Template(f"attack-{name}-defence", "attacks", which_defence(name), (name,))
            )
            found.append(Template(f"compare-{name}", "attacks", what_changed(name), (name,)))
    return found
