"""The console's JSON API and its event stream.

GET  /api/flows                       flows, newest first, named by user and client
GET  /api/flows/<flow>                the flow's steps (note, RFC, what to point at)
GET  /api/flows/<flow>/steps/<seq>    one message inspected (raw, JWT verified, PKCE)
GET  /api/flows/<flow>/export/<fmt>   svg, png, mermaid, plantuml or json, for slides
GET  /api/stream                      server-sent events: which flows changed, and how
POST /api/clear                       forget every recorded flow
POST /api/reset                       log everyone out everywhere (every app's sessions)
GET|POST /api/pause                   pause mode: stop every browser redirect at a page

Bad input (a malformed id, an unknown flow, step, format or scenario) is a 4xx with a JSON
`{"error", "error_description"}`; nothing a request carries is ever echoed into HTML.
"""

from __future__ import annotations

import json

import requests
from flask import Blueprint, Response, current_app, jsonify, request

from sim.console import broadcast
from sim.console import flows as F
from sim.console.inspect import CONSOLE_PARTY
from sim.console.settings import get_settings, put_settings
from sim.drawing import DrawnTrace

bp = Blueprint("console_api", __name__, url_prefix="/api")

EXPORTS = {
    "svg": ("image/svg+xml", "svg"),
    "png": ("image/png", "png"),
    "mermaid": ("text/plain", "mmd"),
    "plantuml": ("text/plain", "puml"),
    "json": ("application/json", "json"),
}


def store():
    return current_app.config["TRACE_STORE"]


@bp.app_errorhandler(F.BadRequest)
def bad_request(error: F.BadRequest):
    return jsonify({"error": error.code, "error_description": str(error)}), error.status


def _require_store():
    if store() is None:
        raise F.BadRequest("tracing is off", 404, "tracing_off")
    return store()


def _same_origin_post() -> None:
    """State-changing calls come from the console page's own script: a custom header that
    a form on another site cannot send without a CORS preflight this app never allows."""
    if request.headers.get("X-Console") != "1":
        raise F.BadRequest("send the X-Console: 1 header", 403, "forbidden")


@bp.get("/flows")
def flow_list():
    return jsonify({"flows": F.summaries(_require_store())})


#: The last answers to `GET /api/flows/<flow>`, by flow, with the change feed's cursor they
#: were made at: every open console page fetches the flow at every stream event, so a
#: class with the console open on many screens builds and encodes it once per change.
_FLOW_ANSWERS: dict[str, tuple[int, bytes]] = {}
_FLOW_ANSWERS_MAX = 64


@bp.get("/flows/<flow>")
def flow(flow: str):
    trace_store = _require_store()
    F.check_flow(trace_store, flow)
    if not getattr(trace_store, "live", False):  # no change feed: nothing tells it is stale
        return jsonify(F.flow_steps(trace_store, flow))
    cursor = trace_store.cursor()  # read first: a change after it makes the next ask rebuild
    kept = _FLOW_ANSWERS.get(flow)
    if kept is None or kept[0] != cursor:
        body = current_app.json.dumps(F.flow_steps(trace_store, flow)).encode()
        if len(_FLOW_ANSWERS) >= _FLOW_ANSWERS_MAX:
            _FLOW_ANSWERS.clear()
        kept = _FLOW_ANSWERS[flow] = (cursor, body)
    return Response(kept[1], mimetype="application/json")


@bp.get("/flows/<flow>/steps/<seq>")
def step_detail(flow: str, seq: str):
    records, index = F.record_index(_require_store(), flow, seq)
    issuer = current_app.config["URLS"].get("authorization-server", "")
    return jsonify(F.detail(flow, records, index, issuer))


@bp.get("/flows/<flow>/export/<fmt>")
def export(flow: str, fmt: str):
    if fmt not in EXPORTS:
        raise F.BadRequest(f"format must be one of {', '.join(EXPORTS)}", 404, "unknown_format")
    trace_store = _require_store()
    trace = DrawnTrace.of(F.flow_trace(trace_store, F.check_flow(trace_store, flow)))
    mimetype, suffix = EXPORTS[fmt]
    from sim.diagrams import DiagramError  # noqa: PLC0415

    try:
        body = _render(trace, flow, fmt)
    except DiagramError as error:
        raise F.BadRequest(f"cannot draw {fmt} here: {error}", 503, "renderer_missing") from None
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{flow}.{suffix}"'
    return response


def _render(trace, flow: str, fmt: str) -> str | bytes:
    if fmt == "json":
        body: str | bytes = json.dumps({"flow": flow, "events": trace.to_dicts()}, indent=2)
    elif fmt == "svg":
        body = trace.to_svg()
    elif fmt == "png":
        body = _png(trace)
    elif fmt == "mermaid":
        body = trace.to_mermaid()
    else:
        body = trace.to_plantuml()
    return body


def _png(trace) -> bytes:
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "flow.png")
        trace.to_png(path)
        with open(path, "rb") as handle:
            return handle.read()


@bp.get("/stream")
def stream():
    """Server-sent events: each time exchanges are recorded, the flows that changed with
    their new steps and list entries (`sim.console.broadcast`), so a page draws them
    without asking; one poller of the store serves every open stream."""
    trace_store = _require_store()
    try:
        cursor = int(request.headers.get("Last-Event-ID") or trace_store.cursor())
    except ValueError:
        cursor = trace_store.cursor()
    frames = broadcast.of(current_app, trace_store).stream(cursor)
    response = Response(frames, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.post("/clear")
def clear():
    _same_origin_post()
    _require_store().clear()
    return jsonify({"cleared": True})


@bp.post("/reset")
def reset():
    """Every app forgets every session (each rotates its session key) and the client its
    tokens: every browser is logged out everywhere."""
    _same_origin_post()
    urls = current_app.config["URLS"]
    done = {}
    with requests.Session() as http:
        http.trust_env = False
        http.headers["X-Sim-Party"] = CONSOLE_PARTY
        for party in ("client", "authorization-server"):
            try:
                answer = http.post(urls[party] + "/sim/reset", timeout=5)
                done[party] = answer.status_code == 200
            except (requests.RequestException, KeyError):
                done[party] = False
    return jsonify({"reset": done}), 200 if all(done.values()) else 502


@bp.route("/pause", methods=["GET", "POST"])
def pause():
    trace_store = _require_store()
    if request.method == "POST":
        _same_origin_post()
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("on"), bool):
            raise F.BadRequest('send {"on": true} or {"on": false}')
        put_settings(trace_store, pause=data["on"])
    return jsonify({"on": bool(get_settings(trace_store).get("pause"))})


@bp.app_errorhandler(404)
def not_found(_error):
    return jsonify({"error": "not_found", "error_description": "no such page"}), 404


@bp.app_errorhandler(405)
def not_allowed(_error):
    return jsonify({"error": "method_not_allowed", "error_description": "wrong method"}), 405
