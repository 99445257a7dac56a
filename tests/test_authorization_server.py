"""The authorization server's defences, one test each, over real HTTP.

Each closes a gap in Authlib's defaults listed in ARCHITECTURE.md ("Known Authlib gaps")."""

from __future__ import annotations

import base64
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import s256


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_pkce_s256_matches_an_independent_implementation():
    # RFC 7636 Appendix B's example, computed with hashlib + base64 only.
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_code_exchange_issues_jwt_access_token_and_refresh_token(oauth, sim):
    import joserfc.jwt
    from joserfc.jwk import KeySet

    tokens = oauth.tokens()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["refresh_token"] and tokens["expires_in"] == 300
    # Verify the JWT with the published JWKS, independently of the server's code path.
    jwks = requests.get(sim.authorization_server_url + "/jwks.json", timeout=5).json()
    claims = joserfc.jwt.decode(tokens["access_token"], KeySet.import_key_set(jwks)).claims
    assert claims["iss"] == sim.authorization_server_url
    assert claims["client_id"] == "demo-client"
    assert claims["scope"] == "profile photos:read"


def test_token_response_is_not_cacheable(oauth):
    response = oauth.redeem(oauth.get_code())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_code_replay_is_refused_and_revokes_tokens_issued_from_it(oauth):
    grant = oauth.get_code()
    first = oauth.redeem(grant)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert oauth.introspect(access).json()["active"] is True
    second = oauth.redeem(grant)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert oauth.introspect(access).json() == {"active": False}
    assert oauth.api("/api/profile", access).status_code == 401


