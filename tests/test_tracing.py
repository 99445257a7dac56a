"""The tracing layer: every exchange recorded once, in order, under its own flow, with both
ends known; redaction that keeps the story; concurrency without loss."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import sim as sim_api
from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER, USER_AGENT
from sim.tracing import Event, Trace, TraceStore
from sim.tracing.store import MemoryTraceStore


def test_every_event_names_both_parties_and_a_kind(sim):
    trace = sim.run("happy-path").trace
    parties = {USER_AGENT, CLIENT, AUTHORIZATION_SERVER, RESOURCE_SERVER}
    for event in trace.events:
        assert event.sender in parties and event.to in parties
        assert event.kind in ("redirect", "page", "form-post", "back-channel", "api-call")
        assert event.url.startswith("http://127.0.0.1:")
        if 300 <= event.status < 400:
            assert event.kind == "redirect" and event.location
    back = [e for e in trace.events if e.kind == "back-channel"]
    assert {e.sender for e in back} == {CLIENT, RESOURCE_SERVER}


def test_outbound_and_inbound_records_merge_into_one_event(sim):
    flow = sim.new_flow("merge")
    sim.user_agent(flow).get(sim.client_url + "/login")
    sim.store.wait_settled(flow)
    records = sim.store.records(flow)
    assert len(records) == 1 and records[0]["from"] == USER_AGENT
    # A back-channel call carries the sender's own timing too.
    result = sim.run("happy-path")
    token_calls = [r for r in sim.store.records(result.flow) if r["url"].endswith("/token")]
    assert token_calls and all(r["sender_ms"] is not None for r in token_calls)


def test_a_dpop_proof_header_is_recorded_as_rfc_9449_spells_it(sim):
    """WSGI upper-cases header names; the trace restores "DPoP", not str.title's "Dpop"."""
    trace = sim.run("dpop").trace
    names = {name for e in trace.events for name in e.request_headers}
    assert "DPoP" in names and "Dpop" not in names


def test_secrets_are_marked_and_redaction_hides_them_consistently(sim):
    trace = sim.run("happy-path").trace
    secrets = {value for e in trace.events for name, value in e.secrets}
    names = {name for e in trace.events for name, _ in e.secrets}
    assert {"password", "code", "code_verifier", "access_token", "refresh_token"} <= names
    assert "client_secret" in names  # decoded from the Basic header
    redacted = json.dumps(trace.redacted().to_dicts(detail=True))
    leaked = [s for s in secrets if len(s) >= 6 and s in redacted]
    assert not leaked
    red = trace.redacted()
    code_in_redirect = next(e for e in red.events if e.location and "code=<code-1>" in e.location)
    token_request = next(e for e in red.events if e.path == "/token")
    assert code_in_redirect.seq < token_request.seq
    assert "code=%3Ccode-1%3E" in token_request.request_body or "<code-1>" in (
        token_request.request_body
    )


def test_event_json_round_trip_uses_from_for_the_sender():
    event = Event(
        seq=1,
        sender="client",
        to="authorization-server",
        method="POST",
        url="http://127.0.0.1:1/token",
        status=200,
        location=None,
        kind="back-channel",
        note="n",
        rfc="RFC 6749 §4.1.3",
    )
    data = event.to_dict()
    assert data["from"] == "client" and "sender" not in data
    assert list(data) == [
        "seq",
        "from",
        "to",
        "method",
        "url",
        "status",
        "location",
        "kind",
        "note",
        "rfc",
    ]
    assert Event.from_dict(data) == event


def test_fifty_concurrent_flows_each_get_exactly_their_own_events(sim):
    single = sim.run("happy-path").trace
    expected = [(e.sender, e.to, e.method, e.path.split("?")[0]) for e in single.events]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: sim.run("happy-path"), range(50)))
    seen_exchanges = set()
    for result in results:
        assert result.outcome["logged_in"] and result.outcome["refreshed"]
        got = [(e.sender, e.to, e.method, e.path.split("?")[0]) for e in result.trace.events]
        assert got == expected
        exchanges = {e.exchange for e in result.trace.events}
        assert len(exchanges) == len(got) and not exchanges & seen_exchanges
        seen_exchanges |= exchanges


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_store_is_safe_across_threads_and_keeps_start_order(tmp_path, kind):
    path = str(tmp_path / "trace.sqlite")
    store = TraceStore(path) if kind == "sqlite" else MemoryTraceStore()

    def write(worker: int) -> None:
        for i in reversed(range(100)):  # recorded out of order, read back in start order
            store.begin(f"{worker}-{i}", f"flow-{worker}", worker * 1000 + i)
            store.record_sender(f"{worker}-{i}", 1.5)
            store.record(f"{worker}-{i}", f"flow-{worker}", worker * 1000 + i, {"i": i})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for worker in range(8):
        records = store.records(f"flow-{worker}")
        assert [r["i"] for r in records] == list(range(100))
        assert {r["sender_ms"] for r in records} == {1.5}
        assert store.pending(f"flow-{worker}") == 0
    assert store.flows() == [f"flow-{w}" for w in range(8)]
    if kind == "sqlite":
        other = TraceStore(path)  # a second process's view of the same file
        assert len(other.records()) == 800


