"""The client's discovery of an authorization server it has never seen (`oauth-sim up
--issuer URL`): fetch its metadata, check it names itself, and keep what a login needs.

Where the metadata lives (tried in this order):
- RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the issuer's
  host and its path (`https://as.example/tenant` -> `https://as.example/.well-known/
  oauth-authorization-server/tenant`);
- OpenID Connect Discovery 1.0 §4: `/.well-known/openid-configuration` appended to the
  issuer.
Either way "the issuer value returned MUST be identical" to the issuer the URL was made
from (RFC 8414 §3.3; OIDC Discovery §4.3), else the document is not used: a server cannot
speak for another issuer.

What a login needs: `authorization_endpoint` and `token_endpoint` (RFC 8414 §2), and the
`code` response type when the server lists its types. Optional, used when present:
`jwks_uri` and `userinfo_endpoint` (OpenID Connect), `revocation_endpoint` (RFC 7009, used
at logout), `authorization_response_iss_parameter_supported` (RFC 9207 §3: the client then
requires `iss` in every authorization response, §2.4).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

TIMEOUT = 10
REQUIRED = ("authorization_endpoint", "token_endpoint")
OPTIONAL = ("jwks_uri", "userinfo_endpoint", "revocation_endpoint")
DISCOVERED_ENDPOINTS = (*REQUIRED, *OPTIONAL)


class DiscoveryError(ValueError):
    """The issuer cannot be used; the message says why, in one line."""


def metadata_urls(issuer: str) -> list[str]:
    """Where RFC 8414 and then OpenID Connect Discovery put the issuer's metadata."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    rfc8414 = urlunsplit(
        (parts.scheme, parts.netloc, "/.well-known/oauth-authorization-server" + path, "", "")
    )
    return [rfc8414, issuer.rstrip("/") + "/.well-known/openid-configuration"]


def discover(issuer: str, http: requests.Session | None = None) -> dict[str, Any]:
    """The issuer's metadata, checked; raises DiscoveryError with the reason."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise DiscoveryError(f"--issuer {issuer!r} is not an http(s) URL without a query")
    http = http or requests.Session()
    answered = False
    tried = []
    for url in metadata_urls(issuer):
        try:
            response = http.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        except requests.RequestException as error:
            tried.append(f"{url}: {type(error).__name__}")
            continue
        answered = True
        if response.status_code != 200:
            tried.append(f"{url}: HTTP {response.status_code}")
            continue
        try:
            document = response.json()
        except ValueError:
            tried.append(f"{url}: not JSON")
            continue
        if not isinstance(document, dict):
            tried.append(f"{url}: not a JSON object")
            continue
        return _checked(issuer, url, document)
    if not answered:
        raise DiscoveryError(f"the issuer {issuer} does not answer ({tried[0].split(': ')[-1]})")
    raise DiscoveryError(f"no authorization server metadata at {issuer} ({'; '.join(tried)})")


def _checked(issuer: str, url: str, document: dict[str, Any]) -> dict[str, Any]:
    if document.get("issuer") != issuer:
        raise DiscoveryError(
            f"the metadata at {url} names issuer {document.get('issuer')!r}, not {issuer!r} "
            "(RFC 8414 §3.3)"
        )
    missing = [name for name in REQUIRED if not isinstance(document.get(name), str)]
    if missing:
        raise DiscoveryError(f"the metadata at {url} has no {' or '.join(missing)}")
    types = document.get("response_types_supported")
    if isinstance(types, list) and "code" not in types:
        raise DiscoveryError(f"the server at {issuer} does not offer the authorization code flow")
    found = {name: document[name] for name in (*REQUIRED, *OPTIONAL) if document.get(name)}
    return {
        "issuer": issuer,
        "metadata_url": url,
        **found,
        "iss_parameter_supported": document.get("authorization_response_iss_parameter_supported")
        is True,
        "scopes_supported": document.get("scopes_supported") or [],
    }
