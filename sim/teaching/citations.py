"""Citations as data: the one table of the sections the project cites, `(document, section)
-> title`, with the one parser of citation strings and the one renderer.

A note carries its citations as a string ("RFC 6749 §4.1.2, §10.12; RFC 9207 §2.4"), the
`rfc` field of the JSON contract. `parse()` turns it into `(document, section)` pairs, and
refuses a string it cannot read (`MalformedCitation`) rather than guess; `cite()` renders
the pairs with each section's title beside its number ("RFC 9700 §4.7 Cross-Site Request
Forgery") for the step table, the console, the drill, the cheat sheet and the notebooks.

Every title below was checked against the document's own table of contents or section
heading (the stored rfc-editor text, through the project's search tools), not recalled;
an entry whose text the library does not hold says so in a comment. A document cited
without a section ("RFC 7662") has the entry `(document, "")` with the document's title.
`tests/test_citations.py` fails on any citation in the sources or in a scenario's trace
that this table does not resolve.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: `("RFC 9700", "4.7")`: a document's canonical name and a section number ("" = the whole).
Ref = tuple[str, str]


class MalformedCitation(ValueError):
    """A citation string that names no document, or a section in a form we do not read."""


#: Other spellings of a document's name -> its canonical name in the table.
ALIASES: dict[str, str] = {
    "OpenID Connect Core 1.0": "OIDC Core",
    "OpenID Connect Core": "OIDC Core",
    "OIDC Core": "OIDC Core",
    "OpenID Connect Discovery 1.0": "OIDC Discovery",
    "OpenID Connect Discovery": "OIDC Discovery",
    "OIDC Discovery": "OIDC Discovery",
    "OpenID Connect Dynamic Client Registration 1.0": "OIDC Registration",
    "OIDC Registration": "OIDC Registration",
    "Fetch Standard": "Fetch Standard",
    "OpenID Connect RP-Initiated Logout 1.0": "OIDC RP-Initiated Logout",
    "OIDC RP-Initiated Logout 1.0": "OIDC RP-Initiated Logout",
    "OIDC RP-Initiated Logout": "OIDC RP-Initiated Logout",
    # Shorthands used in prose after a full name ("OIDC Registration §2 … Discovery §3,
    # Core §15.1"), so the source scan sees those citations too.
    "Core": "OIDC Core",
    "Discovery": "OIDC Discovery",
    "Registration": "OIDC Registration",
}

_NAMES = "|".join(re.escape(name) for name in sorted(ALIASES, key=len, reverse=True))
#: A document's name: "RFC 9700" (also "RFC9700") or one of the aliases above.
DOC = re.compile(rf"\b(?:RFC ?(\d{{4,5}})|({_NAMES}))\b")
_NUMBER = r"\d+(?:\.\d+)*"
#: "§4.1", "§ 4.1", "§4.1-4.3" (a range), "§4.1.3–4.1.4", and "Section 4.1" in error texts.
SECTION = re.compile(rf"(?:§|Section )\s*({_NUMBER})(?:\s*[-–]\s*({_NUMBER}))?")
#: A document named in prose, then its sections: "RFC 6749 §4.1.2, §10.12 and §10.5".
IN_PROSE = re.compile(
    rf"{DOC.pattern}((?:,?\s*(?:and\s+|or\s+)?(?:§|Section )\s*{_NUMBER}"
    rf"(?:\s*[-–]\s*{_NUMBER})?)*)"
)


def canonical(document: str) -> str:
    """ "RFC9700" -> "RFC 9700", "OpenID Connect Core 1.0" -> "OIDC Core"."""
    found = DOC.fullmatch(document.strip())
    if not found:
        raise MalformedCitation(f"not a document we cite: {document!r}")
    return f"RFC {found.group(1)}" if found.group(1) else ALIASES[found.group(2)]


def _expand(first: str, last: str | None) -> list[str]:
    """ "4.1"-"4.3" -> 4.1, 4.2, 4.3 (siblings only: a range across levels is malformed)."""
    if last is None:
        return [first]
    head, _, low = first.rpartition(".")
    head2, _, high = last.rpartition(".")
    if head != head2 or int(high) <= int(low):
        raise MalformedCitation(f"a section range must run between siblings: §{first}-{last}")
    return [f"{head}.{n}" if head else str(n) for n in range(int(low), int(high) + 1)]


def parse(text: str | None) -> list[Ref]:
    """The pairs a citation string names, in order, without repeats: chunks separated by
    "," or ";", each "DOCUMENT", "DOCUMENT §N" or (after a document) a bare "§N"; "§N-M"
    names each sibling section between. Anything else raises `MalformedCitation`."""
    refs: list[Ref] = []
    current: str | None = None
    for chunk in re.split(r"[,;]", text or ""):
        chunk = chunk.strip().rstrip(".")
        if not chunk:
            if text and text.strip():
                raise MalformedCitation(f"empty part in citation {text!r}")
            continue
        doc = DOC.match(chunk)
        rest = chunk[doc.end() :].strip() if doc else chunk
        if doc:
            current = canonical(doc.group(0))
        if current is None:
            raise MalformedCitation(f"no document named before {chunk!r} in {text!r}")
        if doc and not rest:
            sections = [""]
        else:
            section = SECTION.fullmatch(rest)
            if section is None:
                raise MalformedCitation(f"cannot read {chunk!r} in {text!r}")
            sections = _expand(section.group(1), section.group(2))
        for number in sections:
            if (current, number) not in refs:
                refs.append((current, number))
    return refs


def find_all(text: str) -> Iterator[Ref]:
    """Every pair cited in free text (a docstring, a notebook's prose): a document's name
    and the sections right after it ("RFC 6749 §4.1.2, §10.12"). A bare "§N" far from a
    document's name is not attributed to any (the sources name the document)."""
    for found in IN_PROSE.finditer(text):
        document = canonical(found.group(0)[: found.start(3) - found.start(0)].strip())
        sections = [
            number
            for first, last in SECTION.findall(found.group(3))
            for number in _expand(first, last or None)
        ]
        for number in sections or [""]:
            yield document, number


def title(document: str, section: str = "") -> str:
    """The section's title from the table (KeyError when the table lacks it)."""
    return TITLES[(canonical(document), section)]


def known(ref: Ref) -> bool:
    try:
        title(*ref)
    except (KeyError, MalformedCitation):
        return False
    return True


def shorten(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 1)].rstrip() + "…"