def test_wait_settled_waits_for_a_begun_exchange():
    store = MemoryTraceStore()
    store.begin("x", "f", 1)
    timer = threading.Timer(0.05, store.record, args=("x", "f", 1, {"done": True}))
    timer.start()
    store.wait_settled("f", timeout=5)
    assert store.records("f")[0]["done"] is True


def test_trace_displays_as_svg_in_jupyter(sim):
    trace = sim.run("happy-path").trace
    svg = trace._repr_svg_()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:300]
    assert isinstance(sim_api.Trace([])._repr_svg_(), str)
    assert not hasattr(Trace([]), "_repr_svg_")  # tracing holds data; drawing is above it


def test_redaction_hides_basic_credentials_and_cookies(sim):
    text = json.dumps(sim.run("happy-path").trace.redacted().to_dicts(detail=True))
    assert "ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=" not in text  # demo-client:demo-secret
    assert "Basic <credentials>" in text
    for event in sim.run("happy-path").trace.redacted().events:
        for name in ("Cookie", "Set-Cookie"):
            value = event.request_headers.get(name) or event.response_headers.get(name)
            if value:
                first = value.split(";")[0]
                assert first.endswith("=<cookie>"), value


def test_sqlite_store_wait_settled_wakes_on_a_record(tmp_path):
    store = TraceStore(str(tmp_path / "trace.sqlite"))
    store.begin("x", "f", 1)
    timer = threading.Timer(0.05, store.record, args=("x", "f", 1, {"done": True}))
    timer.start()
    store.wait_settled("f", timeout=5)
    assert store.records("f")[0]["done"] is True
    store.close()


def _environ(flow: str, path: str = "/page") -> dict:
    import io

    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "HTTP_HOST": "127.0.0.1:1",
        "HTTP_X_SIM_FLOW": flow,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }


def test_a_bounded_answer_is_recorded_before_its_first_byte_is_sent():
    """One store write per exchange, and a sender never finds its answer missing."""
    from sim.tracing.middleware import TracingMiddleware

    store = MemoryTraceStore()
    body = b"<p>state=abc</p>"

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", "16")])
        return [body]

    answer = TracingMiddleware(app, CLIENT, store)(_environ("f"), lambda *a: None)
    (record,) = store.records("f")  # not one byte iterated yet
    assert record["status"] == 200 and record["response_body"] == body.decode()
    assert list(answer) == [body] and store.pending("f") == 0


def test_a_stream_is_pending_until_it_is_closed_then_recorded_once():
    from sim.tracing.middleware import TracingMiddleware

    store = MemoryTraceStore()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: 1\n\n"
        yield b"data: 2\n\n"

    answer = TracingMiddleware(app, CLIENT, store)(_environ("f"), lambda *a: None)
    assert store.pending("f") == 1 and store.records("f") == []
    assert b"".join(answer) == b"data: 1\n\ndata: 2\n\n"
    answer.close()
    (record,) = store.records("f")
    assert record["response_body"] == "data: 1\n\ndata: 2\n\n" and store.pending("f") == 0


def test_values_left_for_the_reader_are_parsed_when_the_trace_is_built():
    from sim.tracing import build_trace

    record = {
        "exchange": "x",
        "flow": "f",
        "from": USER_AGENT,
        "to": AUTHORIZATION_SERVER,
        "method": "GET",
        "url": "http://127.0.0.1:1/authorize?client_id=demo-client&state=s1",
        "status": 302,
        "location": "http://127.0.0.1:2/callback?code=c1&state=s1",
        "kind": "redirect",
        "request_headers": {},
        "request_body": "",
        "response_headers": {},
        "response_body": "",
    }
    (event,) = build_trace([record]).events
    assert dict(event.values) == {"client_id": "demo-client", "state": "s1", "code": "c1"}
    assert event.params.returned("code") == "c1"


