"""What live mode asks the shared trace store on every request (is pause on? is this value
linked to a flow?) is answered from each process's memory; these tests pin that a change made
by another process (a second `TraceStore` on the same file) is still seen at once, and that a
record made outside every flow still reads with its protocol values."""

from __future__ import annotations

import io
import sys
import threading
import time

import pytest
import requests

from sim import Simulation
from sim.console.pause import PauseAtRedirects
from sim.console.settings import paused, put_settings
from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
from sim.tracing import live
from sim.tracing.store import MemoryTraceStore, TraceStore
from tests.test_live_flows import real_browser


def redirecting_app(environ, start_response):
    start_response("302 Found", [("Location", "http://127.0.0.1:9/callback?code=c1")])
    return [b""]


def call(app, **environ) -> str:
    statuses = []
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/authorize", "wsgi.input": io.BytesIO()}
    env.update(environ)
    body = b"".join(app(env, lambda status, headers, exc_info=None: statuses.append(status)))
    assert body is not None
    return statuses[0]


@pytest.fixture
def two_processes(tmp_path):
    """Two views of one store file, as two processes of `oauth-sim up` have."""
    path = str(tmp_path / "trace.sqlite")
    console, party = TraceStore(path, live=True), TraceStore(path, live=True)
    yield console, party
    console.close()
    party.close()


def test_pause_switched_by_another_process_is_honoured_on_the_next_request(two_processes):
    console, party = two_processes
    app = PauseAtRedirects(redirecting_app, party, AUTHORIZATION_SERVER)
    assert call(app) == "302 Found"  # read once: not paused
    put_settings(console, pause=True)
    assert paused(party)
    assert call(app) == "200 OK"  # the interstitial, not the stale "not paused"
    put_settings(console, pause=False)
    assert call(app) == "302 Found"


def test_a_flow_switch_set_or_cleared_by_another_process_is_seen_at_once(tmp_path):
    """Each process keeps the per-flow defence switches it read until the board's shared
    version moves: a switch set, changed or cleared by another process (the manager, for a
    scenario run) is still seen on the very next request; an answer is a copy."""
    from sim.defences import Switchboard

    path = str(tmp_path / "switches.sqlite")
    manager, party = Switchboard(path), Switchboard(path)
    try:
        assert party.get("f") == {}
        manager.set("f", off=["state"])
        assert party.get("f") == {"off": ["state"]}
        party.get("f")["off"] = []
        assert party.get("f") == {"off": ["state"]}
        manager.set("f", off=["pkce"], access_token_lifetime=5)
        assert party.get("f") == {"off": ["pkce"], "access_token_lifetime": 5}
        manager.clear("f")
        assert party.get("f") == {}
    finally:
        manager.close()
        party.close()


def test_flow_options_are_copies_a_caller_cannot_change(two_processes):
    console, party = two_processes
    console.set_flow_options("f", {"off": ["state"]})
    party.flow_options("f")["off"] = []
    assert party.flow_options("f") == {"off": ["state"]}


def resolve(store, query: str) -> live.Resolution:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/token", "QUERY_STRING": query}
    return live.resolve(environ, AUTHORIZATION_SERVER, store, b"")


def test_a_value_another_process_links_joins_its_flow_at_once(two_processes):
    writer, reader = two_processes
    assert not reader.has_links()
    assert resolve(reader, "code=c1").flow == live.DEFAULT_FLOW
    record = {"status": 302, "to": AUTHORIZATION_SERVER, "values": [["code", "c1"]]}
    writer.record("x1", "login-0123456789ab", 1, record, links=("c1",))
    assert reader.has_links()
    assert resolve(reader, "code=c1").flow == "login-0123456789ab"
    writer.link("origin http://127.0.0.1:9000", "spa-0123456789ab")
    preflight = {"REQUEST_METHOD": "OPTIONS", "HTTP_ORIGIN": "http://127.0.0.1:9000"}
    assert live.resolve(preflight, RESOURCE_SERVER, reader, b"").flow == "spa-0123456789ab"
    writer.clear()
    assert resolve(reader, "code=c1").flow == live.DEFAULT_FLOW


def test_the_memory_store_answers_the_same():
    store = MemoryTraceStore(live=True)
    assert not store.has_links()
    store.record("x1", "login-0123456789ab", 1, {"status": 302}, links=("c1",))
    assert store.has_links()
    assert resolve(store, "code=c1").flow == "login-0123456789ab"


