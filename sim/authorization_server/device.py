"""The device authorization grant (RFC 8628): a TV with no keyboard gets a token while the
user approves on their phone.

RFC 8628 §1: "The device client requests authorization from the authorization server ...
the authorization server returns a device code, an end-user code, and the end-user
verification URI ... the device client polls the authorization server repeatedly until the
end user completes the approval process."

    POST /device_authorization HTTP/1.1          (the TV)
    client_id=demo-tv&scope=profile%20photos%3Aread

    HTTP/1.1 200 OK
    {"device_code": "GmRh...", "user_code": "WDJB-MJHT",
     "verification_uri": "http://127.0.0.1:9001/device",
     "verification_uri_complete": "http://127.0.0.1:9001/device?user_code=WDJB-MJHT",
     "expires_in": 600, "interval": 1}

    POST /token HTTP/1.1                         (the TV, every `interval` seconds)
    grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code
    &device_code=GmRh...&client_id=demo-tv

    HTTP/1.1 400 Bad Request                     (until the user decides)
    {"error": "authorization_pending"}

Authlib's `DeviceAuthorizationEndpoint` and `DeviceCodeGrant` carry the protocol; they leave
the storage to us, and we close what they leave open:
- a device code is redeemed once (Authlib never marks it used): the second redemption is
  `invalid_grant`, claimed atomically as codes are;
- an unknown device code is `invalid_grant` (RFC 6749 §5.2), not Authlib's invalid_request;
- `slow_down` (§3.5) when a poll comes sooner than the interval after the last one, and
  then the interval is 5 seconds longer "for this and all subsequent requests";
- a user code is good for one decision only, and expires with its device code;
- the requested scope must be one the client is registered for (Authlib only checks that
  the scopes exist).
The interval is 1 s here (a classroom does not wait 5 s per poll); RFC 8628 §3.2 has
clients use 5 s when a server names none.
"""

from __future__ import annotations

import time

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialMixin,
)
from flask import current_app

from sim.authorization_server import users
from sim.authorization_server.models import User, db
from sim.authorization_server.switches import now

#: RFC 8628 §3.5: the interval grows by this much after each slow_down.
SLOW_DOWN_STEP = 5


class DeviceCode(db.Model, DeviceCredentialMixin):
    """One device authorization: its two codes, the user's decision, its redemption."""

    id = db.Column(db.Integer, primary_key=True)
    device_code = db.Column(db.String(64), unique=True, nullable=False)
    user_code = db.Column(db.String(16), unique=True, nullable=False)
    client_id = db.Column(db.String(48), nullable=False)
    scope = db.Column(db.Text, default="")
    expires_at = db.Column(db.Integer, nullable=False)
    interval = db.Column(db.Integer, nullable=False)
    last_polled_at = db.Column(db.Float, nullable=False, default=0.0)
    #: "" while pending, then "approved" or "denied": one decision per user code.
    decision = db.Column(db.String(16), nullable=False, default="")
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    redeemed_at = db.Column(db.Integer, nullable=False, default=0)

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope or ""

    def get_user_code(self) -> str:
        return self.user_code

    def is_expired(self) -> bool:
        return self.expires_at < time.time()


def normalise_user_code(typed: str) -> str:
    """What the user typed, as stored: upper case, the dash where it belongs, no spaces
    (RFC 8628 §6.1: codes should be easy to type; case and dashes should not matter)."""
    letters = "".join(ch for ch in typed.upper() if ch.isalnum())[:8]
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else letters


def pending_user_code(typed: str) -> DeviceCode | None:
    """The device authorization a typed user code names, if it still awaits a decision."""
    item = DeviceCode.query.filter_by(user_code=normalise_user_code(typed)).first()
    if item is None or item.decision or item.is_expired():
        return None
    return item


def decide(item: DeviceCode, user: User, approved: bool) -> bool:
    """Record the user's decision, once: False if it was already decided (a reused code)."""
    result = db.session.execute(
        db.update(DeviceCode)
        .where(DeviceCode.id == item.id, DeviceCode.decision == "")
        .values(decision="approved" if approved else "denied", user_id=user.id)
    )
    db.session.commit()
    return result.rowcount == 1


class DeviceAuthorization(DeviceAuthorizationEndpoint):
    """POST /device_authorization (RFC 8628 §3.1-3.2), for public clients too."""

    CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    @property
    def EXPIRES_IN(self) -> int:  # noqa: N802 (Authlib reads it as a class attribute)
        return int(current_app.config["DEVICE_CODE_LIFETIME"])

    @property
    def INTERVAL(self) -> int:  # noqa: N802
        return int(current_app.config["DEVICE_INTERVAL"])

    def authenticate_client(self, request):
        client = super().authenticate_client(request)
        if not client.check_grant_type(DEVICE_CODE_GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the device flow.")
        # Authlib checks that the scopes exist, not that this client may have them.
        requested = set((request.payload.scope or "").split())
        if requested - set(client.scope.split()):
            raise InvalidScopeError("This client may not ask for that scope.")
        return client

    def get_verification_uri(self) -> str:
        return current_app.config["ISSUER"] + "/device"

    def save_device_credential(self, client_id, scope, data) -> None:
        scope = scope or self.server.query_client(client_id).scope
        data["scope"] = scope  # RFC 6749 §3.3 default: what the client is registered for
        item = DeviceCode(
            device_code=data["device_code"],
            user_code=data["user_code"],
            client_id=client_id,
            scope=scope,
            expires_at=now() + data["expires_in"],
            interval=data["interval"],
        )
        db.session.add(item)
        db.session.commit()
        del data["scope"]


class DeviceGrant(DeviceCodeGrant):
    """The TV's polling at the token endpoint (RFC 8628 §3.4-3.5)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    def query_device_credential(self, device_code):
        item = DeviceCode.query.filter_by(device_code=device_code).first()
        if item is None:
            raise InvalidGrantError("Unknown device_code.")
        if item.redeemed_at:
            raise InvalidGrantError("This device_code was already redeemed.")
        return item

    def query_user_grant(self, user_code):
        item = DeviceCode.query.filter_by(user_code=user_code).first()
        if item is None or not item.decision:
            return None
        return users.by_id(item.user_id), item.decision == "approved"

    def should_slow_down(self, credential) -> bool:
        stamp = time.time()
        too_soon = stamp - credential.last_polled_at < credential.interval
        credential.last_polled_at = stamp
        if too_soon:
            credential.interval += SLOW_DOWN_STEP
        db.session.commit()
        return too_soon

    def create_token_response(self):
        item = self.request.credential
        result = db.session.execute(
            db.update(DeviceCode)
            .where(DeviceCode.id == item.id, DeviceCode.redeemed_at == 0)
            .values(redeemed_at=now())
        )
        db.session.commit()
        if result.rowcount != 1:  # lost a race with another redemption
            raise InvalidGrantError("This device_code was already redeemed.")
        return super().create_token_response()
