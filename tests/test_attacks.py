"""Attack scenarios over real loopback HTTP: each one with its defence on (the attack fails,
and the trace shows the refusal) and off for that run only (the attack succeeds), plus the
attacker's own server."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from click.testing import CliRunner

from sim import Simulation
from sim.cli import main
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER, USER_AGENT
from sim.scenarios import SCENARIOS

ATTACKS = (
    "csrf-state",
    "code-interception",
    "redirect-uri-tampering",
    "code-replay",
    "refresh-token-reuse",
    "pkce-downgrade",
    "mix-up",
)


@pytest.fixture(scope="module")
def sim():
    with Simulation() as simulation:
        yield simulation


@pytest.fixture(scope="module")
def results(sim):
    """Every attack, both ways, run once for the whole module."""
    return {(n, insecure): sim.run(n, insecure=insecure) for n in ATTACKS for insecure in (0, 1)}


def events(result, sender=None, to=None, method=None, path=None):
    return [
        e
        for e in result.trace.events
        if (sender is None or e.sender == sender)
        and (to is None or e.to == to)
        and (method is None or e.method == method)
        and (path is None or urlsplit(e.url).path == path)
    ]


def one(result, **where):
    found = events(result, **where)
    assert found, f"no event {where}"
    return found[0]


def params(url: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url or "").query).items()}


def test_every_attack_is_registered_with_a_defence():
    for name in ATTACKS:
        scenario = SCENARIOS[name]
        assert scenario.defence and scenario.defence_text and scenario.rfc


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("insecure", [False, True], ids=["defence-on", "defence-off"])
def test_outcome_and_marker(results, name, insecure):
    result = results[(name, insecure)]
    outcome = result.outcome
    assert outcome["attack_succeeded"] is insecure
    assert isinstance(outcome["defence"], str) and outcome["defence"].endswith(".")
    assert outcome["rfc"] and "RFC" in outcome["rfc"]
    assert "_marks" not in outcome
    json.dumps(result.to_dict())  # the contract JSON, nothing unserialisable
    marked = [e for e in result.trace.events if e.defence]
    assert marked, "the step where the defence acted is marked"
    for event in marked:
        assert event.defence.startswith("OFF: ") is insecure
        assert event.note and event.rfc  # explained, with its RFC
    assert ATTACKER in result.trace.parties
    assert result.trace.title.endswith("(defence off)") is insecure


def test_csrf_state(results):
    on, off = results[("csrf-state", 0)], results[("csrf-state", 1)]
    for result in (on, off):
        # The attacker's own login as bob stops before the callback: no client call by it.
        assert not events(result, sender=ATTACKER, path="/callback")
        assert one(result, sender=USER_AGENT, to=ATTACKER, path="/go").status == 302
    callback = one(on, sender=USER_AGENT, to=CLIENT, path="/callback")
    assert callback.status == 400 and "state does not match" in callback.response_body
    assert callback.defence
    assert not events(on, sender=CLIENT, to=AUTHORIZATION_SERVER, path="/token")
    assert on.outcome["victim_logged_in_as"] is None
    callback = one(off, sender=USER_AGENT, to=CLIENT, path="/callback")
    assert callback.status == 302 and callback.location == "/"
    assert one(off, sender=CLIENT, to=AUTHORIZATION_SERVER, path="/token").status == 200
    assert off.outcome["victim_logged_in_as"] == "bob"


def test_code_interception(results):
    on, off = results[("code-interception", 0)], results[("code-interception", 1)]
    for result, challenge in ((on, True), (off, False)):
        first = one(result, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/authorize")
        assert ("code_challenge" in params(first.url)) is challenge
        leak = one(result, sender=USER_AGENT, to=ATTACKER, path="/spa/callback")
        assert params(leak.url)["code"]
    token = one(on, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert token.status == 400 and json.loads(token.response_body)["error"] == "invalid_grant"
    assert token.defence
    assert not events(on, sender=ATTACKER, to=RESOURCE_SERVER)
    token = one(off, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert token.status == 200 and token.defence.startswith("OFF")
    assert one(off, sender=ATTACKER, to=RESOURCE_SERVER, path="/api/profile").status == 200
    assert off.outcome["attacker_read_profile_of"] == "alice"


def test_redirect_uri_tampering(results):
    on, off = results[("redirect-uri-tampering", 0)], results[("redirect-uri-tampering", 1)]
    probes = events(on, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/authorize")
    assert len(probes) == 5
    assert all(p.status == 400 and p.location is None for p in probes)
    victim = one(on, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/authorize")
    assert victim.status == 400 and victim.location is None and victim.defence
    assert "invalid_request" in victim.response_body or "redirect" in victim.response_body
    assert not any(params(e.url).get("code") for e in events(on, to=ATTACKER))
    assert set(on.outcome["probes"].values()) == {400}
    # Prefix matching: the userinfo trick passes, other ports and hosts still do not.
    assert off.outcome["probes"]["prefix + userinfo"] == 302
    assert off.outcome["probes"]["other port"] == 400
    assert off.outcome["probes"]["other host"] == 400
    approve = one(off, sender=USER_AGENT, to=AUTHORIZATION_SERVER, method="POST", path="/authorize")
    assert approve.status == 302 and "@" in approve.location
    steal = one(off, sender=USER_AGENT, to=ATTACKER, path="/steal")
    assert params(steal.url)["code"]
    assert one(off, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token").status == 200
    assert off.outcome["attacker_read_profile_of"] == "alice"


def test_code_replay(results):
    on, off = results[("code-replay", 0)], results[("code-replay", 1)]
    for result in (on, off):
        tokens = events(result, to=AUTHORIZATION_SERVER, path="/token")
        assert [e.sender for e in tokens] == [CLIENT, ATTACKER]
        # Byte for byte the same request, sent again.
        assert tokens[0].request_body == tokens[1].request_body
    replay = one(on, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    body = json.loads(replay.response_body)
    assert replay.status == 400 and body["error"] == "invalid_grant"
    assert "already used" in body["error_description"]
    # The tokens issued from the code are revoked: alice's next page gets 401 from the API.
    after = events(on, sender=CLIENT, to=RESOURCE_SERVER, path="/api/profile")
    assert [e.status for e in after] == [200, 401]
    assert on.outcome["victim_session_still_works"] is False
    replay = one(off, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert replay.status == 200 and "access_token" in replay.response_body
    assert one(off, sender=ATTACKER, to=RESOURCE_SERVER).status == 200


def test_refresh_token_reuse(results):
    on, off = results[("refresh-token-reuse", 0)], results[("refresh-token-reuse", 1)]
    for result in (on, off):
        steal = one(result, sender=USER_AGENT, to=ATTACKER, path="/steal")
        assert params(steal.url)["refresh_token"]
    attacker = events(on, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in attacker] == [400]
    assert json.loads(attacker[0].response_body)["error"] == "invalid_grant"
    # The legitimate SPA is logged out too: its access token and its new refresh token die.
    assert one(on, sender=USER_AGENT, to=RESOURCE_SERVER).status == 401
    spa_tokens = events(on, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in spa_tokens] == [200, 200, 400]
    assert on.outcome["legitimate_client_logged_out"] is True
    assert "trade_off" in on.outcome
    attacker = events(off, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in attacker] == [200, 200, 200]
    assert off.outcome["rotated"] is False
    assert off.outcome["legitimate_client_logged_out"] is False


def test_pkce_downgrade(results):
    on, off = results[("pkce-downgrade", 0)], results[("pkce-downgrade", 1)]
    refused = events(on, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/authorize")
    assert len(refused) == 2
    for event in refused:
        answer = params(event.location)
        assert event.status == 302 and answer["error"] == "invalid_request"
        assert "code" not in answer and answer["iss"] and answer["state"]
        assert event.defence
    assert "code_challenge" not in params(refused[0].url)
    assert params(refused[1].url)["code_challenge_method"] == "plain"
    assert not events(on, sender=ATTACKER)
    tokens = events(off, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in tokens] == [200, 200]
    assert "code_verifier" not in params("?" + tokens[0].request_body)
    # With `plain`, the verifier is the challenge that travelled in the URL.
    plain = next(e for e in events(off, to=AUTHORIZATION_SERVER) if "plain" in e.url)
    verifier = params("?" + tokens[1].request_body)["code_verifier"]
    assert verifier == params(plain.url)["code_challenge"]


def test_mix_up(results, sim):
    on, off = results[("mix-up", 0)], results[("mix-up", 1)]
    for result in (on, off):
        login = one(result, sender=USER_AGENT, to=CLIENT, path="/login")
        assert login.location.startswith(sim.attacker_url + "/authorize")
        forward = one(result, sender=USER_AGENT, to=ATTACKER, path="/authorize")
        assert forward.location.startswith(sim.authorization_server_url + "/authorize")
        assert params(forward.location)["client_id"] == "demo-client"
        callback = one(result, sender=USER_AGENT, to=CLIENT, path="/callback")
        assert params(callback.url)["iss"] == sim.authorization_server_url
    callback = one(on, sender=USER_AGENT, to=CLIENT, path="/callback")
    assert callback.status == 400 and "wrong issuer" in callback.response_body
    assert not events(on, sender=CLIENT, to=ATTACKER)
    assert not events(on, sender=CLIENT, path="/token")
    code = params(one(off, sender=USER_AGENT, to=CLIENT, path="/callback").url)["code"]
    leak = one(off, sender=CLIENT, to=ATTACKER, method="POST", path="/token")
    assert params("?" + leak.request_body)["code"] == code
    assert off.outcome["leaked"] == ["code", "code_verifier"]


def test_defence_off_is_per_run(sim):
    """Concurrent runs, one insecure and one not: each sees only its own switch."""
    out = {}

    def play(insecure: bool) -> None:
        out[insecure] = sim.run("pkce-downgrade", insecure=insecure)

    threads = [threading.Thread(target=play, args=(flag,)) for flag in (True, False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert out[True].outcome["attack_succeeded"] is True
    assert out[False].outcome["attack_succeeded"] is False
    exchanges = [{e.exchange for e in out[flag].trace} for flag in (True, False)]
    assert not exchanges[0] & exchanges[1]


def test_attacker_server(sim):
    assert requests.get(sim.attacker_url + "/healthz", timeout=5).json()["party"] == ATTACKER
    page = requests.get(sim.attacker_url + "/go", params={"to": "javascript:alert(1)"}, timeout=5)
    assert page.status_code == 200 and "javascript" not in page.text
    assert requests.get(sim.attacker_url + "/loot", timeout=5).json() == {"loot": []}


def test_client_refuses_unknown_authorization_server(sim):
    answer = requests.get(sim.client_url + "/login", params={"as": "nope"}, timeout=5)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_cli_compare_json():
    result = CliRunner().invoke(main, ["run", "csrf-state", "--compare", "--json"])
    assert result.exit_code == 0, result.output
    secure, insecure = json.loads(result.output)
    assert secure["insecure"] is False and secure["outcome"]["attack_succeeded"] is False
    assert insecure["insecure"] is True and insecure["outcome"]["attack_succeeded"] is True
    assert any(e["from"] == ATTACKER for e in insecure["events"])


def test_attacker_port_follows_port_base():
    from tests.conftest import free_port_base  # noqa: PLC0415

    base = free_port_base()
    try:
        simulation = Simulation(port_base=base).start()
    except OSError:
        pytest.skip("a port in the range is taken")
    try:
        assert simulation.attacker_url == f"http://127.0.0.1:{base + 3}"
        assert simulation.client_url == f"http://127.0.0.1:{base}"
    finally:
        simulation.stop()


NOTES_ON_MARKED_STEP = {
    "csrf-state": "Login CSRF refused",
    "code-interception": "no code_verifier",
    "redirect-uri-tampering": "error page, not a redirect",
    "code-replay": "Replay refused",
    "refresh-token-reuse": "Reuse detected",
    "pkce-downgrade": "PKCE is enforced",
    "mix-up": "Mix-up refused",
}


@pytest.mark.parametrize("name", ATTACKS)
def test_marked_step_is_explained(results, name):
    marked = next(e for e in results[(name, False)].trace.events if e.defence)
    assert NOTES_ON_MARKED_STEP[name] in marked.note


def test_process_mode_runs_the_attacker_too():
    with Simulation(mode="process") as simulation:
        assert requests.get(simulation.attacker_url + "/healthz", timeout=5).ok
        assert simulation.run("mix-up").outcome["attack_succeeded"] is False
        result = simulation.run("mix-up", insecure=True)
    assert result.outcome["attack_succeeded"] is True
    assert one(result, sender=CLIENT, to=ATTACKER, path="/token").status == 400
