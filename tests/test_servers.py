"""The HTTP server every party runs on (`sim.runtime.servers` over `sim.runtime.connections`):
keep-alive, pipelining, streaming, 100-continue, errors, the cap on apps running at once, and
stopping. Real sockets on loopback; raw bytes where a client library would hide the point."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest

from sim.runtime.servers import ServerThread, bind


def _serve(app, threads: int = 6):
    sock = bind(0, "test")
    server = ServerThread(app, sock, "test", threads)
    server.start()
    return server, sock.getsockname()[1]


def _echo_port(environ, start_response):
    body = environ["REMOTE_PORT"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _read_responses(conn: socket.socket, count: int) -> list[bytes]:
    """`count` whole responses with a Content-Length, read off a raw socket."""
    data, responses = b"", []
    while len(responses) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1")
            length = int(head.lower().split("content-length:")[1].split("\r\n")[0])
            if len(data) >= head_end + 4 + length:
                responses.append(data[: head_end + 4 + length])
                data = data[head_end + 4 + length :]
                continue
        chunk = conn.recv(65536)
        assert chunk, f"closed after {len(responses)} responses"
        data += chunk
    return responses


def test_requests_on_one_keep_alive_connection_are_answered_on_it():
    server, port = _serve(_echo_port)
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ports = []
        for _ in range(3):
            client.request("GET", "/")
            answer = client.getresponse()
            assert answer.status == 200 and answer.getheader("Server") == "test"
            ports.append(answer.read())
        client.close()
    finally:
        server.stop()
    assert len(set(ports)) == 1  # one client port: the same TCP connection every time


def test_pipelined_requests_get_their_answers_in_order():
    def path(environ, start_response):
        body = environ["PATH_INFO"].encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    server, port = _serve(path)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"".join(f"GET /{n} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for n in range(3))
            )
            answers = _read_responses(conn, 3)
    finally:
        server.stop()
    assert [a.rsplit(b"\r\n\r\n", 1)[1] for a in answers] == [b"/0", b"/1", b"/2"]


def test_a_streamed_body_is_sent_chunk_by_chunk_as_the_app_yields_it():
    second_may_come = threading.Event()

    def stream(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: one\n\n"
        assert second_may_come.wait(10)
        yield b"data: two\n\n"

    server, port = _serve(stream)
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/events")
        answer = client.getresponse()
        assert answer.getheader("Transfer-Encoding") == "chunked"
        # The first event is readable while the app still waits to yield the second.
        assert answer.read1(65536) == b"data: one\n\n"
        second_may_come.set()
        assert answer.read() == b"data: two\n\n"
        client.close()
    finally:
        second_may_come.set()
        server.stop()


def test_expect_100_continue_is_answered_before_the_body_is_sent():
    def length(environ, start_response):
        body = str(len(environ["wsgi.input"].read())).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    server, port = _serve(length)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
            )
            assert conn.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
            conn.sendall(b"hello")
            (answer,) = _read_responses(conn, 1)
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n5")


def test_an_app_that_raises_gets_a_plain_500_and_the_server_keeps_serving(caplog):
    def broken(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("secret detail")
        return _echo_port(environ, start_response)

    server, port = _serve(broken)
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/boom")
        failed = client.getresponse()
        body = failed.read()
        client.close()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/")
        assert client.getresponse().status == 200
        client.close()
    finally:
        server.stop()
    assert failed.status == 500
    assert b"secret detail" not in body and b"Traceback" not in body
    assert "secret detail" in caplog.text  # logged for whoever runs the server


def test_a_header_block_past_the_limit_is_refused_unread():
    server, port = _serve(_echo_port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n")
            answer = conn.recv(65536)
    finally:
        server.stop()
    assert answer.split(b"\r\n")[0].endswith(b" 431 Request Header Fields Too Large")


def test_no_more_apps_run_at_once_than_the_server_has_threads():
    running, most, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def slow(environ, start_response):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(0.2)
        with lock:
            running[0] -= 1
        return _echo_port(environ, start_response)

    server, port = _serve(slow, threads=2)
    statuses: list[int] = []

    def one() -> None:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        client.request("GET", "/")
        statuses.append(client.getresponse().status)
        client.close()

    clients = [threading.Thread(target=one) for _ in range(6)]
    try:
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(30)
    finally:
        release.set()
        server.stop()
    assert statuses == [200] * 6
    assert most[0] == 2


def test_connection_close_is_honoured():
    server, port = _serve(_echo_port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            (answer,) = _read_responses(conn, 1)
            assert conn.recv(65536) == b""  # then the server closes
    finally:
        server.stop()
    assert b"Connection: close" in answer


def test_stop_closes_idle_keep_alive_connections_and_the_port():
    server, port = _serve(_echo_port)
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _read_responses(conn, 1)
        server.stop()
        assert conn.recv(65536) == b""  # the idle connection was closed, not left hanging
    finally:
        conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10).close()


class _Channel:
    """What a task reads from its channel to build a response header."""

    def __init__(self, ident: str = "test") -> None:
        from waitress.adjustments import Adjustments

        self.adj = Adjustments(ident=ident)
        self.server = self


@pytest.mark.parametrize(
    ("request_head", "status", "headers", "content_length"),
    [
        (
            b"GET / HTTP/1.1",
            "200 OK",
            [("content-type", "text/html"), ("x-frame-options", "DENY")],
            5,
        ),
        (
            b"GET / HTTP/1.1",
            "302 FOUND",
            [("Location", "/x"), ("Vary", "Cookie"), ("Vary", "Origin")],
            None,
        ),
        (b"GET / HTTP/1.1\r\nConnection: close", "200 OK", [("Content-Length", "3")], None),
        (b"GET / HTTP/1.0", "200 OK", [("Content-Length", "3")], None),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive", "200 OK", [("Content-Length", "3")], None),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive", "200 OK", [], None),
        (
            b"GET / HTTP/1.1",
            "204 No Content",
            [("Content-Length", "0"), ("Date", "Thu, 01 Jan 1970")],
            None,
        ),
        (b"GET / HTTP/1.1", "304 Not Modified", [("server", "mine"), ("ETAG", "x")], None),
        (
            b"GET / HTTP/1.1",
            "200 OK",
            [("Cache-Control", "no-store"), ("cache-control", "private")],
            None,
        ),
    ],
)
def test_the_response_header_is_waitresss_byte_for_byte(
    request_head, status, headers, content_length
):
    # connections.py builds the header with cached name capitalizations and Date text:
    # the bytes and the keep-alive decision must be exactly what waitress's task makes.
    from waitress.parser import HTTPRequestParser
    from waitress.task import WSGITask

    from sim.runtime.connections import _WSGITask

    def task(cls):
        request = HTTPRequestParser(_Channel().adj)
        request.received(request_head + b"\r\n\r\n")
        made = cls(_Channel(), request)
        made.status, made.response_headers = status, list(headers)
        made.content_length, made.start_time = content_length, 1_700_000_000.5
        return made

    theirs, ours = task(WSGITask), task(_WSGITask)
    expected = theirs.build_response_header()
    assert ours._response_header() == expected
    assert (ours.close_on_finish, ours.chunked_response) == (
        theirs.close_on_finish,
        theirs.chunked_response,
    )
    assert ours.response_headers == theirs.response_headers
