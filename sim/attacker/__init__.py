"""The attacker party's server: another site, on another host name than the victims' apps
(`localhost` while they use `127.0.0.1`), so none of their cookies ever reaches it.

`create_app` assembles two WSGI apps: the attacker's public site (`routes`: the lure, the
drop box, a log collector, a malicious authorization server), traced like every party and
drawn in red; and, mounted beside it with werkzeug's dispatcher, the attacker's private
notes (`loot`), which the attacker actor reads and which are no part of any exchange.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from sim.attacker.loot import Loot, notes_app
from sim.attacker.routes import MIXUP_CLIENT_ID, MIXUP_CLIENT_SECRET, bp
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, DEFAULT_URLS
from sim.security_headers import add_security_headers
from sim.tracing import TracingMiddleware

DEFAULTS: dict[str, Any] = {
    "BASE_URL": DEFAULT_URLS[ATTACKER],
    "HONEST_ISSUER": DEFAULT_URLS[AUTHORIZATION_SERVER],
    "TRACE_STORE": None,
    "SESSION_COOKIE_NAME": "sim_attacker_session",
}

#: Where the attacker's private notes are served (untraced).
NOTES_PATH = "/loot"


def authorization_server_registration(attacker_url: str) -> dict[str, str]:
    """How the client knows the attacker's authorization server (mix-up): the same shape as
    the client's entry for its honest server. The attacker chose the same client_id as at
    the honest server; the secret is one the attacker issued."""
    return {
        "issuer": attacker_url,
        "authorization_endpoint": attacker_url + "/authorize",
        "token_endpoint": attacker_url + "/token",
        "client_id": MIXUP_CLIENT_ID,
        "client_secret": MIXUP_CLIENT_SECRET,
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The attacker's server; `config` gives its own URL and the honest server's issuer."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(config or {})
    loot = app.extensions["loot"] = Loot()
    app.register_blueprint(bp)
    app.after_request(add_security_headers)
    site = TracingMiddleware(app.wsgi_app, ATTACKER, app.config["TRACE_STORE"])
    app.wsgi_app = DispatcherMiddleware(site, {NOTES_PATH: notes_app(loot)})  # type: ignore[method-assign]
    return app


__all__ = ["NOTES_PATH", "authorization_server_registration", "create_app"]
