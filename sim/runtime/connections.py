"""HTTP/1.1 on a listening socket: one thread per open connection, waitress's parser and
response code, so a request never changes threads.

Why not waitress's own server loop: it reads every request in one thread (a select loop),
hands it to a worker thread through a condition variable, and the worker wakes the loop
again through a pipe once it has answered. Each request thus crossed threads three times
(about seven futex calls, a select and a pipe write and read on the server's side), and on
a busy machine each crossing waited for a CPU: that was most of a trivial request's
server CPU, and in threads mode (all parties in one process, one GIL) every crossing was
also a GIL hand-off. Here the thread that reads a request on a connection answers it and
then waits on that connection's socket for the next one.

What stays waitress's: request parsing and its limits (a header block past its limit is
answered 431, a body 413, a malformed request 400; bodies spool to a temporary file past
512 KB), the WSGI environ, status
and header checks, keep-alive and `Connection: close` rules, chunked streaming, Date and
Server headers (`waitress.parser.HTTPRequestParser`, `waitress.task.WSGITask`/`ErrorTask`
with this module's `_Connection` standing in for waitress's channel). What this module
adds: the accept loop, the connection threads, at most `threads` apps running at once
(waitress's thread count meant the same), a response's header and first body bytes in one
send (one TCP segment and one wake-up of the reader instead of two), and stopping.
"""

from __future__ import annotations

import logging
import queue
import selectors
import socket
import threading
import time
import traceback
from collections import deque

from waitress.adjustments import Adjustments
from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.channel import ClientDisconnected
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import InternalServerError, build_http_date

logger = logging.getLogger("sim.runtime.connections")


def _name(header: tuple[str, str]) -> str:
    return header[0]


#: Header names as apps write them -> as waitress sends them ("x-frame-options" ->
#: "X-Frame-Options"): a server meets a few dozen names, and each was split, capitalized
#: and joined again on every response.
_CAPITALIZED: dict[str, str] = {}
#: The Date header's text for the second it was last built for (HTTP dates have seconds).
_DATE: list = [None, ""]


def _capitalized(name: str) -> str:
    try:
        return _CAPITALIZED[name]
    except KeyError:
        capitalized = "-".join([part.capitalize() for part in name.split("-")])
        if len(_CAPITALIZED) < 512:  # an app making up names cannot grow this for ever
            _CAPITALIZED[name] = capitalized
        return capitalized


def _http_date(when: float) -> str:
    second = int(when)
    if _DATE[0] != second:
        _DATE[1], _DATE[0] = build_http_date(second), second
    return _DATE[1]


class _HeaderWithBody:
    """Task mixin: the status line and headers wait for the first body bytes and leave in
    the same send (waitress sends them apart). A response without a body sends them when
    the task finishes; a streamed one sends them with its first chunk, as waitress does."""

    def build_response_header(self) -> bytes:
        self.channel.held = self._response_header()
        return b""  # Task.write then hands write_soon nothing: the header is held

    def _response_header(self) -> bytes:
        """`waitress.task.Task.build_response_header`, line for line and with the same
        bytes, except that a header name's capitalization and the Date header's text are
        looked up (`_capitalized`, `_http_date`) rather than built anew for each response."""
        version = self.version
        # Figure out whether the connection should be closed.
        connection = self.request.headers.get("CONNECTION", "").lower()
        response_headers = []
        content_length_header = None
        date_header = None
        server_header = None
        has_body = self.has_body

        for headername, headerval in self.response_headers:
            headername = _capitalized(headername)
            if headername == "Content-Length":
                if has_body:
                    content_length_header = headerval
                else:
                    continue  # pragma: no cover
            if headername == "Date":
                date_header = headerval
            if headername == "Server":
                server_header = headerval
            # replace with properly capitalized version
            response_headers.append((headername, headerval))

        # Overwrite the response headers we have with normalized ones
        self.response_headers = response_headers

        if content_length_header is None and self.content_length is not None and has_body:
            content_length_header = str(self.content_length)
            self.response_headers.append(("Content-Length", content_length_header))

        if version == "1.0":
            if connection == "keep-alive":
                if not content_length_header:
                    self.set_close_on_finish()
                else:
                    self.response_headers.append(("Connection", "Keep-Alive"))
            else:
                self.set_close_on_finish()
        elif version == "1.1":
            if connection == "close":
                self.set_close_on_finish()
            if not content_length_header:
                # Neither Transfer-Encoding nor Content-Length on a 1xx, 204 or 304
                # answer (`has_body`).
                if has_body:
                    self.response_headers.append(("Transfer-Encoding", "chunked"))
                    self.chunked_response = True
                if not self.close_on_finish:
                    self.set_close_on_finish()
            # under HTTP 1.1 keep-alive is default, no need to set the header
        else:
            raise AssertionError("neither HTTP/1.0 or HTTP/1.1")

        # Set the Server and Date field, if not yet specified.
        ident = self.channel.server.adj.ident
        if not server_header:
            if ident:
                self.response_headers.append(("Server", ident))
        else:
            self.response_headers.append(("Via", ident or "waitress"))
        if not date_header:
            self.response_headers.append(("Date", _http_date(self.start_time)))

        first_line = f"HTTP/{self.version} {self.status}"
        # Sorted by name, same-named headers in their order (the sort is stable).
        headers = sorted(self.response_headers, key=_name)
        next_lines = [f"{name}: {value}" for name, value in headers]
        return ("\r\n".join([first_line, *next_lines]) + "\r\n\r\n").encode("latin-1")

    def finish(self) -> None:
        super().finish()
        self.channel.flush_held()


