"""The `http.client` connection our wire (`sim.tracing.wire`) sends on: the same bytes as
`http.client.HTTPConnection`, with two costs of the standard library's taken out.

- A request with a body leaves in one send, header block and body together. The standard
  library sends them apart (as urllib3 does): two system calls, and with TCP_NODELAY two
  segments, so the server often woke up for the header block alone, read it, parsed it,
  and waited again for the body. Seven of a happy path's 24 requests are form or token
  POSTs.
- An answer's header block is read into the same `http.client.HTTPMessage` the standard
  library builds, without running the `email` package's feed parser over it (~30-70 us
  per answer, 24 answers per happy path). Only a block of plain `Name: value` lines ended
  by CRLF takes this way, and it gives exactly what the feed parser gives for it (name as
  sent, value with the spaces after the colon and the line end removed, in order, repeats
  kept); anything else (a folded line, a bare CR or LF, a line without a name, a block cut
  short) goes to the standard parser, as before.
"""

from __future__ import annotations

import email.parser
import http.client
import re

#: A header block the feed parser reads as `name: value` lines with no defect: each line a
#: name of printable characters other than the colon (its `headerRE`), no line break
#: inside, CRLF; then the empty line.
_PLAIN_BLOCK = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+:[^\r\n]*\r\n)*\r\n")
#: Such a line's name and value (the value without the spaces after the colon), as the
#: parser's policy (compat32) takes them.
_NAME_VALUE = re.compile(r"([^:\r\n]+):[ \t]*([^\r\n]*)\r\n")


def read_headers(fp) -> http.client.HTTPMessage:
    """`http.client.parse_headers(fp)`, for the blocks the feed parser reads without a
    defect, without the feed parser."""
    lines = http.client._read_headers(fp)  # the standard library's limits on lines and count
    block = b"".join(lines)
    if _PLAIN_BLOCK.fullmatch(block):
        msg = http.client.HTTPMessage()
        msg._headers = _NAME_VALUE.findall(block.decode("iso-8859-1"))
        # The parser reads on past the headers into a body for these types (an empty one
        # here, which it marks with defects); for the rest it sets an empty payload.
        if msg.get_content_maintype() not in ("multipart", "message"):
            msg.set_payload("")
            return msg
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(block.decode("iso-8859-1"))


class Response(http.client.HTTPResponse):
    """`http.client.HTTPResponse`, its header block read by `read_headers`."""

    def begin(self) -> None:
        # The standard library's `begin` (Python 3.10-3.13), with `read_headers` in place
        # of `parse_headers`.
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            http.client._read_headers(self.fp)  # the header block of a 100 answer
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = read_headers(self.fp)
        tr_enc = self.headers.get("transfer-encoding")
        if tr_enc and tr_enc.lower() == "chunked":
            self.chunked = True
            self.chunk_left = None
        else:
            self.chunked = False
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        else:
            self.length = None
        if (
            status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED)
            or 100 <= status < 200
            or self._method == "HEAD"
        ):
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


class Connection(http.client.HTTPConnection):
    """`http.client.HTTPConnection`: a bytes body leaves with the header block in one send;
    answers are `Response`s."""

    response_class = Response

    def _send_output(self, message_body=None, encode_chunked=False) -> None:
        if isinstance(message_body, bytes) and message_body and not encode_chunked:
            # The standard library's `_send_output` for a bytes body, in one send.
            self._buffer.extend((b"", b""))
            header = b"\r\n".join(self._buffer)
            del self._buffer[:]
            self.send(header + message_body)
            return
        super()._send_output(message_body, encode_chunked)
