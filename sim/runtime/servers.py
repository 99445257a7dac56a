"""Serving one WSGI app on a pre-bound loopback socket, and stopping it.

The HTTP server is `sim.runtime.connections`: waitress's request parser and response code
(a real, hardened HTTP/1.1 implementation that logs nothing per request), with a thread per
connection instead of waitress's select loop handing every request to a worker (see that
module for why). Binding the socket before building the apps lets port 0 pick free ports
and still tell every app the others' URLs; a port already taken fails here, at bind time,
with a clear error.
"""

from __future__ import annotations

import errno
import socket
import threading

from waitress.adjustments import Adjustments

from sim.runtime.connections import ConnectionServer
from sim.tracing.limits import MAX_BODY

#: At most this many requests are answered at once per app (more wait their turn).
THREADS = 6
#: Waitress's parser buffers a whole request body before the app runs: past twice the
#: apps' own limit (`sim.tracing.limits.MAX_BODY`, a traced 413) it answers 413, unread.
#: A response is never buffered: the app's thread writes to the socket and waits while the
#: client reads (a streamed whole-trace read, `GET /trace`, is ~20 MB for a class's 500
#: flows; waitress's own loop buffered up to 16 MB of it per read by default).
LIMITS = {"max_request_body_size": 2 * MAX_BODY}
#: The console holds one request open per event stream (one per console tab).
CONSOLE_THREADS = 16


class PortInUse(OSError):
    """A requested port is taken; the message names the port and the party."""


def bind(port: int, party: str, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} ({party}) is already in use: stop what runs there, or pick other "
                "ports with --port-base N (or 0 for free ports)"
            ) from None
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(256)
    return sock


def _server(app, sock: socket.socket, name: str, threads: int) -> ConnectionServer:
    return ConnectionServer(app, sock, Adjustments(threads=threads, ident=name, **LIMITS))


class ServerThread:
    """One app served in a daemon thread (its connections in threads of their own)."""

    def __init__(self, app, sock: socket.socket, name: str, threads: int = THREADS) -> None:
        self.server = _server(app, sock, name, threads)
        self.thread = threading.Thread(target=self.server.serve, name=f"sim-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Finish the answers being written (up to 2 s), then close every connection."""
        self.server.stop(timeout=2)
        self.thread.join(timeout=2)
        self.server.close()


def serve_forever(app, sock: socket.socket, name: str, threads: int = THREADS) -> None:
    """Process mode: serve in the foreground until the process is told to stop
    (SIGTERM arrives as SystemExit, Ctrl-C as KeyboardInterrupt)."""
    server = _server(app, sock, name, threads)
    try:
        server.serve()
    except (SystemExit, KeyboardInterrupt):
        server.stop(timeout=2)
    server.close()
