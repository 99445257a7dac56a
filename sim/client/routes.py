"""The client's pages: start a login, receive the callback, show the user's photos.

/login      makes `state` and a PKCE verifier, remembers them for this browser's session
            only, redirects to /authorize (`?openid=1`: OpenID Connect, scope `openid` and
            a `nonce`, kept with them; `?dpop=1` or config DPOP: DPoP-bound tokens)
/callback   checks state (CSRF) and iss (mix-up), redeems the code on the back channel,
            then redirects to a clean URL so the code does not stay in the address bar
/           calls the resource server with the access token, refreshing it first when it
            is about to expire (Authlib's OAuth2Session does this with `leeway`)
/refresh    refreshes now (a button, so a class can watch rotation happen)
/logout     revokes the tokens at the authorization server (RFC 7009): logged out of this
            app only, the login at the authorization server goes on (the page says so)
/logout-everywhere  the same, then sends the browser to the authorization server's
            end_session_endpoint to end that login too (OpenID Connect RP-Initiated Logout
            1.0 §2); it comes back to /logged-out with the state it was sent with

Errors from the other servers are handled in one place (`server_refused`,
`server_unreachable`): views just make their calls, and a refusal or a silence answers the
same way whichever page met it, worded for that page by `WHEN_REFUSED`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)

from sim import defences
from sim.client import logship
from sim.client.dpop_session import DPoPSession, app_key, is_dpop
from sim.client.history import console_link
from sim.client.id_token import IDTokenError, verify_id_token
from sim.form_csrf import check_csrf, csrf_token, same_token
from sim.parties import CLIENT
from sim.reasons import (
    ID_TOKEN_INVALID,
    ISS_MISMATCH,
    LOGIN_ALREADY_FINISHED,
    STATE_MISMATCH,
    refuse,
)
from sim.tracing import feed, trace_session
from sim.tracing.context import current_flow
from sim.tracing.params import bearer_challenge

bp = Blueprint("client", __name__)


def cfg(key: str):
    return current_app.config[key]


def store():
    return cfg("TRACE_STORE")


def authorization_server(name: str | None = None) -> dict[str, Any] | None:
    """The authorization server a login goes to: ours, an external one the simulator was
    started with (`oauth-sim up --issuer`, found by `discovery`), or (`/login?as=NAME`)
    another one the client also knows. A client of several servers is what a mix-up attack
    needs (RFC 9700 §4.4); pending logins remember which server each one went to."""
    if not name:
        if cfg("EXTERNAL_SERVER"):
            return cfg("EXTERNAL_SERVER")
        issuer = cfg("ISSUER")
        return {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "jwks_uri": issuer + "/jwks.json",
            "userinfo_endpoint": issuer + "/userinfo",
            "revocation_endpoint": issuer + "/revoke",
            "end_session_endpoint": issuer + "/end-session",
            "iss_parameter_supported": True,
            "client_id": cfg("CLIENT_ID"),
            "client_secret": cfg("CLIENT_SECRET"),
        }
    return cfg("OTHER_AUTHORIZATION_SERVERS").get(name)


def oauth_session(
    token: dict | None = None,
    sid: str | None = None,
    server: dict[str, str] | None = None,
    scope: str | None = None,
    dpop: bool = False,
) -> OAuth2Session:
    """Authlib's OAuth 2.0 client, traced as the `client` party. With `dpop` (or a token
    the server bound to our key) it signs DPoP proofs with the app's key (RFC 9449)."""
    server = server or authorization_server()
    secret = server.get("client_secret")
    key = app_key(current_app) if dpop or is_dpop(token) else None
    session_ = DPoPSession(
        server["client_id"],
        secret,
        # a client registered without a secret is a public client (RFC 6749 §2.1)
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        scope=scope or server.get("scope") or cfg("SCOPE"),
        redirect_uri=cfg("BASE_URL") + "/callback",
        code_challenge_method="S256",
        token=token,
        token_endpoint=server["token_endpoint"],
        leeway=cfg("REFRESH_LEEWAY"),
        update_token=partial(_save_refreshed, current_app._get_current_object(), sid),
        dpop_key=key,
    )
    return logship.attach(trace_session(session_, CLIENT, store()), store())


def _save_refreshed(app, sid, token, refresh_token=None, access_token=None) -> None:
    if sid:
        app.extensions["tokens"].put(sid, dict(token))


def page(template: str, status: int = 200, **context):
    context.setdefault("csrf_token", csrf_token())
    return render_template(template, **context), status


def message(title: str, text: str, status: int, rfc: str | None = None):
    return page("message.html", status, title=title, text=text, rfc=rfc)


