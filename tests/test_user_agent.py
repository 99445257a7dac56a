"""The scripted browser: its forms, and its connections shared without its cookies."""

from __future__ import annotations


def test_scripted_browsers_share_connections_but_never_cookies(sim):
    """One keep-alive pool for every scripted browser; each browser's cookies its own."""
    first = sim.user_agent(sim.new_flow("pool-a"))
    second = sim.user_agent(sim.new_flow("pool-b"))
    first.get(sim.authorization_server_url + "/login")
    assert first.session.get_adapter(sim.client_url) is second.session.get_adapter(sim.client_url)
    assert "sim_as_session" in first.session.cookies
    assert "sim_as_session" not in second.session.cookies
    first.close()  # a browser closing leaves the others' connections open
    assert second.get(sim.authorization_server_url + "/login").status_code == 200


def test_forms_are_found_from_the_first_form_tag_on():
    from sim.user_agent import parse_forms

    page = (
        "<html><head><style>form{}</style></head><body><p>no form here</p>"
        '<FORM method="post" action="/a"><input name="x" value="1"><button name="go" value="y">'
        '</button></FORM><form action="/b"><input type="checkbox" name="c" value="v" checked>'
        "</form></body></html>"
    )
    first, second = parse_forms(page)
    assert (first.method, first.action, first.fields, first.buttons) == (
        "POST",
        "/a",
        [("x", "1")],
        [("go", "y")],
    )
    assert second.checkboxes == [("c", "v", True)]
    assert parse_forms("<p>nothing</p>") == []


def test_userinfo_in_a_url_is_not_sent_as_credentials(sim):
    """Like Chromium (checked by hand: no Authorization header on a navigation or redirect
    to http://127.0.0.1@host/), the scripted browser sends none; requests would send Basic."""
    flow = sim.new_flow("userinfo")
    ua = sim.user_agent(flow)
    host = sim.client_url.split("://", 1)[1]
    assert ua.get(f"http://127.0.0.1@{host}/").status_code == 200
    sim.store.wait_settled(flow)
    (record,) = sim.store.records(flow)
    assert "Authorization" not in record["request_headers"]
    assert record["request_headers"]["Host"] == host


def test_a_form_post_carries_its_body_and_the_browsers_cookie(sim):
    flow = sim.new_flow("wire")
    ua = sim.user_agent(flow)
    page = ua.get(sim.authorization_server_url + "/login")
    home = ua.submit(page, {"username": "alice", "password": "wonderland"})
    assert "Logged in as" in home.text
    sim.store.wait_settled(flow)
    post = next(r for r in sim.store.records(flow) if r["method"] == "POST")
    headers = post["request_headers"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert {"username=alice", "password=wonderland"} <= set(post["request_body"].split("&"))
    assert "sim_as_session=" in headers["Cookie"]  # set by the login page, sent back