def test_wrong_verifier_is_invalid_grant(oauth):
    response = oauth.redeem(oauth.get_code(), verifier=secrets.token_urlsafe(48))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_verifier_is_invalid_grant(oauth):
    response = oauth.redeem(oauth.get_code(), verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides, description",
    [
        ({"code_challenge_method": "plain"}, "S256"),
        ({"code_challenge_method": None}, "S256"),
        ({"code_challenge": None, "code_challenge_method": None}, "PKCE is required"),
    ],
)
def test_plain_or_missing_pkce_is_refused_at_the_authorization_endpoint(
    oauth, overrides, description
):
    params = {"code_challenge": s256("x" * 50), "code_challenge_method": "S256"}
    params.update(overrides)
    state = "st4te"
    response = requests.get(oauth.authorize_url(state=state, **params), allow_redirects=False)
    assert response.status_code == 302
    answer = query(response.headers["Location"])
    assert answer["error"] == "invalid_request"
    assert description in answer["error_description"]
    assert answer["state"] == state
    assert answer["iss"] == oauth.as_url


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "{client}/callback/../evil",
        "{client}/callbackX",
        "{client}/callback?x=1",
        "http://127.0.0.1:1/callback",
        "http://evil.example/callback",
        "{client_upper}/callback",
    ],
)
def test_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(oauth, sim, redirect_uri):
    uri = redirect_uri.format(client=sim.client_url, client_upper=sim.client_url.upper())
    response = requests.get(
        oauth.authorize_url(redirect_uri=uri, code_challenge=s256("y" * 50)),
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_request" in response.text


def test_unknown_client_gets_an_error_page_never_a_redirect(oauth):
    response = requests.get(oauth.authorize_url(client_id="evil"), allow_redirects=False)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_client" in response.text


def test_missing_redirect_uri_defaults_only_when_exactly_one_is_registered(oauth, sim):
    grant = oauth.get_code(redirect_uri=None)
    assert grant.location.startswith(sim.client_url + "/callback?")


def test_error_page_escapes_reflected_input(oauth):
    evil = "<script>alert(1)</script>"
    response = requests.get(oauth.authorize_url(client_id=evil), allow_redirects=False)
    assert response.status_code == 400
    assert evil not in response.text


def test_wrong_client_secret_is_401_with_basic_challenge(oauth):
    grant = oauth.get_code()
    anonymous = oauth.token(
        {"grant_type": "authorization_code", "code": grant.code, "code_verifier": grant.verifier},
        auth=None,
    )
    assert anonymous.status_code in (400, 401)
    assert anonymous.json()["error"] == "invalid_client"
    grant = oauth.get_code()
    response = oauth.token(
        {"grant_type": "authorization_code", "code": grant.code, "code_verifier": grant.verifier},
        auth=("demo-client", "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("header", ["Basic ", "Basic", "Basic !!!", "Bearer ", "Basic Og=="])
@pytest.mark.parametrize("endpoint", ["/token", "/revoke", "/introspect"])
def test_malformed_authorization_header_is_invalid_client_not_500(oauth, endpoint, header):
    response = requests.post(
        oauth.as_url + endpoint,
        data={"grant_type": "authorization_code", "code": "x", "token": "x"},
        headers={"Authorization": header},
        timeout=5,
    )
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_refresh_rotates_and_reuse_revokes_the_whole_family(oauth):
    tokens = oauth.tokens()
    first = oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert oauth.introspect(rotated["access_token"]).json()["active"] is True
    reuse = oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    # The whole family is gone: the newest access and refresh tokens too.
    assert oauth.introspect(rotated["access_token"]).json() == {"active": False}
    after = oauth.token({"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]})
    assert after.status_code == 400


def test_refreshes_racing_with_one_token_never_both_win(oauth):
    """Two requests refreshing with the same token at the same moment both read it unspent;
    only one may spend it (RFC 9700 §4.14.2): the other is refused as reuse."""
    for _ in range(5):
        tokens = oauth.tokens()
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        start = threading.Barrier(6)

        def refresh(_, start=start, data=data):
            start.wait()
            return oauth.token(data)

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(refresh, range(6)))
        won = [a for a in answers if a.status_code == 200]
        assert len(won) <= 1, [a.text for a in answers]
        lost = [a for a in answers if a.status_code != 200]
        assert {(a.status_code, a.json()["error"]) for a in lost} == {(400, "invalid_grant")}


def test_revocation_takes_effect_at_the_resource_server_at_once(oauth):
    tokens = oauth.tokens()
    assert oauth.api("/api/profile", tokens["access_token"]).status_code == 200
    response = requests.post(
        oauth.as_url + "/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=("demo-client", "demo-secret"),
        timeout=5,
    )
    assert response.status_code == 200
    denied = oauth.api("/api/profile", tokens["access_token"])
    assert denied.status_code == 401
    assert 'error="invalid_token"' in denied.headers["WWW-Authenticate"]


def test_introspection_is_only_for_the_resource_server(oauth):
    tokens = oauth.tokens()
    assert oauth.introspect(tokens["access_token"]).json()["active"] is True
    # RFC 7662 §2.2: a caller not allowed to introspect this token just learns "inactive".
    other = oauth.introspect(tokens["access_token"], auth=("demo-client", "demo-secret"))
    assert other.json() == {"active": False}
    stranger = oauth.introspect(tokens["access_token"], auth=("demo-rs", "wrong"))
    assert stranger.status_code == 401


def test_consent_deny_redirects_access_denied_with_state_and_iss(oauth, sim):
    from sim.scenarios.base import log_in_and_consent

    ua = sim.user_agent(sim.new_flow("deny"))
    url = oauth.authorize_url(
        state="keepme", code_challenge=s256("z" * 50), code_challenge_method="S256"
    )
    answer = log_in_and_consent(
        ua, ua.get(url), "bob", "builder", approve=False, stop_at=sim.client_url
    )
    params = query(answer.headers["Location"])
    assert params["error"] == "access_denied"
    assert (params["state"], params["iss"]) == ("keepme", oauth.as_url)
    assert "code" not in params


def test_metadata_advertises_s256_only_and_iss(sim):
    data = requests.get(
        sim.authorization_server_url + "/.well-known/oauth-authorization-server", timeout=5
    ).json()
    assert data["issuer"] == sim.authorization_server_url
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["authorization_response_iss_parameter_supported"] is True
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "jwks_uri",
    ):
        assert data[key].startswith(sim.authorization_server_url)


def test_login_and_consent_pages_cannot_be_framed(sim, oauth):
    page = requests.get(sim.authorization_server_url + "/login", timeout=5)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_login_form_requires_csrf_token(sim):
    response = requests.post(
        sim.authorization_server_url + "/login",
        data={"username": "alice", "password": "wonderland"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers or "user_id" not in response.text


def test_login_renews_the_csrf_token_and_the_consent_page_keeps_it(oauth):
    # The token from before the login goes with the cleared session (a fixation defence);
    # the new one comes with the login's own answer, so the consent page sets no cookie.
    from sim.user_agent import parse_forms

    http = requests.Session()
    verifier = secrets.token_urlsafe(48)
    url = oauth.authorize_url(code_challenge=s256(verifier), code_challenge_method="S256")
    login = http.get(url, timeout=5)  # redirected to the login page
    before = dict(parse_forms(login.text)[0].fields)
    logged_in = http.post(
        login.url,
        data=before | {"username": "alice", "password": "wonderland"},
        allow_redirects=False,
        timeout=5,
    )
    assert logged_in.status_code == 302 and "Set-Cookie" in logged_in.headers
    consent = http.get(oauth.as_url + logged_in.headers["Location"], timeout=5)
    assert consent.status_code == 200 and "Set-Cookie" not in consent.headers
    form = parse_forms(consent.text)[0]
    fields = dict(form.fields)
    assert fields["csrf_token"] != before["csrf_token"]
    action = oauth.as_url + form.action
    decision = {"decision": "approve", "grant_scope": ["profile"]}
    stale = http.post(
        action, data=fields | decision | {"csrf_token": before["csrf_token"]}, timeout=5
    )
    assert stale.status_code == 400
    approved = http.post(action, data=fields | decision, allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    assert approved.headers["Location"].startswith(oauth.redirect_uri + "?code=")


def test_basic_credentials_are_decoded_as_rfc6749_says(oauth):
    # client_secret_basic with form-urlencoded id and secret (RFC 6749 §2.3.1).
    grant = oauth.get_code()
    header = base64.b64encode(b"demo-client:demo-secret").decode()
    response = requests.post(
        oauth.as_url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": oauth.redirect_uri,
            "code_verifier": grant.verifier,
        },
        headers={"Authorization": f"Basic {header}"},
        timeout=5,
    )
    assert response.status_code == 200


def test_approving_with_every_scope_unticked_is_a_refusal(oauth, sim):
    from sim.scenarios.base import log_in_and_consent

    ua = sim.user_agent(sim.new_flow("untick"))
    url = oauth.authorize_url(code_challenge=s256("u" * 50), code_challenge_method="S256")
    answer = log_in_and_consent(ua, ua.get(url), scopes=set(), stop_at=sim.client_url)
    params = query(answer.headers["Location"])
    assert params["error"] == "access_denied" and "code" not in params


@pytest.mark.parametrize("scope", ["admin", "profile admin"])
def test_unknown_scope_is_invalid_scope_by_redirect(oauth, scope):
    url = oauth.authorize_url(
        scope=scope, code_challenge=s256("s" * 50), code_challenge_method="S256"
    )
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert query(response.headers["Location"])["error"] == "invalid_scope"


def test_client_credentials_scope_defaults_and_disallowed_scope_is_refused(oauth):
    service = ("demo-service", "service-secret")
    default = oauth.token({"grant_type": "client_credentials"}, auth=service)
    assert default.status_code == 200 and default.json()["scope"] == "photos:read"
    assert "refresh_token" not in default.json()
    refused = oauth.token({"grant_type": "client_credentials", "scope": "profile"}, auth=service)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("hint", ["bogus", "refresh_token", ""])
def test_revocation_ignores_an_unknown_or_wrong_hint(oauth, hint):
    tokens = oauth.tokens()
    response = requests.post(
        oauth.as_url + "/revoke",
        data={"token": tokens["access_token"], "token_type_hint": hint},
        auth=("demo-client", "demo-secret"),
        timeout=5,
    )
    assert response.status_code == 200
    assert oauth.introspect(tokens["access_token"]).json() == {"active": False}


def test_authorization_server_logout_needs_its_csrf_token(sim):
    response = requests.post(sim.authorization_server_url + "/logout", timeout=5)
    assert response.status_code == 400


def test_the_check_table_in_the_docstring_is_the_list_that_runs():
    from sim.authorization_server import authorization_request as checks
    from sim.authorization_server.grants import AuthorizationCodeGrant, ImplicitGrant

    assert checks.describe(checks.CODE_CHECKS) in checks.__doc__
    assert AuthorizationCodeGrant.AUTHORIZATION_CHECKS is checks.CODE_CHECKS
    assert ImplicitGrant.AUTHORIZATION_CHECKS is checks.IMPLICIT_CHECKS
    for check in checks.CODE_CHECKS:
        assert check.rfc.startswith("RFC ") and "§" in check.rfc


def test_checks_run_in_the_listed_order(oauth, sim):
    # Wrong on every count: the earliest check in the list answers, and no later one.
    everything_wrong = {
        "redirect_uri": "http://evil.example/cb",
        "scope": "admin",
        "code_challenge": None,
        "code_challenge_method": "plain",
    }
    unknown_client = requests.get(
        oauth.authorize_url(client_id="nobody", **everything_wrong), allow_redirects=False
    )
    assert unknown_client.status_code == 400 and "invalid_client" in unknown_client.text
    bad_uri = requests.get(oauth.authorize_url(**everything_wrong), allow_redirects=False)
    assert bad_uri.status_code == 400 and "invalid_request" in bad_uri.text
    del everything_wrong["redirect_uri"]
    bad_scope = requests.get(oauth.authorize_url(**everything_wrong), allow_redirects=False)
    assert query(bad_scope.headers["Location"])["error"] == "invalid_scope"
    del everything_wrong["scope"]
    no_pkce = requests.get(oauth.authorize_url(**everything_wrong), allow_redirects=False)
    assert query(no_pkce.headers["Location"])["error"] == "invalid_request"
    wrong_type = requests.get(
        oauth.authorize_url(response_type="token", scope="admin"), allow_redirects=False
    )
    # The implicit grant's answers, errors included, travel in the fragment (RFC 6749 §4.2.2.1).
    fragment = parse_qs(urlsplit(wrong_type.headers["Location"]).fragment)
    assert fragment["error"] == ["unauthorized_client"]


def test_the_back_channel_check_table_lists_the_checks_in_the_order_they_run():
    from sim.authorization_server import back_channel_request as module

    doc = module.__doc__
    positions = [doc.index(f"  {check.__name__}  ") for check in module.CHECKS]
    assert positions == sorted(positions)


def test_a_body_client_id_naming_another_client_than_basic_is_refused(oauth):
    # RFC 6749 §2.3: one client, one authentication method per request.
    grant = oauth.get_code()
    other = oauth.redeem(grant, client_id="demo-spa")
    assert other.status_code == 400 and other.json()["error"] == "invalid_request"
    same = oauth.redeem(grant, client_id="demo-client")
    assert same.status_code == 200 and same.json()["access_token"]
