"""The photo API (contract): profile, list photos, add a photo; each user sees only theirs."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from sim.resource_server.challenges import error_response
from sim.resource_server.protector import require_oauth

bp = Blueprint("resource_server", __name__)


def owner(token: dict) -> str:
    return token.get("username") or token.get("sub") or ""


@bp.get("/api/profile")
@require_oauth("profile")
def profile(token: dict):
    return jsonify(
        {"username": owner(token), "name": token.get("name"), "scope": token.get("scope")}
    )


@bp.get("/api/photos")
@require_oauth("photos:read")
def list_photos(token: dict):
    if not token.get("username"):
        return jsonify(service_answer(token))
    photos = current_app.extensions["photos"].list(owner(token))
    return jsonify({"owner": owner(token), "photos": photos})


def service_answer(token: dict) -> dict:
    """A client-credentials token acts for the client itself, not for a user (RFC 6749
    §4.4): there is nobody whose photos to list, so say so instead of guessing one."""
    return {
        "owner": owner(token),
        "photos": [],
        "note": "This token was issued to a machine client for itself (client credentials): "
        "it acts for no user, so there are no user photos in its name.",
    }


@bp.after_request
def cors(response):
    """Let a page's script (the single-page app) call the API with its token from another
    origin. Any origin may: the API uses no cookies, so a script can only send a token it
    already holds; CORS guards ambient credentials, which a bearer API does not have."""
    if request.path.startswith("/api/") and request.headers.get("Origin"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, DPoP"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
    return response


@bp.post("/api/photos")
@require_oauth("photos:write")
def add_photo(token: dict):
    data = request.get_json(silent=True) if request.is_json else request.form
    title = data.get("title") if isinstance(data, dict) or hasattr(data, "get") else None
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        return error_response(400, "invalid_request", "Send a 'title' of 1 to 200 characters.")
    photo = current_app.extensions["photos"].add(owner(token), title.strip())
    return jsonify(photo), 201


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "party": "resource-server"}
