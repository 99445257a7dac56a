"""The two-minute answer to "explain OAuth to me", told from a live run.

`walkthrough(result)` turns one scenario run into short spoken-style sections: who the
parties are, front and back channel, state, PKCE, the code exchange, the tokens, refresh.
Every step number, endpoint and parameter it names is read from the run's trace (values
elided, never a whole secret), so the story cannot drift from what the simulator does.
A code flow (happy-path, public-client-pkce) gets the full story; any other scenario gets
the parties, its steps' notes in order, and its outcome.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from urllib.parse import urlsplit

from sim.parties import (
    ATTACKER,
    AUTHORIZATION_SERVER,
    CLIENT,
    CLIENTS,
    RESOURCE_SERVER,
    USER_AGENT,
)
from sim.tracing import Event, Trace
from sim.tracing.params import first

#: Past this many words a step-by-step story stops and points at `run --explain`.
WORD_BUDGET = 1000


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


def elide(value: str, keep: int = 6) -> str:
    return value if len(value) <= keep + 2 else value[:keep] + "…"


def _path(event: Event) -> str:
    return event.params.url.path


def _returned(event: Event) -> dict[str, str]:
    """The parameters of the event's redirect (Location query, then fragment)."""
    location = event.params.location
    return dict(reversed(location.pairs)) if location else {}


def _form(event: Event) -> dict[str, str]:
    return dict(event.params.form)


def _origin(url: str) -> str:
    return urlsplit(url).netloc


def _steps(events: list[Event]) -> str:
    numbers = [e.seq for e in events]
    if not numbers:
        return "no step"
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    return "steps " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


class _Run:
    """Finders over one trace: the first event matching a test, or None."""

    def __init__(self, trace: Trace) -> None:
        self.events = trace.events

    def first(self, test) -> Event | None:
        return next((e for e in self.events if test(e)), None)

    def all(self, test) -> list[Event]:
        return [e for e in self.events if test(e)]


def _client_name(trace: Trace) -> str:
    """The registered client this run is about ("Photo Printer (confidential web app),
    client_id demo-client"), read from the first client_id the trace carries."""
    for event in trace.events:
        client_id = event.params.get("client_id")
        if not client_id and event.params.authorization is not None:
            client_id = first(event.params.authorization.pairs, "client_id")
        if client_id:
            known = next((c for c in CLIENTS if c.client_id == client_id), None)
            return f"{known.name}, client_id {client_id}" if known else f"client {client_id}"
    return "a web app"


def parties_section(trace: Trace) -> Section:
    run = _Run(trace)
    hosts = {}
    for event in trace.events:
        hosts.setdefault(event.to, _origin(event.url))

    def at(party: str, comma: str = "") -> str:
        return f"{comma} at {hosts[party]}" if party in hosts else ""

    browser_steps = run.all(lambda e: USER_AGENT in (e.sender, e.to))
    if not browser_steps and not run.first(lambda e: ATTACKER in (e.sender, e.to)):
        return Section(
            "The parties, and no user",
            (
                "This flow has no user and no browser. The client is a machine (here a "
                "nightly backup job) that authenticates as itself at the authorization "
                f"server{at(AUTHORIZATION_SERVER)} and calls the resource "
                f"server{at(RESOURCE_SERVER)} with a token that acts for the client, not for "
                "any user: the client credentials grant, for a client acting on its own "
                "behalf (RFC 6749 §1.3.4, §4.4). Every step is server to server, on the back "
                f"channel: {_steps(trace.events)}.",
            ),
        )
    text = [
        "There are four parties. The resource owner is Alice, a person with a browser: the "
        "user agent, here a scripted one that follows every redirect hop by hop. The client "
        f"is {_client_name(trace)}{at(CLIENT, ',')}; it wants to use Alice's photos without ever "
        f"learning her password. The authorization server{at(AUTHORIZATION_SERVER)} is the only "
        "party that sees her password; it asks for her consent and issues codes and tokens. "
        f"The resource server{at(RESOURCE_SERVER)} is the photo API, and it accepts access "
        "tokens." + ("" if RESOURCE_SERVER in hosts else " (This run never reaches it.)")
    ]
    if run.first(lambda e: ATTACKER in (e.sender, e.to)):
        text.append(
            "This run has a fifth party: the attacker, another site on another host name "
            f"({hosts.get(ATTACKER, 'localhost')}). It learns only what reaches it over HTTP."
        )
    front = run.all(lambda e: e.sender == USER_AGENT)
    back = run.all(lambda e: e.sender != USER_AGENT and e.sender != ATTACKER)
    text.append(
        f"Two channels. The front channel goes through the browser: {len(front)} of this "
        f"run's {len(trace.events)} steps are redirects, pages, form posts or script calls "
        "that the user, their extensions and their history can see. The back channel is "
        "server to server, and the browser never sees it: "
        + (f"{_steps(back)}." if back else "this run has no back-channel step.")
    )
    return Section("The parties and the two channels", tuple(text))


