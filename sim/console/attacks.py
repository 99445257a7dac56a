"""Attacks, live, from the console: run any scenario headless against the running apps,
switch defences off by their contract names (the same as `oauth-sim run --off`), compare a
run with its defences on and off, and prepare a real lure on the attacker's site that a
student can click in their own browser.

GET  /api/scenarios                        every scenario with its defences
POST /api/scenarios/<name>/run             {"off": [...]} -> {"flow", "outcome"}
POST /api/scenarios/<name>/compare         {"off": [...]} -> {"flows": [on, off], ...}
GET  /api/compare/<flow_a>/<flow_b>        the two flows side by side (SVG)
POST /api/lures/<csrf-state|mix-up>        {"off": [...]} -> {"flow", "lure"}
GET|POST /api/browser-defences             {"off": [...]}: defences off for logins by hand

The playing itself is the runtime's (`RUNNER`, a `sim.runtime.scenario_runner`, handed in by
the manager): this module checks the input against its catalogue and passes names through.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sim.console import flows as F
from sim.console.settings import browser_off, put_settings

bp = Blueprint("console_attacks", __name__, url_prefix="/api")


def runner() -> Any:
    found = current_app.config.get("RUNNER")
    if found is None:
        raise F.BadRequest("this console runs no scenarios", 404, "no_runner")
    return found


def switches() -> Any:
    return current_app.config.get("SWITCHES")


def _scenario(name: str) -> dict[str, Any]:
    catalogue = {s["name"]: s for s in runner().catalogue()}
    if name not in catalogue:
        raise F.BadRequest(
            f"unknown scenario; choose one of {', '.join(catalogue)}", 404, "unknown_scenario"
        )
    return catalogue[name]


def _off(scenario: dict[str, Any]) -> list[str]:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise F.BadRequest('send a JSON object such as {"off": ["state"]}')
    off = data.get("off", [])
    if not isinstance(off, list) or not all(isinstance(x, str) for x in off):
        raise F.BadRequest('"off" must be a list of defence names')
    allowed = scenario["defences"]
    unknown = [x for x in off if x not in allowed]
    if unknown:
        raise F.BadRequest(
            f"{scenario['name']} has no defence named {unknown[0][:40]!r}; its defences: "
            f"{', '.join(allowed) or 'none'}",
            400,
            "unknown_defence",
        )
    return sorted(set(off))


def _require_console() -> None:
    if request.headers.get("X-Console") != "1":
        raise F.BadRequest("send the X-Console: 1 header", 403, "forbidden")
    if current_app.config["TRACE_STORE"] is None:
        raise F.BadRequest("tracing is off", 404, "tracing_off")


@bp.get("/scenarios")
def scenarios():
    return jsonify({"scenarios": runner().catalogue()})


@bp.post("/scenarios/<name>/run")
def run(name: str):
    _require_console()
    off = _off(_scenario(name))
    return jsonify({**runner().run(name, off, switches()), "off": off})


@bp.post("/scenarios/<name>/compare")
def compare(name: str):
    _require_console()
    scenario = _scenario(name)
    off = _off(scenario) or list(scenario["defences"])
    if not off:
        raise F.BadRequest(f"{name} has no defence to switch off", 400, "no_defence")
    on, without = runner().run(name, [], switches()), runner().run(name, off, switches())
    return jsonify(
        {
            "flows": [on["flow"], without["flow"]],
            "off": off,
            "outcomes": [on["outcome"], without["outcome"]],
        }
    )


@bp.get("/compare/<left>/<right>")
def compare_svg(left: str, right: str):
    from sim.diagrams import compare_svg as draw  # noqa: PLC0415

    store = current_app.config["TRACE_STORE"]
    if store is None:
        raise F.BadRequest("tracing is off", 404, "tracing_off")
    a = F.flow_trace(store, F.check_flow(store, left))
    b = F.flow_trace(store, F.check_flow(store, right))
    return Response(draw(a, b, "defences on", "defences off"), mimetype="image/svg+xml")


@bp.post("/lures/<name>")
def lure(name: str):
    """csrf-state: the attacker's link delivers bob's code (this flow's switches apply);
    mix-up: the attacker's "sign in with" link starts a login when clicked, so the switches
    are those for logins by hand, which preparing the lure sets."""
    _require_console()
    scenario = _scenario(name)
    if not scenario["lure"]:
        raise F.BadRequest(f"no lure for {name}", 404, "no_lure")
    off = _off(scenario)
    if name == "mix-up":
        put_settings(current_app.config["TRACE_STORE"], browser_off=off)
        prepared = runner().mix_up_lure(switches())
    else:
        prepared = runner().csrf_lure(off, switches())
    if prepared["lure"] is None:
        return jsonify({"error": "lure_failed", "error_description": "no code for bob"}), 502
    return jsonify({**prepared, "off": off})


@bp.route("/browser-defences", methods=["GET", "POST"])
def browser_defences():
    """Defences switched off for every login a browser starts from now on (walking an
    attack by hand), by the same names as `--off`."""
    store = current_app.config["TRACE_STORE"]
    known = runner().all_defences()
    if request.method == "POST":
        _require_console()
        data = request.get_json(silent=True)
        off = data.get("off") if isinstance(data, dict) else None
        if not isinstance(off, list) or not all(isinstance(x, str) for x in off):
            raise F.BadRequest('send {"off": [defence names]}')
        unknown = [x for x in off if x not in known]
        if unknown:
            raise F.BadRequest(
                f"no defence named {unknown[0][:40]!r}; defences: {', '.join(known)}",
                400,
                "unknown_defence",
            )
        put_settings(store, browser_off=sorted(set(off)))
    return jsonify({"off": browser_off(store) if store is not None else [], "defences": known})
