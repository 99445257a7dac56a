"""The console's pages: the one-page console itself, its health check and favicon."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory

from sim.tracing.live import DEFAULT_FLOW

bp = Blueprint("console", __name__)

#: The apps a class opens, in the order the console's header links them.
APPS = (
    ("client", "Photo Printer (client)", ""),
    ("client", "Photo Viewer (SPA)", "/spa"),
    ("authorization-server", "Authorization server", ""),
    ("resource-server", "Photo API (resource server)", ""),
    ("attacker", "Attacker's site", ""),
)


@bp.get("/")
def index():
    urls = current_app.config["URLS"]
    links = [(label, urls[party] + path) for party, label, path in APPS if party in urls]
    return render_template("console.html", links=links, default_flow=DEFAULT_FLOW)


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "party": "console"}


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(
        current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml"
    )
