"""The server's RFC 8414 metadata document (`/.well-known/oauth-authorization-server`).

RFC 8414 §2 lists the fields; the grant and response types come from the registered grants
(`oauth2.GRANTS`), so a new grant shows up here without a second edit.
"""

from __future__ import annotations

from typing import Any

from sim.authorization_server.oauth2 import GRANTS
from sim.authorization_server.openid import provider_metadata
from sim.dpop import ALGORITHMS as DPOP_ALGORITHMS
from sim.parties import SCOPES


def grant_types() -> list[str]:
    return [grant.GRANT_TYPE for grant, _ in GRANTS]


def response_types() -> list[str]:
    return [t for grant, _ in GRANTS for t in sorted(getattr(grant, "RESPONSE_TYPES", ()))]


def document(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "device_authorization_endpoint": f"{issuer}/device_authorization",  # RFC 8628 §4
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "jwks_uri": f"{issuer}/jwks.json",
        "scopes_supported": list(SCOPES),
        "response_types_supported": response_types(),
        "grant_types_supported": grant_types(),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),  # RFC 9449 §5.1
        # OpenID Connect Discovery 1.0 §3: the same document is served at
        # /.well-known/openid-configuration, so the two can never disagree.
        **provider_metadata(issuer),
    }