@bp.get("/login")
def login():
    return start_login()


def start_login(return_to: str = "/"):
    """Start a code flow for this browser (state, PKCE, and a nonce for OpenID Connect);
    the callback ends at `return_to`, a path of this app (the backend-for-frontend's page
    logs in through here too)."""
    name = request.args.get("as", "")
    server = authorization_server(name)
    if server is None:
        return message("Unknown authorization server", "Choose a server this app knows.", 400)
    # With `pkce` switched off for a scenario's flow this client does not use PKCE at all.
    # The verifier as RFC 7636 §4.1 recommends: a 32-octet random sequence, base64url-encoded
    # (43 characters). State and nonce: 24 random octets (192 bits; RFC 6749 §10.10 asks
    # for a guessing probability of at most 2^-160). The standard library's `secrets` draws
    # them in one call; Authlib's generate_token made one os.urandom call per character.
    verifier = None if defences.is_off(defences.PKCE, store()) else secrets.token_urlsafe(32)
    scope, extra = server.get("scope") or cfg("SCOPE"), {}
    if request.args.get("openid") == "1" and not name and "openid" not in scope.split():
        scope = "openid " + scope
    if "openid" in scope.split():
        # OpenID Connect: the same code flow, plus scope `openid` and a nonce bound to this
        # browser's session; it comes back inside the ID token (OIDC Core §3.1.2.1).
        extra["nonce"] = secrets.token_urlsafe(24)
    if "offline_access" in scope.split():
        # OIDC Core §11: a request for offline access (a refresh token) MUST use
        # prompt=consent unless other conditions permit it.
        extra["prompt"] = "consent"
    url, state = oauth_session(server=server, scope=scope).create_authorization_url(
        server["authorization_endpoint"],
        state=secrets.token_urlsafe(24),
        code_verifier=verifier,
        **extra,
    )
    # State, verifier and nonce belong to this browser's login, kept on the server under a
    # key only this browser's session holds: the callback uses the verifier of the browser
    # that delivers the code, never one looked up by the (attacker-supplied) state. That
    # binding is what lets PKCE stop login CSRF too (RFC 9700 §4.7.1).
    login_id = secrets.token_urlsafe(24)
    current_app.extensions["pending"].add(
        login_id,
        {
            "state": state,
            "verifier": verifier,
            "nonce": extra.get("nonce"),
            "issuer": server["issuer"],
            "server": name,
            "iss_required": server.get("iss_parameter_supported", True),
            "return_to": return_to,
            "dpop": request.args.get("dpop") == "1" or bool(cfg("DPOP")),
        },
    )
    session["login"] = login_id
    return redirect(url)


@bp.get("/callback")
def callback():
    args = request.args
    state = args.get("state", "")
    pending = current_app.extensions["pending"].pop(session.pop("login", ""))
    if not defences.is_off(defences.STATE, store()):
        expected = pending["state"] if pending else ""
        if not state or not expected or not same_token(state, expected):
            if state and same_token(state, session.get("finished_state", "")):
                refuse(LOGIN_ALREADY_FINISHED)
                return message(
                    "This login already finished",
                    "This answer belongs to a login that is over (the Back button and a "
                    "second approval give the same state again). Nothing was redeemed; log "
                    "in again if you need to.",
                    400,
                    "RFC 6749 §10.12",
                )
            refuse(STATE_MISMATCH)
            return message(
                "Login refused: state does not match",
                "This browser did not start this login, so the client refuses the code. "
                "Without this check an attacker could make your browser deliver a code for "
                "the attacker's own account, logging you into it (login CSRF).",
                400,
                "RFC 6749 §10.12, RFC 9700 §4.7",
            )
    if pending is None:
        # No state check, and this browser started no login: a client like that still
        # redeems the code, with no verifier to send (its own server's login assumed).
        pending = {"verifier": None, "nonce": None, "issuer": cfg("ISSUER"), "server": ""}
    nonce = pending["nonce"]
    # RFC 9207 §2.4: compare any iss to the issuer the request went to; a server that
    # announces the parameter (ours does) must send it, so a response without it is refused.
    iss_checked = "iss" in args or pending.get("iss_required", True)
    if (
        not defences.is_off(defences.ISS, store())
        and iss_checked
        and args.get("iss") != pending["issuer"]
    ):
        refuse(ISS_MISMATCH)
        return message(
            "Login refused: wrong issuer",
            f"The response names issuer {args.get('iss')!r}, but this login was sent to "
            f"{pending['issuer']!r}. The code is not sent anywhere (mix-up defence).",
            400,
            "RFC 9207 §2.4, RFC 9700 §4.4",
        )
    if "error" in args:
        return error_from_authorization_server(args.get("error", ""), args.get("error_description"))
    code = args.get("code")
    if not code:
        return message("No code", "The authorization response carried no code.", 400)
    server = authorization_server(pending.get("server")) or authorization_server()
    # The code goes to the token endpoint of the server this login was sent to.
    token = oauth_session(server=server, dpop=pending.get("dpop", False)).fetch_token(
        server["token_endpoint"], code=code, code_verifier=pending["verifier"]
    )
    if "id_token" in token:
        refused = check_id_token(token, server, nonce)
        if refused is not None:
            return refused
    sid = secrets.token_urlsafe(24)
    current_app.extensions["tokens"].put(sid, dict(token))
    current_app.extensions["history"].login(sid, current_flow.get(), code, dict(token))
    session["sid"] = sid
    session["finished_state"] = state  # to tell the Back button from a forged response
    csrf_token()  # the page's forms need one: made with this cookie, not a cookie of its own
    # Redirect to a clean URL: the code must not linger in history or Referer headers.
    return redirect(pending.get("return_to", "/"))