def code_flow_sections(trace: Trace) -> list[Section] | None:
    """The full story of an authorization code flow, or None if this is not one."""
    run = _Run(trace)
    authz = run.first(
        lambda e: e.to == AUTHORIZATION_SERVER and e.method == "GET" and _path(e) == "/authorize"
    )
    redeem = run.first(
        lambda e: _path(e) == "/token" and _form(e).get("grant_type") == "authorization_code"
    )
    if authz is None or redeem is None or run.first(lambda e: ATTACKER in (e.sender, e.to)):
        return None
    opener = run.first(lambda e: e.seq < authz.seq and e.sender == USER_AGENT and e.to == CLIENT)
    request = dict(reversed(authz.params.url.pairs))
    sections = [_start_section(opener, authz, request), _login_section(run)]
    callback = run.first(lambda e: "code=" in (e.location or "") and e.status in (302, 303))
    if callback is not None:
        sections.append(_callback_section(run, callback, request))
    sections.append(_exchange_section(redeem, request))
    sections.append(_tokens_section(run, redeem))
    refresh = run.first(
        lambda e: _path(e) == "/token" and _form(e).get("grant_type") == "refresh_token"
    )
    if refresh is not None:
        sections.append(_refresh_section(refresh))
    return sections


def _start_section(opener: Event | None, authz: Event, request: dict[str, str]) -> Section:
    scope = request.get("scope", "")
    if opener is not None and 300 <= opener.status < 400:
        begin = (
            f"It starts at step {opener.seq}: Alice clicks log in, and the client answers with "
            f"a {opener.status} redirect; at step {authz.seq} the browser follows it to the "
            "authorization server's /authorize."
        )
    elif opener is not None:
        begin = (
            f"It starts at step {opener.seq}: Alice opens the single-page app; at step "
            f"{authz.seq} its script sends the browser to the authorization server's /authorize."
        )
    else:
        begin = f"It starts at step {authz.seq}, at the authorization server's /authorize."
    paragraphs = [
        f"{begin} That URL is the "
        f"authorization request: response_type={request.get('response_type')}, "
        f"client_id={request.get('client_id')}, redirect_uri ending in "
        f'{urlsplit(request.get("redirect_uri", "")).path}, scope "{scope}", '
        f"state={elide(request.get('state', ''))} and "
        f"code_challenge={elide(request.get('code_challenge', ''))} with "
        f"code_challenge_method={request.get('code_challenge_method')}.",
    ]
    if request.get("state"):
        paragraphs.append(
            "The state is a random value bound to Alice's browser session. When the answer "
            "comes back, the client compares it, so nobody can slip their own code into "
            "Alice's session: that is cross-site request forgery, and state is the client's "
            "defence against it (RFC 6749 §10.12)."
        )
    if request.get("code_challenge"):
        paragraphs.append(
            "The code_challenge is PKCE. The client made a random secret, the code_verifier, "
            "kept it, and sent only its SHA-256 hash, base64url-encoded (RFC 7636 §4.2). "
            "Whoever later redeems the code must show the verifier, so a code stolen on the "
            "way is worthless to anyone else."
        )
    return Section("The authorization request: state and PKCE", tuple(paragraphs))


def _login_section(run: _Run) -> Section:
    login = run.all(lambda e: e.to == AUTHORIZATION_SERVER and _path(e) == "/login")
    consent = run.first(
        lambda e: e.to == AUTHORIZATION_SERVER and _path(e) == "/authorize" and e.status == 200
    )
    text = "The browser follows the redirect to the authorization server."
    if login:
        text += (
            f" Alice is not logged in there yet, so it shows its own login page and she types "
            f"her password into it ({_steps(login)}): only the authorization server ever sees "
            "it, never the client."
        )
    if consent is not None:
        text += (
            f" Then a consent page (step {consent.seq}) shows which app asks for which "
            "scopes, and she approves."
        )
    return Section("Login and consent, at the authorization server", (text,))


