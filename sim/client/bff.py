"""The backend-for-frontend: the same page-with-a-script shape as the SPA, but the script
talks only to its own backend on this origin, which holds the tokens and calls the API for
it. The browser holds a session cookie (this app's own, `SESSION_COOKIE_NAME`) and never a
token.

/bff             the page and its script, with this session's CSRF token written in
/bff/login       starts the client's code flow (state, PKCE, confidential `demo-client`);
                 its callback (/callback) ends back at /bff
/bff/api/photos  GET /api/photos with the token kept here; the script must send the
                 session's CSRF token in `X-CSRF`, which a cross-site form or link cannot
                 set (and a cross-origin script cannot without a CORS preflight, which this
                 app does not answer), so only this origin's page can call it
"""

from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, jsonify, render_template, request, session
from requests import RequestException

from sim.client.routes import cfg, current_token, end_session, oauth_session, start_login
from sim.form_csrf import csrf_token, same_token

bp = Blueprint("bff", __name__)

CSRF_HEADER = "X-CSRF"


@bp.get("/bff")
def page():
    sid, token = current_token()
    return render_template("bff.html", logged_in=token is not None, csrf_token=csrf_token())


@bp.get("/bff/login")
def login():
    return start_login(return_to="/bff")


@bp.get("/bff/api/photos")
def photos():
    """Proxy one API call: 401 with no login in this session, 403 without the session's
    CSRF token in the header, else the resource server's answer (its status and JSON)."""
    sid, token = current_token()
    if token is None:
        return _error(401, "not_logged_in", "This browser's session has no login: /bff/login.")
    if not same_token(request.headers.get(CSRF_HEADER, ""), session.get("csrf", "\0")):
        return _error(403, "csrf", f"The {CSRF_HEADER} header is missing or wrong.")
    try:
        answer = oauth_session(token, sid).get(
            cfg("RESOURCE_SERVER_URL") + "/api/photos", timeout=10
        )
    except (OAuthError, OAuth2Error):  # the refresh token was refused: this login is over
        end_session()
        return _error(401, "session_ended", "The authorization server refused the refresh.")
    except RequestException:
        return _error(502, "unreachable", "The resource server did not answer.")
    try:
        body = answer.json()
    except ValueError:
        body = {"error": "bad_gateway"}
    response = jsonify(body)
    response.status_code = answer.status_code if answer.status_code < 500 else 502
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, error: str, description: str):
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
