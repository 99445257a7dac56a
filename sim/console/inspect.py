"""Inspecting one message: the raw request and response with parameters split out, secrets
marked, JWTs decoded and verified against the authorization server's JWKS, and PKCE shown
as verifier -> SHA-256 -> base64url -> challenge with the flow's actual values.

The JWT check is the viewer's (the console's) decoding, not something the client does: the
client treats an access token as an opaque string (RFC 6749 §1.4).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from sim.tracing import Event, Trace
from sim.tracing.jwt import decode_unverified
from sim.tracing.values import SECRET_NAMES

CONSOLE_PARTY = "console"


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True)
    except ValueError:
        return []


def _params(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"name": n, "value": v, "secret": n in SECRET_NAMES} for n, v in pairs]


def _headers(headers: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": k, "value": v, "secret": k.lower() in ("authorization", "cookie", "set-cookie")}
        for k, v in headers.items()
    ]


def fetch_jwks(issuer: str) -> dict[str, Any] | None:
    """The authorization server's published keys (untraced: the console is not a party)."""
    try:
        with requests.Session() as http:
            http.trust_env = False
            http.headers["X-Sim-Party"] = CONSOLE_PARTY
            response = http.get(issuer + "/jwks.json", timeout=5)
            return response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


#: The authorization server's JWKS as last fetched, by issuer: inspecting a step that
#: carries a JWT used to fetch it every time (an HTTP request to the authorization server
#: per inspected step, per open console screen).
_JWKS: dict[str, dict[str, Any]] = {}


def inspect_step(trace: Trace, event: Event, issuer: str) -> tuple[dict[str, Any], bool]:
    """The step inspected, and whether the answer may be kept: its JWTs were checked
    against the JWKS (a signature that does not verify against the kept JWKS is checked
    again against a fresh one, so a rotated key never reads as a forgery)."""
    if not event.jwts:
        return inspect(trace, event, None), True
    jwks = _JWKS.get(issuer)
    if jwks is not None:
        detail = inspect(trace, event, jwks)
        if all(t["signature"].startswith("valid") for t in detail["jwt"].values()):
            return detail, True
    jwks = fetch_jwks(issuer)
    if jwks is None:
        return inspect(trace, event, None), False
    _JWKS[issuer] = jwks
    return inspect(trace, event, jwks), True


#: The last JWKS imported, with its keys: importing parses every key (~0.09 ms), at each
#: JWT a page inspects, while the JWKS is the same object until fetched again (`_JWKS`).
_IMPORTED: tuple[dict[str, Any], KeySet] | None = None


def _key_set(jwks: dict[str, Any]) -> KeySet:
    global _IMPORTED
    imported = _IMPORTED
    if imported is None or imported[0] is not jwks:
        imported = _IMPORTED = (jwks, KeySet.import_key_set(jwks))
    return imported[1]


def verify_jwt(token: str, jwks: dict[str, Any] | None) -> dict[str, Any]:
    decoded = decode_unverified(token) or {}
    result: dict[str, Any] = {**decoded, "signature": "not checked"}
    if jwks is None:
        result["signature"] = "not checked: the JWKS could not be fetched"
        return result
    try:
        jwt.decode(token, _key_set(jwks))
        result["signature"] = "valid: verified against the authorization server's JWKS"
    except (JoseError, ValueError) as error:
        result["signature"] = f"INVALID: {error}"
    return result


def _s256(verifier: str) -> tuple[str, str]:
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    return digest.hex(), base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pkce(trace: Trace, event: Event) -> dict[str, Any] | None:
    """The verifier of a token request beside the challenge the flow sent at /authorize."""
    verifier = next((v for n, v in event.values if n == "code_verifier"), None)
    if verifier is None:
        return None
    challenges = [v for e in trace.events for n, v in e.values if n == "code_challenge"]
    digest_hex, computed = _s256(verifier)
    sent = challenges[0] if challenges else None
    return {
        "code_verifier": verifier,
        "sha256_hex": digest_hex,
        "base64url": computed,
        "code_challenge_sent": sent,
        "matches": sent == computed if sent else None,
        "rfc": "RFC 7636 §4.2, §4.6",
    }


def inspect(trace: Trace, event: Event, jwks: dict[str, Any] | None) -> dict[str, Any]:
    url = urlsplit(event.url)
    request_type = event.request_headers.get("Content-Type", "")
    response_type = event.response_headers.get("Content-Type", "")
    location = urlsplit(event.location) if event.location else None
    tokens = {}
    for name, value in event.values:
        if name in ("access_token", "refresh_token", "id_token", "token") and value.count(".") == 2:
            tokens.setdefault(name, verify_jwt(value, jwks))
    return {
        "seq": event.seq,
        "from": event.sender,
        "to": event.to,
        "kind": event.kind,
        "note": event.note,
        "rfc": event.rfc,
        "request": {
            "method": event.method,
            "url": event.url,
            "path": url.path,
            "query": _params(_pairs(url.query)),
            "headers": _headers(event.request_headers),
            "body": event.request_body,
            "form": _params(_pairs(event.request_body))
            if "form-urlencoded" in request_type
            else [],
        },
        "response": {
            "status": event.status,
            "headers": _headers(event.response_headers),
            "location": event.location,
            "location_params": _params(_pairs(location.query) + _pairs(location.fragment))
            if location
            else [],
            "body": event.response_body,
            "content_type": response_type,
        },
        "secrets": sorted({n for n, _ in event.secrets}),
        "jwt": tokens,
        "jwt_label": "Decoded by this viewer; the client treats the token as opaque.",
        "pkce": pkce(trace, event),
    }
