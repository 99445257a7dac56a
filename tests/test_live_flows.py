"""Live flows (contract "Flows in a live trace"): a real browser sends no flow header, yet
each login attempt is one flow, its back-channel and API calls included, and the live
trace carries headers and bodies, so the token request is explained as in `oauth-sim run`."""

from __future__ import annotations

import pytest
import requests

from sim import Simulation
from sim.parties import FLOW_HEADER, PARTY_HEADER
from sim.scenarios.base import log_in_and_consent
from sim.teaching.explain import annotate
from sim.teaching.trace_io import fetch_trace
from sim.tracing import live as live_flows
from sim.tracing.params import UrlParams
from sim.user_agent import UserAgent


@pytest.fixture(scope="module")
def live():
    with Simulation(live=True) as simulation:
        yield simulation


def real_browser() -> UserAgent:
    """The scripted browser without the simulator's headers: what a person's browser sends."""
    agent = UserAgent("unused")
    del agent.session.headers[PARTY_HEADER]
    del agent.session.headers[FLOW_HEADER]
    return agent


def log_in(live, agent: UserAgent, user: str = "alice", password: str = "wonderland"):
    start = agent.get(live.client_url + "/login")
    page = log_in_and_consent(agent, start, user, password)
    assert page.status_code == 200 and "Your photos" in page.text
    return page


def live_trace(live, flow: str | None = None) -> dict:
    response = requests.get(live.client_url + "/trace", params={"flow": flow or ""}, timeout=5)
    assert response.status_code == 200
    return response.json()


def flows_of(events: list[dict]) -> list[str]:
    return list(dict.fromkeys(e["flow"] for e in events))


def test_one_login_in_a_real_browser_is_one_flow_with_its_back_channel_calls(live):
    agent = real_browser()
    log_in(live, agent)
    before = {e["exchange"] for e in live_trace(live)["events"]}
    agent.get(live.client_url + "/")  # browsing after the login: not part of it
    events = live_trace(live)["events"]
    login_flows = [e["flow"] for e in events if e["url"].endswith("/login")]
    flow = login_flows[-1]
    mine = [e for e in events if e["flow"] == flow]
    paths = [
        (e["from"], e["to"], e["method"], e["url"].split("?")[0].split("/", 3)[-1]) for e in mine
    ]
    assert paths[0] == ("user-agent", "client", "GET", "login")
    assert ("client", "authorization-server", "POST", "token") in paths
    assert ("client", "resource-server", "GET", "api/photos") in paths
    assert ("resource-server", "authorization-server", "POST", "introspect") in paths
    assert mine[-1]["kind"] in ("page", "api-call", "back-channel")
    later = [e for e in events if e["exchange"] not in before]
    assert later and all(e["flow"] != flow for e in later)
    agent.close()


def test_live_trace_carries_bodies_and_filters_by_flow(live):
    agent = real_browser()
    log_in(live, agent)
    flow = [e["flow"] for e in live_trace(live)["events"] if e["url"].endswith("/login")][-1]
    only = live_trace(live, flow)
    assert only["flow"] == flow and {e["flow"] for e in only["events"]} == {flow}
    token = next(e for e in only["events"] if e["url"].endswith("/token"))
    assert "code_verifier=" in token["request_body"]
    assert token["request_headers"]["Authorization"].startswith("Basic ")
    assert {"code", "code_verifier", "client_secret"} <= set(token["secrets"])
    assert "sim_flow" not in token["request_headers"].get("Cookie", "")
    agent.close()


def test_unknown_flow_is_a_404_json_error(live):
    response = requests.get(live.client_url + "/trace", params={"flow": "login-0123456789ab"})
    assert response.status_code == 404 and response.json()["error"] == "unknown_flow"


def test_live_token_request_is_explained_as_in_a_scripted_run(live):
    agent = real_browser()
    log_in(live, agent)
    flow = [e["flow"] for e in live_trace(live)["events"] if e["url"].endswith("/login")][-1]
    live_steps = fetch_trace(live.client_url, flow).events
    scripted = live.run("happy-path").trace.events

    def token_note(events):
        return next(e.note for e in events if e.path == "/token")

    assert token_note(live_steps) == token_note(scripted)
    assert "code_verifier" in token_note(live_steps)
    assert annotate(live_steps[0])[0]  # the first step is explained too
    agent.close()


