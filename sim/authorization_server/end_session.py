"""Ending the user's login at the authorization server when a client asks (OpenID Connect
RP-Initiated Logout 1.0): the client's "log out everywhere" sends the browser here.

A client's own logout forgets (and revokes) its tokens, but the user's login session here
lives on: the next login at any client goes through without a password. This endpoint ends
it. RP-Initiated Logout 1.0 §2: "At the Logout Endpoint, the OP SHOULD ask the End-User
whether to log out of the OP as well. Furthermore, the OP MUST ask the End-User this
question if an id_token_hint was not provided or if the supplied ID Token does not belong to
the current OP session with the RP and/or currently logged in End-User." This server always
asks (a form POST with its CSRF token): a GET alone could be sent by any page, an image on
another site, ending the user's session behind their back.

    GET /end-session?client_id=demo-client&post_logout_redirect_uri=<client>/logged-out
        &state=af0ifjsldkj&id_token_hint=eyJ...          (the confirmation page, 200)

    POST /end-session  decision=logout&csrf_token=...&(the same parameters)

    HTTP/1.1 302 Found
    Location: <client>/logged-out?state=af0ifjsldkj

The browser goes back only after a logout, and only to a `post_logout_redirect_uri`
registered for the client named by `client_id` (exact match, like redirect URIs); otherwise
this server's own page says whether the user is logged out. `id_token_hint` is accepted and
not needed: the page is shown either way.
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, redirect, render_template, request

from sim.authorization_server import login_sessions
from sim.authorization_server.login_sessions import current_user
from sim.authorization_server.models import Client
from sim.form_csrf import check_csrf, csrf_token

bp = Blueprint("end_session", __name__)

#: The request parameters the confirmation form carries on to its POST.
CARRIED = ("client_id", "post_logout_redirect_uri", "state", "id_token_hint")


def registered_return(client_id: str, uri: str) -> str | None:
    """`uri` if it is exactly one of the client's registered post-logout redirect URIs."""
    if not client_id or not uri:
        return None
    client = Client.query.filter_by(client_id=client_id).first()
    if client is None:
        return None
    return uri if uri in client.client_metadata.get("post_logout_redirect_uris", []) else None


@bp.get("/end-session")
def ask():
    values = {k: request.args.get(k, "") for k in CARRIED}
    client = Client.query.filter_by(client_id=values["client_id"]).first()
    return render_template(
        "end_session.html",
        user=current_user(),
        client=client,
        values={k: v for k, v in values.items() if v},
        csrf_token=csrf_token(),
    )


@bp.post("/end-session")
def decide():
    check_csrf()
    form = request.form
    ended = form.get("decision") == "logout"
    if ended:
        login_sessions.end()
    target = registered_return(form.get("client_id", ""), form.get("post_logout_redirect_uri", ""))
    # Back to the client only after a logout (§3): a client cannot tell from the redirect
    # whether the user said yes, so a "stay" never goes back as if it had ended anything.
    if target is None or not ended:
        return render_template("end_session_done.html", ended=ended, csrf_token=csrf_token())
    params = {"state": form["state"]} if form.get("state") else {}
    return redirect(add_params_to_uri(target, params) if params else target)