def render(ref: Ref, width: int | None = None) -> str:
    """ "RFC 9700 §4.7 Cross-Site Request Forgery"; the title cut to `width` with "…". A
    pair the table lacks renders as its number alone (the test is what fails on it)."""
    document, section = ref
    if not section:
        return document
    name = TITLES.get((document, section))
    return f"{document} §{section}" + (f" {shorten(name, width)}" if name else "")


def cite(refs: str | Iterable[Ref] | None, width: int | None = None) -> str:
    """Several citations on one line, the document named once per run of its sections:
    "RFC 6749 §4.1.2 Authorization Response, §10.12 Cross-Site Request Forgery; RFC 9207 …".
    A string is parsed first; `width` cuts each title."""
    pairs = parse(refs) if isinstance(refs, str) or refs is None else list(refs)
    out: list[str] = []
    previous = None
    for document, section in pairs:
        text = render((document, section), width)
        if document == previous and section:
            out[-1] += ", " + text[len(document) + 1 :]
        else:
            out.append(text)
        previous = document
    return "; ".join(out)


def cite_safely(text: str | None, width: int | None = None) -> str:
    """`cite` for a display that must not fail: a string it cannot parse is shown as is."""
    try:
        return cite(text, width)
    except MalformedCitation:
        return text or ""


# -- the table -------------------------------------------------------------------------------
# Checked with the project's search tools (find_string / read_file) on 2026-11-26. Sources,
# document by document: RFC 6749's rfc-editor text (its table of contents, and the headings of
# §4.1.2.1 and §4.2.2.1 in the text); RFC 9207's and RFC 9449's rfc-editor texts (their tables
# of contents); RFC 9700's stored text (numbers beside each paragraph; its headings lost their
# titles there, so the titles come from the table of contents of draft-ietf-oauth-security-
# topics-29, the draft published as RFC 9700); OpenID Connect Core 1.0's table of contents;
# RFC 9068's text (§6 beside "The client MUST NOT inspect the content of the access token").
# Entries in `UNCHECKED` were not found in the document's own text in the library: their
# number/title pair was seen only in quotations of it (code comments, other projects' notes),
# or not at all; each says which.

