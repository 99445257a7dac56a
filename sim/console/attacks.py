"""Attacks, live, from the console: run any scenario headless against the running apps,
switch defences off by their contract names (the same as `oauth-sim run --off`), compare a
run with its defences on and off side by side, and prepare a real lure on the attacker's
site that a student can click in their own browser.

GET  /api/scenarios                        every scenario with its defences
POST /api/scenarios/<name>/run             {"off": [...]} -> {"flow", "outcome"}
POST /api/scenarios/<name>/compare         {"off": [...]} -> {"flows": [on, off], ...}
GET  /api/compare/<flow_a>/<flow_b>        the two flows side by side (SVG)
POST /api/lures/<csrf-state|mix-up>        {"off": [...]} -> {"flow", "lure"}
GET|POST /api/browser-defences             {"off": [...]}: defences off for logins by hand

The console runs scenarios as `oauth-sim run` does, through `sim.Simulation`, attached to
the apps `oauth-sim up` started (it starts and stops nothing).
"""

from __future__ import annotations

import inspect
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sim.console import flows as F
from sim.console.settings import browser_off, put_settings

bp = Blueprint("console_attacks", __name__, url_prefix="/api")

#: Scenarios whose lure a student can click in a real browser (the attacker's page sends
#: the browser on with the attacker's own code).
LURES = ("csrf-state", "mix-up")


def simulation():
    """The running apps as a Simulation (built once per console app)."""
    attached = current_app.extensions.get("attached_simulation")
    if attached is None:
        from sim import Simulation  # noqa: PLC0415

        attached = Simulation.attach(
            current_app.config["URLS"],
            current_app.config["TRACE_STORE"],
            current_app.config.get("SWITCHES"),
        )
        current_app.extensions["attached_simulation"] = attached
    return attached


def defences_of(scenario: Any) -> tuple[str, ...]:
    """The contract names of the defences a scenario can switch off."""
    names = getattr(scenario, "defences", None)
    if names is not None and not callable(names):
        return tuple(names)
    return (scenario.defence,) if getattr(scenario, "defence", None) else ()


def _scenario(name: str):
    from sim.scenarios import SCENARIOS  # noqa: PLC0415

    if name not in SCENARIOS:
        raise F.BadRequest(
            f"unknown scenario; choose one of {', '.join(SCENARIOS)}", 404, "unknown_scenario"
        )
    return SCENARIOS[name]


def _off(scenario: Any) -> list[str]:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise F.BadRequest('send a JSON object such as {"off": ["state"]}')
    off = data.get("off", [])
    if not isinstance(off, list) or not all(isinstance(x, str) for x in off):
        raise F.BadRequest('"off" must be a list of defence names')
    allowed = defences_of(scenario)
    unknown = [x for x in off if x not in allowed]
    if unknown:
        raise F.BadRequest(
            f"{scenario.name} has no defence named {unknown[0][:40]!r}; its defences: "
            f"{', '.join(allowed) or 'none'}",
            400,
            "unknown_defence",
        )
    return sorted(set(off))


def run_scenario(sim: Any, name: str, off: list[str]):
    """`sim.run` with these defences off (every defence at once where the framework of
    per-defence switches is not there yet)."""
    if "off" in inspect.signature(sim.run).parameters:
        return sim.run(name, off=off)
    if off and set(off) != set(defences_of(_scenario(name))):
        raise F.BadRequest("this version switches a scenario's defences off only all at once")
    return sim.run(name, insecure=bool(off))


def new_flow(sim: Any, name: str, off: list[str]) -> str:
    if "off" in inspect.signature(sim.new_flow).parameters:
        return sim.new_flow(name, off=off)
    return sim.new_flow(name, **({"defence_off": off[0]} if off else {}))


@bp.get("/scenarios")
def scenarios():
    from sim.scenarios import SCENARIOS  # noqa: PLC0415

    return jsonify(
        {
            "scenarios": [
                {
                    "name": name,
                    "description": scenario.description,
                    "defences": list(defences_of(scenario)),
                    "kind": "attack" if defences_of(scenario) else "flow",
                    "lure": name in LURES,
                }
                for name, scenario in SCENARIOS.items()
            ]
        }
    )


