"""Which request/response parameters a diagram shows, and how their values are shortened.

A diagram is read from a projector, so each message shows only the parameters that carry
the protocol (the `KEY_PARAMS`), with random values cut to about ten characters. Absolute
URLs never appear: their port changes from run to run, which would make two runs of one
scenario draw differently. A URL value is shown by its path, or by the party that owns its
origin when there is no path (an `iss` of `http://127.0.0.1:9001` reads
`authorization-server`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sim.tracing import Trace
from sim.tracing.names import ATTACKER
from sim.tracing.params import Authorization, Pairs, UrlParams

#: Parameters worth drawing, in the order they are drawn.
KEY_PARAMS = (
    "response_type",
    "grant_type",
    "client_id",
    "redirect_uri",
    "scope",
    "resource",
    "code",
    "access_token",
    "id_token",
    "token_type",
    "expires_in",
    "state",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "nonce",
    "device_code",
    "user_code",
    "interval",
    "refresh_token",
    "token",
    "token_type_hint",
    "username",
    "active",
    "iss",
    "error",
)
#: Values that are words a reader needs whole (not random strings): longer limit.
_READABLE = frozenset(
    {
        "response_type",
        "grant_type",
        "client_id",
        "redirect_uri",
        "scope",
        "resource",
        "aud",
        "code_challenge_method",
        "token_type",
        "token_type_hint",
        "username",
        "expires_in",
        "user_code",
        "interval",
        "active",
        "iss",
        "error",
    }
)
#: Token and introspection responses: what was issued first, then its properties (`aud`:
#: whom an introspected token is for, which the resource server checks, RFC 9068 §4).
BODY_PARAMS = (
    "error",
    "active",
    "device_code",
    "user_code",
    "interval",
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "id_token",
    "scope",
    "client_id",
    "aud",
    "username",
)
SHORT_LIMIT = 10
READABLE_LIMIT = 24
#: Scopes are what the user consented to: worth showing whole.
SCOPE_LIMIT = 40


@dataclass(frozen=True)
class Detail:
    """How much of each message a diagram draws: the full view for reading a flow closely,
    the compact one for a projector (fewer lines, shorter values)."""

    short: int = SHORT_LIMIT
    readable: int = READABLE_LIMIT
    scope: int = SCOPE_LIMIT
    #: Parameters left out (the compact view keeps what carries the protocol's security).
    hidden: frozenset[str] = frozenset()
    #: Most parameter lines under a label (None: all); the last kept one ends with `…`.
    max_lines: int | None = None


FULL = Detail()
COMPACT = Detail(
    short=9,
    readable=16,
    scope=24,
    hidden=frozenset(
        {
            "response_type",
            "code_challenge_method",
            "token_type",
            "expires_in",
            "token_type_hint",
            "username",
            "client_id",
            "redirect_uri",
            "scope",
        }
    ),
    max_lines=2,
)

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", ""})

Origins = Mapping[str, str]


def origins(trace: Trace) -> dict[str, str]:
    """Map each `scheme://host:port` seen in the trace to the party that answered there."""
    out: dict[str, str] = {}
    for event in trace.events:
        parts = urlsplit(event.url)
        if parts.netloc:
            out.setdefault(f"{parts.scheme}://{parts.netloc}", event.to)
    return out


#: A redacted value (`<code-1>`, `<access-token-2>`): short words, never cut.
_PLACEHOLDER = re.compile(r"<[a-z]+(?:-[a-z]+)*-\d+>|<credentials>")


def ellipsize(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, the last one an ellipsis (a redaction placeholder
    stays whole: it is what the reader follows from step to step)."""
    if len(text) <= limit or _PLACEHOLDER.fullmatch(text):
        return text
    return text[: max(limit - 1, 1)] + "…"