def test_a_process_copy_of_the_links_follows_drops_relinks_and_clears(tmp_path, monkeypatch):
    """Each process answers `linked` from its own copy of the links, updated by the change
    since it last looked: a flow dropped to keep the store bounded (by another process)
    takes its values with it, a value linked again follows its new flow, and a clear
    forgets them all, even when the copy is further behind than the drops kept."""
    from sim.tracing import store as store_module

    path = str(tmp_path / "trace.sqlite")
    writer = TraceStore(path, live=True, max_flows=2)
    reader = TraceStore(path, live=True, max_flows=2)
    try:

        def login(n: int, *values: str) -> str:
            flow = f"login-{n:012x}"
            writer.record(f"x{n}", flow, n, {"n": n}, links=values)
            writer.flows()  # the writer reads it in: drops are made there, not by the reader
            return flow

        first = login(1, "code-1", "origin http://127.0.0.1:9000")
        assert reader.linked("code-1") == first
        second = login(2, "code-2")
        third = login(3, "code-3", "origin http://127.0.0.1:9000")  # the first flow goes
        assert reader.linked("code-1") is None
        assert reader.linked("origin http://127.0.0.1:9000") == third
        assert (reader.linked("code-2"), reader.linked("code-3")) == (second, third)
        login(4, "code-4")  # the second goes; the origin's link is the third flow's
        assert reader.linked("code-2") is None
        assert reader.linked("origin http://127.0.0.1:9000") == third
        monkeypatch.setattr(store_module, "DROPPED_KEPT", 1)
        for n in range(5, 9):  # more drops than are kept while the reader is not looking
            login(n, f"code-{n}")
        assert [reader.linked(f"code-{n}") for n in range(3, 9)] == [None] * 4 + [
            f"login-{7:012x}",
            f"login-{8:012x}",
        ]
        assert reader.linked("origin http://127.0.0.1:9000") is None
        writer.clear()
        assert reader.linked("code-8") is None
        ninth = login(9, "code-9")
        assert reader.linked("code-9") == ninth
    finally:
        writer.close()
        reader.close()


def test_past_the_cap_the_oldest_flows_go_and_orphan_timings_with_them(tmp_path):
    """The store keeps `max_flows` flows: a new one beyond that drops the one that started
    first (never itself, even when it started earlier), a sender's timing that no receiver
    recorded goes at the drop, and `dropped_flows` counts flows only."""
    import sqlite3

    path = str(tmp_path / "trace.sqlite")
    writer, reader = TraceStore(path, max_flows=2), TraceStore(path, max_flows=2)
    try:
        writer.record_sender("never-recorded", 1.5)
        writer.record("a", "flow-a", 10, {"n": "a"})
        writer.record("b", "flow-b", 20, {"n": "b"})
        writer.record("b2", "flow-b", 30, {"n": "b2"})
        assert reader.flows() == ["flow-a", "flow-b"]
        writer.record("c", "flow-c", 5, {"n": "c"})  # started before them all, read in last
        assert reader.flows() == ["flow-c", "flow-b"]
        assert reader.dropped_flows() == 1
        writer.record("d", "flow-d", 40, {"n": "d"})
        assert reader.flows() == ["flow-b", "flow-d"]
        assert [r["n"] for r in reader.records()] == ["b", "b2", "d"]
        assert reader.dropped_flows() == 2
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM exchanges WHERE flow = ''").fetchone() == (0,)
    finally:
        writer.close()
        reader.close()


@pytest.fixture(scope="module")
def classroom():
    with Simulation(console=True) as simulation:
        yield simulation


def test_browsing_outside_a_flow_still_reads_with_its_values(classroom):
    """A request outside every flow is recorded without parsing its values (it links
    nothing); the trace's JSON and the console's flow list still show them."""
    agent = real_browser()
    page = agent.get(
        classroom.authorization_server_url + "/authorize?response_type=code"
        "&client_id=demo-client&scope=profile&state=outside-1"
    )
    agent.close()
    assert page.status_code in (200, 302, 400)
    stored = [r for r in classroom.store.records(live.DEFAULT_FLOW) if "outside-1" in r["url"]]
    assert stored and "values" not in stored[-1]
    events = requests.get(
        classroom.client_url + "/trace", params={"flow": live.DEFAULT_FLOW}, timeout=5
    ).json()["events"]
    event = next(e for e in events if "outside-1" in e["url"])
    assert ["state", "outside-1"] in event["values"]
    assert ["client_id", "demo-client"] in event["values"]
    flows = requests.get(classroom.urls["console"] + "/api/flows", timeout=5).json()["flows"]
    assert next(f for f in flows if f["id"] == live.DEFAULT_FLOW)["client"] == "demo-client"


