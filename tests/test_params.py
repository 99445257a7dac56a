"""The one parsed view of an exchange (`Event.params`): what every reader of a trace reads.

Synthetic events only: no party needs to run.
"""

from __future__ import annotations

import base64

from sim.tracing import Event, url_param
from sim.tracing.params import Params


def exchange(**fields) -> Event:
    base = dict(
        seq=1,
        sender="client",
        to="authorization-server",
        method="POST",
        url="http://127.0.0.1:9001/token",
        status=200,
        location=None,
        kind="back-channel",
    )
    return Event(**{**base, **fields})


def test_query_fragment_and_location_are_split_out():
    event = exchange(
        method="GET",
        url="http://a/authorize?state=s1&scope=profile+photos%3Aread&state=s2#frag=1",
        status=302,
        location="http://c/callback?code=abc&iss=http%3A%2F%2Fa#access_token=tok",
    )
    params = event.params
    assert params.url.path == "/authorize"
    assert params.request("state") == "s1"  # the first of two, as Flask reads it
    assert params.request("scope") == "profile photos:read"
    assert params.url.get("frag") == "1"
    assert params.returned("code") == "abc" and params.returned("iss") == "http://a"
    assert params.returned("access_token") == "tok"  # from the Location's fragment
    assert params.get("code") == "abc"  # not in the request: the redirect's
    assert event.params is event.params  # parsed once


def test_the_body_is_read_as_its_content_type_says():
    form = exchange(
        request_headers={"Content-Type": "application/x-www-form-urlencoded"},
        request_body="grant_type=authorization_code&code=c1",
    )
    assert form.params.request("grant_type") == "authorization_code"
    assert form.params.json == {}
    as_json = exchange(
        request_headers={"content-type": "application/json"}, request_body='{"a": 1}'
    )
    assert as_json.params.form == () and as_json.params.request("a") == "1"
    html = exchange(request_headers={"Content-Type": "text/html"}, request_body="a=b")
    assert html.params.body == ()
    sniffed = exchange(request_body="token=t1")  # a saved trace without headers
    assert sniffed.params.request("token") == "t1"


def test_the_query_wins_over_the_body():
    event = exchange(url="http://a/token?code=from-query", request_body="code=from-body")
    assert event.params.request("code") == "from-query"


def test_authorization_basic_bearer_and_dpop_are_decoded():
    basic = base64.b64encode(b"demo-client:demo-secret").decode()
    event = exchange(request_headers={"Authorization": f"Basic {basic}"})
    assert event.params.authorization.scheme == "Basic"
    assert dict(event.params.authorization.pairs) == {
        "client_id": "demo-client",
        "client_secret": "demo-secret",
    }
    bearer = exchange(request_headers={"authorization": "Bearer abc.def.ghi"})
    assert bearer.params.authorization.pairs == (("access_token", "abc.def.ghi"),)
    dpop = exchange(request_headers={"Authorization": "DPoP abc.def.ghi", "DPoP": "x.y.z"})
    assert dpop.params.authorization.pairs == (("access_token", "abc.def.ghi"),)
    for broken in ("Basic !!!", "Basic ", "Bearer"):
        assert Params.parse("http://a/", {"Authorization": broken}).pairs() == ()


def test_json_answer_and_bearer_challenge():
    event = exchange(
        status=401,
        response_headers={
            "Content-Type": "application/json",
            "WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"',
        },
        response_body='{"active": false, "expires_in": 300, "error": "invalid_token"}',
    )
    assert event.params.answered("active") == "false"
    assert event.params.answered("expires_in") == "300"
    assert event.params.challenge["error"] == "invalid_token"
    assert exchange(response_body="<html>").params.answer == {}


def test_garbage_parses_to_nothing_rather_than_failing():
    event = exchange(url="http://[::1/x?%zz", request_body="\x00=&&=", location="http://[x")
    assert event.params.request("anything") == ""
    assert url_param("http://a/?x=1#y=2", "y") == "2" and url_param(None, "x") == ""


def test_recorded_values_come_from_the_same_view():
    from sim.tracing.values import protocol_values

    params = Params.parse(
        "http://a/callback?code=c1&state=s1&other=x",
        {"Authorization": "Bearer t1"},
        location="http://c/?iss=http%3A%2F%2Fa",
    )
    assert protocol_values(params) == (
        ("code", "c1"),
        ("state", "s1"),
        ("access_token", "t1"),
        ("iss", "http://a"),
    )
