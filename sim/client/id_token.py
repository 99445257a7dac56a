"""The client's check of an OpenID Connect ID token (OpenID Connect Core 1.0 §3.1.3.7).

The ID token is the authorization server's signed statement to THIS client that a user
logged in: who (`sub`), at which server (`iss`), for which client (`aud`), when (`iat`,
`auth_time`), until when it may be used (`exp`), and in answer to which request (`nonce`).
Authlib's `CodeIDToken` does the claim checks; what we add, and why:

- `aud` must contain our client_id. Authlib only insists on `azp` when the audience is
  someone else, so a token issued to another client with `azp` set to ours would pass;
  Core §3.1.3.7 step 3 says the client MUST reject a token that does not list it.
- `iss`, `aud`, `exp`, `iat`, `sub` and `nonce` are essential: the nonce this browser's
  session sent must come back, so a code or ID token injected from another login, whose
  nonce is not in this session, is refused (Core §15.5.2, RFC 9700 §4.5.3.2).
- the signature must verify with a key of the server's JWKS, with an asymmetric alg the
  server announces (RS256 or ES256), never `none` and never an HMAC keyed with the public key.
"""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

#: The signing algorithms this client accepts (the server's id_token_signing_alg_values);
#: RS256 is the default a client gets when it registered no other (OIDC Registration §2).
ALGORITHMS = ["RS256", "ES256"]
#: Clock skew tolerated on exp and iat, in seconds.
LEEWAY = 60


class IDTokenError(ValueError):
    """The ID token must not be trusted; `reason` names the check that failed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def verify_id_token(
    id_token: str,
    jwks: dict,
    issuer: str,
    client_id: str,
    nonce: str | None,
    access_token: str | None = None,
    check_nonce: bool = True,
) -> dict[str, Any]:
    """The ID token's claims, once its signature and every claim check pass
    (`check_nonce=False`: all but the nonce, a client without that defence)."""
    if check_nonce and not nonce:
        raise IDTokenError("nonce", "this browser's session holds no nonce for a login")
    try:
        keys = KeySet.import_key_set(jwks)
        decoded = jwt.decode(id_token, keys, registry=JWSRegistry(algorithms=ALGORITHMS))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise IDTokenError("signature", f"not signed by the server's key ({error})") from error
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }
    if not check_nonce:
        nonce = None
        del options["nonce"]
    params = {"nonce": nonce, "client_id": client_id, "access_token": access_token}
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    try:
        claims.validate(leeway=LEEWAY)
    except JoseError as error:
        name = getattr(error, "claim", None) or getattr(error, "error", "claims")
        raise IDTokenError(str(name), error.description or str(error)) from error
    return dict(claims)
