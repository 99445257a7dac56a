"""Flask's signed session cookie, with its signing serializer (and its signer and derived
key) made once per key and the cookies it signed or verified remembered.

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

A remembered cookie also keeps what it decodes to, when that is a flat dict of strings,
numbers and None (every session of ours: a CSRF token, a login session id, a flow id): such
a payload reads back from the cookie exactly as it went in, so a copy of it is handed out
instead of base64-, zlib- and JSON-decoding the same string again. Anything else (a nested
value, bytes, a tagged type) is decoded afresh each time.

Itsdangerous also builds a new signer for every cookie it signs or checks, and derives its
HMAC key from the secret key each time (one more HMAC): here the signer is made once per
serializer and salt, and it derives each secret key's signing key once.

Saving is Flask's own `save_session`, except when the cookie is neither written nor deleted
(the session was only read, or not touched): then only `Vary: Cookie` is added, as Flask
would, without its seven cookie-setting look-ups first.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, bytes_to_int, want_bytes
from itsdangerous.signer import Signer

#: Cookies remembered per key; when full, the memory starts again (each is then verified
#: once more). A class of 100 browsers holds about 100 live cookies at a time.
REMEMBERED = 4096


#: Value types a session payload may hold for it to be kept decoded (JSON gives them back
#: exactly as they were; Flask's tagged types, e.g. bytes or tuples, are not among them).
_FLAT = frozenset({str, int, float, bool, type(None)})


def _flat_copy(payload: Any) -> dict | None:
    """A copy of `payload` if it is a dict of str keys to plain values, else None."""
    if type(payload) is not dict:
        return None
    for key, value in payload.items():
        if type(key) is not str or type(value) not in _FLAT:
            return None
    return dict(payload)


class KeyOnceSigner(TimestampSigner):
    """Itsdangerous's timestamp signer, deriving each secret key's signing key once (the
    same key every time: a hash of the salt and the secret key)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = super().derive_key(key)
        return derived


class RememberingSerializer(URLSafeTimedSerializer):
    """Flask's cookie serializer, remembering which cookies it signed or verified (and
    what each decodes to, when that is flat), with one signer per salt."""

    default_signer = KeyOnceSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: cookie -> (its timestamp in seconds, its payload if flat), for cookies known to
        #: be signed with this key.
        self._genuine: dict[bytes, tuple[int, dict | None]] = {}
        self._signers: dict[bytes | str, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        # A signer holds only its settings: the same one serves every cookie of a salt.
        if salt is None:
            salt = self.salt
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def _remember(self, cookie: bytes, timestamp: int, payload: Any) -> None:
        if len(self._genuine) >= REMEMBERED:
            self._genuine.clear()
        self._genuine[cookie] = (timestamp, _flat_copy(payload))

    def dumps(self, obj: Any, salt: str | bytes | None = None) -> str:
        cookie = super().dumps(obj, salt)
        if salt is None:
            stamp = cookie.rsplit(".", 2)[1]  # payload . timestamp . signature
            self._remember(cookie.encode(), bytes_to_int(base64_decode(stamp)), obj)
        return cookie

    def loads(  # type: ignore[override]
        self,
        s: str | bytes,
        max_age: int | None = None,
        return_timestamp: bool = False,
        salt: str | bytes | None = None,
    ) -> Any:
        cookie = want_bytes(s)
        known = self._genuine.get(cookie) if salt is None else None
        if known is None or return_timestamp:
            payload, when = super().loads(cookie, max_age, return_timestamp=True, salt=salt)
            if salt is None:
                self._remember(cookie, int(when.timestamp()), payload)
            return (payload, when) if return_timestamp else payload
        signed_at, decoded = known
        value = cookie.rsplit(b".", 2)[0]
        if max_age is not None:
            # TimestampSigner.unsign's age check, word for word.
            age = int(time.time()) - signed_at
            if age > max_age:
                raise SignatureExpired(f"Signature age {age} > {max_age} seconds", payload=value)
            if age < 0:
                raise SignatureExpired(f"Signature age {age} < 0 seconds", payload=value)
        return dict(decoded) if decoded is not None else self.load_payload(value)


def vary_on_cookie(response: Response) -> None:
    """`response.vary.add("Cookie")`, as Flask's `save_session` calls it: when the response
    has no Vary header yet (nearly always), it is set without parsing an empty one into a
    header set and writing it back (the same header either way). `getlist`, not `in`:
    Werkzeug answers a missing header by raising and catching an HTTP exception."""
    if response.headers.getlist("Vary"):
        response.vary.add("Cookie")
    else:
        response.headers["Vary"] = "Cookie"


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's `open_session`, asking whether the cookie came before reading it:
        `request.cookies.get` answers a missing cookie (the token endpoint's requests, a
        first visit) by raising and catching Werkzeug's BadRequestKeyError."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookies, name = request.cookies, self.get_cookie_name(app)
        value = cookies[name] if name in cookies else None
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            return self.session_class(serializer.loads(value, max_age=max_age))
        except BadSignature:
            return self.session_class()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's `save_session`; when the cookie is neither set nor deleted (most requests:
        the session was only read, or not at all), only its `Vary: Cookie` is added, without
        first looking up the seven cookie settings that only a written cookie needs."""
        # `dict.get`, not `session.permanent`: reading the session marks it accessed.
        permanent = session and dict.get(session, "_permanent", False)  # type: ignore[call-overload]
        if session.modified or (permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return super().save_session(app, session, response)
        if session.accessed:
            vary_on_cookie(response)
        return None

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
