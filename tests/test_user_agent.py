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
