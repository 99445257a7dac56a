"""Helpers the attack scenarios share: playing the single-page app (public client
`demo-spa`) in the victim's browser, PKCE pairs, reading an actor's own responses, and the
proof that an attacker read someone's profile.

The framework itself (guards, attempts, the outcome) lives in `sim.scenarios.base`.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sim.parties import ALL_SCOPES, PHOTOS, client_by_id
from sim.scenarios.base import ScenarioError, log_in_and_consent
from sim.scenarios.stage import Stage
from sim.user_agent import UserAgent

SPA = client_by_id("demo-spa")
WEB = client_by_id("demo-client")
#: A title only alice's photo list holds: seeing it on a page proves whose data that is.
ALICES_PHOTO = PHOTOS["alice"][0]
BOBS_PHOTO = PHOTOS["bob"][0]


def pkce_pair() -> tuple[str, str]:
    """A PKCE code_verifier and its S256 code_challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def spa_redirect_uri(stage: Stage) -> str:
    return stage.client_url + (SPA.redirect_path or "")


def spa_authorization_url(stage: Stage, state: str, challenge: str | None, **extra: str) -> str:
    """The authorization request the SPA's script sends the browser to. With `challenge`
    None it carries no PKCE at all (a public client without PKCE)."""
    params = {
        "response_type": "code",
        "client_id": SPA.client_id,
        "redirect_uri": spa_redirect_uri(stage),
        "scope": ALL_SCOPES,
        "state": state,
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return stage.authorization_server_url + "/authorize?" + urlencode(params)


def answer_param(url: str | None, name: str) -> str:
    """A parameter of a URL an actor itself received (a Location it was sent to)."""
    values = parse_qs(urlsplit(url or "").query).get(name)
    return values[0] if values else ""


def token_request(ua: UserAgent, stage: Stage, data: dict[str, str]) -> requests.Response:
    """The SPA's script calling the token endpoint from the page (CORS, no secret)."""
    return ua.request(
        "POST",
        stage.authorization_server_url + "/token",
        data=data,
        headers={"Origin": stage.client_url},
    )


def error_of(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return body.get("error", "") if isinstance(body, dict) else ""


def read_profile(http: requests.Session, stage: Stage, token: str) -> requests.Response:
    """An API call with a bearer token: who it belongs to is in the answer."""
    return http.get(
        stage.resource_server_url + "/api/profile",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def profile_owner(response: requests.Response | None) -> str | None:
    if response is None or not response.ok:
        return None
    body = response.json()
    return body.get("username") if isinstance(body, dict) else None


def page_title(html: str) -> str:
    start = html.find("<h1>")
    end = html.find("</h1>", start)
    return html[start + 4 : end].strip() if start >= 0 and end > start else ""


def client_login_stopped_before_callback(
    stage: Stage,
    browser: UserAgent,
    username: str,
    password: str,
    start_path: str = "/login",
    **rewrite: str | None,
) -> str:
    """A login at the confidential client in `browser`, as `username`, stopped before the
    callback; returns the callback URL (code and state) the browser was about to load.
    `start_path` is where the login starts (`/login?openid=1`: OpenID Connect); `rewrite`
    changes the authorization request on its way (None removes a parameter), as an attacker
    can in their own browser."""
    callback = stage.client_url + "/callback"
    start = browser.get(stage.client_url + start_path)
    authorize = browser.location(start) or ""
    if rewrite:
        authorize = with_params(authorize, **rewrite)
    last = log_in_and_consent(browser, browser.get(authorize), username, password, stop_at=callback)
    url = browser.location(last) or ""
    if not url.startswith(callback) or not answer_param(url, "code"):
        raise ScenarioError(f"no code for {username}'s own login ({last.status_code})")
    return url


def with_params(url: str, **params: str | None) -> str:
    """`url` with `params` set (a value of None removes the parameter)."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, vs in parse_qs(parts.query).items() for v in vs if k not in params]
    pairs += [(k, v) for k, v in params.items() if v is not None]
    return parts._replace(query=urlencode(pairs)).geturl()
