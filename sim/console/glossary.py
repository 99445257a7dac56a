"""What each protocol parameter is for, in one line with its RFC section: shown on the
pause page and as "what to point at" in the console. Every line is checked against the RFC
section it cites."""

from __future__ import annotations

from sim.tracing.values import SECRET_NAMES

#: name -> (what it is for, RFC section)
PARAMETERS: dict[str, tuple[str, str]] = {
    "response_type": (
        "which grant the client asks for: code means the authorization code grant",
        "RFC 6749 §4.1.1",
    ),
    "client_id": ("which registered client is asking", "RFC 6749 §2.2"),
    "redirect_uri": (
        "where the code will be sent; compared exactly with the registered one",
        "RFC 9700 §2.1",
    ),
    "scope": ("the access the client asks for", "RFC 6749 §3.3"),
    "state": (
        "the client's random value, bound to this browser; the callback must bring it back "
        "unchanged (CSRF defence)",
        "RFC 6749 §10.12",
    ),
    "code_challenge": (
        "BASE64URL(SHA256(code_verifier)); only the client knows the verifier",
        "RFC 7636 §4.2",
    ),
    "code_challenge_method": ("how the challenge was made from the verifier", "RFC 7636 §4.3"),
    "code": ("the authorization code, short-lived and for one use only", "RFC 6749 §4.1.2"),
    "iss": ("which authorization server sent this response (mix-up defence)", "RFC 9207 §2"),
    "code_verifier": (
        "the secret the challenge was made from; it travels only in the token request",
        "RFC 7636 §4.5",
    ),
    "client_secret": (
        "the confidential client authenticates itself at the token endpoint",
        "RFC 6749 §2.3.1",
    ),
    "access_token": (
        "the credential the client presents to the resource server",
        "RFC 6749 §1.4",
    ),
    "refresh_token": (
        "gets a new access token when the current one becomes invalid or expires",
        "RFC 6749 §1.5",
    ),
    "error": ("why the authorization server refused", "RFC 6749 §4.1.2.1"),
    "error_description": ("the refusal in words, for the developer", "RFC 6749 §4.1.2.1"),
    "next": ("where the authorization server resumes after its login page", ""),
}


def purpose(name: str) -> tuple[str, bool]:
    """(what `name` is for, with its RFC section; whether its value is a secret)."""
    meaning, rfc = PARAMETERS.get(name, ("", ""))
    text = f"{meaning} ({rfc})" if rfc else meaning
    return text, name in SECRET_NAMES
