"""Drill questions that need no run: the classic interview questions ("why not the implicit
flow?", "state vs PKCE vs nonce"). Each is offered once the scenario that shows it exists
(`needs`), so the drill never asks about what the simulator cannot show.

Every answer was checked against the RFC text it cites (see docs/drill-sources in the
closing note); a simplification says so.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sim.teaching.citations import Ref
from sim.teaching.drill import Question, Template, shuffled


def _fixed(
    qid: str,
    topic: str,
    prompt: str,
    answer: str,
    explanation: str,
    refs: tuple[Ref, ...],
    distractors: list[str] | None = None,
    keywords: tuple[tuple[str, ...], ...] = (),
) -> Callable[[object, random.Random], Question]:
    def build(runs: object, rng: random.Random) -> Question:
        choices = shuffled(rng, answer, distractors) if distractors else None
        return Question(qid, topic, prompt, choices, answer, explanation, refs, keywords)

    return build


IMPLICIT = _fixed(
    "why-not-implicit",
    "flows",
    "Why should a new app not use the implicit flow (response_type=token)?",
    "The access token comes back in the authorization response, in the URL, so it can leak "
    "(browser history, Referer, a tampered redirect) and be replayed or injected, and there "
    "is no standard way to sender-constrain it; use the code flow with PKCE instead",
    "RFC 9700 §2.1.2: the implicit grant and other response types that issue access tokens "
    "in the authorization response are vulnerable to access token leakage and replay, and no "
    "standardized method exists to sender-constrain such tokens; clients SHOULD NOT use it, "
    "and SHOULD use response type code instead. Run `oauth-sim run implicit-legacy` to see the "
    "token in the fragment.",
    (("RFC 9700", "2.1.2"),),
    [
        "It cannot carry scopes, so the API cannot check permissions",
        "It needs a client secret, which a browser app cannot keep",
        "Browsers no longer support URL fragments in redirects",
    ],
)

PASSWORD = _fixed(
    "why-not-password-grant",
    "flows",
    "An app asks the user for their password and sends it to the token endpoint "
    "(grant_type=password). What does the OAuth security BCP say about that grant?",
    "It MUST NOT be used: it exposes the user's credentials to the client",
    "RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used. It "
    "insecurely exposes the resource owner's credentials to the client, widens where they can "
    "leak, trains users to type passwords outside the authorization server, and does not work "
    "with two-factor or multi-step authentication. This authorization server refuses it "
    "(unsupported_grant_type).",
    (("RFC 9700", "2.4"),),
    [
        "It SHOULD NOT be used, except by public clients",
        "It is fine for first-party apps if the password travels over TLS",
        "It MAY be used when PKCE is added",
    ],
)

BEARER = _fixed(
    "what-is-a-bearer-token",
    "tokens",
    'The access tokens in this simulator are bearer tokens. What does "bearer" mean?',
    "Whoever holds the token can use it: presenting it needs no proof of a key",
    "RFC 6750 §1.2: a bearer token is a security token with the property that any party in "
    "possession of it can use it in any way any other party in possession of it can; using "
    "it does not require proving possession of cryptographic key material. That is why a "
    "stolen bearer token works for the thief (run `oauth-sim run refresh-token-reuse "
    "--insecure`).",
    (("RFC 6750", "1.2"),),
    [
        "The resource server checks it against the client's secret before serving",
        "It is bound to the browser that logged in",
        "It can only be used once",
    ],
)

AUDIENCE = _fixed(
    "access-token-audience",
    "tokens",
    "A resource server receives a valid, unexpired access token whose audience names another "
    "resource server. What should it do?",
    "Refuse the request: the token was not meant for it",
    "RFC 9700 §2.3: access tokens SHOULD be audience-restricted; every resource server "
    "verifies, for every request, that the token was meant for it, and if not, MUST refuse "
    "to serve the request. That limits what a token leaked to (or by) one server can do "
    "elsewhere. (The `aud` claim of RFC 9068 MAY carry the audience.)",
    (("RFC 9700", "2.3"),),
    [
        "Serve it: the signature is valid and the token has not expired",
        "Serve it, but only for read-only endpoints",
        "Forward it to the resource server named in its audience",
    ],
)

CLIENT_CREDENTIALS = _fixed(
    "client-credentials-whose-token",
    "flows",
    "A nightly backup job gets a token with grant_type=client_credentials. On whose behalf "
    "does that token act?",
    "The client's own: no user takes part, so there is no login, no consent and no browser",
    "RFC 6749 §1.3.4: client credentials are used as a grant typically when the client acts "
    "on its own behalf (the client is also the resource owner); §4.4: the grant MUST only be "
    "used by confidential clients. Run `oauth-sim run client-credentials`.",
    (("RFC 6749", "1.3.4"), ("RFC 6749", "4.4")),
    [
        "The last user who logged in to the client",
        "Every user who ever consented to the client",
        "The administrator of the authorization server",
    ],
)

PKCE_CONFIDENTIAL = _fixed(
    "why-pkce-confidential-client",
    "pkce",
    "The web client has a client secret. Why does it use PKCE as well?",
    "The secret proves which client redeems a code, not which login the code belongs to: an "
    "attacker who stole a victim's code can inject it into their own session at the real "
    "client, which redeems it with its own secret. PKCE binds the code to the verifier of the "
    "session that started the flow, so an injected code fails",
    "RFC 9700 §2.1.1: clients MUST prevent authorization code injection; for confidential "
    "clients PKCE is RECOMMENDED, as it protects against misuse and injection of codes (§4.5) "
    "and, as a side effect, prevents CSRF. Run `oauth-sim run code-injection --insecure`.",
    (("RFC 9700", "2.1.1"), ("RFC 9700", "4.5")),
    keywords=(("inject", "injection", "stolen code", "steal", "stole"),),
)

STATE_PKCE_NONCE = _fixed(
    "state-vs-pkce-vs-nonce",
    "oidc",
    "state, PKCE and nonce: what does each bind, and where is it checked?",
    "state binds the authorization response to the browser session that started it, checked "
    "by the client at its callback (CSRF); PKCE binds the code to the client instance that "
    "holds the verifier, checked by the authorization server at the token endpoint (code "
    "interception and injection); nonce binds the ID token to the client's session, checked "
    "by the client in the ID token (ID token replay and injection)",
    "RFC 6749 §10.12 (state against CSRF); RFC 7636 §1 and RFC 9700 §4.5 (PKCE against code "
    "interception and injection); OpenID Connect Core §3.1.2.1: nonce is a string used to "
    "associate a client session with an ID token and to mitigate replay attacks. RFC 9700 "
    "§2.1 notes that PKCE and nonce also give CSRF protection.",
    (
        ("RFC 6749", "10.12"),
        ("RFC 7636", "1"),
        ("RFC 9700", "4.5"),
        ("OIDC Core", "3.1.2.1"),
        ("RFC 9700", "2.1"),
    ),
    keywords=(
        ("csrf", "browser session", "forgery"),
        ("verifier", "token endpoint", "injection", "interception"),
        ("id token", "id_token", "replay"),
    ),
)

ID_TOKEN = _fixed(
    "what-the-id-token-proves",
    "oidc",
    "The client receives an id_token next to the access token. What does the ID token prove, "
    "and to whom?",
    "To the client (its aud): that the authorization server (iss) authenticated this user "
    "(sub) for this client, when, and for this login (nonce); it is not a credential for "
    "calling APIs",
    "OpenID Connect Core §2: the ID token is a security token that contains claims about the "
    "authentication of an end-user by an authorization server when using a client. The client "
    "checks its signature, iss, aud, exp and nonce; the access token, not the ID token, is "
    "what the API accepts.",
    (("OIDC Core", "2"),),
    [
        "To the resource server: that the caller may read the user's photos",
        "To the user: that the client is who it says it is",
        "To the authorization server: that the client holds its secret",
    ],
)

STOLEN_TOKEN = _fixed(
    "what-stops-a-stolen-token",
    "tokens",
    "An attacker copies a victim's access token and replays it at the API. What stops that?",
    "A sender-constrained token (DPoP or mutual TLS): the API also wants proof of a key only "
    "the legitimate client holds",
    "RFC 9700 §2.2.1: authorization and resource servers SHOULD use mechanisms for "
    "sender-constraining access tokens, such as mutual TLS (RFC 8705) or DPoP (RFC 9449), to "
    "prevent misuse of stolen and leaked access tokens. Short lifetimes and audience "
    "restriction limit the damage but do not stop the replay. Run `oauth-sim run token-replay`.",
    (("RFC 9700", "2.2.1"), ("RFC 9700", "4.10")),
    [
        "Sending the token in the Authorization header instead of the URL",
        "Signing the token as a JWT",
        "Checking the state parameter",
    ],
)

TEMPLATES = [
    Template("why-not-implicit", "flows", IMPLICIT, ("implicit-legacy",)),
    Template("why-not-password-grant", "flows", PASSWORD),
    Template("what-is-a-bearer-token", "tokens", BEARER, ("happy-path",)),
    Template("access-token-audience", "tokens", AUDIENCE, ("happy-path",)),
    Template(
        "client-credentials-whose-token", "flows", CLIENT_CREDENTIALS, ("client-credentials",)
    ),
    Template("why-pkce-confidential-client", "pkce", PKCE_CONFIDENTIAL, ("code-injection",)),
    Template("state-vs-pkce-vs-nonce", "oidc", STATE_PKCE_NONCE, ("openid-connect",)),
    Template("what-the-id-token-proves", "oidc", ID_TOKEN, ("openid-connect",)),
    Template("what-stops-a-stolen-token", "tokens", STOLEN_TOKEN, ("token-replay",)),
]