def short_url(url: str, known: Origins) -> str:
    """A URL without its port: the path, prefixed by whoever owns a foreign origin."""
    parts = urlsplit(url)
    path = parts.path
    if "@" in parts.netloc:
        # userinfo@host: the classic trick that passes a prefix check. Keep both visible,
        # each by its party name: `client@attacker:/steal`.
        userinfo, _, host = parts.netloc.rpartition("@")
        shown = known.get(f"{parts.scheme}://{userinfo}", userinfo.split(":")[0])
        owner = known.get(f"{parts.scheme}://{host}", parts.hostname or host)
        return f"{shown}@{owner}:{path or '/'}"
    if parts.scheme not in ("", "http", "https"):  # a native app's private-use scheme
        return f"{parts.scheme}:{path}"
    party = known.get(f"{parts.scheme}://{parts.netloc}") if parts.netloc else None
    if not path:  # an origin alone, such as an issuer identifier
        return party or parts.hostname or "/"
    if party == ATTACKER:
        return f"{ATTACKER}:{path}"
    if party is None and (parts.hostname or "") not in _LOOPBACK:
        return f"{parts.hostname}{path}"
    return path


def short_value(name: str, value: str, known: Origins, detail: Detail = FULL) -> str:
    """The value as drawn: URLs by path, random strings cut to ~10 characters."""
    if value.startswith(("http://", "https://")):
        value = short_url(value, known)
    value = " ".join(value.split())
    if name == "scope":
        return ellipsize(value, detail.scope)
    return ellipsize(value, detail.readable if name in _READABLE else detail.short)


def pick(
    pairs: Iterable[tuple[str, str]],
    known: Origins,
    order: tuple[str, ...] = KEY_PARAMS,
    detail: Detail = FULL,
) -> list[str]:
    """`name=value` items for the key parameters among `pairs`, in `order`."""
    first: dict[str, str] = {}
    for name, value in pairs:
        first.setdefault(name, value)
    shown = [n for n in order if n in first and n not in detail.hidden]
    return [f"{n}={short_value(n, first[n], known, detail)}" for n in shown]


#: What a redirect's Location says back: the authorization response (RFC 6749 §4.1.2,
#: §4.2.2, RFC 9207) and its errors. A redirect that carries a request (to /authorize)
#: shows only `?…`, since the browser's next step draws that request in full.
RESPONSE_PARAMS = frozenset(
    {"code", "state", "iss", "error", "access_token", "token_type", "expires_in"}
)


def url_groups(
    url: UrlParams, known: Origins, only: frozenset[str] | None = None, detail: Detail = FULL
) -> list[tuple[str, str, list[str]]]:
    """Key parameters of a URL's query (`?`) and fragment (`#`, implicit flow) as groups.

    With `only`, other parameters are left out and a final `…` stands for them.
    """
    groups = []
    for opener, pairs in (("?", url.query), ("#", url.fragment)):
        kept = pairs if only is None else tuple((n, v) for n, v in pairs if n in only)
        items = pick(kept, known, detail=detail)
        if len(kept) < len(pairs):
            items.append("…")
        if items:
            groups.append((opener, "&", items))
    return groups


def body_group(
    body: Pairs, known: Origins, detail: Detail = FULL
) -> list[tuple[str, str, list[str]]]:
    """Key parameters of a request body (token, introspection requests)."""
    items = pick(body, known, detail=detail)
    return [("body: ", "&", items)] if items else []


def json_group(
    answer: Pairs, known: Origins, detail: Detail = FULL
) -> list[tuple[str, str, list[str]]]:
    """Key members of a JSON response body (token and introspection responses, errors)."""
    items = pick(answer, known, BODY_PARAMS, detail)
    return [("{", ", ", items)] if items else []


def authorization_line(authorization: Authorization | None, detail: Detail = FULL) -> str:
    """`Authorization: Bearer eyJhbGci…` (or Basic): which credential the request carried,
    its value elided. An empty string when it carried none."""
    if authorization is None:
        return ""
    value = ellipsize(authorization.credentials, detail.short + 2)
    return f"Authorization: {authorization.scheme} {value}".rstrip()


def challenge_group(challenge: Mapping[str, str]) -> list[tuple[str, str, list[str]]]:
    """The `error` of an RFC 6750 `WWW-Authenticate: Bearer` challenge, if any."""
    error = challenge.get("error")
    return [("", "", [f"error={ellipsize(error, READABLE_LIMIT)}"])] if error else []