def _callback_section(run: _Run, callback: Event, request: dict[str, str]) -> Section:
    answer = _returned(callback)
    same = answer.get("state") == request.get("state")
    arrive = run.first(lambda e: e.seq > callback.seq and e.sender == USER_AGENT)
    text = (
        f"At step {callback.seq} the authorization server sends the browser back to the "
        f"registered redirect URI with a short-lived, one-time code={elide(answer.get('code', ''))}"
        f", the state {'unchanged' if same else 'CHANGED'}"
        + (", and iss naming the server itself (RFC 9207)" if answer.get("iss") else "")
        + ". The code travels through the browser, so treat it as seen by others."
    )
    if arrive is not None and arrive.status in (302, 303):
        text += (
            f" At step {arrive.seq} the client checks state"
            + (" and iss" if answer.get("iss") else "")
            + ", and answers with a redirect to a clean page, so the code does not stay in "
            "the address bar or leak in a Referer header."
        )
    return Section("The code comes back through the browser", (text,))


def _exchange_section(redeem: Event, request: dict[str, str]) -> Section:
    form = _form(redeem)
    basic = redeem.request_headers.get("Authorization", "").startswith("Basic ")
    if redeem.sender == CLIENT:
        how = (
            f"At step {redeem.seq} the client's server calls the token endpoint directly, on "
            "the back channel"
            + (", authenticating with its client secret in HTTP Basic" if basic else "")
            + "."
        )
    else:
        how = (
            f"At step {redeem.seq} the app's own script calls the token endpoint from the "
            f"browser ({redeem.kind}): it is a public client, so it sends no secret, only "
            "its client_id."
        )
    checks = (
        " The server checks that the code is fresh and unused, that it was issued to this "
        "client for this redirect_uri"
        + (
            ", and that the SHA-256 of the verifier equals the challenge it stored (RFC 7636 §4.6)"
            if "code_verifier" in form
            else ""
        )
        + f". Only then does it answer: {redeem.status}."
    )
    sent = ", ".join(
        f"{k}={elide(v) if k in ('code', 'code_verifier') else k == 'redirect_uri' and '…' or v}"
        for k, v in form.items()
    )
    return Section(
        "The code exchange",
        (f"{how} It sends {sent}.{checks}",),
    )


def _tokens_section(run: _Run, redeem: Event) -> Section:
    tokens = redeem.params.answer
    kind = (
        "a JWT anyone can decode, though the client treats it as opaque, RFC 9068 §6"
        if tokens.get("access_token", "").count(".") == 2
        else ("an opaque string")
    )
    text = [
        f"The answer carries an access token ({kind}, token_type "
        f"{tokens.get('token_type', '?')}, valid {tokens.get('expires_in', '?')} seconds, "
        f'scope "{tokens.get("scope", "")}")'
        + (" and a refresh token" if tokens.get("refresh_token") else "")
        + (
            ", with Cache-Control: no-store."
            if "no-store" in redeem.response_headers.get("Cache-Control", "")
            else "."
        )
        + (
            " The browser never sees either: the client keeps them on its server."
            if redeem.sender == CLIENT
            else " They live in the page's memory, where every script on it could read them."
        )
    ]
    if tokens.get("id_token"):
        text.append(
            "Because the scope asked for openid, the answer also carries an ID token "
            "(OpenID Connect): a signed JWT for the client itself, saying which user (sub) "
            "the server (iss) authenticated for this client (aud), and when, with the nonce "
            "the client sent in its request; the client checks all of them (OpenID Connect "
            "Core §2, §3.1.2.1). It is not for calling APIs: that is the access token's job."
        )
    calls = run.all(lambda e: e.to == RESOURCE_SERVER)
    checks = run.all(lambda e: e.sender == RESOURCE_SERVER and _path(e) == "/introspect")
    if calls:
        paths = ", ".join(dict.fromkeys(f"{e.method} {_path(e)}" for e in calls))
        text.append(
            f"Then the API calls ({_steps(calls)}: {paths}), each with the token in the "
            "Authorization header as Bearer, never in the URL (RFC 6750 §2.1). A bearer "
            "token works for whoever holds it."
            + (
                f" The resource server asks the authorization server whether the token is "
                f"still active ({_steps(checks)}, introspection, RFC 7662), so a revoked "
                "token stops working at once."
                if checks
                else ""
            )
        )
    return Section("Tokens and the API", tuple(text))


