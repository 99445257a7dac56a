"""Serving one WSGI app on a pre-bound loopback socket with waitress, and stopping it.

Waitress is a real multi-threaded WSGI server that logs nothing per request. Binding the
socket before building the apps lets port 0 pick free ports and still tell every app the
others' URLs; a port already taken fails here, at bind time, with a clear error.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading

from waitress import wasyncore
from waitress.server import create_server

from sim.tracing.limits import MAX_BODY

THREADS = 6
#: Waitress buffers a whole request body before the app runs: past twice the apps' own
#: limit (`sim.tracing.limits.MAX_BODY`, a traced 413) it answers 413 itself, unread.
#: It buffers a response at most ~1 MB ahead of the client (its default is 16 MB):
#: past it the app's thread waits for the socket. A streamed whole-trace read (`GET /trace`,
#: ~20 MB for a class's 500 flows) otherwise piled up 16 MB in memory per read, in whichever
#: thread's malloc arena, and the client kept ~16 MB more of RSS after each of the first reads.
LIMITS = {"max_request_body_size": 2 * MAX_BODY, "outbuf_high_watermark": 1024 * 1024}
#: The console holds one thread per open event stream (one per console tab).
CONSOLE_THREADS = 16

# Waitress warns on the terminal whenever requests queue up ("Task queue depth is N"):
# expected when a class runs 50 flows at once, and noise on a projector.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


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


class ServerThread:
    """One app served by waitress in a daemon thread.

    The server's socket map (every listening and client connection) is a dict we hand to
    waitress (`create_server(map=...)`), so stopping needs nothing private of waitress."""

    def __init__(self, app, sock: socket.socket, name: str, threads: int = THREADS) -> None:
        self.channels: dict = {}
        self.server = create_server(
            app, map=self.channels, sockets=[sock], threads=threads, ident=name, **LIMITS
        )
        self.thread = threading.Thread(target=self.server.run, name=f"sim-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Finish the requests in hand, then close every connection from inside the
        server's own loop thread (waitress's trigger runs a callable there): closing sockets
        under a running select() from this thread would be a race. The loop ends when the
        map is empty."""
        self.server.task_dispatcher.shutdown(timeout=2)
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.channels))
        self.thread.join(timeout=2)


def serve_forever(app, sock: socket.socket, name: str, threads: int = THREADS) -> None:
    """Process mode: serve in the foreground until the process is told to stop."""
    create_server(app, sockets=[sock], threads=threads, ident=name, **LIMITS).run()
