"""The photo API (contract): profile, list photos, add a photo; each user sees only theirs."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from sim.resource_server.protector import error_response

bp = Blueprint("resource_server", __name__)


def guard(scope: str):
    return current_app.extensions["token_guard"].check(scope)


def owner(token: dict) -> str:
    return token.get("username") or token.get("sub") or ""


@bp.get("/api/profile")
def profile():
    token, error = guard("profile")
    if error:
        return error
    return jsonify(
        {"username": owner(token), "name": token.get("name"), "scope": token.get("scope")}
    )


@bp.get("/api/photos")
def list_photos():
    token, error = guard("photos:read")
    if error:
        return error
    photos = current_app.extensions["photos"].list(owner(token))
    return jsonify({"owner": owner(token), "photos": photos})


@bp.post("/api/photos")
def add_photo():
    token, error = guard("photos:write")
    if error:
        return error
    data = request.get_json(silent=True) if request.is_json else request.form
    title = data.get("title") if isinstance(data, dict) or hasattr(data, "get") else None
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        return error_response(400, "invalid_request", "Send a 'title' of 1 to 200 characters.")
    photo = current_app.extensions["photos"].add(owner(token), title.strip())
    return jsonify(photo), 201


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "party": "resource-server"}
