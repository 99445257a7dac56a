"""The notebooks' helpers: the step table with text markers, and the protocol by hand."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sim.notebook import ByHand, steps_text


def test_step_table_spells_markers_out_and_stays_aligned(sim):
    text = steps_text(sim.run("csrf-state").trace.redacted())
    assert "[secrets] carries secrets" in text and "[defence] state: " in text
    assert "🔑" not in text and "🛡" not in text
    widths = {len(line) for line in text.splitlines() if line.strip()}
    assert len(widths) == 1, widths  # every row as wide as the table


def test_by_hand_flow_is_traced_with_the_right_senders(sim):
    hand = ByHand(sim, "test-by-hand")
    tokens = hand.tokens()
    assert hand.api("/api/profile", tokens["access_token"]).status_code == 200
    senders = [(e.sender, e.url.split("?")[0].rsplit("/", 1)[1]) for e in hand.trace().events]
    assert ("client", "token") in senders and ("resource-server", "introspect") in senders
    assert all(s == "user-agent" for s, path in senders if path in ("login", "authorize"))
    location = hand.authorize(None)  # no challenge: refused by redirect, no code
    assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]
