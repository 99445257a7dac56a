"""Citations as data: `(rfc, section)` pairs, rendered as "RFC 9700 §4.7 Cross-Site Request
Forgery".

The drill, the two-minute answer and the cheat-sheet cite through this module only. Titles
come from the project's citation table (`sim.teaching.citations`) when it exists; until then
from the short table below, taken from each RFC's table of contents. A pair without a known
title still renders (number only), so a new scenario's reference never breaks a command.
"""

from __future__ import annotations

import re

Ref = tuple[str, str]

#: Titles of the sections the drill cites, from each RFC's table of contents.
_TITLES: dict[Ref, str] = {
    ("RFC 6749", "1.3.1"): "Authorization Code",
    ("RFC 6749", "1.3.4"): "Client Credentials",
    ("RFC 6749", "4.1.3"): "Access Token Request",
    ("RFC 6749", "4.4"): "Client Credentials Grant",
    ("RFC 6749", "6"): "Refreshing an Access Token",
    ("RFC 6749", "10.12"): "Cross-Site Request Forgery",
    ("RFC 6750", "1.2"): "Terminology",
    ("RFC 6750", "2.1"): "Authorization Request Header Field",
    ("RFC 7636", "1"): "Introduction",
    ("RFC 7636", "4.2"): "Client Creates the Code Challenge",
    ("RFC 7636", "4.5"): "Client Sends the Authorization Code and the Code Verifier to the "
    "Token Endpoint",
    ("RFC 7636", "4.6"): "Server Verifies code_verifier before Returning the Tokens",
    ("RFC 9700", "2.1"): "Protecting Redirect-Based Flows",
    ("RFC 9700", "2.1.1"): "Authorization Code Grant",
    ("RFC 9700", "2.1.2"): "Implicit Grant",
    ("RFC 9700", "2.2.1"): "Access Tokens",
    ("RFC 9700", "2.2.2"): "Refresh Tokens",
    ("RFC 9700", "2.3"): "Access Token Privilege Restriction",
    ("RFC 9700", "2.4"): "Resource Owner Password Credentials Grant",
    ("RFC 9700", "4.1"): "Insufficient Redirect URI Validation",
    ("RFC 9700", "4.4"): "Mix-Up Attacks",
    ("RFC 9700", "4.5"): "Authorization Code Injection",
    ("RFC 9700", "4.7"): "Cross-Site Request Forgery",
    ("RFC 9700", "4.8"): "PKCE Downgrade Attack",
    ("RFC 9700", "4.10"): "Misuse of Stolen Access Tokens",
    ("RFC 9700", "4.14"): "Refresh Token Protection",
    ("OpenID Connect Core 1.0", "2"): "ID Token",
    ("OpenID Connect Core 1.0", "3.1.2.1"): "Authentication Request",
}


def title(ref: Ref) -> str | None:
    """The section's title, or None when no table knows it."""
    try:
        from sim.teaching import citations  # noqa: PLC0415  (lands with issue 10)
    except ImportError:
        citations = None
    lookup = getattr(citations, "title", None)
    if callable(lookup):
        try:
            found = lookup(*ref)
        except (KeyError, ValueError):
            found = None
        if found:
            return found
    return _TITLES.get(ref)


def render(ref: Ref) -> str:
    rfc, section = ref
    if not section:
        return rfc
    name = title(ref)
    return f"{rfc} §{section}" + (f" {name}" if name else "")


def cite(refs: tuple[Ref, ...] | list[Ref]) -> str:
    """Several citations, one string: "RFC 6749 §10.12 Cross-Site Request Forgery; …"."""
    return "; ".join(render(ref) for ref in refs)


_DOC = re.compile(r"(RFC \d+|OpenID Connect Core 1\.0)")
_SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")


def parse(text: str | None) -> list[Ref]:
    """Pairs from a catalogue string such as "RFC 6749 §10.12, §4.1, RFC 9700 §4.7": a
    bare "§4.1" belongs to the document named before it. Ranges ("§4.1-4.3") keep their
    first section. A document cited without a section ("RFC 7662") keeps an empty one."""
    refs: list[Ref] = []
    for chunk in re.split(r"[,;]", text or ""):
        doc = _DOC.search(chunk)
        current = doc.group(1) if doc else (refs[-1][0] if refs else None)
        section = _SECTION.search(chunk)
        ref = (current, section.group(1) if section else "") if current else None
        if ref and (section or doc) and ref not in refs:
            refs.append(ref)
    return refs
