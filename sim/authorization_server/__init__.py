"""The authorization server: knows the users, asks for consent, issues codes and tokens.

`create_app(config)` is the app factory; the manager gives it its issuer URL, the client's
base URL (to register redirect URIs) and the trace store.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Flask
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.security import generate_password_hash

from sim.authorization_server import plain_sql
from sim.authorization_server.device_routes import bp as device_bp
from sim.authorization_server.end_session import bp as end_session_bp
from sim.authorization_server.flask_app import AuthorizationServerFlask
from sim.authorization_server.models import Client, User, db
from sim.authorization_server.oauth2 import config_oauth
from sim.authorization_server.routes import bp
from sim.demo_reset import register_reset
from sim.parties import (
    AUTHORIZATION_SERVER,
    CLIENT,
    CLIENTS,
    DEFAULT_URLS,
    PRINT_SHOP_API,
    RESOURCE_SERVER,
    USERS,
)
from sim.reasons import add_reason_header
from sim.security_headers import add_security_headers
from sim.session_cookie import install as install_session_cookies
from sim.tracing import TracingMiddleware

DEFAULTS: dict[str, Any] = {
    "ISSUER": DEFAULT_URLS[AUTHORIZATION_SERVER],
    "CLIENT_BASE_URL": DEFAULT_URLS[CLIENT],
    "RESOURCE_AUDIENCE": DEFAULT_URLS[RESOURCE_SERVER],
    # Other resource servers a client may ask a token for (RFC 8707 `resource`).
    "OTHER_RESOURCES": [PRINT_SHOP_API],
    "ACCESS_TOKEN_LIFETIME": 300,
    "CODE_LIFETIME": 60,
    # The device flow (RFC 8628): seconds a device code lives, and between polls.
    "DEVICE_CODE_LIFETIME": 600,
    "DEVICE_INTERVAL": 1,
    # Demo users only: a production work factor (600k rounds) would cost ~0.3 s per login
    # and dominate every flow. Raise it with --password-rounds to feel the difference.
    "PASSWORD_HASH_ROUNDS": 1000,
    "SESSION_COOKIE_NAME": "sim_as_session",
    #: Seconds a login at the authorization server lasts (a class day is shorter).
    "LOGIN_SESSION_LIFETIME": 8 * 3600,
    "INTROSPECTION_CLIENTS": ["demo-rs"],
    "TRACE_STORE": None,
    "DATABASE": None,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = AuthorizationServerFlask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config.update(config or {})
    install_session_cookies(app)
    app.config.setdefault("CORS_ORIGINS", [app.config["CLIENT_BASE_URL"]])
    # The manager always passes a file in its own work folder (removed when it stops); an
    # app made on its own (tests, a notebook) keeps its database in memory.
    database = app.config["DATABASE"]
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}" if database else "sqlite://"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    db.init_app(app)
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_pragmas)
        plain_sql.init_app(app)
        db.create_all()
        seed(app)
    app.extensions["authorization_server"] = config_oauth(app)
    app.register_blueprint(bp)
    app.register_blueprint(device_bp)
    app.register_blueprint(end_session_bp)
    register_reset(app)  # the classroom console's "reset demo": every login session ends
    app.after_request(add_security_headers)
    app.after_request(add_reason_header)
    app.register_error_handler(HTTPException, _http_error)
    app.wsgi_app = TracingMiddleware(app.wsgi_app, AUTHORIZATION_SERVER, app.config["TRACE_STORE"])
    return app


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Many threads (and in process mode, one process) write: WAL lets readers proceed.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # The database lives in the simulation's work folder and goes with it (or in memory):
    # nothing needs it after a crash of the machine, so it is never flushed to disk. With
    # NORMAL, each checkpoint (about every 1,000 pages written) flushed it, ~20 µs a commit.
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _http_error(error: HTTPException):
    from flask import render_template  # noqa: PLC0415

    body = render_template("error.html", error=error.name, description=error.description)
    return body, error.code or 400


def seed(app: Flask) -> None:
    """Create the demo registry (users and clients) if the database is empty."""
    if User.query.first() is not None:
        return
    rounds = app.config["PASSWORD_HASH_ROUNDS"]
    for user in USERS:
        password_hash = generate_password_hash(user.password, method=f"pbkdf2:sha256:{rounds}")
        db.session.add(User(username=user.username, name=user.name, password_hash=password_hash))
    base = app.config["CLIENT_BASE_URL"]
    for demo in CLIENTS:
        client = Client(client_id=demo.client_id, client_secret=demo.secret or "")
        metadata = {
            "client_name": demo.name,
            "redirect_uris": [demo.redirect_uri(base)] if demo.redirect_path else [],
            "grant_types": list(demo.grant_types),
            "response_types": list(demo.response_types),
            "scope": f"openid {demo.scope}" if demo.openid else demo.scope,
            "token_endpoint_auth_method": demo.auth_method,
        }
        if demo.post_logout_path:  # OIDC RP-Initiated Logout 1.0 §3.1
            metadata["post_logout_redirect_uris"] = [base + demo.post_logout_path]
        client.set_client_metadata(metadata)
        db.session.add(client)
    db.session.commit()
    app.logger.debug("seeded demo registry: %s", json.dumps([c.client_id for c in CLIENTS]))
