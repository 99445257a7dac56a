"""Attack scenarios over real loopback HTTP: every defence on (the attack is refused, and the
outcome names the defence and the refused step), each switched off alone or all together
(the attack succeeds, and the outcome points at the step that proves it)."""

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
from sim.tracing.jwt import decode_unverified

#: The contract (ARCHITECTURE.md, "Defences and attack outcomes"), in the order met.
DEFENCES = {
    "csrf-state": ["state", "pkce"],
    "code-injection": ["pkce", "nonce"],
    "code-interception": ["pkce"],
    "redirect-uri-tampering": ["exact-redirect-uri"],
    "code-replay": ["one-time-code"],
    "refresh-token-reuse": ["refresh-rotation"],
    "pkce-downgrade": ["pkce-downgrade"],
    "mix-up": ["iss"],
}
ATTACKS = tuple(DEFENCES)
OUTCOME_KEYS = {
    "attack_succeeded",
    "defence",
    "defences_off",
    "stopped_by",
    "refused_at",
    "evidence",
}


@pytest.fixture(scope="module")
def results(sim):
    """Every attack with all defences on and all off, run once for the whole module."""
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


def at(result, seq):
    return next(e for e in result.trace.events if e.seq == seq)


def params(url: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url or "").query).items()}


def test_every_attack_lists_its_defences_as_the_contract_names_them():
    attacks = {n: list(s.defences) for n, s in SCENARIOS.items() if s.kind == "attack"}
    for name, defences in DEFENCES.items():
        assert attacks[name] == defences


@pytest.mark.parametrize("name", ATTACKS)
def test_all_defences_on_the_first_one_met_refuses(results, name):
    outcome = results[(name, 0)].outcome
    assert OUTCOME_KEYS <= set(outcome)
    assert outcome["attack_succeeded"] is False and outcome["evidence"] is None
    assert outcome["defences_off"] == []
    assert outcome["stopped_by"] == DEFENCES[name][0]
    refused = at(results[(name, 0)], outcome["refused_at"])
    assert refused.status >= 400
    assert refused.defence.startswith(DEFENCES[name][0] + ":")
    assert refused.note and refused.rfc  # the step table explains the refusal
    json.dumps(results[(name, 0)].to_dict())


@pytest.mark.parametrize("name", ATTACKS)
def test_all_defences_off_the_evidence_is_a_2xx_step(results, name):
    result = results[(name, 1)]
    outcome = result.outcome
    assert outcome["attack_succeeded"] is True
    assert outcome["defences_off"] == DEFENCES[name]
    assert outcome["stopped_by"] is None and outcome["refused_at"] is None
    proof = at(result, outcome["evidence"])
    assert 200 <= proof.status < 300 and "evidence" in proof.defence
    assert any(e.defence and e.defence.startswith("OFF (") for e in result.trace.events)
    assert result.insecure and result.trace.title.endswith("off)")


def test_csrf_state_with_state_off_is_stopped_by_pkce(sim):
    """Lesson 1: the client binds the verifier to the browser session, so PKCE stops login
    CSRF too (RFC 9700 §4.7.1). With verifiers kept by state, this attack succeeded."""
    result = sim.run("csrf-state", off=["state"])
    outcome = result.outcome
    assert outcome["attack_succeeded"] is False
    assert outcome["stopped_by"] == "pkce"
    token = at(result, outcome["refused_at"])
    assert (token.sender, token.to, urlsplit(token.url).path) == (
        CLIENT,
        AUTHORIZATION_SERVER,
        "/token",
    )
    assert token.status == 400 and json.loads(token.response_body)["error"] == "invalid_grant"
    # The attacker's login carried a challenge; alice's browser had no verifier to send.
    assert "code_challenge" in params(one(result, sender=ATTACKER, path="/authorize").url)
    assert "code_verifier" not in parse_qs(token.request_body)
    assert outcome["victim_logged_in_as"] is None


def test_csrf_state_with_state_and_pkce_off_succeeds(sim):
    result = sim.run("csrf-state", off=["state", "pkce"])
    assert result.outcome["attack_succeeded"] is True
    assert result.outcome["victim_logged_in_as"] == "bob"
    proof = at(result, result.outcome["evidence"])
    assert (proof.sender, proof.to, proof.status) == (USER_AGENT, CLIENT, 200)
    assert "Scoop the digger" in proof.response_body


def test_csrf_state_pkce_off_alone_is_still_stopped_by_state(sim):
    outcome = sim.run("csrf-state", off=["pkce"]).outcome
    assert outcome["attack_succeeded"] is False and outcome["stopped_by"] == "state"


