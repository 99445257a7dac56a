"""The authorization server's endpoints: thin views over Authlib.

The authorization request's checks run in the order listed in `authorization_request`
(one function per check, each naming its RFC section); then the resource owner logs in
(login page) and consents (consent page; deny -> access_denied redirect).
Every view catches Authlib's OAuth2Error: no input may produce a 5xx.
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from sim.authorization_server import login_sessions, users
from sim.authorization_server.access_tokens import check_resource
from sim.authorization_server.back_channel_request import first_failure
from sim.authorization_server.dpop_binding import check_token_request
from sim.authorization_server.login_sessions import current_user
from sim.authorization_server.metadata import document
from sim.authorization_server.openid import userinfo_errors
from sim.form_csrf import check_csrf, csrf_token
from sim.parties import SCOPES

bp = Blueprint("authorization_server", __name__)


def server():
    return current_app.extensions["authorization_server"]


def error_page(error: OAuth2Error) -> tuple[str, int]:
    return render_template("error.html", error=error.error, description=error.description), 400


def unquotable_input_page() -> tuple[str, int]:
    """Authlib 1.9 raises ValueError (a 500) when an error description would quote a
    parameter holding characters RFC 6749 forbids there (e.g. a non-ASCII response_type or
    redirect_uri). The request is malformed either way: answer with the error page."""
    return error_page(InvalidRequestError("A parameter holds characters OAuth does not allow."))


def authorization_error(error: OAuth2Error):
    """Redirect back to the client only once its redirect_uri is known to be its own."""
    if not getattr(error, "redirect_uri", None):
        return error_page(error)
    response = server().handle_error_response(None, error)
    if response.location:
        # Beside the other response parameters: in the fragment for the implicit flow.
        response.location = add_params_to_uri(
            response.location, {"iss": current_app.config["ISSUER"]}, "#" in response.location
        )
    return response


@bp.get("/authorize")
def authorize():
    user = current_user()
    try:
        grant = server().get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return authorization_error(error)
    except ValueError:
        return unquotable_input_page()
    if user is None:
        return redirect(url_for(".login", next=request.full_path))
    requested = grant.request.scope.split() if grant.request.scope else []
    return render_template(
        "consent.html",
        client=grant.client,
        user=user,
        scopes=[(s, SCOPES.get(s, s)) for s in requested],
        csrf_token=csrf_token(),
        action=request.full_path,
    )


@bp.post("/authorize")
def authorize_decision():
    user = current_user()
    if user is None:
        return redirect(url_for(".login", next=request.full_path))
    check_csrf()
    try:
        grant = server().get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return authorization_error(error)
    except ValueError:
        return unquotable_input_page()
    # RFC 6749 §3.3: the server may issue less than asked "based on ... the resource owner's
    # instructions". What the user ticked, among what was asked, becomes the grant's scope
    # for every grant (code, implicit, and any added later); ticking nothing that was asked
    # is a refusal, never a token with an empty (or defaulted) scope.
    grant.consented_scope = frozenset(request.form.getlist("grant_scope"))
    granted = [s for s in (grant.request.scope or "").split() if s in grant.consented_scope]
    approved = request.form.get("decision") == "approve" and bool(granted)
    # The request Authlib already made for the consent grant: its parameters are read once.
    return server().create_authorization_response(
        request=grant.request, grant=grant, grant_user=user if approved else None
    )


def safe_next(target: str | None) -> str:
    """Where to go after logging in: back to an authorization request (or a device's
    consent, RFC 8628) on this server, or home. A control character (CR/LF would split the
    Location header) means home too."""
    if target and target.startswith(("/authorize?", "/device?")) and target.isprintable():
        return target
    return url_for(".index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    message = None
    if request.method == "POST":
        check_csrf()
        username = request.form.get("username", "")
        user = users.by_username(username)
        if user and user.check_password(request.form.get("password", "")):
            login_sessions.start(user)  # its start is OIDC Core §2's auth_time
            return redirect(next_url)
        message = "Wrong username or password."
    # A failed login is the form again with a message (200): a 401 would need a
    # WWW-Authenticate challenge (RFC 9110 §15.5.2), and there is no HTTP scheme here.
    return render_template("login.html", next=next_url, message=message, csrf_token=csrf_token())


@bp.post("/logout")
def logout():
    check_csrf()
    login_sessions.end()
    return redirect(url_for(".index"))


@bp.get("/")
def index():
    return render_template("index.html", user=current_user(), csrf_token=csrf_token())


def refused_before_authlib():
    """The back-channel checks of `back_channel_request`, as an error response, or None."""
    error = first_failure(request)
    return None if error is None else server().handle_error_response(None, error)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.route("/token", methods=["POST", "OPTIONS"])
def token():
    if request.method == "OPTIONS":
        return cors(Response(status=204))
    # Then a DPoP proof, if one came (RFC 9449 §5).
    refused = refused_before_authlib() or check_token_request() or refused_resource()
    return cors(no_store(refused or server().create_token_response()))


def refused_resource():
    """RFC 8707 §2: a `resource` this server issues no tokens for is `invalid_target`."""
    error = check_resource()
    return None if error is None else server().handle_error_response(None, error)


@bp.route("/revoke", methods=["POST", "OPTIONS"])
def revoke():
    if request.method == "OPTIONS":
        return cors(Response(status=204))
    refused = refused_before_authlib()
    return cors(no_store(refused or server().create_endpoint_response("revocation")))


@bp.post("/introspect")
def introspect():
    refused = refused_before_authlib()
    return no_store(refused or server().create_endpoint_response("introspection"))


def cors(response: Response) -> Response:
    """Browsers may call the token and revocation endpoints from the registered SPA origin
    only (the public client redeems its code from the page); any other origin gets no CORS
    headers, so its script cannot read the answer."""
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["CORS_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, DPoP"
        response.headers["Vary"] = "Origin"
    return response


@bp.get("/.well-known/oauth-authorization-server")
@bp.get("/.well-known/openid-configuration")
def metadata():
    return jsonify(document(current_app.config["ISSUER"]))


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    """OpenID Connect UserInfo (Core §5.3); its errors are RFC 6750 §3 ones (Core §5.3.3)."""
    response = server().create_endpoint_response("userinfo")
    return no_store(userinfo_errors(response, request.headers.get("Authorization", "")))


@bp.get("/jwks.json")
def jwks():
    keys = [current_app.config[name] for name in ("SIGNING_KEY", "ID_TOKEN_KEY")]
    return jsonify({"keys": [key.as_dict(private=False) for key in keys]})


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "party": "authorization-server"}
