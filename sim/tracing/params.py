"""The one parsed view of an exchange's parameters: query, fragment, form, JSON, headers.

Every reader of a trace (the step notes, the step table, the diagram labels, the values a
trace marks as secrets, the drill, the attack scenarios) reads parameters through this view,
so they all agree on what an exchange carried; no other module parses a URL or a body.

Theory of operation
-------------------
A request carries parameters in its URL (query, and for the implicit flow's callback page a
fragment that browsers never send), in its body (form-encoded or JSON, as its Content-Type
says; a saved trace without headers is sniffed) and in its `Authorization` header (Basic:
the client's id and secret; Bearer: an access token). A response carries them in its
`Location` (an authorization response: query, or fragment for the implicit flow), in a JSON
body (token, introspection and error responses) and in a `WWW-Authenticate: Bearer`
challenge (RFC 6750 §3). Parsing is lenient: a part that does not parse is empty, never an
error, since traces also come from files and from real browsers.

Pairs keep their order and their repeats (`scope` may appear twice in a hostile request); a
lookup by name returns the first value, with the query before the body, as Authlib and Flask
read them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Pairs = tuple[tuple[str, str], ...]


def query_pairs(text: str | None) -> Pairs:
    """`a=1&b=2` as ordered pairs, blanks kept; nothing when it does not parse."""
    if not text:
        return ()
    try:
        return tuple(parse_qsl(text, keep_blank_values=True))
    except ValueError:
        return ()


def first(pairs: Iterable[tuple[str, str]], name: str) -> str:
    """The first value of `name` among `pairs`, or ""."""
    return next((value for key, value in pairs if key == name), "")


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, whatever the case of its name ("" when absent)."""
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), "")


@dataclass(frozen=True)
class UrlParams:
    """A URL split into its path and its query and fragment parameters."""

    path: str
    query: Pairs
    fragment: Pairs

    @classmethod
    def parse(cls, url: str | None) -> UrlParams:
        try:
            parts = urlsplit(url or "")
        except ValueError:
            return cls("", (), ())
        return cls(parts.path, query_pairs(parts.query), query_pairs(parts.fragment))

    def get(self, name: str) -> str:
        """From the query, else from the fragment."""
        return first(self.query, name) or first(self.fragment, name)

    @property
    def pairs(self) -> Pairs:
        return self.query + self.fragment


def url_param(url: str | None, name: str) -> str:
    """One parameter of a URL (query first, then fragment), or ""."""
    return UrlParams.parse(url).get(name)