TITLES: dict[Ref, str] = {
    # RFC 6749 (table of contents; §4.1.2.1 and §4.2.2.1 from their headings in the text)
    ("RFC 6749", ""): "The OAuth 2.0 Authorization Framework",
    ("RFC 6749", "1.1"): "Roles",
    ("RFC 6749", "1.3.1"): "Authorization Code",
    ("RFC 6749", "1.3.4"): "Client Credentials",
    ("RFC 6749", "1.4"): "Access Token",
    ("RFC 6749", "1.5"): "Refresh Token",
    ("RFC 6749", "2"): "Client Registration",
    ("RFC 6749", "2.1"): "Client Types",
    ("RFC 6749", "2.2"): "Client Identifier",
    ("RFC 6749", "2.3"): "Client Authentication",
    ("RFC 6749", "2.3.1"): "Client Password",
    ("RFC 6749", "3.1"): "Authorization Endpoint",
    ("RFC 6749", "3.2"): "Token Endpoint",
    ("RFC 6749", "3.3"): "Access Token Scope",
    ("RFC 6749", "4.1"): "Authorization Code Grant",
    ("RFC 6749", "4.1.1"): "Authorization Request",
    ("RFC 6749", "4.1.2"): "Authorization Response",
    ("RFC 6749", "4.1.2.1"): "Error Response",
    ("RFC 6749", "4.1.3"): "Access Token Request",
    ("RFC 6749", "4.1.4"): "Access Token Response",
    ("RFC 6749", "4.2"): "Implicit Grant",
    ("RFC 6749", "4.2.1"): "Authorization Request",
    ("RFC 6749", "4.2.2"): "Access Token Response",
    ("RFC 6749", "4.2.2.1"): "Error Response",
    ("RFC 6749", "4.4"): "Client Credentials Grant",
    ("RFC 6749", "5.1"): "Successful Response",
    ("RFC 6749", "5.2"): "Error Response",
    ("RFC 6749", "6"): "Refreshing an Access Token",
    ("RFC 6749", "8"): "Extensibility",
    ("RFC 6749", "10.5"): "Authorization Codes",
    ("RFC 6749", "10.6"): "Authorization Code Redirection URI Manipulation",
    ("RFC 6749", "10.12"): "Cross-Site Request Forgery",
    # RFC 6750 (a stored copy translated to Korean keeps the numbering and the English titles
    # of §2.1; §3 and §3.1 as quoted in an issue thread; see UNCHECKED for §1.2 and §2)
    ("RFC 6750", ""): "The OAuth 2.0 Authorization Framework: Bearer Token Usage",
    ("RFC 6750", "1.2"): "Terminology",
    ("RFC 6750", "2"): "Authenticated Requests",
    ("RFC 6750", "2.1"): "Authorization Request Header Field",
    ("RFC 6750", "3"): "The WWW-Authenticate Response Header Field",
    ("RFC 6750", "3.1"): "Error Codes",
    # RFC 7009
    ("RFC 7009", ""): "OAuth 2.0 Token Revocation",
    ("RFC 7009", "2"): "Token Revocation",
    ("RFC 7009", "2.1"): "Revocation Request",
    ("RFC 7009", "2.2"): "Revocation Response",
    # RFC 7636 (a stored copy translated to Korean keeps each section's English title)
    ("RFC 7636", ""): "Proof Key for Code Exchange by OAuth Public Clients",
    ("RFC 7636", "1"): "Introduction",
    ("RFC 7636", "4.1"): "Client Creates a Code Verifier",
    ("RFC 7636", "4.2"): "Client Creates the Code Challenge",
    ("RFC 7636", "4.3"): "Client Sends the Code Challenge with the Authorization Request",
    ("RFC 7636", "4.4"): "Server Returns the Code",
    ("RFC 7636", "4.5"): "Client Sends the Authorization Code and the Code Verifier to the Token "
    "Endpoint",
    ("RFC 7636", "4.6"): "Server Verifies code_verifier before Returning the Tokens",
    # RFC 7662
    ("RFC 7662", ""): "OAuth 2.0 Token Introspection",
    ("RFC 7662", "2"): "Introspection Endpoint",
    ("RFC 7662", "2.1"): "Introspection Request",
    ("RFC 7662", "2.2"): "Introspection Response",
    ("RFC 7662", "4"): "Security Considerations",
    # RFC 8252
    ("RFC 8252", ""): "OAuth 2.0 for Native Apps",
    ("RFC 8252", "6"): "Initiating the Authorization Request from a Native App",
    ("RFC 8252", "7"): "Receiving the Authorization Response in a Native App",
    ("RFC 8252", "7.1"): "Private-Use URI Scheme Redirection",
    ("RFC 8252", "8.1"): "Protecting the Authorization Code",
    # RFC 8414
    ("RFC 8414", ""): "OAuth 2.0 Authorization Server Metadata",
    ("RFC 8414", "2"): "Authorization Server Metadata",
    ("RFC 8414", "3.1"): "Authorization Server Metadata Request",
    ("RFC 8414", "3.3"): "Authorization Server Metadata Validation",
    # RFC 8628
    # RFC 8707 (§2's text read in the stored RFC, whose headings lost their titles)
    ("RFC 8707", ""): "Resource Indicators for OAuth 2.0",
    ("RFC 8707", "2"): "Resource Parameter",
    ("RFC 8628", ""): "OAuth 2.0 Device Authorization Grant",
    ("RFC 8628", "1"): "Introduction",
    ("RFC 8628", "3"): "Protocol",
    ("RFC 8628", "3.1"): "Device Authorization Request",
    ("RFC 8628", "3.2"): "Device Authorization Response",
    ("RFC 8628", "3.3"): "User Interaction",
    ("RFC 8628", "3.3.1"): "Non-Textual Verification URI Optimization",
    ("RFC 8628", "3.4"): "Device Access Token Request",
    ("RFC 8628", "3.5"): "Device Access Token Response",
    ("RFC 8628", "4"): "Discovery Metadata",
    ("RFC 8628", "5.1"): "User Code Brute Forcing",
    ("RFC 8628", "5.4"): "Remote Phishing",
    ("RFC 8628", "6.1"): "User Code Recommendations",
    # RFC 9068
    ("RFC 9068", ""): "JSON Web Token (JWT) Profile for OAuth 2.0 Access Tokens",
    ("RFC 9068", "4"): "Validating JWT Access Tokens",
    ("RFC 9068", "6"): "Privacy Considerations",
    # RFC 9207 (table of contents)
    ("RFC 9207", ""): "OAuth 2.0 Authorization Server Issuer Identification",
    ("RFC 9207", "2"): "Response Parameter iss",
    ("RFC 9207", "2.4"): "Validating the Issuer Identifier",
    ("RFC 9207", "3"): "Authorization Server Metadata",
    # RFC 9449 (table of contents)
    ("RFC 9449", ""): "OAuth 2.0 Demonstrating Proof of Possession (DPoP)",
    ("RFC 9449", "1"): "Introduction",
    ("RFC 9449", "2"): "Objectives",
    ("RFC 9449", "4.2"): "DPoP Proof JWT Syntax",
    ("RFC 9449", "4.3"): "Checking DPoP Proofs",
    ("RFC 9449", "5"): "DPoP Access Token Request",
    ("RFC 9449", "5.1"): "Authorization Server Metadata",
    ("RFC 9449", "6"): "Public Key Confirmation",
    ("RFC 9449", "6.1"): "JWK Thumbprint Confirmation Method",
    ("RFC 9449", "6.2"): "JWK Thumbprint Confirmation Method in Token Introspection",
    ("RFC 9449", "7"): "Protected Resource Access",
    ("RFC 9449", "7.1"): "The DPoP Authentication Scheme",
    ("RFC 9449", "7.2"): "Compatibility with the Bearer Authentication Scheme",
    ("RFC 9449", "11.4"): "Untrusted Code in the Client Context",
    # RFC 9700 (the table of contents of an rfc-editor rendering of RFC 9700, linking each
    # rfc9700#section-N; it differs from draft-29's in §4.1: "Redirection", not "Redirect")
    ("RFC 9700", ""): "Best Current Practice for OAuth 2.0 Security",
    ("RFC 9700", "2"): "Best Practices",
    ("RFC 9700", "2.1"): "Protecting Redirect-Based Flows",
    ("RFC 9700", "2.1.1"): "Authorization Code Grant",
    ("RFC 9700", "2.1.2"): "Implicit Grant",
    ("RFC 9700", "2.2.1"): "Access Tokens",
    ("RFC 9700", "2.2.2"): "Refresh Tokens",
    ("RFC 9700", "2.3"): "Access Token Privilege Restriction",
    ("RFC 9700", "2.4"): "Resource Owner Password Credentials Grant",
    ("RFC 9700", "3"): "The Updated OAuth 2.0 Attacker Model",
    ("RFC 9700", "4.1"): "Insufficient Redirection URI Validation",
    ("RFC 9700", "4.1.1"): "Redirect URI Validation Attacks on Authorization Code Grant",
    ("RFC 9700", "4.1.3"): "Countermeasures",
    ("RFC 9700", "4.2.4"): "Countermeasures",
    ("RFC 9700", "4.3.1"): "Authorization Code in Browser History",
    ("RFC 9700", "4.3.2"): "Access Token in Browser History",
    ("RFC 9700", "4.4"): "Mix-Up Attacks",
    ("RFC 9700", "4.4.1"): "Attack Description",
    ("RFC 9700", "4.4.2"): "Countermeasures",
    ("RFC 9700", "4.4.2.1"): "Mix-Up Defense via Issuer Identification",
    ("RFC 9700", "4.5"): "Authorization Code Injection",
    ("RFC 9700", "4.5.1"): "Attack Description",
    ("RFC 9700", "4.5.3"): "Countermeasures",
    ("RFC 9700", "4.5.3.1"): "PKCE",
    ("RFC 9700", "4.5.3.2"): "Nonce",
    ("RFC 9700", "4.5.4"): "Limitations",
    ("RFC 9700", "4.6"): "Access Token Injection",
    ("RFC 9700", "4.7"): "Cross-Site Request Forgery",
    ("RFC 9700", "4.7.1"): "Countermeasures",
    ("RFC 9700", "4.8"): "PKCE Downgrade Attack",
    ("RFC 9700", "4.8.1"): "Attack Description",
    ("RFC 9700", "4.8.2"): "Countermeasures",
    ("RFC 9700", "4.10"): "Misuse of Stolen Access Tokens",
    ("RFC 9700", "4.13"): "TLS Terminating Reverse Proxies",
    ("RFC 9700", "4.14"): "Refresh Token Protection",
    ("RFC 9700", "4.14.2"): "Recommendations",
    # RFC 10017 (BCP 212, August 2026). Titles from the table of contents of
    # draft-ietf-oauth-browser-based-apps-26, the draft the RFC Editor's announcement names;
    # the RFC's own text is not in the library (see UNCHECKED).
    ("RFC 10017", ""): "OAuth 2.0 for Browser-Based Applications",
    ("RFC 10017", "5"): "The Threat of Malicious JavaScript",
    ("RFC 10017", "5.1"): "Attack Scenarios",
    ("RFC 10017", "5.1.1"): "Single-Execution Token Theft",
    ("RFC 10017", "5.1.2"): "Persistent Token Theft",
    ("RFC 10017", "5.1.3"): "Acquisition and Extraction of New Tokens",
    ("RFC 10017", "5.1.4"): "Proxying Requests via the User's Browser",
    ("RFC 10017", "5.2"): "Attack Consequences",
    ("RFC 10017", "6"): "Application Architecture Patterns",
    ("RFC 10017", "6.1"): "Backend For Frontend (BFF)",
    ("RFC 10017", "6.1.1"): "Application Architecture",
    ("RFC 10017", "6.1.2"): "Implementation Details",
    ("RFC 10017", "6.1.3"): "Security Considerations",
    ("RFC 10017", "5.2.3"): "Client Hijacking",
    ("RFC 10017", "6.1.3.1"): "The Authorization Code Grant",
    ("RFC 10017", "6.1.3.2"): "Cookie Security",
    ("RFC 10017", "6.1.3.3"): "Cross-Site Request Forgery Protections",
    ("RFC 10017", "6.1.4"): "Threat Analysis",
    ("RFC 10017", "6.1.4.1"): "Attack Scenarios and Consequences",
    ("RFC 10017", "6.1.4.2"): "Mitigated Attack Scenarios",
    ("RFC 10017", "6.1.4.3"): "Summary",
    ("RFC 10017", "6.3"): "Browser-based OAuth 2.0 client",
    ("RFC 10017", "8"): "Token Storage in the Browser",
    ("RFC 10017", "8.4"): "In-Memory Token Storage",
    # OpenID Connect Core 1.0 (table of contents)
    ("OIDC Core", ""): "OpenID Connect Core 1.0",
    ("OIDC Core", "1"): "Introduction",
    ("OIDC Core", "2"): "ID Token",
    ("OIDC Core", "3.1"): "Authentication using the Authorization Code Flow",
    ("OIDC Core", "3.1.2.1"): "Authentication Request",
    ("OIDC Core", "3.1.2.2"): "Authentication Request Validation",
    ("OIDC Core", "3.1.3.3"): "Successful Token Response",
    ("OIDC Core", "3.1.3.7"): "ID Token Validation",
    ("OIDC Core", "5.3"): "UserInfo Endpoint",
    ("OIDC Core", "5.3.2"): "Successful UserInfo Response",
    ("OIDC Core", "5.3.3"): "UserInfo Error Response",
    ("OIDC Core", "5.4"): "Requesting Claims using Scope Values",
    ("OIDC Core", "11"): "Offline Access",
    ("OIDC Core", "15.5.2"): "Nonce Implementation Notes",
    # OpenID Connect Discovery 1.0 (table of contents of a stored copy)
    ("OIDC Discovery", ""): "OpenID Connect Discovery 1.0",
    ("OIDC Discovery", "3"): "OpenID Provider Metadata",
    ("OIDC Discovery", "4"): "Obtaining OpenID Provider Configuration Information",
    ("OIDC Discovery", "4.3"): "OpenID Provider Configuration Validation",
    ("OIDC Registration", ""): "OpenID Connect Dynamic Client Registration 1.0",
    ("OIDC Registration", "2"): "Client Metadata",
    # Cited in code comments only
    ("RFC 3986", ""): "Uniform Resource Identifier (URI): Generic Syntax",
    ("RFC 7518", ""): "JSON Web Algorithms (JWA)",
    ("RFC 7638", ""): "JSON Web Key (JWK) Thumbprint",
    ("RFC 9110", ""): "HTTP Semantics",
    ("RFC 3986", "6.2.2"): "Syntax-Based Normalization",
    ("RFC 3986", "6.2.3"): "Scheme-Based Normalization",
    ("RFC 7231", ""): "Hypertext Transfer Protocol (HTTP/1.1): Semantics and Content",
    ("RFC 7518", "3.4"): "Digital Signature with ECDSA",
    ("RFC 7518", "6.2.2"): "Parameters for Elliptic Curve Private Keys",
    ("RFC 7518", "6.3.2"): "Parameters for RSA Private Keys",
    ("RFC 7638", "3"): "JSON Web Key (JWK) Thumbprint",
    ("RFC 8705", ""): "OAuth 2.0 Mutual-TLS Client Authentication and Certificate-Bound Access "
    "Tokens",
    ("RFC 9110", "5.1"): "Field Names",  # rfc-editor text: "Field names are case-insensitive"
    ("RFC 9110", "15.5.2"): "401 Unauthorized",
    ("RFC 9110", "15.5.14"): "413 Content Too Large",
    ("Fetch Standard", ""): "Fetch Standard (WHATWG), the CORS protocol",
    # OpenID Connect RP-Initiated Logout 1.0 (titles from conformance tables quoting it)
    ("OIDC RP-Initiated Logout", ""): "OpenID Connect RP-Initiated Logout 1.0",
    ("OIDC RP-Initiated Logout", "2"): "RP-Initiated Logout",
    ("OIDC RP-Initiated Logout", "2.1"): "OpenID Provider Discovery Metadata",
    ("OIDC RP-Initiated Logout", "3"): "Redirection to RP After Logout",
    ("OIDC RP-Initiated Logout", "3.1"): "Client Registration Metadata",
}

