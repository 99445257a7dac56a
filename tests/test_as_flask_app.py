"""The authorization server's Flask class (`sim.authorization_server.flask_app`): it keeps
whether each function is a coroutine function, and still runs everything Flask would."""

from __future__ import annotations

from flask import after_this_request

from sim.authorization_server.flask_app import REMEMBERED, AuthorizationServerFlask


def test_per_request_callbacks_run_every_time_and_the_memory_stays_bounded():
    app = AuthorizationServerFlask(__name__)
    ran = []

    @app.get("/")
    def view():
        @after_this_request
        def mark(response):  # a new function on every request
            ran.append(1)
            response.headers["X-Marked"] = str(len(ran))
            return response

        return "ok"

    client = app.test_client()
    for count in range(1, REMEMBERED + 50):
        assert client.get("/").headers["X-Marked"] == str(count)
    assert len(app._synchronous) <= REMEMBERED


def test_the_app_registers_its_hooks_as_flask_does(tmp_path):
    from sim.authorization_server import create_app

    app = create_app({"DATABASE": str(tmp_path / "as.db")})
    client = app.test_client()
    for _ in range(3):  # asked again and again: the same answer as the first time
        page = client.get("/login")
        assert page.status_code == 200
        assert page.headers["X-Frame-Options"] == "DENY"  # an after-request hook ran
        assert page.headers["Vary"] == "Cookie"


def test_cookies_read_as_werkzeug_reads_them():
    from flask import Request
    from werkzeug.test import EnvironBuilder

    from sim.authorization_server.flask_app import AuthorizationServerRequest

    for header in (None, "", "a=1", "a=1; b=2; a=3", 'q="x y"; broken; =v; c=%41'):
        headers = {} if header is None else {"Cookie": header}
        environ = EnvironBuilder(headers=headers).get_environ()
        environ["HTTP_X_OTHER"] = "1"
        assert AuthorizationServerRequest(environ).cookies == Request(environ).cookies
        assert AuthorizationServerRequest(environ).cookies.to_dict(flat=False) == Request(
            environ
        ).cookies.to_dict(flat=False)