def check_id_token(token: dict, server: dict[str, str], nonce: str | None):
    """Verify the ID token (signature with the server's JWKS, iss, aud, exp, nonce), ask
    UserInfo for the user's name with the access token, and keep who logged in with the
    tokens; a refusal page if any check fails. (A real client caches the JWKS; fetching it
    on each login keeps the trace showing where the key comes from.) A server that does not
    answer is `server_unreachable`'s, like everywhere else."""
    jwks = oauth_session(server=server).get(
        server.get("jwks_uri") or server["issuer"] + "/jwks.json", timeout=10, withhold_token=True
    )
    try:
        claims = verify_id_token(
            token["id_token"],
            jwks.json(),
            server["issuer"],
            server["client_id"],
            nonce,
            token.get("access_token"),
            # With `nonce` switched off for a scenario's flow this client skips that check.
            check_nonce=not defences.is_off(defences.NONCE, store()),
        )
    except (IDTokenError, ValueError) as error:
        refuse(ID_TOKEN_INVALID)
        return message(
            "Login refused: the ID token is not valid",
            f"The check of {getattr(error, 'reason', 'the ID token')!r} failed: "
            f"{getattr(error, 'detail', error)}. The app does not log anyone in with it.",
            400,
            "OIDC Core §3.1.3.7",
        )
    token["id_claims"] = {k: claims[k] for k in ("sub", "iss", "auth_time") if k in claims}
    if not server.get("userinfo_endpoint"):
        return None  # a server without UserInfo: the ID token alone says who logged in
    info = oauth_session(token, server=server).get(server["userinfo_endpoint"], timeout=10)
    if info.status_code != 200 or info.json().get("sub") != claims["sub"]:
        # OIDC Core §5.3.2: the UserInfo sub MUST exactly match the ID token's.
        return message("Login refused", "UserInfo did not confirm the ID token's user.", 400)
    token["id_claims"]["name"] = info.json().get("name")
    return None


def error_from_authorization_server(error: str, description: str | None):
    if error == "access_denied":
        return message(
            "You said no",
            "You denied the request on the consent page, so the app got no access. "
            "Nothing was shared.",
            200,
            "RFC 6749 §4.1.2.1",
        )
    return message(f"Authorization failed: {error}", description or "", 400, "RFC 6749 §4.1.2.1")


def current_token() -> tuple[str | None, dict | None]:
    sid = session.get("sid")
    return sid, current_app.extensions["tokens"].get(sid)


@dataclass(frozen=True)
class Refusal:
    """How a page words a server's refusal, and whether the login it belongs to is over."""

    title: str
    text: str
    status: int
    rfc: str
    ends_session: bool = True


_SESSION_ENDED = Refusal(
    "Your session ended",
    "The authorization server refused this app's refresh token (revoked, or reused after "
    "rotation), so the app logged you out. Log in again.",
    200,
    "RFC 6749 §6, RFC 9700 §4.14.2",
)
#: Per view: what a refusal by a server means there. Any other view: the session ends.
WHEN_REFUSED = {
    "client.callback": Refusal(
        "The authorization server refused the code",
        "The code could not be exchanged for tokens; nothing was logged in.",
        400,
        "RFC 6749 §5.2",
        ends_session=False,
    ),
    "client.logout": Refusal(
        "Logged out here only",
        "This app forgot your tokens, but the authorization server did not confirm their "
        "revocation: they stay valid until they expire.",
        200,
        "RFC 7009 §2.2",
    ),
}
WHEN_REFUSED["client.logout_everywhere"] = WHEN_REFUSED["client.logout"]