#: Pairs whose number and title were not read in the document's own text in the library,
#: and what they rest on instead. They render like the others; the notes say so.
UNCHECKED: dict[Ref, str] = {
    ("RFC 6750", "1.2"): "stored copy is a Korean translation; English heading not seen",
    ("RFC 6750", "2"): "stored copy is a Korean translation; English heading not seen",
    ("RFC 7009", "2"): "the RFC's text is not stored; §2.1/§2.2 headings seen in quotations",
    ("RFC 7009", "2.1"): "heading seen only in code comments quoting the RFC",
    ("RFC 7009", "2.2"): "heading seen only in code comments quoting the RFC",
    ("RFC 7662", "2"): "heading seen only in a compliance table quoting the RFC",
    ("RFC 7662", "2.1"): "heading seen only in a compliance table quoting the RFC",
    ("RFC 7662", "2.2"): "heading seen only in a code comment and a compliance table quoting "
    "the RFC",
    ("RFC 7662", "4"): "title seen only in an issue thread linking rfc7662#section-4",
    ("RFC 8252", "6"): "quotations disagree (one puts this title at §7); §7 is Receiving the "
    "Authorization Response in another, with a link to #section-7",
    ("RFC 8252", "7"): "heading seen only in a quotation linking rfc8252#section-7",
    ("RFC 8252", "7.1"): "heading seen only in quotations of the RFC",
    ("RFC 8252", "8.1"): "heading seen only in a quotation of the RFC",
    ("RFC 7518", "3.4"): "heading seen only in code comments quoting the RFC",
    ("RFC 8414", "2"): "heading seen only in quotations of the RFC",
    ("RFC 8414", "3.1"): "heading seen only in a quotation of rfc8414.txt",
    ("RFC 8414", "3.3"): "heading seen only in code comments quoting the RFC",
    ("OIDC RP-Initiated Logout", "2"): "the spec's text is not stored; §2's sentence on asking "
    "the End-User read in several quotations",
    ("OIDC RP-Initiated Logout", "2.1"): "seen in a conformance table quoting the spec",
    ("OIDC RP-Initiated Logout", "3"): "seen in code comments and a conformance table",
    ("OIDC RP-Initiated Logout", "3.1"): "seen in a conformance table quoting the spec",
    ("RFC 8707", "2"): "the stored RFC's heading lost its title; title seen in a quotation "
    "linking rfc8707#section-2",
    ("RFC 8628", "1"): "the RFC's text is not stored",
    ("RFC 8628", "3"): "the RFC's text is not stored",
    ("RFC 8628", "3.1"): "the RFC's text is not stored",
    ("RFC 8628", "3.2"): "the RFC's text is not stored",
    ("RFC 8628", "3.3"): "the RFC's text is not stored",
    ("RFC 8628", "3.3.1"): "the RFC's text is not stored",
    ("RFC 8628", "3.4"): "the RFC's text is not stored",
    ("RFC 8628", "3.5"): "seen in a compliance table quoting the RFC",
    ("RFC 8628", "4"): "seen in a compliance table quoting the RFC",
    ("RFC 8628", "5.1"): "seen in quotations of the RFC",
    ("RFC 8628", "5.4"): "the RFC text is not stored; three quotations put Remote Phishing at "
    "§5.4 (one quoting its first sentence), one at §5.3",
    ("RFC 8628", "6.1"): "seen in a compliance table quoting the RFC",
    ("RFC 9068", "4"): "title seen only in quotations; §6 was read in the RFC's text",
    ("RFC 10017", ""): "RFC 10017's own text is not in the library; draft-26 is",
    **{
        ("RFC 10017", s): "numbering from draft-26; other projects cite RFC 10017 with it"
        for s in (
            "5",
            "5.1",
            "5.1.1",
            "5.1.2",
            "5.1.3",
            "5.1.4",
            "5.2",
            "6",
            "6.1",
            "6.1.1",
            "6.1.2",
            "6.1.3",
            "6.1.4",
            "6.3",
            "8",
            "8.4",
            "5.2.3",
            "6.1.3.1",
            "6.1.3.2",
            "6.1.3.3",
            "6.1.4.1",
            "6.1.4.2",
            "6.1.4.3",
        )
    },
    ("OIDC Registration", "2"): "the specification's text is not stored",
    ("RFC 3986", "6.2.2"): "not looked up (code comment)",
    ("RFC 3986", "6.2.3"): "not looked up (code comment)",
    ("RFC 7231", ""): "not looked up (code comment)",
    ("RFC 7518", "6.2.2"): "not looked up (code comment)",
    ("RFC 7518", "6.3.2"): "not looked up (code comment)",
    ("RFC 7638", "3"): "not looked up (code comment)",
    ("RFC 8705", ""): "not looked up (named in a drill answer)",
    ("RFC 9110", "15.5.2"): "not looked up (code comment)",
    ("RFC 9110", "15.5.14"): "not looked up (code comment)",
}