@dataclass(frozen=True)
class Authorization:
    """An `Authorization` header: its scheme as sent and, decoded, what it carries."""

    scheme: str
    credentials: str

    @classmethod
    def parse(cls, value: str) -> Authorization | None:
        scheme, _, credentials = value.strip().partition(" ")
        return cls(scheme, credentials.strip()) if scheme else None

    @property
    def pairs(self) -> Pairs:
        """Basic: `client_id` and `client_secret` (RFC 6749 §2.3.1); Bearer and DPoP:
        `access_token` (RFC 6750 §2.1, RFC 9449 §7.1)."""
        if not self.credentials:
            return ()
        if self.scheme.lower() in ("bearer", "dpop"):
            return (("access_token", self.credentials),)
        if self.scheme.lower() == "basic":
            try:
                text = base64.b64decode(self.credentials, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return ()
            user, colon, secret = text.partition(":")
            return (("client_id", user), ("client_secret", secret)) if colon and secret else ()
        return ()


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _as_text(value: Any) -> str:
    """A JSON member as a parameter value: `true`, `300`, strings unchanged."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_body(body: str, content_type: str) -> tuple[Pairs, dict[str, Any]]:
    """(form pairs, JSON object) of a body; at most one of them is non-empty."""
    text = body.strip()
    if not text:
        return (), {}
    kind = content_type.lower()
    if "json" in kind or (not kind and text.startswith("{")):
        return (), _json_object(text)
    if "form-urlencoded" in kind or (not kind and "=" in text and text[0] not in "<[{"):
        return query_pairs(text), {}
    return (), {}


def body_pairs(form: Pairs, data: dict[str, Any]) -> Pairs:
    """A body's parameters as pairs, form or JSON (what `parse_body` found)."""
    return form or tuple((k, _as_text(v)) for k, v in data.items())


def request_pairs(query: str, authorization: str, content_type: str, body: str) -> Pairs:
    """A request's parameters in wire order (its query's, its `Authorization` header's, its
    body's): what `Params.parse` of that request alone gives as `pairs()`, without building
    the whole view (live mode reads them on every browser request that can carry a code)."""
    auth = Authorization.parse(authorization) if authorization else None
    return (
        (UrlParams.parse("?" + query).pairs if query else ())
        + (auth.pairs if auth else ())
        + body_pairs(*parse_body(body, content_type))
    )


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def bearer_challenge(value: str) -> dict[str, str]:
    """The parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3)."""
    if not value.strip().lower().startswith("bearer"):
        return {}
    return dict(_CHALLENGE_PARAM.findall(value))


@dataclass(frozen=True)
class Params:
    """Everything one exchange carried, parsed once. `Event.params` holds one, cached."""

    url: UrlParams
    #: The request body when form-encoded (token, introspection, login, consent requests).
    form: Pairs
    #: The request body when it is a JSON object.
    json: dict[str, Any]
    authorization: Authorization | None
    #: Where a redirect sends the browser, parsed (None when not a redirect).
    location: UrlParams | None
    #: The response body when it is a JSON object (token, introspection, error responses).
    answer: dict[str, Any]
    #: `WWW-Authenticate: Bearer` parameters of the response (RFC 6750 §3).
    challenge: dict[str, str]
    request_headers: Mapping[str, str]
    response_headers: Mapping[str, str]

    @classmethod
    def parse(
        cls,
        url: str,
        request_headers: Mapping[str, str] | None = None,
        request_body: str = "",
        location: str | None = None,
        response_headers: Mapping[str, str] | None = None,
        response_body: str = "",
    ) -> Params:
        request_headers = request_headers or {}
        response_headers = response_headers or {}
        form, body_json = parse_body(request_body, header(request_headers, "Content-Type"))
        _, answer = parse_body(response_body, header(response_headers, "Content-Type") or "json")
        return cls(
            url=UrlParams.parse(url),
            form=form,
            json=body_json,
            authorization=Authorization.parse(header(request_headers, "Authorization")),
            location=UrlParams.parse(location) if location else None,
            answer=answer,
            challenge=bearer_challenge(header(response_headers, "WWW-Authenticate")),
            request_headers=request_headers,
            response_headers=response_headers,
        )

    # -- the request --------------------------------------------------------------------
    @property
    def body(self) -> Pairs:
        """The request body's parameters, form or JSON, as pairs."""
        return body_pairs(self.form, self.json)

    def request(self, name: str) -> str:
        """A request parameter: the query first, then the body."""
        return self.url.get(name) or first(self.body, name)

    # -- the response -------------------------------------------------------------------
    def returned(self, name: str) -> str:
        """A parameter of the redirect's Location: its query first, then its fragment."""
        return self.location.get(name) if self.location else ""

    def answered(self, name: str) -> str:
        """A member of the JSON response, as text (`true`, `300`), or ""."""
        return _as_text(self.answer[name]) if name in self.answer else ""

    @property
    def answer_pairs(self) -> Pairs:
        return tuple((k, _as_text(v)) for k, v in self.answer.items())

    # -- either ---------------------------------------------------------------------------
    def get(self, name: str) -> str:
        """The request's value of `name`, else the redirect's."""
        return self.request(name) or self.returned(name)

    def pairs(self) -> Pairs:
        """Every parameter of the exchange, request side first, in wire order."""
        return (
            self.url.pairs
            + (self.authorization.pairs if self.authorization else ())
            + self.body
            + (self.location.pairs if self.location else ())
            + tuple((k, v) for k, v in self.answer_pairs if isinstance(self.answer[k], str))
        )
