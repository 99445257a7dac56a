"""CSRF tokens for the parties' own HTML forms (login, consent, the client's buttons), and
the one constant-time comparison of such tokens (OAuth's `state` included).

Shared code, not a party: each app keeps the token in its own session cookie, so the
authorization server's and the client's tokens never mix.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session


def csrf_token() -> str:
    """This browser session's token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def same_token(sent: str, expected: str) -> bool:
    """Constant-time equality of two tokens. `hmac.compare_digest` raises TypeError on a str
    holding non-ASCII characters (a 500 for `csrf_token=é` or `state=☃`), so compare bytes."""
    encode = "utf-8", "surrogatepass"
    return hmac.compare_digest(sent.encode(*encode), expected.encode(*encode))


def check_csrf() -> None:
    """Refuse a form POST that does not carry this session's token (400, not a 500)."""
    sent = request.form.get("csrf_token", "")
    if not same_token(sent, session.get("csrf", "\0")):
        abort(400, "The form's CSRF token is missing or wrong: reload the page and try again.")
