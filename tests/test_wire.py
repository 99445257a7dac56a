"""sim.tracing.wire: our HTTP clients' own keep-alive http.client wire sends what urllib3 and
requests would send, byte for byte, and reads the answer as they would."""

from __future__ import annotations

import gzip
import re

import pytest
import requests

from sim.client.dpop_session import DPoPSession
from sim.tracing.wire import LeanRequests, WireAdapter
from tests.raw_http import capturing_server

BODY = gzip.compress(b'{"ok": true}')
ANSWER = (
    b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/; HttpOnly\r\nSet-Cookie: b=2; Path=/\r\n"
    b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


@pytest.fixture
def capture():
    """A loopback server that records each request's bytes and answers ANSWER."""
    server, seen = capturing_server(ANSWER)
    yield f"http://127.0.0.1:{server.getsockname()[1]}", seen
    server.close()


def calls(base: str) -> list[tuple[str, str, dict]]:
    return [
        ("GET", base + "/a/../b?q=a b&x=%2f&y=[1]", {"params": {"p": "1 2", "none": None}}),
        ("GET", base + "//double/slash", {}),
        ("POST", base + "/token", {"data": {"grant_type": "x", "é": "ü"}, "auth": ("id", "s")}),
        ("POST", base + "/json", {"json": {"k": [1, 2]}, "headers": {"X-Extra": "1"}}),
        ("POST", base + "/empty", {"headers": {"Accept": None}}),
        ("DELETE", base + "/thing", {"timeout": (5, 7)}),
    ]


def masked(raw: bytes) -> bytes:
    return re.sub(rb"(Content-Length: \d+\r\n)", rb"\1", raw)


def test_the_adapter_puts_on_the_wire_what_urllib3_would(capture):
    base, seen = capture
    ours, theirs = requests.Session(), requests.Session()
    ours.mount("http://", WireAdapter())
    answers = {}
    for name, session in (("ours", ours), ("theirs", theirs)):
        seen.clear()
        got = [session.request(method, url, **kw) for method, url, kw in calls(base)]
        answers[name] = (list(seen), got, sorted(session.cookies.keys()))
    ours.close(), theirs.close()
    assert answers["ours"][0] == answers["theirs"][0]
    assert answers["ours"][0][0].startswith(b"GET /b?q=a%20b&x=%2F&y=%5B1%5D&p=1+2 HTTP/1.1")
    for mine, real in zip(answers["ours"][1], answers["theirs"][1], strict=True):
        assert (mine.status_code, mine.reason, dict(mine.headers)) == (
            real.status_code,
            real.reason,
            dict(real.headers),
        )
        assert (mine.json(), mine.url, mine.encoding) == (real.json(), real.url, real.encoding)
        assert sorted(mine.cookies.keys()) == sorted(real.cookies.keys()) == ["a", "b"]
    assert answers["ours"][2] == answers["theirs"][2] == ["a", "b"]


class _Lean(LeanRequests):
    pass


def test_lean_requests_send_what_session_request_would(capture):
    """The same bytes as `Session.request`, the session's hooks run, and a session with
    something to merge (here a cookie from the first answer) goes requests' whole way."""
    base, seen = capture
    hooked: list[str] = []
    sent = {}
    for name, session in (("lean", _Lean()), ("requests", requests.Session())):
        session.trust_env = False
        session.mount("http://", WireAdapter())
        session.headers["X-Party"] = "client"
        session.hooks["response"].append(lambda r, *a, **k: hooked.append(r.request.method))
        seen.clear()
        for method, url, kw in calls(base):
            session.cookies.clear()  # nothing to merge: the lean way
            session.request(method, url, **kw)
        session.request("GET", base + "/with-cookie")  # a and b were set by the last answer
        sent[name] = list(seen)
        session.close()
    assert sent["lean"] == sent["requests"]
    assert b"Cookie: a=1; b=2" in sent["lean"][-1]
    assert hooked[: len(hooked) // 2] == hooked[len(hooked) // 2 :]


def test_authlib_session_is_lean_after_authlib(capture):
    """Authlib's OAuth2Session runs first (its token goes on the call), then requests'
    layer: the client's calls carry the Bearer token as Authlib puts it."""
    base, seen = capture
    session = DPoPSession("c", "s", token={"access_token": "T", "token_type": "Bearer"})
    session.trust_env = False
    session.mount("http://", WireAdapter())
    session.get(base + "/api")
    session.close()
    assert b"\r\nAuthorization: Bearer T\r\n" in seen[-1]


def test_an_answer_has_what_a_requests_response_has(capture):
    """An answer is built without `Response.__init__` (its cookie jar is made when read):
    every attribute a requests response starts with is there, with this answer's values,
    and it pickles and reads back like one."""
    import pickle

    base, _ = capture
    session = requests.Session()
    session.mount("http://", WireAdapter())
    answer = session.get(base + "/x")
    session.close()
    for name in vars(requests.Response()):
        assert hasattr(answer, name), name
    assert (answer.history, answer._next) == ([], None)
    assert (answer.status_code, answer.reason) == (200, "OK")
    assert answer.url == base + "/x" and answer.request.url == answer.url
    assert sorted(answer.cookies.keys()) == ["a", "b"]
    again = pickle.loads(pickle.dumps(answer))
    assert (again.json(), sorted(again.cookies.keys())) == ({"ok": True}, ["a", "b"])
