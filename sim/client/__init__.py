"""The client: a confidential server-side web app (Authlib's OAuth 2.0 client) that logs the
user in with the authorization server and shows their photos from the resource server.

Tokens never reach the browser: the browser holds only an opaque session cookie, and the
tokens live in `TokenStore` on the server.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from sim.client.bff import bp as bff_bp
from sim.client.discovery import DISCOVERED_ENDPOINTS
from sim.client.history import History
from sim.client.routes import bp
from sim.client.spa import bp as spa_bp
from sim.client.tokens import PendingLogins, TokenStore
from sim.demo_reset import register_reset
from sim.parties import (
    ALL_SCOPES,
    AUTHORIZATION_SERVER,
    CLIENT,
    DEFAULT_URLS,
    RESOURCE_SERVER,
    client_by_id,
)
from sim.reasons import add_reason_header
from sim.security_headers import add_security_headers
from sim.session_cookie import install as install_session_cookies
from sim.tracing import TracingMiddleware, foreign

DEFAULTS: dict[str, Any] = {
    "BASE_URL": DEFAULT_URLS[CLIENT],
    "ISSUER": DEFAULT_URLS[AUTHORIZATION_SERVER],
    "RESOURCE_SERVER_URL": DEFAULT_URLS[RESOURCE_SERVER],
    "CLIENT_ID": client_by_id("demo-client").client_id,
    "CLIENT_SECRET": client_by_id("demo-client").secret,
    "SCOPE": ALL_SCOPES,
    # Refresh this many seconds before the access token expires ("background refresh").
    "REFRESH_LEEWAY": 60,
    "SESSION_COOKIE_NAME": "sim_client_session",
    "TRACE_STORE": None,
    # Other authorization servers this client can log in with (`/login?as=NAME`), each a
    # dict like routes.authorization_server() returns; the manager adds the attacker's.
    "OTHER_AUTHORIZATION_SERVERS": {},
    # Every login asks for DPoP-bound tokens (RFC 9449), not only `/login?dpop=1`.
    "DPOP": False,
    # The classroom console, linked from the pages when the simulator runs one.
    "CONSOLE_URL": None,
    # An external authorization server used instead of ours (`oauth-sim up --issuer`): its
    # checked metadata (sim.client.discovery) plus client_id, client_secret and scope.
    "EXTERNAL_SERVER": None,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config.update(config or {})
    history = app.extensions["history"] = History()
    # A session's tokens are kept while its cookie can still be presented (Flask refuses a
    # session cookie older than this lifetime), and its panel goes with them.
    app.extensions["tokens"] = TokenStore(
        app.permanent_session_lifetime.total_seconds(), on_forget=history.drop
    )
    app.extensions["pending"] = PendingLogins()
    install_session_cookies(app)
    app.register_blueprint(bp)
    app.register_blueprint(spa_bp)
    app.register_blueprint(bff_bp)
    register_reset(app, lambda: _forget_logins(app))
    app.after_request(add_security_headers)
    app.after_request(add_reason_header)
    app.wsgi_app = TracingMiddleware(app.wsgi_app, CLIENT, app.config["TRACE_STORE"])
    external = app.config["EXTERNAL_SERVER"]
    if external:  # no middleware of ours runs there: the client records those exchanges
        for name in ("issuer", *DISCOVERED_ENDPOINTS):
            if external.get(name):
                foreign.register(external[name], AUTHORIZATION_SERVER)
    return app


def _forget_logins(app: Flask) -> None:
    app.extensions["tokens"].clear()
    app.extensions["pending"].clear()
    app.extensions["history"].clear()