def test_csrf_state_refusal_is_at_the_callback(results):
    on = results[("csrf-state", 0)]
    callback = at(on, on.outcome["refused_at"])
    assert (callback.sender, callback.to, urlsplit(callback.url).path) == (
        USER_AGENT,
        CLIENT,
        "/callback",
    )
    assert not events(on, sender=CLIENT, to=AUTHORIZATION_SERVER, path="/token")
    # The attacker's own login stops before the callback; a page of theirs sends alice on.
    assert not events(on, sender=ATTACKER, path="/callback")
    assert one(on, sender=USER_AGENT, to=ATTACKER, path="/go").status == 302


def test_code_interception(results):
    """RFC 7636 §1 as told: the redirect goes to a native app's private-use URI scheme, which no
    browser loads over HTTP; the OS hand-over to the malicious app is a labelled simulation."""
    on, off = results[("code-interception", 0)], results[("code-interception", 1)]
    for result, challenge in ((on, True), (off, False)):
        first = one(result, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/authorize")
        assert params(first.url)["client_id"] == "demo-native"
        assert ("code_challenge" in params(first.url)) is challenge
        response = one(result, sender=USER_AGENT, method="POST", path="/authorize")
        assert response.location.startswith("com.example.photoprinter:/callback?")
        # The browser delivers nothing over HTTP to a web origin for that redirect: the code
        # reaches the attacker only through the drawn, labelled stand-in for the OS.
        assert not events(result, to=CLIENT)
        leak = one(result, sender=USER_AGENT, to=ATTACKER, path="/simulated-os-dispatch")
        assert params(leak.url)["code"] == params(response.location)["code"]
        assert leak.note.startswith("Simulated OS dispatch")
        redeem = one(result, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
        assert "code_verifier" not in parse_qs(redeem.request_body)
    token = at(on, on.outcome["refused_at"])
    assert token.sender == ATTACKER and json.loads(token.response_body)["error"] == "invalid_grant"
    assert not events(on, sender=ATTACKER, to=RESOURCE_SERVER)
    proof = at(off, off.outcome["evidence"])
    assert (proof.sender, proof.to) == (ATTACKER, RESOURCE_SERVER)
    assert json.loads(proof.response_body)["username"] == "alice"
    assert "redirect_uri" not in SCENARIOS["code-interception"].description


def test_redirect_uri_tampering(results):
    on, off = results[("redirect-uri-tampering", 0)], results[("redirect-uri-tampering", 1)]
    probes = events(on, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/authorize")
    assert len(probes) == 5
    assert all(p.status == 400 and p.location is None for p in probes)
    victim = at(on, on.outcome["refused_at"])
    assert victim.sender == USER_AGENT and victim.status == 400 and victim.location is None
    assert not any(params(e.url).get("code") for e in events(on, to=ATTACKER))
    assert set(on.outcome["probes"].values()) == {400}
    # Prefix matching: the userinfo trick passes, other ports and hosts still do not.
    assert off.outcome["probes"]["prefix + userinfo"] == 302
    assert off.outcome["probes"]["other port"] == 400
    assert off.outcome["probes"]["other host"] == 400
    approve = one(off, sender=USER_AGENT, to=AUTHORIZATION_SERVER, method="POST", path="/authorize")
    assert approve.status == 302 and "@" in approve.location
    assert params(one(off, sender=USER_AGENT, to=ATTACKER, path="/steal").url)["code"]
    assert at(off, off.outcome["evidence"]).to == RESOURCE_SERVER


def test_code_replay_leak_is_modelled_and_drawn(results):
    on, off = results[("code-replay", 0)], results[("code-replay", 1)]
    for result in (on, off):
        # The client's token request reaches the attacker only as a shipped log line.
        leak = one(result, sender=CLIENT, to=ATTACKER, method="POST", path="/log")
        tokens = [
            e
            for e in events(result, to=AUTHORIZATION_SERVER, path="/token")
            if parse_qs(e.request_body)["grant_type"] == ["authorization_code"]
        ]
        assert [e.sender for e in tokens] == [CLIENT, ATTACKER]
        assert tokens[0].request_body == tokens[1].request_body
        # What leaked: the code, the verifier and the client's own credentials (Basic).
        assert tokens[1].request_headers["Authorization"].startswith("Basic ")
        assert {"code", "code_verifier"} <= set(parse_qs(tokens[1].request_body))
        assert "client's own credentials" in leak.note
        assert parse_qs(leak.request_body)["body"] == [tokens[0].request_body]
        assert result.outcome["leaked"] == ["code", "code_verifier", "client credentials"]
    replay = at(on, on.outcome["refused_at"])
    assert "already used" in json.loads(replay.response_body)["error_description"]
    # The tokens issued from the code are revoked: alice's next page gets 401 from the API.
    after = events(on, sender=CLIENT, to=RESOURCE_SERVER, path="/api/profile")
    assert [e.status for e in after] == [200, 401]
    # ... and the client's refresh token with them: the client ends alice's session.
    refreshes = [
        e
        for e in events(on, sender=CLIENT, to=AUTHORIZATION_SERVER, path="/token")
        if parse_qs(e.request_body)["grant_type"] == ["refresh_token"]
    ]
    assert [json.loads(e.response_body)["error"] for e in refreshes] == ["invalid_grant"]
    assert on.outcome["victim_session_still_works"] is False
    # The note quotes RFC 9700 §4.2.4 on what one-time use cannot do.
    assert "before the legitimate client does so" in replay.note
    assert "§4.2.4" in replay.rfc
    assert at(off, off.outcome["evidence"]).sender == ATTACKER


def test_refresh_token_reuse(results):
    on, off = results[("refresh-token-reuse", 0)], results[("refresh-token-reuse", 1)]
    for result in (on, off):
        assert params(one(result, sender=USER_AGENT, to=ATTACKER, path="/steal").url)[
            "refresh_token"
        ]
    attacker = events(on, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in attacker] == [400]
    assert json.loads(attacker[0].response_body)["error"] == "invalid_grant"
    # The legitimate SPA is logged out too: its access token and its new refresh token die.
    assert one(on, sender=USER_AGENT, to=RESOURCE_SERVER).status == 401
    spa_tokens = events(on, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in spa_tokens] == [200, 200, 400]
    assert on.outcome["legitimate_client_logged_out"] is True
    attacker = events(off, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/token")
    assert [e.status for e in attacker] == [200, 200, 200]
    assert off.outcome["rotated"] is False


def test_pkce_downgrade_is_rfc_9700_4_8_1(results):
    """Lesson 3: the attacker strips the challenge from their OWN request; the code is
    injected into alice's session at a client that does not check state; the token endpoint
    refuses a verifier for a code issued without a challenge (RFC 9700 §4.8.2)."""
    on, off = results[("pkce-downgrade", 0)], results[("pkce-downgrade", 1)]
    for result in (on, off):
        own = one(result, sender=ATTACKER, to=AUTHORIZATION_SERVER, path="/authorize")
        assert "code_challenge" not in params(own.url)
        alices = one(result, sender=USER_AGENT, to=AUTHORIZATION_SERVER, path="/authorize")
        assert "code_challenge" in params(alices.url)  # the victim's client uses PKCE
    token = at(on, on.outcome["refused_at"])
    assert (token.sender, token.to) == (CLIENT, AUTHORIZATION_SERVER)
    assert parse_qs(token.request_body)["code_verifier"]  # alice's verifier
    answer = json.loads(token.response_body)
    assert answer["error"] == "invalid_grant" and "4.8.2" in answer["error_description"]
    assert off.outcome["victim_logged_in_as"] == "bob"


def test_mix_up_runs_to_the_end(results, sim):
    """Lesson 5: success means the attacker sees alice's data, not merely holds a code."""
    on, off = results[("mix-up", 0)], results[("mix-up", 1)]
    for result in (on, off):
        login = one(result, sender=USER_AGENT, to=CLIENT, path="/login")
        assert login.location.startswith(sim.attacker_url + "/authorize")
        forward = one(result, sender=USER_AGENT, to=ATTACKER, path="/authorize")
        assert forward.location.startswith(sim.authorization_server_url + "/authorize")
        # The attacker's server swapped in the challenge of the attacker's own login.
        own = one(result, sender=ATTACKER, to=CLIENT, path="/login")
        swapped = params(own.location)["code_challenge"]
        assert params(forward.location)["code_challenge"] == swapped
        assert params(forward.url)["code_challenge"] != swapped
    refused = at(on, on.outcome["refused_at"])
    assert refused.status == 400 and urlsplit(refused.url).path == "/callback"
    assert not events(on, sender=CLIENT, to=ATTACKER)
    code = params(one(off, sender=USER_AGENT, to=CLIENT, path="/callback").url)["code"]
    leak = one(off, sender=CLIENT, to=ATTACKER, method="POST", path="/token")
    assert parse_qs(leak.request_body)["code"] == [code]
    injected = one(off, sender=ATTACKER, to=CLIENT, path="/callback")
    assert params(injected.url)["code"] == code
    proof = at(off, off.outcome["evidence"])
    assert (proof.sender, proof.to) == (ATTACKER, CLIENT) and "Tea party" in proof.response_body


def test_defence_off_is_per_run(sim):
    """Concurrent runs, one with the defence off and one not: each sees only its own."""
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


def test_switches_end_with_the_flow_and_stay_out_of_the_trace_store(sim):
    result = sim.run("code-interception", off=["pkce"])
    assert sim.switches.get(result.flow) == {}
    assert not hasattr(sim.store, "flow_options") or sim.store.flow_options(result.flow) == {}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_runs_without_tracing(untraced, name):
    """No scenario reads a code, token or secret from the trace store: with no store at all,
    attacks still play out (and still fail with their defences on)."""
    result = untraced.run(name)
    assert result.trace.events == []
    if SCENARIOS[name].kind == "attack":
        assert result.outcome["attack_succeeded"] is False
        assert untraced.run(name, insecure=True).outcome["attack_succeeded"] is True


@pytest.fixture(scope="module")
def untraced():
    with Simulation(tracing=False) as simulation:
        yield simulation


def test_attacker_is_another_site(sim, results):
    """The attacker listens on `localhost`, the victims on 127.0.0.1: no victim cookie ever
    reaches it (a browser keeps cookies per host name)."""
    assert urlsplit(sim.attacker_url).hostname == "localhost"
    for name in ATTACKS:
        for event in events(results[(name, 1)], sender=USER_AGENT, to=ATTACKER):
            assert "Cookie" not in event.request_headers


def test_attacker_server(sim):
    assert requests.get(sim.attacker_url + "/healthz", timeout=5).json()["party"] == ATTACKER
    page = requests.get(sim.attacker_url + "/go", params={"to": "javascript:alert(1)"}, timeout=5)
    assert page.status_code == 200 and "javascript" not in page.text
    assert requests.get(sim.attacker_url + "/loot", timeout=5).json() == {"loot": []}


def test_client_refuses_unknown_authorization_server(sim):
    answer = requests.get(sim.client_url + "/login", params={"as": "nope"}, timeout=5)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_cli_off_unknown_defence_names_the_scenarios_defences():
    result = CliRunner().invoke(main, ["run", "csrf-state", "--off", "iss"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "state, pkce" in lines[0] and "'iss'" in lines[0]


def test_cli_off_is_repeatable_and_json_carries_the_outcome():
    args = ["run", "csrf-state", "--off", "state", "--off", "pkce", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["insecure"] is True
    assert data["outcome"]["defences_off"] == ["state", "pkce"]
    assert data["outcome"]["attack_succeeded"] is True
    assert any(e["from"] == ATTACKER for e in data["events"])


def test_cli_scenarios_json():
    result = CliRunner().invoke(main, ["scenarios", "--json"])
    assert result.exit_code == 0, result.output
    entries = {e["name"]: e for e in json.loads(result.output)}
    assert set(entries) == set(SCENARIOS)
    for entry in entries.values():
        assert set(entry) == {"name", "kind", "description", "defences"}
    assert entries["happy-path"]["kind"] == "flow" and entries["happy-path"]["defences"] == []
    for name, defences in DEFENCES.items():
        assert entries[name]["kind"] == "attack" and entries[name]["defences"] == defences


def test_cli_compare_json():
    result = CliRunner().invoke(main, ["run", "csrf-state", "--compare", "--json"])
    assert result.exit_code == 0, result.output
    secure, insecure = json.loads(result.output)
    assert secure["insecure"] is False and secure["outcome"]["attack_succeeded"] is False
    assert insecure["insecure"] is True and insecure["outcome"]["attack_succeeded"] is True


def test_attacker_port_follows_port_base():
    from tests.conftest import free_port_base  # noqa: PLC0415

    base = free_port_base()
    try:
        simulation = Simulation(port_base=base).start()
    except OSError:
        pytest.skip("a port in the range is taken")
    try:
        assert simulation.attacker_url == f"http://localhost:{base + 3}"
        assert simulation.client_url == f"http://127.0.0.1:{base}"
    finally:
        simulation.stop()


def test_process_mode_runs_the_attacker_too():
    with Simulation(mode="process") as simulation:
        assert requests.get(simulation.attacker_url + "/healthz", timeout=5).ok
        assert simulation.run("mix-up").outcome["attack_succeeded"] is False
        result = simulation.run("mix-up", insecure=True)
    assert result.outcome["attack_succeeded"] is True
    assert one(result, sender=CLIENT, to=ATTACKER, path="/token").status == 400


def test_the_browsers_script_calls_are_browser_calls_never_back_channel(sim):
    """Lesson 6: the SPA's fetch to /token (and its preflights, its API calls) is the
    browser's JavaScript with CORS, not a server-to-server call."""
    trace = sim.run("public-client-pkce").trace
    token = one(sim.run("public-client-pkce"), sender=USER_AGENT, path="/token")
    assert token.kind == "browser-call"
    api = [e for e in trace.events if e.sender == USER_AGENT and e.to == RESOURCE_SERVER]
    assert api and all(e.kind == "browser-call" for e in api)
    for result in (trace, sim.run("refresh-token-reuse").trace):
        back = [e for e in result.events if e.kind == "back-channel"]
        assert back and all(e.sender != USER_AGENT for e in back)
    login = one(sim.run("happy-path"), sender=USER_AGENT, path="/login")
    assert login.kind == "redirect"


def test_code_injection_is_rfc_9700_4_5(results):
    """Lesson 2: a stolen code injected into the attacker's own session at the confidential
    client; the client secret does not stop it, PKCE does."""
    on, off = results[("code-injection", 0)], results[("code-injection", 1)]
    for result in (on, off):
        leak = one(result, sender=USER_AGENT, to=ATTACKER, path="/steal")
        injected = one(result, sender=ATTACKER, to=CLIENT, path="/callback")
        assert params(injected.url)["code"] == params(leak.url)["code"]
        # The victim's browser never delivered the code: only the attacker's session did.
        assert not events(result, sender=USER_AGENT, to=CLIENT, path="/callback")
        assert "leak" in at(result, leak.seq).note or "extension" in leak.note
    token = at(on, on.outcome["refused_at"])
    assert (token.sender, token.to) == (CLIENT, AUTHORIZATION_SERVER)
    assert "Authorization" in token.request_headers  # the client authenticated: no help
    assert json.loads(token.response_body)["error"] == "invalid_grant"
    proof = at(off, off.outcome["evidence"])
    assert (proof.sender, proof.to) == (ATTACKER, CLIENT) and "Tea party" in proof.response_body


def test_code_injection_without_pkce_is_stopped_by_the_nonce(sim):
    """RFC 9700 §4.5.3.2: an OpenID Connect client that checks the ID token's nonce against
    its session's detects the injected code even without PKCE, and uses none of the tokens."""
    result = sim.run("code-injection", off=["pkce"])
    outcome = result.outcome
    assert outcome["attack_succeeded"] is False and outcome["stopped_by"] == "nonce"
    # Both logins asked for an ID token with a nonce of their own.
    victims, attackers = (
        params(one(result, sender=who, path="/authorize").url) for who in (USER_AGENT, ATTACKER)
    )
    assert "openid" in victims["scope"].split() and "openid" in attackers["scope"].split()
    assert victims["nonce"] != attackers["nonce"]
    assert "code_challenge" not in attackers  # no PKCE: the server issues alice's tokens
    token = one(result, sender=CLIENT, path="/token")
    assert token.status == 200
    id_token = json.loads(token.response_body)["id_token"]
    assert decode_unverified(id_token)["claims"]["nonce"] == victims["nonce"]
    refused = at(result, outcome["refused_at"])
    assert (refused.sender, refused.to, urlsplit(refused.url).path) == (
        ATTACKER,
        CLIENT,
        "/callback",
    )
    assert refused.status == 400 and "ID token is not valid" in refused.response_body
    assert refused.defence.startswith("nonce:")
    # The tokens are disregarded (§4.5.3.2): no UserInfo, no API call with them.
    assert not events(result, path="/userinfo") and not events(result, to=RESOURCE_SERVER)


def test_code_injection_with_the_nonce_off_alone_is_still_stopped_by_pkce(sim):
    outcome = sim.run("code-injection", off=["nonce"]).outcome
    assert outcome["attack_succeeded"] is False and outcome["stopped_by"] == "pkce"


def test_back_button_says_the_login_already_finished(sim):
    """Lesson 10: approving again after the Back button replays a spent state; the page says
    the login is over, not that an attacker is at work."""
    ua = sim.user_agent(sim.new_flow("back-button"))
    start = ua.get(sim.client_url + "/login")
    consent = ua.follow(start)
    consent = ua.submit(consent, {"username": "alice", "password": "wonderland"})
    home = ua.submit(consent, button="approve")
    assert "Tea party" in home.text
    again = ua.submit(consent, button="approve")  # the consent page, from history
    assert again.status_code == 400 and "already finished" in again.text
    assert "attacker" not in again.text
