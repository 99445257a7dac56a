"""Response headers every party's pages carry.

Pages that hold forms or codes must not be framed (clickjacking of the consent button) nor
leak their URL through the Referer header (codes in query strings), and must not be cached.
"""

from __future__ import annotations

from flask import Response


def add_security_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
