""" "Reset demo": the classroom console logs everyone out everywhere.

Each app that keeps logins registers `POST /sim/reset`: it picks a new session key, so every
session cookie signed with the old one is worthless (every browser is logged out at once),
and forgets what it keeps per login. Only the console may call it: it must name itself in
the party header, which a page on another site cannot send without a CORS preflight that
these apps never allow.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Flask, jsonify, request

from sim.tracing.names import PARTY_HEADER

CONSOLE = "console"


def register_reset(app: Flask, forget: Callable[[], None] | None = None) -> None:
    def sim_reset():
        if request.headers.get(PARTY_HEADER) != CONSOLE:
            return jsonify({"error": "forbidden", "error_description": "console only"}), 403
        app.secret_key = secrets.token_hex(32)
        if forget is not None:
            forget()
        return jsonify({"reset": True})

    app.add_url_rule("/sim/reset", "sim_reset", sim_reset, methods=["POST"])