def _refresh_section(refresh: Event) -> Section:
    answer = refresh.params.answer
    sent = _form(refresh).get("refresh_token")
    rotated = isinstance(answer, dict) and answer.get("refresh_token") not in (None, sent)
    text = (
        f"Access tokens are short-lived. At step {refresh.seq} the client uses its refresh "
        "token (grant_type=refresh_token, back channel) and gets a new access token"
        + (
            " and a new refresh token: the old one is now spent. That is rotation: if the "
            "old one ever comes back, someone copied it, and the server revokes the whole "
            "family (RFC 9700 §4.14.2)."
            if rotated
            else "."
        )
    )
    return Section("Refresh", (text,))


def summary_section(
    name: str, code_flow: bool, public: bool = False, attack: bool = False
) -> Section:
    if code_flow and public:
        text = (
            "In two sentences: a public client has no secret, so the code alone must be "
            "worthless, and PKCE makes it so, because the verifier never left the page; state "
            "protects the callback, and the tokens live only in the page's memory."
        )
    elif code_flow:
        text = (
            "In two sentences: the browser only carries the request and a short-lived code, "
            "while the secrets and tokens travel server to server; state protects the "
            "client's callback, and PKCE binds the code to the client that asked for it."
        )
    else:
        text = (
            f"That is the whole exchange; `oauth-sim run {name} --explain` shows every step "
            "with its RFC section"
            + (", and `--compare` puts the defence on and off side by side." if attack else ".")
        )
    return Section("In short", (text,))


def steps_section(trace: Trace) -> Section:
    """Any scenario: its steps' notes in order, within the word budget."""
    paragraphs: list[str] = []
    words = 0
    for event in trace.events:
        if not event.note:
            continue
        line = f"Step {event.seq}, {event.sender} to {event.to}, {event.method} {_path(event)}: "
        line += event.note + (f" Defence: {event.defence}." if event.defence else "")
        if words + len(line.split()) > WORD_BUDGET - 150:
            rest = len(trace.events) - event.seq + 1
            paragraphs.append(f"… and {rest} more steps: `oauth-sim run` with --explain.")
            break
        paragraphs.append(line)
        words += len(line.split())
    return Section("What happened, step by step", tuple(paragraphs))


def outcome_section(outcome: dict) -> Section | None:
    if "attack_succeeded" not in outcome:
        return None
    verdict = "succeeded" if outcome["attack_succeeded"] else "failed"
    text = f"The attack {verdict}. {outcome.get('defence', '')}"
    if outcome.get("rfc"):
        text += f" ({outcome['rfc']})"
    return Section("Outcome", (text,))


def walkthrough(name: str, trace: Trace, outcome: dict) -> list[Section]:
    """The sections of scenario `name`'s story, from its run's trace and outcome."""
    story = code_flow_sections(trace)
    sections = [parties_section(trace)]
    if story is not None:
        sections += story
    else:
        sections.append(steps_section(trace))
        found = outcome_section(outcome)
        if found is not None:
            sections.append(found)
    public = story is not None and any(
        e.sender == USER_AGENT and _path(e) == "/token" for e in trace.events
    )
    attack = "attack_succeeded" in outcome
    sections.append(summary_section(name, story is not None, public, attack))
    return sections


def word_count(sections: list[Section]) -> int:
    return sum(len(p.split()) for s in sections for p in s.paragraphs)


def as_text(title: str, sections: list[Section], diagram: str | None, width: int = 88) -> str:
    out = [title, "=" * len(title), ""]
    for section in sections:
        out += [section.heading, "-" * len(section.heading)]
        for paragraph in section.paragraphs:
            out += textwrap.wrap(paragraph, width) + [""]
    if diagram:
        out.append(f"Diagram: {diagram}")
    return "\n".join(out)


def as_markdown(title: str, sections: list[Section], diagram: str | None) -> str:
    out = [f"# {title}", ""]
    for section in sections:
        out += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            out += [paragraph, ""]
    if diagram:
        out.append(f"![sequence diagram]({diagram})")
        out.append("")
        out.append(f"Diagram: {diagram}")
    return "\n".join(out)
