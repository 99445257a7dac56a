"""The parties' session cookie (`sim.session_cookie`): exactly Flask's cookie, and a cookie
it remembers as genuine is still refused once expired, altered or signed with another key."""

from __future__ import annotations

import time

import pytest
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface

from sim.session_cookie import install

NAME = "session"


def make_app(secret: str = "s" * 64) -> Flask:
    app = Flask(__name__)
    app.secret_key = secret
    install(app)

    @app.get("/set/<value>")
    def set_value(value):
        session["value"] = value
        return "set"

    @app.get("/get")
    def get_value():
        return session.get("value", "(none)")

    return app


def cookie_of(response) -> str:
    header = response.headers["Set-Cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


def read(app: Flask, cookie: str) -> str:
    client = app.test_client()
    client.set_cookie(NAME, cookie)
    return client.get("/get").get_data(as_text=True)


@pytest.fixture
def app() -> Flask:
    return make_app()


def test_the_cookie_is_flasks_own_byte_for_byte(app):
    flasks = Flask(__name__)
    flasks.secret_key = app.secret_key
    flasks.session_interface = SecureCookieSessionInterface()
    data = {"value": "alice", "csrf": "x" * 32}
    ours = app.session_interface.get_signing_serializer(app).dumps(data)
    theirs = flasks.session_interface.get_signing_serializer(flasks).dumps(data)
    # Same second, same bytes (the timestamp is in seconds); one retry across a tick.
    if ours != theirs:
        ours = app.session_interface.get_signing_serializer(app).dumps(data)
        theirs = flasks.session_interface.get_signing_serializer(flasks).dumps(data)
    assert ours == theirs
    assert read(app, theirs) == "alice"  # a cookie Flask made reads the same


def test_each_cookie_reads_back_its_own_session_every_time(app):
    alice = cookie_of(app.test_client().get("/set/alice"))
    bob = cookie_of(app.test_client().get("/set/bob"))
    assert [read(app, c) for c in (alice, bob, alice, bob)] == ["alice", "bob"] * 2


def test_an_altered_cookie_is_refused_though_the_original_is_remembered(app):
    cookie = cookie_of(app.test_client().get("/set/alice"))
    assert read(app, cookie) == "alice"
    payload, stamp, signature = cookie.split(".")[-3:]
    # The first character: all its six bits are the signature's (the last one's low bits
    # are base64 padding, so A/B/C/D there decode alike and the flip could change nothing).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert read(app, cookie.replace(signature, flipped)) == "(none)"
    forged = app.session_interface.get_signing_serializer(make_app("k" * 64)).dumps(
        {"value": "mallory"}
    )
    assert read(app, forged) == "(none)"


def test_a_remembered_cookie_expires_like_any_other(app, monkeypatch):
    app.permanent_session_lifetime = 60
    cookie = cookie_of(app.test_client().get("/set/alice"))
    assert read(app, cookie) == "alice"
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert read(app, cookie) == "(none)"


def test_a_new_secret_key_refuses_the_cookies_of_the_old_one(app):
    cookie = cookie_of(app.test_client().get("/set/alice"))
    assert read(app, cookie) == "alice"
    app.secret_key = "n" * 64  # what the console's "reset demo" does
    assert read(app, cookie) == "(none)"


def test_a_remembered_payload_is_handed_out_as_a_fresh_copy(app):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"value": "alice", "n": 1})
    first = serializer.loads(cookie)
    first["value"] = "mallory"  # what one request does to its session stays there
    assert serializer.loads(cookie) == {"value": "alice", "n": 1}


def test_a_nested_payload_is_decoded_afresh_every_time(app):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"value": {"names": ["alice"]}})
    serializer.loads(cookie)["value"]["names"].append("mallory")
    assert serializer.loads(cookie) == {"value": {"names": ["alice"]}}
    assert serializer.loads(cookie) is not serializer.loads(cookie)


def test_a_cookie_signed_with_a_fallback_key_still_reads(app):
    old = make_app("o" * 64)
    cookie = cookie_of(old.test_client().get("/set/alice"))
    app.config["SECRET_KEY_FALLBACKS"] = ["o" * 64]
    assert read(app, cookie) == "alice"
    assert read(app, cookie) == "alice"  # remembered now, under this key list


def _session_views(app: Flask) -> None:
    @app.get("/read")
    def read_only():
        return session.get("value", "(none)")

    @app.get("/untouched")
    def untouched():
        return "no session here"

    @app.get("/clear")
    def clear():
        session.clear()
        return "cleared"

    @app.get("/permanent")
    def permanent():
        session.permanent = True
        session["value"] = "kept"
        return "permanent"


@pytest.mark.parametrize("refresh", [True, False])
@pytest.mark.parametrize("path", ["/read", "/untouched", "/clear", "/set/alice", "/permanent"])
def test_cookie_and_vary_headers_are_flasks_for_every_kind_of_request(path, refresh):
    # save_session skips Flask's cookie settings when it writes nothing: the headers a
    # request gets (Set-Cookie, Vary) must still be exactly those Flask's interface gives.
    def answers(interface_is_ours: bool) -> list[tuple]:
        app = make_app()
        if not interface_is_ours:
            app.session_interface = SecureCookieSessionInterface()
        app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
        _session_views(app)
        client = app.test_client()
        seen = []
        for setup in ("/untouched", "/set/bob", "/permanent"):
            client.get(setup)
            response = client.get(path)
            cookie = response.headers.get("Set-Cookie", "")
            seen.append(
                (
                    response.get_data(as_text=True),
                    response.headers.getlist("Vary"),
                    cookie.split("=", 1)[0],
                    "Expires=" in cookie,
                    bool(cookie.split(";")[0].split("=", 1)[-1]),
                )
            )
        return seen

    assert answers(True) == answers(False)