def end_session() -> None:
    current_app.extensions["tokens"].drop(session.pop("sid", None))


@bp.errorhandler(OAuthError)
@bp.errorhandler(OAuth2Error)
def server_refused(error: Exception):
    """A server answered with an OAuth error (Authlib raises it: a refused code or refresh
    token, a missing or unusable token). One answer for every view, named by the server's
    own error code (RFC 6749 §5.2)."""
    refusal = WHEN_REFUSED.get(request.endpoint or "", _SESSION_ENDED)
    if refusal.ends_session:
        end_session()
    code = getattr(error, "error", "") or type(error).__name__
    description = getattr(error, "description", "") or ""
    said = f"The server said: {code}" + (f" ({description})" if description else "") + "."
    return message(refusal.title, f"{refusal.text} {said}", refusal.status, refusal.rfc)


@bp.errorhandler(requests.RequestException)
def server_unreachable(error: requests.RequestException):
    """A server did not answer (down, or too slow): nothing was decided, so nothing ends."""
    if request.endpoint in ("client.logout", "client.logout_everywhere"):
        refusal = WHEN_REFUSED["client.logout"]
        return message(refusal.title, refusal.text, 502, refusal.rfc)
    return message("A server did not answer", "Try again in a moment.", 502)


@bp.get("/")
def index():
    sid, token = current_token()
    if token is None:
        return page(
            "index.html",
            token=None,
            external=cfg("EXTERNAL_SERVER"),
            logged_out_here=session.pop("logged_out", None) == "here",
        )
    if cfg("EXTERNAL_SERVER"):
        return external_index(sid, token)
    api = oauth_session(token, sid)
    base = cfg("RESOURCE_SERVER_URL")
    profile = call_api(api, "GET", base + "/api/profile")
    photos = call_api(api, "GET", base + "/api/photos")
    token = current_app.extensions["tokens"].get(sid) or token
    history = current_app.extensions["history"]
    for answer in (profile, photos):
        history.call(sid, current_flow.get(), "GET", urlsplit(answer.url).path, answer.status_code)
    return page(
        "index.html",
        token=token,
        expires_in=int(token.get("expires_at", time.time()) - time.time()),
        profile=_json(profile),
        photos=_json(photos),
        happened=history.get(sid),
        console_link=partial(console_link, cfg("CONSOLE_URL")),
    )


def call_api(api: OAuth2Session, method: str, url: str, **kwargs) -> requests.Response:
    """One API call. Authlib refreshes first when the token is about to expire by this app's
    clock (`REFRESH_LEEWAY`); when the API still answers `invalid_token` (the server's clock
    says the token has expired, or it was revoked), refresh once and retry: RFC 6749 §1.5
    steps (E)-(G), and RFC 6750 §3.1: "The client MAY request a new access token and retry
    the protected resource request." A refused refresh ends the session (`server_refused`)."""
    answer = api.request(method, url, timeout=10, **kwargs)
    refused = bearer_challenge(answer.headers.get("WWW-Authenticate", "")).get("error")
    if answer.status_code == 401 and refused == "invalid_token" and api.token.get("refresh_token"):
        api.refresh_token(authorization_server()["token_endpoint"])
        answer = api.request(method, url, timeout=10, **kwargs)
    return answer


def external_index(sid: str, token: dict):
    """Logged in at an external authorization server: our photo API trusts only our own
    server, so the page shows what the external one said (the ID token's claims and
    UserInfo) and offers refresh and logout, which go to the external server."""
    server = authorization_server()
    profile = {"status": None, "body": {}}
    if server.get("userinfo_endpoint") and "openid" in str(token.get("scope", "")).split():
        profile = _json(oauth_session(token, sid).get(server["userinfo_endpoint"], timeout=10))
    token = current_app.extensions["tokens"].get(sid) or token
    return page(
        "index.html",
        token=token,
        expires_in=int(token.get("expires_at", time.time()) - time.time()),
        profile=profile,
        photos=None,
        external=server,
        happened=None,
        console_link=partial(console_link, cfg("CONSOLE_URL")),
    )


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = {}
    return {"status": response.status_code, "body": body}


@bp.post("/refresh")
def refresh():
    check_csrf()
    sid, token = current_token()
    if token is None:
        return redirect("/")
    oauth_session(token, sid).refresh_token(authorization_server()["token_endpoint"])
    return redirect("/")


@bp.post("/photos")
def add_photo():
    check_csrf()
    sid, token = current_token()
    if token is None:
        return redirect("/")
    title = request.form.get("title", "")
    oauth_session(token, sid).post(
        cfg("RESOURCE_SERVER_URL") + "/api/photos", json={"title": title}, timeout=10
    )
    return redirect("/")