def _require_console() -> None:
    if request.headers.get("X-Console") != "1":
        raise F.BadRequest("send the X-Console: 1 header", 403, "forbidden")
    if current_app.config["TRACE_STORE"] is None:
        raise F.BadRequest("tracing is off", 404, "tracing_off")


@bp.post("/scenarios/<name>/run")
def run(name: str):
    _require_console()
    scenario = _scenario(name)
    off = _off(scenario)
    result = run_scenario(simulation(), name, off)
    return jsonify({"flow": result.flow, "off": off, "outcome": result.outcome})


@bp.post("/scenarios/<name>/compare")
def compare(name: str):
    _require_console()
    scenario = _scenario(name)
    off = _off(scenario) or list(defences_of(scenario))
    if not off:
        raise F.BadRequest(f"{name} has no defence to switch off", 400, "no_defence")
    sim = simulation()
    on, without = run_scenario(sim, name, []), run_scenario(sim, name, off)
    return jsonify(
        {
            "flows": [on.flow, without.flow],
            "off": off,
            "outcomes": [on.outcome, without.outcome],
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
    """The attacker, in their own browser, logs in to the client as bob and stops before
    the callback: the callback URL with bob's code becomes a link on the attacker's site.
    A student who clicks it delivers bob's code to the client in their own browser; the
    flow (and its defence switches) follows the code (`sim.tracing.live`)."""
    _require_console()
    scenario = _scenario(name)
    if name not in LURES:
        raise F.BadRequest(f"no lure for {name}; lures: {', '.join(LURES)}", 404, "no_lure")
    off = _off(scenario)
    if name == "mix-up":
        return _mix_up_lure(off)
    from sim.attacker import Attacker  # noqa: PLC0415
    from sim.scenarios.base import log_in_and_consent  # noqa: PLC0415

    sim = simulation()
    flow = new_flow(sim, name + "-lure", off)
    attacker = Attacker(flow, sim.attacker_url, sim.store)
    try:
        callback = sim.client_url + "/callback"
        start = attacker.browser.get(sim.client_url + "/login")
        last = log_in_and_consent(attacker.browser, start, "bob", "builder", stop_at=callback)
        stolen = attacker.browser.location(last)
    finally:
        attacker.close()
    if not stolen or not stolen.startswith(callback):
        return jsonify({"error": "lure_failed", "error_description": "no code for bob"}), 502
    return jsonify({"flow": flow, "off": off, "lure": attacker.lure(stolen)})


def _mix_up_lure(off: list[str]):
    """The attacker's page offers "Sign in with PhotoCloud": a link (through the attacker's
    site) to the client's own login with the attacker's authorization server, which the
    client also knows. The flow starts when the student clicks, so the switches are those
    for logins by hand; preparing the lure sets them."""
    sim = simulation()
    put_settings(current_app.config["TRACE_STORE"], browser_off=off)
    from sim.attacker import Attacker  # noqa: PLC0415

    attacker = Attacker("mix-up-lure", sim.attacker_url)
    attacker.close()
    return jsonify(
        {"flow": None, "off": off, "lure": attacker.lure(sim.client_url + "/login?as=attacker")}
    )


@bp.route("/browser-defences", methods=["GET", "POST"])
def browser_defences():
    """Defences switched off for every login a browser starts from now on (walking an
    attack by hand), by the same names as `--off`."""
    store = current_app.config["TRACE_STORE"]
    if request.method == "POST":
        _require_console()
        data = request.get_json(silent=True)
        off = data.get("off") if isinstance(data, dict) else None
        if not isinstance(off, list) or not all(isinstance(x, str) for x in off):
            raise F.BadRequest('send {"off": [defence names]}')
        known = all_defences()
        unknown = [x for x in off if x not in known]
        if unknown:
            raise F.BadRequest(
                f"no defence named {unknown[0][:40]!r}; defences: {', '.join(known)}",
                400,
                "unknown_defence",
            )
        put_settings(store, browser_off=sorted(set(off)))
    return jsonify(
        {"off": browser_off(store) if store is not None else [], "defences": all_defences()}
    )


def all_defences() -> list[str]:
    from sim.scenarios import SCENARIOS  # noqa: PLC0415

    return sorted({d for scenario in SCENARIOS.values() for d in defences_of(scenario)})
