"""sim.tracing.http11: the wire's connection sends a request's header block and body in one
send, the same bytes as `http.client`'s, and reads an answer's header block into the same
`HTTPMessage` as `http.client.parse_headers`, whatever the block holds."""

from __future__ import annotations

import email.message
import http.client
import io
import random

import pytest

from sim.tracing import http11
from tests.raw_http import capturing_server

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def _comparable(msg):
    """A message's whole state; defects compared by kind and text (they are objects)."""
    if isinstance(msg, email.message.Message):
        state = dict(vars(msg))
        state["defects"] = [repr(defect) for defect in msg.defects]
        state["_payload"] = _comparable(msg._payload)
        return type(msg), state
    if isinstance(msg, list):
        return [_comparable(part) for part in msg]
    return msg


def _read(parse, block: bytes):
    try:
        return _comparable(parse(io.BytesIO(block))), None
    except Exception as error:  # the same error for the same block
        return None, repr(error)


BLOCKS = [
    b"Content-Length: 12\r\nContent-Type: text/html; charset=utf-8\r\n"
    b"Set-Cookie: a=b; Path=/\r\nset-cookie: c=d\r\nX-Empty:\r\nX-Spaces: \t v \r\n\r\n",
    b"\r\n",
    b"X: folded\r\n  on two lines\r\n\r\n",
    b"X: a bare\rCR\r\n\r\n",
    b"X: bare\nY: LFs\n\n",
    b": no name\r\n\r\n",
    b"Two words: v\r\n\r\n",
    b"From someone: v\r\n\r\n",
    b"Content-Type: multipart/mixed\r\n\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: Message/Delivery-Status\r\n\r\n",
    b"X: latin-1 \xe9\x85\x0c\x0b\r\n\r\n",
    b"X: cut short\r\n",
    b"A: 1\r\n" * 101 + b"\r\n",
    b"A: " + b"x" * 70000 + b"\r\n\r\n",
]


@pytest.mark.parametrize("block", BLOCKS)
def test_a_header_block_reads_as_the_standard_library_reads_it(block):
    assert _read(http11.read_headers, block) == _read(http.client.parse_headers, block)


def test_random_header_blocks_read_as_the_standard_library_reads_them():
    pieces = [b"a", b"B", b":", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\xe9", b"-", b"\x85"]
    pieces += [b"\x0c", b"Content-Type", b"multipart/", b"message/", b"From ", b"\x00", b";"]
    ends = [b"\r\n\r\n", b"\r\n", b"\n\n", b""]
    rng = random.Random(16)
    for _ in range(3000):
        block = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        block += rng.choice(ends)
        assert _read(http11.read_headers, block) == _read(http.client.parse_headers, block)


def test_a_plain_block_does_not_go_through_the_email_parser(monkeypatch):
    """What the module is for: the common block is read without the feed parser."""
    import email.parser

    def refuse(*args, **kwargs):
        raise AssertionError("the email parser was used")

    monkeypatch.setattr(email.parser.Parser, "parsestr", refuse)
    msg = http11.read_headers(io.BytesIO(BLOCKS[0]))
    assert msg.get_all("set-cookie") == ["a=b; Path=/", "c=d"]
    assert msg["x-spaces"] == "v " and msg["x-empty"] == ""


def _sent(connection_class, port: int, seen: list[bytes], method: str, body) -> list[bytes]:
    """What `connection_class` hands to `send` for one request (checked to be what the
    server read), its answer read back."""
    seen.clear()
    conn = connection_class("127.0.0.1", port, timeout=5)
    sends: list[bytes] = []
    send = conn.send

    def spy(data):
        sends.append(bytes(data))
        return send(data)

    conn.send = spy
    try:
        conn.request(method, "/token?x=1", body=body, headers={"X-A": "1", "Accept": "*/*"})
        answer = conn.getresponse()
        assert isinstance(answer, connection_class.response_class)
        assert (answer.status, answer.read(), answer.getheader("Content-Type")) == (
            200,
            b"ok",
            "text/plain",
        )
    finally:
        conn.close()
    assert seen == [b"".join(sends)]
    return sends


@pytest.mark.parametrize("body", [b"grant_type=refresh_token&refresh_token=abc", b"", None])
def test_a_request_leaves_in_one_send_with_the_standard_librarys_bytes(body):
    server, seen = capturing_server(ANSWER)
    port = server.getsockname()[1]
    try:
        ours = _sent(http11.Connection, port, seen, "POST", body)
        theirs = _sent(http.client.HTTPConnection, port, seen, "POST", body)
    finally:
        server.close()
    assert b"".join(ours) == b"".join(theirs)
    assert len(ours) == 1
    if body:
        assert len(theirs) == 2  # what the standard library does: the body apart