class _WSGITask(_HeaderWithBody, WSGITask):
    pass


class _ErrorTask(_HeaderWithBody, ErrorTask):
    pass


class _Connection:
    """One client connection, served in its own thread; the attributes are the ones
    waitress's tasks read from their channel."""

    def __init__(self, server: ConnectionServer, sock: socket.socket, addr) -> None:
        self.server = server
        self.adj = server.adj
        self.sock = sock
        self.addr = addr
        self.connected = True
        self.held = b""
        self.busy = False  # an app is answering a request of this connection

    def check_client_disconnected(self) -> bool:
        return not self.connected

    def write_soon(self, data) -> int:
        """Send now, from the task's own thread: a slow reader holds back the app that
        writes to it (nothing piles up in memory), and a gone one ends the task."""
        if not self.connected:
            raise ClientDisconnected
        if isinstance(data, ReadOnlyFileBasedBuffer):  # the app used wsgi.file_wrapper
            try:
                self.flush_held()
                size = 0
                while chunk := data.get(65536, True):
                    self._send(chunk)
                    size += len(chunk)
                return size
            finally:
                data.close()
        if not data:
            return 0
        if self.held:
            data, self.held = self.held + data, b""
        self._send(data)
        return len(data)

    def flush_held(self) -> None:
        if self.held and self.connected:
            held, self.held = self.held, b""
            self._send(held)

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.connected = False
            raise ClientDisconnected from None

    def serve(self) -> None:
        """Read requests and answer each before reading the next, until either side closes
        or the connection stays idle past waitress's `channel_timeout`."""
        adj = self.adj
        request = None
        while self.connected:
            try:
                data = self.sock.recv(adj.recv_bytes)
            except OSError:  # timed out idle, reset, or shut down by `stop`
                return
            if not data:
                return
            while data:
                if request is None:
                    request = HTTPRequestParser(adj)
                used = request.received(data)
                if request.completed:
                    done, request = request, None
                    if not done.empty and not self._answer(done):
                        return
                elif request.expect_continue and request.headers_finished:
                    request.expect_continue = False  # asked once, before the body
                    self._send(b"HTTP/1.1 100 Continue\r\n\r\n")
                elif not used:  # the parser took nothing: wait for more bytes
                    break
                data = data[used:]

    def _answer(self, request: HTTPRequestParser) -> bool:
        """Run one request (as waitress's `HTTPChannel.service` does, errors included);
        whether the connection stays open for the next."""
        task = (_ErrorTask if request.error else _WSGITask)(self, request)
        self.held = b""
        server = self.server
        slot = server.slots.get()  # blocks while `threads` apps are answering
        self.busy = True
        try:
            task.service()
        except ClientDisconnected:
            return False
        except Exception:
            logger.exception("Exception while serving %s", request.path)
            if task.wrote_header:
                return False
            body = "The server encountered an unexpected internal server error"
            if self.adj.expose_tracebacks:
                body = traceback.format_exc()
            failed = HTTPRequestParser(self.adj)
            failed.error = InternalServerError(body)
            failed.version = request.version
            if "CONNECTION" in request.headers:
                failed.headers["CONNECTION"] = request.headers["CONNECTION"]
            task = _ErrorTask(self, failed)
            self.held = b""
            try:
                task.service()
            except ClientDisconnected:
                return False
        finally:
            self.busy = False
            server.slots.put(slot)
            request.close()
            if server.stopping:
                server.answered()
        return not task.close_on_finish and self.connected


