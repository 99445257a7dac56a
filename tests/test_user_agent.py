"""The scripted browser: its forms, and its connections shared without its cookies."""

from __future__ import annotations

from tests.raw_http import capturing_server


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


def test_the_browser_puts_on_the_wire_what_urllib3_would():
    """The browser's own http.client wire (sim.tracing.wire) sends the same bytes urllib3
    sent for it before: the same target (dot segments removed, invalid characters encoded,
    no fragment, no userinfo), the same headers in the same order, the same body; and reads
    the answer the same way (repeated headers joined, cookies kept, gzip decoded)."""
    import gzip
    import re

    import urllib3

    from sim.user_agent import UserAgent, close_idle_connections

    body = gzip.compress(b"<p>hello</p>")
    answer = (
        b"HTTP/1.1 302 Found\r\nLocation: /next\r\nSet-Cookie: a=1; Path=/; HttpOnly\r\n"
        b"Set-Cookie: b=2; Path=/\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    ) + body
    server, seen = capturing_server(answer)
    port = server.getsockname()[1]
    urls = [
        f"http://127.0.0.1:{port}/a/../b/./c?q=a b&x=%2f&y=[1]#frag",
        f"http://someone@127.0.0.1:{port}/p?redirect_uri=http%3A%2F%2Fh%2Fcb",
        f"http://127.0.0.1:{port}/authorize?redirect_uri=http%3A%2F%2Fh%2Fcb&scope=a+b%20c",
    ]
    try:
        ua = UserAgent("flow-wire")
        answers = [ua.get(url) for url in urls]
        answers.append(ua.request("POST", urls[1], data=[("a", "1"), ("b", "x y"), ("c", "é")]))
        close_idle_connections()  # the capturing server serves one connection at a time
        ours = list(seen)
        seen.clear()
        # The same requests through urllib3, as the browser sent them before.
        wire = urllib3.PoolManager(retries=urllib3.Retry(0, read=False))
        for response in answers:
            sent = response.request
            wire.urlopen(
                sent.method,
                sent.url,
                body=sent.body,
                headers=dict(sent.headers),
                redirect=False,
                timeout=5,
            )
        wire.clear()
    finally:
        server.close()
        close_idle_connections()

    def masked(raw: bytes) -> bytes:
        return re.sub(rb"(X-Sim-Exchange: )\w+", rb"\1-", raw)

    assert [masked(r) for r in ours] == [masked(r) for r in seen]
    assert ours[0].startswith(b"GET /b/c?q=a%20b&x=%2F&y=%5B1%5D HTTP/1.1\r\n")
    assert b"Authorization" not in ours[1]
    first = answers[0]
    assert first.is_redirect and first.text == "<p>hello</p>"
    assert first.headers["Set-Cookie"] == "a=1; Path=/; HttpOnly, b=2; Path=/"
    assert {c.name for c in first.cookies} == {"a", "b"}
    assert b"\r\nCookie: a=1; b=2\r\n" in ours[2]


def test_a_connection_the_server_closed_is_not_reused(sim):
    """A keep-alive connection the server has since closed is dropped before the next
    request, which then goes on a new connection (as urllib3's pool checks it)."""
    from sim.user_agent import _CONNECTIONS

    ua = sim.user_agent(sim.new_flow("dropped"))
    assert ua.get(sim.authorization_server_url + "/login").status_code == 200
    for idle in _CONNECTIONS.idle():
        idle.sock.shutdown(2)  # as if the server had closed them
    assert ua.get(sim.authorization_server_url + "/login").status_code == 200


def test_forms_read_one_at_a_time_are_the_forms_of_the_whole_page():
    """`closed_forms` gives each form when its </form> is read (a script submitting the
    first form stops there); a </form> inside a comment or a script does not end one."""
    from sim.user_agent import closed_forms, parse_forms

    page = (
        '<form method="post" action="/a"><input name="x" value="1">'
        "<!-- </form> --><script>let s = '</form>';</script>"
        '<input type="checkbox" name="c" value="v" checked><button name="go" value="y">'
        '</button></FORM><p>between</p><form action="/b"><input name="z" value="&amp;">'
        "</form><p>tail</p>"
    )
    forms = closed_forms(page)
    first = next(forms)
    assert (first.action, first.fields, first.checkboxes, first.buttons) == (
        "/a",
        [("x", "1")],
        [("c", "v", True)],
        [("go", "y")],
    )
    assert [first, *forms] == parse_forms(page)
    assert list(closed_forms('<form action="/open"><input name="n" value="1">')) == parse_forms(
        '<form action="/open"><input name="n" value="1">'
    )
    assert list(closed_forms("<p>no form</p>")) == []


def test_the_browser_reads_a_url_as_requests_and_urllib3_do():
    """The browser's shortcuts for plain URLs give what requests' `requote_uri` and urllib3's
    `parse_url` give (target, host, port), for URLs that take the shortcut and for every
    kind that does not."""
    import random

    from requests.exceptions import InvalidURL
    from requests.utils import requote_uri
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    from sim.user_agent import _PLAIN_HTTP, _requoted, _target_and_server

    def theirs(url):
        parsed = parse_url(url)
        return parsed.request_uri, (parsed.host or "", parsed.port or 80)

    def outcome(read, url):
        try:
            return read(url)
        except (InvalidURL, LocationParseError, ValueError) as error:
            return type(error)

    urls = [
        "http://127.0.0.1:5001/authorize?response_type=code&redirect_uri=http%3A%2F%2Fh%3A1"
        "%2Fcallback&scope=profile+photos%3Aread&state=Xo4Z-_~.&code_challenge=7Jx2",
        "http://127.0.0.1:5000/login",
        "http://h",
        "http://h:0/",
        "http://h:65536/",
        "http://h:080/x",
        "http://h/a/./b",
        "http://h/a/../b",
        "http://h/..",
        "http://h/.well-known/x",
        "http://h/a.b/c..d",
        "http://h?",
        "http://h:1?x=%2f",
        "http://h/%7e%41",
        "http://h/%zz",
        "http://h/%",
        "http://h/#f",
        "http://u@h/",
        "http://H/",
        "http://h/ sp",
        "http://h/é",
        "http://[::1]:80/",
        "http://h//double/slash",
        "http://h/a?b?c",
    ]
    rng = random.Random(16)
    pieces = [*"aZ09./?#%:@[]-_~!$&'()*+,;= é\\<>^`{|}", "%2F", "%2f", "%41", "/.", "/.."]
    for _ in range(3000):
        host = rng.choice(["h", "127.0.0.1", "H", "a.b", "u@h"])
        port = rng.choice(["", ":1", ":80", ":99999", ":"])
        urls.append(f"http://{host}{port}" + "".join(rng.choices(pieces, k=rng.randint(0, 12))))
    shortcut = 0
    for url in urls:
        assert _requoted(url) == outcome(requote_uri, url)
        requoted = _requoted(url)
        assert outcome(_target_and_server, requoted) == outcome(theirs, requoted), url
        shortcut += bool(_PLAIN_HTTP.fullmatch(requoted))
    assert shortcut > 100  # the shortcut is taken, and by more than the easy cases


def test_the_browser_sends_the_cookies_the_standard_library_would():
    """The browser remembers which cookies of a jar a request gets: over random jars
    (domains, paths, ports, secure, versions, expiry, attributes changed in place, values
    changed) and random requests (scheme, host, port, path, a Host or Cookie header of
    their own), the Cookie header and the jar left behind are the standard library's."""
    import copy
    import random
    import time
    from http.cookiejar import Cookie

    import requests
    from requests.cookies import RequestsCookieJar, get_cookie_header

    from sim.user_agent import _cookie_header

    rng = random.Random(16)
    now = int(time.time())

    def cookie(name: str) -> Cookie:
        domain = rng.choice(["127.0.0.1", ".0.0.1", "localhost", "example.com", ".example.com"])
        port = rng.choice([None, None, "80", "5000,80", "8080"])
        return Cookie(
            version=rng.choice([0, 0, 0, 1]),
            name=name,
            value=rng.choice(["v", "a b", 'q"x', None]),
            port=port,
            port_specified=port is not None,
            domain=domain,
            domain_specified=rng.random() < 0.5,
            domain_initial_dot=domain.startswith("."),
            path=rng.choice(["/", "/a", "/a/b", "/b/"]),
            path_specified=True,
            secure=rng.random() < 0.2,
            expires=rng.choice([None, None, now - 10, now + 3600]),
            discard=False,
            comment=None,
            comment_url=None,
            rest={},
        )

    def request() -> requests.PreparedRequest:
        prepared = requests.PreparedRequest()
        prepared.method = "GET"
        scheme = rng.choice(["http", "http", "https"])
        host = rng.choice(["127.0.0.1", "localhost", "www.example.com", "example.com"])
        port = rng.choice(["", ":80", ":5000", ":8080"])
        path = rng.choice(["/", "/a", "/a/b/c", "/ab", "/b/", "/b", ""])
        prepared.url = f"{scheme}://{host}{port}{path}?q=1"
        prepared.headers = requests.structures.CaseInsensitiveDict()
        if rng.random() < 0.1:
            prepared.headers["Host"] = rng.choice(["example.com", "localhost:5000"])
        if rng.random() < 0.05:
            prepared.headers["Cookie"] = "mine=1"
        return prepared

    for _ in range(300):
        ours, theirs = RequestsCookieJar(), RequestsCookieJar()
        for n in range(rng.randint(0, 5)):
            made = cookie(f"c{n}")
            ours.set_cookie(copy.copy(made))
            theirs.set_cookie(copy.copy(made))
        requests_ = [request() for _ in range(3)]  # sent again and again: what is remembered
        for _ in range(12):
            sent = rng.choice(requests_)
            assert _cookie_header(ours, sent) == get_cookie_header(theirs, sent)
            assert sorted(map(repr, ours)) == sorted(map(repr, theirs))  # expired ones gone
            if rng.random() < 0.5 and len(theirs):  # a new value, or an attribute changed
                place = rng.randrange(len(theirs))
                field, value = rng.choice(
                    [("value", "w"), ("secure", True), ("port", "5000"), ("expires", now - 1)]
                )
                for jar in (ours, theirs):
                    setattr(list(jar)[place], field, value)
