"""DPoP at the authorization server (RFC 9449 §5): a token request that carries a valid
proof gets a token bound to the proof's key.

RFC 9449 §5: "To request an access token that is bound to a public key using DPoP, the
client MUST provide a valid DPoP proof JWT in a DPoP header when making an access token
request to the authorization server's token endpoint."

    POST /token HTTP/1.1
    DPoP: eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7...

    grant_type=authorization_code&code=...&code_verifier=...&client_id=demo-spa

    HTTP/1.1 200 OK
    {"access_token": "eyJ...", "token_type": "DPoP", "refresh_token": "...", ...}

The access token (a JWT) carries `cnf: {"jkt": <thumbprint>}` (§6.1) and introspection
answers the same `cnf` (§6.2), which is how the resource server learns the key. A public
client's refresh token is bound too: refreshing needs a proof by the same key (§5); a
confidential client's is not, it is already bound to the client's credentials (§5).

With the `dpop` defence switched off for a flow, the server takes the proof but binds
nothing and answers `token_type: Bearer`, as §5 allows a server to: the token is then a
bearer token again, usable by whoever holds it.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidGrantError
from flask import current_app, g, jsonify, request

from sim import defences
from sim.authorization_server.access_tokens import JWTAccessTokens
from sim.authorization_server.switches import off
from sim.dpop import DPoPProofError, ReplayCache, check_proof
from sim.reasons import REFRESH_TOKEN_DPOP_BOUND, refuse

#: The contract name of the defence (`oauth-sim run token-replay --off dpop`).
DEFENCE = defences.DPOP


def replay_cache() -> ReplayCache:
    """The jti values of proofs this server accepted (at /token and /userinfo)."""
    return current_app.extensions.setdefault("dpop_replay", ReplayCache())


def check_token_request():
    """Before the token endpoint answers: check a DPoP proof if one came, remember the key's
    thumbprint for this request (g.dpop_jkt); the error response if the proof is invalid."""
    g.dpop_jkt = None
    raw = request.headers.get("DPoP")
    if raw is None:
        return None
    try:
        jkt = check_proof(raw.split(","), "POST", request.url, None, replay_cache())
    except DPoPProofError as error:
        response = jsonify({"error": error.error, "error_description": error.description})
        response.status_code = 400  # RFC 9449 §5: an RFC 6749 §5.2 error response
        return response
    g.dpop_jkt = None if off(DEFENCE) else jkt
    return None


def bound_key() -> str | None:
    """The thumbprint the token being issued is bound to, if any."""
    return g.get("dpop_jkt")


class DPoPAwareAccessTokens(JWTAccessTokens):
    """The server's JWT access tokens, with `cnf.jkt` and `token_type: DPoP` when bound."""

    def get_extra_claims(self, client, grant_type, user, scope):
        claims = super().get_extra_claims(client, grant_type, user, scope)
        if bound_key():
            claims["cnf"] = {"jkt": bound_key()}
        return claims

    def generate(self, *args, **kwargs):
        token = super().generate(*args, **kwargs)
        if bound_key():
            token["token_type"] = "DPoP"  # RFC 9449 §5: MUST be included
        return token


def check_refresh_binding(stored, client) -> None:
    """A public client's refresh token works only with a proof by the key it was bound to
    (RFC 9449 §5); a confidential client's was never bound (its credentials bind it)."""
    if not stored.dpop_jkt or client.token_endpoint_auth_method != "none" or off(DEFENCE):
        return
    if bound_key() != stored.dpop_jkt:
        refuse(REFRESH_TOKEN_DPOP_BOUND)
        raise InvalidGrantError(
            "This refresh token is bound to a DPoP key: send a DPoP proof signed by that key "
            "(RFC 9449 Section 5)."
        )


def introspection_claims(stored) -> dict:
    """What introspection adds for a DPoP-bound token (RFC 9449 §6.2)."""
    return {"cnf": {"jkt": stored.dpop_jkt}, "token_type": "DPoP"} if stored.dpop_jkt else {}
