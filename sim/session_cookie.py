"""Flask's signed session cookie, with its signing serializer made once per key.

Flask builds a new `URLSafeTimedSerializer` twice per request (to read the cookie, then to
write it), about 20 µs each; nothing in it changes until the secret key does (the console's
"reset demo" picks a new one: a new key gets a new serializer). The cookie itself is
exactly Flask's: same salt, digest, key derivation, format and fallback keys.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        fallbacks = app.config["SECRET_KEY_FALLBACKS"] or ()
        key = (app.secret_key, tuple(fallbacks))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if len(self._serializers) > 8:  # keys replaced by resets are never asked again
                self._serializers.clear()
            self._serializers[key] = serializer
        return serializer


def install(app: Flask) -> None:
    app.session_interface = SessionCookies()
