"""Why a party refused a step, as a code the teaching layer looks up: never a sentence of a
page's text.

The protocol's answer stays exactly as the RFCs define it (the status and the OAuth `error`
value, e.g. 400 `invalid_grant`). Several of our checks answer with the same error, so the
party that refuses also names which check it was, in one response header, `Sim-Reason`, with
one of the codes below. The trace records it with the response; the step notes
(`sim.teaching.explain`) read it, so rewording a page or an error_description never changes
what a step is taught as. It is the simulator's own header, not part of OAuth: a real server
would not send it.

A view calls `refuse(CODE)` where its check fails; `add_reason_header`, registered after each
request on every party's app, puts the code on the response.
"""

from __future__ import annotations

from flask import Response, g, has_app_context

REASON_HEADER = "Sim-Reason"

#: The authorization server: a code that was already redeemed (RFC 6749 §4.1.2).
CODE_REUSED = "code-reused"
#: A code_verifier for a code issued without code_challenge (RFC 9700 §4.8.2).
PKCE_DOWNGRADE = "pkce-downgrade"
#: A code issued with a code_challenge, redeemed without a code_verifier (RFC 7636 §4.6).
PKCE_VERIFIER_MISSING = "pkce-verifier-missing"
#: A refresh token that was already rotated came back (RFC 9700 §4.14.2).
REFRESH_TOKEN_REUSED = "refresh-token-reused"
#: The client: the state does not belong to this browser's login (RFC 6749 §10.12).
STATE_MISMATCH = "state-mismatch"
#: The client: the state of a login this browser already finished (the Back button).
LOGIN_ALREADY_FINISHED = "login-already-finished"
#: The client: the response's iss is not the issuer the login was sent to (RFC 9207 §2.4).
ISS_MISMATCH = "iss-mismatch"
#: The client: the ID token failed a check (OIDC Core §3.1.3.7).
ID_TOKEN_INVALID = "id-token-invalid"
#: The resource server: the token is for another resource server (RFC 9068 §4).
WRONG_AUDIENCE = "wrong-audience"
#: A DPoP-bound refresh token without a proof by its key (RFC 9449 §5).
REFRESH_TOKEN_DPOP_BOUND = "refresh-token-dpop-bound"
#: A DPoP-bound access token sent as a plain Bearer token (RFC 9449 §7.2).
DPOP_TOKEN_AS_BEARER = "dpop-token-as-bearer"

CODES = (
    CODE_REUSED,
    PKCE_DOWNGRADE,
    PKCE_VERIFIER_MISSING,
    REFRESH_TOKEN_REUSED,
    STATE_MISMATCH,
    LOGIN_ALREADY_FINISHED,
    ISS_MISMATCH,
    ID_TOKEN_INVALID,
    WRONG_AUDIENCE,
    REFRESH_TOKEN_DPOP_BOUND,
    DPOP_TOKEN_AS_BEARER,
)


def refuse(code: str) -> None:
    """Name the check that refuses the request being served (one of CODES)."""
    if code not in CODES:
        raise ValueError(f"unknown reason code {code!r}")
    if has_app_context():
        g.sim_reason = code


def add_reason_header(response: Response) -> Response:
    code = g.get("sim_reason")
    if code:
        response.headers[REASON_HEADER] = code
    return response