class _Workers:
    """Threads that each serve one connection until it closes, then wait for the next.
    Started when every one is busy, kept afterwards: starting a thread costs more than a
    request, and a thread that lives on keeps its CPU time in the kernel's per-thread
    accounting, which the benchmarks read."""

    def __init__(self, serve, name: str) -> None:
        self._serve = serve
        self._name = name
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: deque = deque()
        self._idle = 0
        self._count = 0
        self._closed = False

    def hand(self, *item) -> None:
        with self._lock:
            self._queue.append(item)
            if len(self._queue) <= self._idle:
                self._ready.notify()
                return
            self._count += 1
            name = f"{self._name}-{self._count}"
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._ready.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._idle += 1
                    self._ready.wait()
                    self._idle -= 1
                if not self._queue:
                    return
                item = self._queue.popleft()
            self._serve(*item)


class ConnectionServer:
    """Serves `app` on a bound, listening socket until `stop`."""

    def __init__(self, app, sock: socket.socket, adj: Adjustments) -> None:
        self.application = app
        self.adj = adj
        self.socket = sock
        self.server_name = adj.server_name
        self.effective_port = sock.getsockname()[1]
        #: At most `threads` apps answer at once (waitress's worker count meant the same):
        #: the apps' connection pools and SQLite writers were sized for that.
        #: One token per app that may run; a request takes one and gives it back. A queue of
        #: tokens, not a `threading.BoundedSemaphore`: that is Python code around a condition
        #: variable (two lock round trips per request), this is one C call each way.
        self.slots: queue.SimpleQueue[int] = queue.SimpleQueue()
        for slot in range(adj.threads):
            self.slots.put(slot)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._open: set[_Connection] = set()
        self.stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._workers = _Workers(self._serve_connection, f"{adj.ident}-conn")

    def answered(self) -> None:
        """An answer ended while stopping: `stop` may be waiting for it."""
        with self._lock:
            self._changed.notify_all()

    def serve(self) -> None:
        """Accept connections until `stop` (in the calling thread). A selector with a
        wake-up socket, not a bare accept(): closing a socket does not wake a thread
        blocked in accept() on every system."""
        self.socket.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self.stopping:
                with self._lock:
                    while len(self._open) >= self.adj.connection_limit and not self.stopping:
                        self._changed.wait()  # the backlog holds the rest meanwhile
                selector.select()
                if self.stopping:
                    break
                try:
                    conn, addr = self.socket.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue  # gone before we took it
                except OSError:  # out of file descriptors, say: keep serving the others
                    logger.warning("accept() failed", exc_info=True)
                    time.sleep(0.1)
                    continue
                conn.settimeout(self.adj.channel_timeout)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                connection = _Connection(self, conn, addr)
                with self._lock:
                    self._open.add(connection)
                self._workers.hand(connection)

    def _serve_connection(self, connection: _Connection) -> None:
        try:
            connection.serve()
        except Exception:  # a bug here must not take the worker thread down silently
            logger.exception("Connection from %s failed", connection.addr)
        finally:
            connection.connected = False
            try:
                connection.sock.close()
            finally:
                with self._lock:
                    self._open.discard(connection)
                    self._changed.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, let the answers being written finish (up to `timeout`), then
        close every connection: a thread blocked reading its connection wakes up then."""
        with self._lock:
            self.stopping = True
            self._changed.notify_all()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        with self._lock:
            self._changed.wait_for(lambda: not any(c.busy for c in self._open), timeout=timeout)
            still_open = list(self._open)
        for connection in still_open:
            connection.connected = False
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._workers.close()

    def close(self) -> None:
        """Close the listening socket and the wake-up pair (after `serve` has returned)."""
        self.socket.close()
        self._wake_r.close()
        self._wake_w.close()
