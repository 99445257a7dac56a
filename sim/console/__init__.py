"""The classroom console: a small Flask app (port base+4, 127.0.0.1 only) that draws the
newest flow as it happens, steps through it, inspects each message and exports it.

It reads the trace store the parties write; it is not a party and never takes part in a
flow. `sim.console.pause` is the one piece that wraps the parties' apps (pause mode).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from sim.console.api import bp as api_bp
from sim.console.attacks import bp as attacks_bp
from sim.console.pages import bp as pages_bp
from sim.console.settings import put_settings
from sim.tracing.limits import BodyLimit

DEFAULTS: dict[str, Any] = {
    "URLS": {},
    "TRACE_STORE": None,
    "PAUSE": False,
    "MODE": "threads",
    # The per-flow defence switches, where the simulator has a channel of their own.
    "SWITCHES": None,
    # Plays scenarios and prepares lures (sim.runtime.scenario_runner); None: no attacks.
    "RUNNER": None,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(config or {})
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(attacks_bp)
    if app.config["PAUSE"] and app.config["TRACE_STORE"] is not None:
        put_settings(app.config["TRACE_STORE"], pause=True)
    app.after_request(_headers)
    app.wsgi_app = BodyLimit(app.wsgi_app)  # not traced, but bounded like every app
    return app


def _headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("Cache-Control", "no-store")
    return response
