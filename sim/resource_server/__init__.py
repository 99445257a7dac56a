"""The resource server: a small photo API that trusts only tokens the authorization
server vouches for (by introspection, so a revoked token is refused at once), sent as Bearer
tokens or as DPoP-bound tokens with a proof of the key (RFC 9449)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from sim.parties import AUTHORIZATION_SERVER, DEFAULT_URLS, RESOURCE_SERVER, client_by_id
from sim.reasons import add_reason_header
from sim.resource_server.photos import PhotoStore
from sim.resource_server.protector import TokenGuard
from sim.resource_server.routes import bp
from sim.security_headers import add_security_headers
from sim.tracing import TracingMiddleware

DEFAULTS: dict[str, Any] = {
    "AUTHORIZATION_SERVER_URL": DEFAULT_URLS[AUTHORIZATION_SERVER],
    # How this API names itself in a token's `aud` (RFC 9068 §4): its own URL, the resource
    # indicator the authorization server puts there (RFC 8707 §2).
    "AUDIENCE": DEFAULT_URLS[RESOURCE_SERVER],
    "RS_CLIENT_ID": client_by_id("demo-rs").client_id,
    "RS_CLIENT_SECRET": client_by_id("demo-rs").secret,
    "TRACE_STORE": None,
    "SESSION_COOKIE_NAME": "sim_rs_session",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(config or {})
    app.extensions["token_guard"] = TokenGuard(
        app.config["AUTHORIZATION_SERVER_URL"] + "/introspect",
        (app.config["RS_CLIENT_ID"], app.config["RS_CLIENT_SECRET"]),
        app.config["TRACE_STORE"],
        app.config["AUDIENCE"],
    )
    app.extensions["photos"] = PhotoStore()
    app.register_blueprint(bp)
    app.after_request(add_security_headers)
    app.after_request(add_reason_header)
    app.wsgi_app = TracingMiddleware(app.wsgi_app, RESOURCE_SERVER, app.config["TRACE_STORE"])
    return app