def test_the_sqlite_store_writes_a_senders_timing_on_its_own_soon(tmp_path):
    path = str(tmp_path / "trace.sqlite")
    store = TraceStore(path)
    store.record("x", "f", 1, {"i": 1})
    store.record_sender("x", 2.5)
    other = TraceStore(path)  # another process's view: it cannot flush this one's memory
    deadline = time.monotonic() + 10
    while other.records("f")[0]["sender_ms"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert other.records("f")[0]["sender_ms"] == 2.5
    store.close()
    other.close()


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_reading_after_a_cursor_gives_each_record_once_with_its_place(tmp_path, kind):
    store = TraceStore(str(tmp_path / "t.sqlite")) if kind == "sqlite" else MemoryTraceStore()
    assert store.last_recorded() == 0
    # Recorded in another order than started: "b" started first but finished last.
    store.record("a2", "f", 20, {"n": "a2"})
    store.record("g1", "g", 15, {"n": "g1"})
    store.begin("b", "f", 10)
    cursor, first = store.after(0, "f")
    assert [(seq, r["n"]) for seq, r in first] == [(1, "a2")]  # "b" is not complete yet
    store.record("b", "f", 10, {"n": "b"})
    cursor, second = store.after(cursor, "f")
    assert [(seq, r["n"]) for seq, r in second] == [(1, "b")]  # its place in start order
    assert store.after(cursor, "f") == (cursor, [])
    # All flows, a page at a time: nothing lost, nothing twice.
    seen, cursor = [], 0
    while True:
        cursor, page = store.after(cursor, limit=2)
        if not page:
            break
        seen += [r["n"] for _, r in page]
    assert sorted(seen) == ["a2", "b", "g1"] and cursor == store.last_recorded() == 3
    # A whole read stops where it started and comes in start order, in batches.
    upto = store.last_recorded()
    store.record("late", "f", 5, {"n": "late"})
    batches = list(store.batches(None, upto, size=2))
    assert [[r["n"] for r in b] for b in batches] == [["b", "g1"], ["a2"]]
    assert store.has_flow("g") and not store.has_flow("nope")


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_follower_misses_nothing_recorded_after_the_trace_is_cleared(tmp_path, kind):
    store = TraceStore(str(tmp_path / "t.sqlite")) if kind == "sqlite" else MemoryTraceStore()
    store.record("a", "f", 1, {"n": "a"})
    store.record("b", "f", 2, {"n": "b"})
    cursor, _ = store.after(0)
    store.clear()  # the console's "clear"
    assert store.last_recorded() == cursor
    store.record("c", "g", 3, {"n": "c"})
    assert [r["n"] for _, r in store.after(cursor)[1]] == ["c"]


def _exchanges(store, flow: str) -> None:
    """Four requests through one middleware: a form POST with a body over the kept limit and
    an over-long header, a redirect, a malformed status line, a stream."""
    import io

    from sim.tracing.middleware import TracingMiddleware

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/stream":
            start_response("200 OK", [("Content-Type", "text/event-stream")])
            return iter([b"data: 1\n\n"])
        if path == "/odd":
            start_response("abc", [("Content-Length", "2")])
            return [b"ok"]
        environ["wsgi.input"].read()
        status = "302 Found" if path == "/authorize" else "200 OK"
        headers = [("Content-Length", "2"), ("Location", "http://127.0.0.1:2/cb?code=c1")]
        start_response(status, headers if status.startswith("302") else headers[:1])
        return [b"ok"]

    middleware = TracingMiddleware(app, AUTHORIZATION_SERVER, store)
    body = b"username=alice&" + b"x" * 5000
    post = {
        **_environ(flow, "/login"),
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": "session=" + "c" * 5000,
        "HTTP_X_SIM_PARTY": CLIENT,
        "wsgi.input": io.BytesIO(body),
        "an.object": object(),
    }
    for environ in (post, _environ(flow, "/authorize"), _environ(flow, "/odd")):
        environ["HTTP_X_SIM_EXCHANGE"] = environ["PATH_INFO"].strip("/")
        b"".join(middleware(environ, lambda *a: None))
    stream = {**_environ(flow, "/stream"), "HTTP_X_SIM_EXCHANGE": "stream"}
    answer = middleware(stream, lambda *a: None)
    b"".join(answer)
    answer.close()


def test_the_memory_store_makes_each_record_when_read_as_the_sqlite_store_keeps_it(tmp_path):
    """Threads mode keeps what the middleware saw and makes the record when it is read;
    process mode's store makes it at once. Both must read back the same records: bodies and
    headers cut with their markers, a thin record for a status line that does not parse."""
    memory, sqlite = MemoryTraceStore(), TraceStore(str(tmp_path / "trace.sqlite"))
    _exchanges(memory, "f")
    _exchanges(sqlite, "f")
    kept, written = memory.records("f"), sqlite.records("f")
    for record in (*kept, *written):
        record.pop("time"), record.pop("duration_ms")
    assert kept == written and len(kept) == 4
    login = next(r for r in kept if r["exchange"] == "login")
    assert login["from"] == CLIENT and login["kind"] == "back-channel"
    assert login["request_body"].endswith("…[919 more bytes not kept]")
    assert login["request_headers"]["Cookie"].endswith("…[912 more characters not kept]")
    assert "an.object" not in str(login)
    authorize = next(r for r in kept if r["exchange"] == "authorize")
    assert authorize["location"] == "http://127.0.0.1:2/cb?code=c1"
    assert authorize["kind"] == "redirect"
    odd = next(r for r in kept if r["exchange"] == "odd")
    assert odd["status"] == 500 and odd["response_body"] == "(not recorded: ValueError)"
    assert next(r for r in kept if r["exchange"] == "stream")["response_body"] == "data: 1\n\n"


def test_what_the_middleware_saw_holds_no_object_of_the_request():
    """A kept exchange must not keep the app's request or the connection alive."""
    import gc
    import weakref

    class Connection:
        pass

    store = MemoryTraceStore()
    connection = Connection()
    gone = weakref.ref(connection)
    from sim.tracing.middleware import TracingMiddleware

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    environ = {**_environ("f"), "waitress.connection": connection}
    b"".join(TracingMiddleware(app, CLIENT, store)(environ, lambda *a: None))
    del connection, environ
    gc.collect()
    assert gone() is None and store.records("f")[0]["status"] == 200


def test_a_snapshot_reads_its_flow_whole_after_the_store_dropped_it():
    """`Simulation.trace` takes a snapshot when the flow ends and makes its records when
    the trace is read, perhaps after newer flows pushed it out of a bounded store."""
    from sim.tracing.middleware import TracingMiddleware

    store = MemoryTraceStore(max_flows=2)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    middleware = TracingMiddleware(app, CLIENT, store)
    b"".join(middleware(_environ("first", "/a"), lambda *a: None))
    later = store.snapshot("first")
    for flow in ("second", "third"):
        b"".join(middleware(_environ(flow), lambda *a: None))
    assert store.records("first") == [] and store.dropped_flows() == 1
    (record,) = later()
    assert record["url"] == "http://127.0.0.1:1/a" and record["flow"] == "first"


def test_a_kept_exchange_is_left_alone_by_the_garbage_collector():
    """Threads mode keeps thousands of exchanges; were each tracked, every full collection
    would walk them all, and come due sooner as they pile up."""
    import gc
    import io

    from sim.tracing.seen import keep, record_of

    environ = {
        **_environ("f", "/login"),
        "REQUEST_METHOD": "POST",
        "HTTP_X_SIM_EXCHANGE": "e1",
        "wsgi.input": io.BytesIO(b"a=1"),
        "wsgi.errors": object(),
    }
    headers = [("Content-Type", "text/html"), ("Content-Length", "2")]
    seen = keep(CLIENT, environ, b"a=1", "200 OK", headers, b"ok", "f", 5, 1.0)
    gc.collect(0)  # one young collection is enough
    assert not gc.is_tracked(seen)
    record = record_of(seen)
    assert record["request_body"] == "a=1" and record["kind"] == "form-post"
    assert record["response_headers"] == dict(headers) and record["exchange"] == "e1"


def test_a_memory_store_of_kept_exchanges_adds_next_to_nothing_for_the_collector():
    """Rows and what was seen hold only text and numbers: 300 exchanges kept must not leave
    hundreds of tracked objects (each one a full collection would walk)."""
    import gc

    from sim.tracing.middleware import TracingMiddleware

    store = MemoryTraceStore()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", "2")])
        return [b"ok"]

    middleware = TracingMiddleware(app, CLIENT, store)
    b"".join(middleware(_environ("f"), lambda *a: None))  # the flow's own list, once
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(300):
        b"".join(middleware(_environ("f"), lambda *a: None))
    gc.collect()
    assert len(gc.get_objects()) - before < 60
    assert len(store.records("f")) == 301  # and every one still reads whole