@bp.post("/logout")
def logout():
    check_csrf()
    log_out_here()
    # Only this app forgot the user: the login at the authorization server goes on, and the
    # next login there needs no password. The page says so and offers to end it too.
    session["logged_out"] = "here"
    return redirect("/")


@bp.post("/logout-everywhere")
def logout_everywhere():
    """Log out here (revoking the tokens), then send the browser to the authorization
    server's end_session_endpoint to end the user's login there (RP-Initiated Logout 1.0 §2),
    with where to come back to and a state to recognise the answer by (§3)."""
    check_csrf()
    token = log_out_here()
    server = authorization_server()
    end_session = server.get("end_session_endpoint")
    if not end_session:  # a server that offers none: logged out of this app only
        session["logged_out"] = "here"
        return redirect("/")
    state = generate_token(24)
    session["logout_state"] = state
    params = {
        "client_id": server["client_id"],
        "post_logout_redirect_uri": cfg("BASE_URL") + "/logged-out",
        "state": state,
    }
    if token and token.get("id_token"):
        params["id_token_hint"] = token["id_token"]
    return redirect(end_session + "?" + urlencode(params))


@bp.get("/logged-out")
def logged_out():
    """Back from the authorization server's logout (RP-Initiated Logout 1.0 §3): the state
    says it answers the request this browser made."""
    expected = session.pop("logout_state", "")
    if not expected or not same_token(request.args.get("state", ""), expected):
        return message(
            "Logged out",
            "This app has logged you out. (This page was not reached from this app's own "
            "request to log out at the authorization server.)",
            200,
        )
    return message(
        "Logged out everywhere",
        "This app revoked its tokens, and the authorization server ended your login there: "
        "the next login will ask for your password.",
        200,
        "OpenID Connect RP-Initiated Logout 1.0 §2",
    )


def log_out_here() -> dict | None:
    """Forget this browser's login and revoke its tokens (RFC 7009); the tokens it had."""
    sid, token = current_token()
    current_app.extensions["tokens"].drop(sid)
    current_app.extensions["history"].drop(sid)
    session.clear()
    revocation = authorization_server().get("revocation_endpoint")
    if token and token.get("refresh_token") and revocation:
        # Logged out here already; a failed revocation is reported, not hidden (RFC 7009 §2.2).
        # (A server that announces no revocation endpoint: logged out here only.)
        answer = oauth_session(token).revoke_token(
            revocation,
            token=token["refresh_token"],
            token_type_hint="refresh_token",
        )
        if answer.status_code != 200:
            raise OAuthError(*_error_of(answer))
        if defences.option("check_revocation", store()):
            try_revoked_tokens(token)
    return token


def try_revoked_tokens(token: dict) -> None:
    """A teaching step, not something a client needs: use the revoked tokens once more, so
    the trace shows the API and the token endpoint refusing them (revocation scenario)."""
    try:
        oauth_session(token).get(cfg("RESOURCE_SERVER_URL") + "/api/profile", timeout=10)
        oauth_session(token).refresh_token(authorization_server()["token_endpoint"])
    except (OAuthError, OAuth2Error, requests.RequestException):
        pass


def _error_of(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return str(body.get("error", response.status_code)), str(body.get("error_description", ""))


@bp.get("/trace")
def trace():
    """The live trace (contract JSON event schema, plus each event's flow, headers and
    bodies, secrets named in `secrets`), for `oauth-sim trace` and the class.
    `?flow=ID` keeps one flow; an id that names no flow is a 404. `?after=N[&limit=M]`:
    only what was recorded after cursor N (see `sim.tracing.feed`); the whole trace is
    streamed, so reading it does not cost the client its size in memory."""

    trace_store = store()
    if trace_store is None:
        return jsonify({"error": "tracing is off"}), 404
    flow = request.args.get("flow") or None
    cursors = {}
    for name in ("after", "limit"):
        value = request.args.get(name)
        if value is not None:
            if not value.isdigit() or len(value) > 18:
                description = f"{name} must be a whole number"
                return jsonify({"error": "invalid_request", "error_description": description}), 400
            cursors[name] = int(value)
    if flow is not None and not trace_store.has_flow(flow):
        return jsonify({"error": "unknown_flow", "error_description": "no flow has this id"}), 404
    if cursors:
        return jsonify(feed.after(trace_store, flow, cursors.get("after", 0), cursors.get("limit")))
    return Response(feed.whole(trace_store, flow), mimetype="application/json")


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "party": "client"}