# The rest of each table of contents read above, so a new note citing another section of
# these documents resolves without a second look-up (same sources as the entries above).
_MORE: dict[Ref, str] = {
    **{
        ("RFC 6749", n): t
        for n, t in {
            "1": "Introduction",
            "1.2": "Protocol Flow",
            "1.3": "Authorization Grant",
            "1.3.2": "Implicit",
            "1.3.3": "Resource Owner Password Credentials",
            "1.6": "TLS Version",
            "1.7": "HTTP Redirections",
            "1.8": "Interoperability",
            "1.9": "Notational Conventions",
            "2.3.2": "Other Authentication Methods",
            "2.4": "Unregistered Clients",
            "3": "Protocol Endpoints",
            "3.1.1": "Response Type",
            "3.1.2": "Redirection Endpoint",
            "3.2.1": "Client Authentication",
            "4": "Obtaining Authorization",
            "4.3": "Resource Owner Password Credentials Grant",
            "4.3.1": "Authorization Request and Response",
            "4.3.2": "Access Token Request",
            "4.3.3": "Access Token Response",
            "4.4.1": "Authorization Request and Response",
            "4.4.2": "Access Token Request",
            "4.4.3": "Access Token Response",
            "4.5": "Extension Grants",
            "5": "Issuing an Access Token",
            "7": "Accessing Protected Resources",
            "7.1": "Access Token Types",
            "7.2": "Error Response",
            "9": "Native Applications",
            "10": "Security Considerations",
            "10.1": "Client Authentication",
            "10.2": "Client Impersonation",
            "10.3": "Access Tokens",
            "10.4": "Refresh Tokens",
            "10.7": "Resource Owner Password Credentials",
            "10.8": "Request Confidentiality",
            "10.9": "Ensuring Endpoint Authenticity",
            "10.10": "Credentials-Guessing Attacks",
            "10.11": "Phishing Attacks",
            "10.13": "Clickjacking",
            "10.14": "Code Injection and Input Validation",
            "10.15": "Open Redirectors",
            "10.16": "Misuse of Access Token to Impersonate Resource Owner in Implicit Flow",
        }.items()
    },
    **{
        ("RFC 9700", n): t
        for n, t in {
            "1": "Introduction",
            "1.1": "Structure",
            "1.2": "Conventions and Terminology",
            "2.2": "Token Replay Prevention",
            "2.5": "Client Authentication",
            "2.6": "Other Recommendations",
            "4": "Attacks and Mitigations",
            "4.1.2": "Redirect URI Validation Attacks on Implicit Grant",
            "4.2": "Credential Leakage via Referer Headers",
            "4.2.1": "Leakage from the OAuth Client",
            "4.2.2": "Leakage from the Authorization Server",
            "4.2.3": "Consequences",
            "4.3": "Credential Leakage via Browser History",
            "4.4.2.2": "Mix-Up Defense via Distinct Redirect URIs",
            "4.5.2": "Discussion",
            "4.5.3": "Countermeasures",
            "4.5.3.3": "Other Solutions",
            "4.6.1": "Countermeasures",
            "4.9": "Access Token Leakage at the Resource Server",
            "4.9.1": "Access Token Phishing by Counterfeit Resource Server",
            "4.9.2": "Compromised Resource Server",
            "4.9.3": "Countermeasures",
            "4.10.1": "Sender-Constrained Access Tokens",
            "4.10.2": "Audience-Restricted Access Tokens",
            "4.10.3": "Discussion: Preventing Leakage via Metadata",
            "4.11": "Open Redirection",
            "4.11.1": "Client as Open Redirector",
            "4.11.2": "Authorization Server as Open Redirector",
            "4.12": "307 Redirect",
            "4.14.1": "Discussion",
            "4.15": "Client Impersonating Resource Owner",
            "4.15.1": "Countermeasures",
            "4.16": "Clickjacking",
            "4.17": "Attacks on In-Browser Communication Flows",
            "4.17.2": "Recommendations",
        }.items()
    },
    **{
        ("RFC 9449", n): t
        for n, t in {
            "1": "Introduction",
            "3": "Concept",
            "4": "DPoP Proof JWTs",
            "4.1": "The DPoP HTTP Header",
            "5.2": "Client Registration Metadata",
            "7.3": "Client Considerations",
            "8": "Authorization Server-Provided Nonce",
            "8.1": "Nonce Syntax",
            "8.2": "Providing a New Nonce Value",
            "9": "Resource Server-Provided Nonce",
            "10": "Authorization Code Binding to a DPoP Key",
            "11": "Security Considerations",
            "11.1": "DPoP Proof Replay",
            "11.2": "DPoP Proof Pre-generation",
            "11.3": "DPoP Nonce Downgrade",
            "11.5": "Signed JWT Swapping",
            "11.6": "Signature Algorithms",
            "11.7": "Request Integrity",
            "11.8": "Access Token and Public Key Binding",
            "11.9": "Authorization Code and Public Key Binding",
            "11.10": "Hash Algorithm Agility",
            "11.11": "Binding to Client Identity",
        }.items()
    },
    **{
        ("RFC 9207", n): t
        for n, t in {
            "1": "Introduction",
            "2.1": "Example Authorization Response",
            "2.2": "Example Error Response",
            "2.3": "Providing the Issuer Identifier",
            "4": "Security Considerations",
        }.items()
    },
    **{
        ("OIDC Core", n): t
        for n, t in {
            "3": "Authentication",
            "15.1": "Mandatory to Implement Features for All OpenID Providers",
            "3.1.2": "Authorization Endpoint",
            "3.1.2.5": "Successful Authentication Response",
            "3.1.2.6": "Authentication Error Response",
            "3.1.2.7": "Authentication Response Validation",
            "3.1.3": "Token Endpoint",
            "3.1.3.1": "Token Request",
            "3.1.3.2": "Token Request Validation",
            "3.1.3.5": "Token Response Validation",
            "3.1.3.6": "ID Token",
            "3.1.3.8": "Access Token Validation",
            "5": "Claims",
            "5.1": "Standard Claims",
            "5.3.1": "UserInfo Request",
            "5.3.4": "UserInfo Response Validation",
            "16": "Security Considerations",
            "16.9": "Token Reuse",
            "16.11": "Token Substitution",
        }.items()
    },
    **{
        ("RFC 10017", n): t
        for n, t in {
            "6.1.3.6": "Proxy Restrictions",
            "6.2": "Token-Mediating Backend",
            "7.2": "OAuth Implicit Grant",
            "8.1": "Cookies",
            "8.5": "Persistent Token Storage",
            "9.2": "Sender-Constrained Tokens",
        }.items()
    },
}
for _ref, _title in _MORE.items():
    TITLES.setdefault(_ref, _title)
for _section in ("6.1.3.6", "6.2", "7.2", "8.1", "8.5", "9.2"):
    UNCHECKED[("RFC 10017", _section)] = "numbering from draft-26"