def test_a_browser_login_still_links_its_code_and_tokens(classroom):
    """A real browser's login records its values as it goes: the code its redirect carried
    is linked to its flow (so a delivered code would join it)."""
    from tests.test_live_flows import log_in

    agent = real_browser()
    log_in(classroom, agent)
    agent.close()
    flow = classroom.store.flows()[-1]
    assert flow.startswith("login-")
    records = classroom.store.records(flow)
    redirect = next(
        r
        for r in records
        if r["to"] == AUTHORIZATION_SERVER
        and r["status"] == 302
        and "code=" in (r["location"] or "")
    )
    code = dict(map(tuple, redirect["values"]))["code"]
    assert classroom.store.linked(code) == flow
    assert any(r["to"] == CLIENT for r in records)


# --- The journal: a record is one appended line, read into the table by whoever reads ------


def table_count(path: str) -> int:
    """Rows in the table itself, read without the store (which would read the journal in)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM exchanges WHERE data IS NOT NULL").fetchone()[0]


def test_another_process_reads_a_record_as_soon_as_it_is_written(two_processes):
    writer, reader = two_processes
    cursor = reader.cursor()
    writer.record("x1", "login-0123456789ab", 1, {"n": 1}, links=("code-1",))
    # Not read in yet: nobody has read since it was written...
    assert table_count(writer.path) == 0
    # ...and every kind of read by another process sees it at once.
    assert reader.changes(cursor) == (cursor + 1, ["login-0123456789ab"])
    assert [r["n"] for r in reader.records("login-0123456789ab")] == [1]
    assert reader.has_flow("login-0123456789ab") and reader.last_recorded() == 1
    assert reader.linked("code-1") == "login-0123456789ab"
    assert reader.newest("login-0123456789ab") == "x1"
    writer.record("x2", "login-0123456789ab", 2, {"n": 2})
    assert [r["n"] for _, r in reader.after(1)[1]] == [2]
    assert table_count(writer.path) == 2


def test_a_writer_that_never_reads_reads_its_journal_in_itself(tmp_path, monkeypatch):
    from sim.tracing import store as store_module

    monkeypatch.setattr(store_module, "INGEST_AFTER", 2_000)
    monkeypatch.setattr(store_module, "SENDER_DELAY", 0.01)
    path = str(tmp_path / "trace.sqlite")
    writer = TraceStore(path, live=True)
    for i in range(20):
        writer.record(f"x{i}", "f", i, {"n": i, "pad": "p" * 200})
    deadline = time.monotonic() + 10
    while table_count(path) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert table_count(path) >= 10  # read in by its background worker, not by a reader
    writer.close()


def test_many_writers_and_a_reader_that_empties_the_journal_lose_nothing(tmp_path, monkeypatch):
    """Separate store objects (separate open files, as separate processes have) append
    while another reads in and empties the journal again and again."""
    from sim.tracing import store as store_module
    from sim.tracing.store import HEADER, _generation

    monkeypatch.setattr(store_module, "JOURNAL_LIMIT", 4_000)
    path = str(tmp_path / "trace.sqlite")
    reader = TraceStore(path, live=True)
    writers = [TraceStore(path, live=True) for _ in range(3)]
    done = threading.Event()

    def write(w: int) -> None:
        for i in range(150):
            record = {"n": i, "pad": "p" * 1000}
            writers[w].record(f"{w}-{i}", f"flow-{w}", w * 1000 + i, record)
            writers[w].record_sender(f"{w}-{i}", 1.0)

    def read() -> None:
        while not done.is_set():
            reader.last_recorded()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(3)]
    follower = threading.Thread(target=read)
    follower.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    follower.join()
    for w in writers:
        w.close()  # writes the senders' timings still waiting
    late = TraceStore(path, live=True)  # a process started after the journal was emptied
    for w in range(3):
        assert [r["n"] for r in late.records(f"flow-{w}")] == list(range(150))
        assert {r["sender_ms"] for r in late.records(f"flow-{w}")} == {1.0}
    cursor, _ = late.changes(0)
    assert late.last_recorded() == 450 and cursor == 450
    with open(path + ".journal", "rb") as journal:
        assert _generation(journal.read(HEADER)) > 0  # emptied along the way
    reader.close()
    late.close()


def test_a_journal_emptied_by_a_process_that_stopped_before_noting_it_is_read_on(tmp_path):
    from sim.tracing.store import HEADER, _header

    path = str(tmp_path / "trace.sqlite")
    store = TraceStore(path, live=True)
    store.record("a", "f", 1, {"n": "a"})
    assert store.last_recorded() == 1
    with open(path + ".journal", "r+b") as journal:  # what the stopped process had done
        journal.write(_header(1))
        journal.truncate(HEADER)
    other = TraceStore(path, live=True)
    other.record("b", "f", 2, {"n": "b"})
    assert [r["n"] for r in store.records("f")] == ["a", "b"]
    store.close()
    other.close()


def test_clear_forgets_lines_not_yet_read_in_and_numbers_go_on(two_processes):
    writer, reader = two_processes
    writer.record("a", "f", 1, {"n": "a"})
    assert reader.last_recorded() == 1
    writer.record("b", "f", 2, {"n": "b"})  # in the journal only
    reader.clear()
    assert writer.records() == [] and writer.flows() == []
    writer.record("c", "g", 3, {"n": "c"})
    cursor, new = reader.after(0)
    assert [r["n"] for _, r in new] == ["c"] and cursor == 3


def test_a_line_that_is_not_a_record_is_skipped_not_fatal(two_processes):
    writer, reader = two_processes
    writer.record("a", "f", 1, {"n": "a"})
    with open(writer.path + ".journal", "ab") as journal:
        journal.write(b'{"not": "an entry"}\n["r", "x"]\n["s", 5]\n\xff\n')
    writer.record("b", "f", 2, {"n": "b"})
    assert [r["n"] for r in reader.records("f")] == ["a", "b"]


def test_a_record_reads_back_as_written_whatever_bytes_it_holds(two_processes):
    """A record's data is kept in marshal's bytes, which may hold the newline that ends every
    other journal line (a 10-character string's length byte is one): it is taken by its size
    and read back exact, tuples included (as threads mode keeps them)."""
    writer, reader = two_processes
    data = {
        "body": "line\nnext\x01\x02\x01\x03\\n\r\n",
        "ten": "0123456789",
        "values": (("code", "c\n1"),),
        "n": 10,
        "none": None,
        "nested": {"\n": [1.5, "\x01"]},
    }
    writer.record("a", "f", 1, data)
    writer.record("b", "f", 2, {"after": "it"})
    assert reader.records("f") == [{**data, "sender_ms": None}, {"after": "it", "sender_ms": None}]


def test_a_record_line_cut_short_is_skipped_and_the_lines_after_it_are_read(two_processes):
    """A process killed while appending a record leaves its line cut short; the lines other
    processes append after it are still read in (those it runs into may be lost)."""
    writer, reader = two_processes
    writer.record("a", "f", 1, {"n": "a"})
    with open(writer.path + ".journal", "ab") as journal:
        journal.write(b'["r", "cut", "f", 2, [], 3000]\t' + b"\x00\n\xff" * 30)
    for n, name in enumerate("bcdefgh", 3):
        writer.record(name, "f", n, {"n": name, "pad": "p\n" * 400})
    names = [r["n"] for r in reader.records("f")]
    assert names[0] == "a" and names[-2:] == ["g", "h"]
    assert set(names) <= set("abcdefgh")


def test_a_long_value_is_still_cut_in_the_store(two_processes):
    writer, reader = two_processes
    writer.record("a", "f", 1, {"url": "u" * 10_000, "n": "a"})
    (record,) = reader.records("f")
    assert len(record["url"]) < 4200 and "more characters not kept" in record["url"]


def test_every_change_by_any_thread_of_any_process_moves_the_version(tmp_path):
    """A cache kept until the version moves must never miss a change: changes made at once
    by threads of two processes each count."""
    path = str(tmp_path / "trace.sqlite")
    stores = [TraceStore(path, live=True), TraceStore(path, live=True)]

    def change(store: TraceStore) -> None:
        for i in range(200):
            store.record(f"{id(store)}-{threading.get_ident()}-{i}", "f", i, {}, links=(f"v{i}",))

    threads = [threading.Thread(target=change, args=(s,)) for s in stores for _ in range(2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as on a busy server
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert stores[0]._version() == stores[1]._version() == 800
    for store in stores:
        store.close()