def test_two_browsers_at_once_get_two_flows(live):
    alice, bob = real_browser(), real_browser()
    start_a = alice.get(live.client_url + "/login")
    start_b = bob.get(live.client_url + "/login")
    log_in_and_consent(bob, start_b, "bob", "builder")
    log_in_and_consent(alice, start_a, "alice", "wonderland")
    events = live_trace(live)["events"]
    starts = [e["flow"] for e in events if e["url"].endswith("/login")][-2:]
    assert len(set(starts)) == 2
    for flow in starts:
        mine = [e for e in events if e["flow"] == flow]
        assert sum(e["url"].endswith("/token") for e in mine) == 1
        assert sum(e["url"].endswith("/callback") or "/callback?" in e["url"] for e in mine) == 1
    alice.close()
    bob.close()


def test_scripted_runs_keep_their_own_flow_ids_and_no_flow_cookie(live):
    result = live.run("happy-path")
    assert {e.flow for e in result.trace.events} == {result.flow}
    assert not any("sim_flow" in e.response_headers.get("Set-Cookie", "") for e in result.trace)


# -- oauth-sim trace against the live trace ------------------------------------------------


def last_login_flow(live) -> str:
    agent = real_browser()
    log_in(live, agent)
    agent.close()
    return [e["flow"] for e in live_trace(live)["events"] if e["url"].endswith("/login")][-1]


