"""A loopback HTTP peer that records the raw bytes of each request it is sent: for tests that
compare what our own HTTP clients put on the wire with what urllib3 and requests would."""

from __future__ import annotations

import socket
import threading


def capturing_server(answer: bytes) -> tuple[socket.socket, list[bytes]]:
    """A listening socket whose connections each get their own thread; every complete
    request (head and `Content-Length` body) is appended to the list, and answered `answer`.
    Closing the socket stops it."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def one(conn: socket.socket) -> None:
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, rest = data.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                while len(rest) < length:
                    rest += conn.recv(65536)
                seen.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
                conn.sendall(answer)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return server, seen
