"""The device flow's endpoints (RFC 8628): the TV's /device_authorization, and the pages at
the verification URI where the user, on their phone, types the code, logs in and decides.

    GET  /device                   the form to type the user code (or ?user_code=… from the
                                   QR code / verification_uri_complete: straight to consent)
    POST /device                   the typed code; a wrong or spent code gets the form again
    POST /device/decision          approve or deny, once per user code

RFC 8628 §3.3: "the authorization server ... SHOULD ... ask the user to ... authenticate
(if not already authenticated) ... and approve or deny the request". Wrong guesses are
limited per browser session (§5.1, the user code is short enough to be guessed).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from sim.authorization_server.back_channel_request import first_failure
from sim.authorization_server.device import decide, normalise_user_code, pending_user_code
from sim.authorization_server.login_sessions import current_user
from sim.form_csrf import check_csrf, csrf_token
from sim.parties import SCOPES

bp = Blueprint("device", __name__)

#: Wrong user codes a browser session may type before it is refused (RFC 8628 §5.1).
MAX_WRONG_CODES = 5


def _server():
    return current_app.extensions["authorization_server"]


@bp.post("/device_authorization")
def device_authorization():
    error = first_failure(request)
    response = (
        _server().handle_error_response(None, error)
        if error is not None
        else _server().create_endpoint_response("device_authorization")
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _form(message: str | None = None, status: int = 200, typed: str = ""):
    page = render_template(
        "device.html", message=message, csrf_token=csrf_token(), typed=typed[:20]
    )
    return page, status


def _too_many_wrong() -> bool:
    return session.get("wrong_user_codes", 0) >= MAX_WRONG_CODES


@bp.get("/device")
def device():
    typed = request.args.get("user_code", "")
    if not typed:
        return _form()
    if _too_many_wrong():
        return _form("Too many wrong codes: start again on the device.", 429)
    item = pending_user_code(typed)
    if item is None:
        session["wrong_user_codes"] = session.get("wrong_user_codes", 0) + 1
        return _form(
            "That code is unknown, expired or already used. Check it and retry.", 400, typed
        )
    user = current_user()
    if user is None:
        next_url = "/device?" + urlencode({"user_code": item.user_code})
        return redirect(url_for("authorization_server.login", next=next_url))
    client = _server().query_client(item.client_id)
    return render_template(
        "device_consent.html",
        client=client,
        user=user,
        user_code=item.user_code,
        scopes=[(s, SCOPES.get(s, s)) for s in item.get_scope().split()],
        csrf_token=csrf_token(),
    )


@bp.post("/device")
def device_code_typed():
    check_csrf()
    typed = normalise_user_code(request.form.get("user_code", ""))
    return redirect(url_for(".device", user_code=typed))


@bp.post("/device/decision")
def device_decision():
    check_csrf()
    user = current_user()
    typed = request.form.get("user_code", "")
    if user is None:
        return redirect(url_for(".device", user_code=typed))
    item = pending_user_code(typed)
    approved = request.form.get("decision") == "approve"
    if item is None or not decide(item, user, approved):
        return _form("That code is unknown, expired or already used.", 400, typed)
    return render_template("device_done.html", approved=approved, user=user)
