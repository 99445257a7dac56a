"""Flask's signed session cookie, with its signing serializer made once per key and the
cookies it signed or verified remembered.

Flask builds a new `URLSafeTimedSerializer` twice per request (to read the cookie, then to
write it), about 20 µs each; nothing in it changes until the secret key does (the console's
"reset demo" picks a new one: a new key gets a new serializer).

Reading the cookie is then the dearer part: a browser sends the same cookie with every
request until the server sets a new one (five of the seven requests of a login to the
authorization server), and each time it was checked anew: the key derived, the HMAC
computed and compared, the payload decoded. A cookie is a fixed string, so once this
serializer has signed it (it made the cookie) or verified it, the same string under the same
key is known to be genuine: only its age is checked again (exactly as `itsdangerous` does),
and its payload decoded into a fresh dict. A cookie never seen, changed in one byte, or
signed with another key takes the full check. The cookie itself is exactly Flask's: same
salt, digest, key derivation, format and fallback keys.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, bytes_to_int, want_bytes

#: Cookies remembered per key; when full, the memory starts again (each is then verified
#: once more). A class of 100 browsers holds about 100 live cookies at a time.
REMEMBERED = 4096


class RememberingSerializer(URLSafeTimedSerializer):
    """Flask's cookie serializer, remembering which cookies it signed or verified."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: cookie -> its timestamp (seconds), for cookies known to be signed with this key.
        self._genuine: dict[bytes, int] = {}

    def _remember(self, cookie: bytes, timestamp: int) -> None:
        if len(self._genuine) >= REMEMBERED:
            self._genuine.clear()
        self._genuine[cookie] = timestamp

    def dumps(self, obj: Any, salt: str | bytes | None = None) -> str:
        cookie = super().dumps(obj, salt)
        if salt is None:
            stamp = cookie.rsplit(".", 2)[1]  # payload . timestamp . signature
            self._remember(cookie.encode(), bytes_to_int(base64_decode(stamp)))
        return cookie

    def loads(  # type: ignore[override]
        self,
        s: str | bytes,
        max_age: int | None = None,
        return_timestamp: bool = False,
        salt: str | bytes | None = None,
    ) -> Any:
        cookie = want_bytes(s)
        signed_at = self._genuine.get(cookie) if salt is None else None
        if signed_at is None or return_timestamp:
            payload, when = super().loads(cookie, max_age, return_timestamp=True, salt=salt)
            if salt is None:
                self._remember(cookie, int(when.timestamp()))
            return (payload, when) if return_timestamp else payload
        value = cookie.rsplit(b".", 2)[0]
        if max_age is not None:
            # TimestampSigner.unsign's age check, word for word.
            age = int(time.time()) - signed_at
            if age > max_age:
                raise SignatureExpired(f"Signature age {age} > {max_age} seconds", payload=value)
            if age < 0:
                raise SignatureExpired(f"Signature age {age} < 0 seconds", payload=value)
        return self.load_payload(value)


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        fallbacks = app.config["SECRET_KEY_FALLBACKS"] or ()
        key = (app.secret_key, tuple(fallbacks))
        serializer = self._serializers.get(key)
        if serializer is None:
            flasks = super().get_signing_serializer(app)
            if flasks is not None:  # the same serializer, built from Flask's own settings
                serializer = RememberingSerializer(
                    flasks.secret_keys,
                    salt=flasks.salt,
                    serializer=flasks.serializer,
                    signer_kwargs=flasks.signer_kwargs,
                )
            if len(self._serializers) > 8:  # keys replaced by resets are never asked again
                self._serializers.clear()
            self._serializers[key] = serializer
        return serializer


def install(app: Flask) -> None:
    app.session_interface = SessionCookies()
