"""A refusal carries a reason code (`sim.reasons`) that the teaching layer looks up: the step
note follows the code the party named, never a sentence of the page or error description."""

from __future__ import annotations

import json

import pytest

from sim import reasons
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from sim.reasons import REASON_HEADER
from sim.teaching.explain import annotate
from sim.tracing import Event

REPLAY = {"error": "invalid_grant", "error_description": "This code was already used."}


def replay(headers: dict[str, str], body: dict) -> Event:
    return Event(
        seq=1,
        sender=ATTACKER,
        to=AUTHORIZATION_SERVER,
        method="POST",
        url="http://127.0.0.1:9001/token",
        status=400,
        location=None,
        kind="back-channel",
        request_body="grant_type=authorization_code&code=abc",
        response_body=json.dumps(body),
        response_headers=headers,
    )


def test_the_note_follows_the_reason_code_not_the_wording():
    by_code = annotate(replay({REASON_HEADER: reasons.CODE_REUSED}, {"error": "invalid_grant"}))
    by_words = annotate(replay({}, REPLAY))
    assert by_code[0].startswith("Replay refused")
    assert not by_words[0].startswith("Replay refused")  # the same sentence, but no code


@pytest.mark.parametrize(
    ("name", "sender", "path", "code"),
    [
        ("code-replay", ATTACKER, "/token", reasons.CODE_REUSED),
        ("code-interception", ATTACKER, "/token", reasons.PKCE_VERIFIER_MISSING),
        ("pkce-downgrade", CLIENT, "/token", reasons.PKCE_DOWNGRADE),
        ("refresh-token-reuse", ATTACKER, "/token", reasons.REFRESH_TOKEN_REUSED),
        ("csrf-state", USER_AGENT, "/callback", reasons.STATE_MISMATCH),
        ("mix-up", USER_AGENT, "/callback", reasons.ISS_MISMATCH),
    ],
)
def test_each_refusal_names_its_check(sim, name, sender, path, code):
    result = sim.run(name)
    refused = next(e for e in result.trace.events if e.seq == result.outcome["refused_at"])
    assert (refused.sender, refused.path.split("?")[0]) == (sender, path)
    assert refused.response_headers.get(REASON_HEADER) == code


def test_a_token_for_another_api_names_the_audience_check(sim):
    result = sim.run("client-credentials")
    refused = next(e for e in result.trace.events if e.status == 401)
    assert refused.response_headers.get(REASON_HEADER) == reasons.WRONG_AUDIENCE