def test_trace_flow_json_redact_and_svg(live, tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    flow = last_login_flow(live)
    runner = CliRunner()
    svg = tmp_path / "flow.svg"
    args = ["trace", "--url", live.client_url, "--flow", flow, "--json", "--svg", str(svg)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    events = __import__("json").loads(result.output)["events"]
    assert {e["flow"] for e in events} == {flow} and events[0]["url"].endswith("/login")
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    plain = next(e for e in events if e["url"].endswith("/token"))
    verifier = dict(plain["values"])["code_verifier"]
    redacted = runner.invoke(main, [*args[:-2], "--redact"])
    assert redacted.exit_code == 0 and verifier not in redacted.output
    assert "<code-verifier-1>" in redacted.output


def test_trace_unknown_flow_is_one_line_exit_2(live):
    from click.testing import CliRunner

    from sim.cli import main

    result = CliRunner().invoke(
        main, ["trace", "--url", live.client_url, "--flow", "login-0123456789ab"]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "login-0123456789ab" in result.output


@pytest.mark.slow
def test_trace_follow_prints_each_new_event_as_it_happens(live):
    import queue
    import subprocess
    import sys
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "trace", "--follow", "--url", live.client_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True)
    reader.start()
    try:
        flow = last_login_flow(live)
        seen = []
        while not any(flow in x and "/token" in x for x in seen):
            seen.append(lines.get(timeout=30))
        assert any(flow in x and "GET /login" in x for x in seen)
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()


def test_trace_after_a_cursor_gives_only_what_is_new(live):
    whole = live_trace(live)
    cursor = whole["cursor"]
    assert isinstance(cursor, int) and "flows" in whole
    flow = last_login_flow(live)  # one more login, after the whole read
    page = requests.get(live.client_url + "/trace", params={"after": cursor}, timeout=5).json()
    assert page["after"] == cursor and page["cursor"] > cursor
    new = [e for e in page["events"] if e["flow"] == flow]
    mine = live_trace(live, flow)["events"]
    assert [e["exchange"] for e in new] == [e["exchange"] for e in mine]
    # Each new event keeps its place (seq) in the whole trace as read now.
    now = {e["exchange"]: e["seq"] for e in live_trace(live)["events"]}
    assert all(now[e["exchange"]] == e["seq"] for e in page["events"])
    # The flow's own numbering with ?flow=, and pages of one event lose nothing.
    got, at = [], cursor
    while True:
        answer = requests.get(
            live.client_url + "/trace", params={"flow": flow, "after": at, "limit": 1}, timeout=5
        ).json()
        if not answer["events"]:
            break
        (event,) = answer["events"]
        got.append((event["seq"], event["exchange"]))
        at = answer["cursor"]
    assert sorted(got) == [(e["seq"], e["exchange"]) for e in mine]


@pytest.mark.parametrize("query", ["after=x", "after=-1", "limit=1.5", "after=" + "9" * 40])
def test_trace_refuses_a_cursor_that_is_not_a_whole_number(live, query):
    response = requests.get(live.client_url + "/trace?" + query, timeout=5)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_following_the_trace_polls_only_for_new_events(live):
    import sim as public

    last_login_flow(live)
    parts = public.follow_trace(live.client_url, interval=0.05)
    first = next(parts)
    assert first.events  # what is there already
    flow = last_login_flow(live)
    new = next(parts).events
    while not any(e.path.startswith("/callback") for e in new if e.flow == flow):
        new += next(parts).events
    assert {e.exchange for e in new}.isdisjoint(e.exchange for e in first.events)


@pytest.mark.parametrize(
    ("query", "body", "authorization", "may"),
    [
        ("", b"grant_type=authorization_code&code=abc", "", True),
        ("", b"grant_type=refresh_token&refresh_token=xyz", "", True),
        ("", b'{"code": "abc"}', "", True),
        ("", b'{"refresh_token":"xyz"}', "", True),
        ("code=abc&state=s", b"", "", True),
        ("to=http%3A%2F%2Fclient%2Fcallback%3Fcode%3Dabc", b"", "", True),
        ("", b"", "Bearer abc", True),
        # A login's own pages carry no code or token, only names that contain "code".
        (
            "response_type=code&client_id=demo-client&code_challenge=x"
            "&code_challenge_method=S256&redirect_uri=http%3A%2F%2Fc%2Fcallback",
            b"",
            "",
            False,
        ),
        ("next=%2Fauthorize%3Fresponse_type%3Dcode%26state%3Ds", b"", "", False),
        ("", b"username=alice&password=wonderland&csrf_token=t", "", False),
    ],
)
def test_only_a_request_that_can_carry_a_code_or_token_is_parsed_for_one(
    query, body, authorization, may
):
    """The pre-check never says no to a request whose parsed values hold a linked name."""
    environ = {"QUERY_STRING": query, "CONTENT_TYPE": "application/x-www-form-urlencoded"}
    if body.startswith(b"{"):
        environ["CONTENT_TYPE"] = "application/json"
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    assert live_flows._may_carry_linked_value(environ, body) is may
    values = live_flows.request_values(environ, body)
    nested = [p for _, v in values if v.startswith("http") for p in UrlParams.parse(v).pairs]
    carried = any(name in live_flows.LINKED_NAMES for name, _ in [*values, *nested])
    assert carried <= may  # a request that carries one is never skipped


@pytest.mark.parametrize(
    ("query", "body", "content_type", "authorization"),
    [
        ("", "grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2Fc%2Fcb", "", ""),
        ("code=q&code=q2", "code=b", "application/x-www-form-urlencoded", "Bearer at"),
        ("", '{"refresh_token": "xyz", "n": 3, "ok": true}', "application/json", ""),
        ("", '{"code": "abc"}', "", "DPoP at2"),  # a JSON body sniffed without Content-Type
        ("a=1#frag=2", "", "", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="),
        ("", "x=%ZZ&&=&y", "application/x-www-form-urlencoded", "Basic !!"),
        ("code=1", "<html>code=2</html>", "text/html", "Weird scheme"),
    ],
)
def test_a_browser_request_values_are_those_of_the_one_parsed_view(
    query, body, content_type, authorization
):
    """Live mode reads a request's values without building the whole parsed view: the same
    pairs, in the same order, as `Params.parse` of that request gives."""
    from sim.tracing.params import Params

    environ = {"QUERY_STRING": query, "CONTENT_TYPE": content_type}
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    headers = {"Authorization": authorization, "Content-Type": content_type}
    expected = Params.parse("?" + query if query else "", headers, body).pairs()
    assert expected  # every case carries something
    assert live_flows.request_values(environ, body.encode()) == list(expected)
