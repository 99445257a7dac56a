"""A stored exchange keeps no text over `MAX_VALUE`, wherever in the record it is."""

from __future__ import annotations

import pytest

from sim.tracing.limits import MAX_VALUE, cut_record
from sim.tracing.store import MemoryTraceStore

LONG = "v" * (MAX_VALUE + 10)


def record(**changes) -> dict:
    base = {
        "url": "http://127.0.0.1/cb?code=abc",
        "status": 302,
        "location": None,
        "duration_ms": 1.5,
        "request_headers": {"Host": "127.0.0.1", "Accept": "*/*"},
        "response_body": "short",
        "values": [("code", "abc", "query")],
    }
    return base | changes


@pytest.mark.parametrize(
    "changes, read",
    [
        ({"response_body": LONG}, lambda r: r["response_body"]),
        ({"request_headers": {"Cookie": LONG}}, lambda r: r["request_headers"]["Cookie"]),
        ({"values": [("code", "abc", "q"), ("token", LONG, "body")]}, lambda r: r["values"][1][1]),
        ({"nested": {"deeper": [{"x": LONG}]}}, lambda r: r["nested"]["deeper"][0]["x"]),
    ],
)
def test_a_long_text_anywhere_is_stored_cut_with_a_marker(changes, read):
    store = MemoryTraceStore()
    store.record("e1", "f1", 0, record(**changes))
    (stored,) = store.records("f1")
    assert read(stored).startswith("v" * MAX_VALUE)
    assert read(stored).endswith("[10 more characters not kept]")


def test_a_record_with_nothing_long_is_kept_as_it_was_in_a_copy():
    original = record()
    kept = cut_record(original)
    assert kept == original and kept is not original
    kept["status"] = 500
    assert original["status"] == 302


def test_a_body_the_middleware_cut_keeps_its_own_marker_of_the_bytes_lost():
    """Cut again, it would say only how long its marker was ("26 more characters")."""
    body = "b" * MAX_VALUE + "…[5000 more bytes not kept]"
    store = MemoryTraceStore()
    store.record("e1", "f1", 0, record(response_body=body, request_body="a" + body))
    (stored,) = store.records("f1")
    assert stored["response_body"] == body
    # a text whose marker is not where a cut one's is, is cut as any other
    lost = len(body) + 1 - MAX_VALUE
    assert (
        stored["request_body"]
        == "a" + body[: MAX_VALUE - 1] + f"…[{lost} more characters not kept]"
    )
