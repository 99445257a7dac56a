"""The classroom console over real HTTP: its JSON API (good and bad input), the event
stream, exports, pause mode at the parties' redirects, and "reset demo"."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from sim import Simulation
from sim.tracing.live import DEFAULT_FLOW
from tests.test_live_flows import log_in, real_browser

POST = {"X-Console": "1"}


@pytest.fixture(scope="module")
def classroom():
    with Simulation(console=True) as simulation:
        yield simulation


@pytest.fixture(scope="module")
def happy(classroom):
    return classroom.run("happy-path")


def api(classroom, path: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, classroom.urls["console"] + path, timeout=10, **kwargs)


def test_flows_are_listed_newest_first_and_named_by_user_and_client(classroom, happy):
    later = classroom.run("public-client-pkce")
    flows = api(classroom, "/api/flows").json()["flows"]
    ids = [f["id"] for f in flows]
    assert ids.index(later.flow) < ids.index(happy.flow)
    mine = next(f for f in flows if f["id"] == happy.flow)
    assert (mine["user"], mine["client"]) == ("alice", "demo-client")
    assert mine["events"] == len(happy.trace.events)


def test_a_flow_lists_every_message_in_order_with_notes(classroom, happy):
    steps = api(classroom, f"/api/flows/{happy.flow}").json()["events"]
    assert [(s["method"], s["path"]) for s in steps] == [
        (e.method, e.path) for e in happy.trace.events
    ]
    token = next(s for s in steps if s["path"] == "/token")
    assert "code_verifier" in token["note"] and token["rfc"]
    assert {"code", "code_verifier"} <= {p["name"] for p in token["point_at"]}


def test_inspecting_the_token_request_verifies_the_jwt_and_shows_pkce(classroom, happy):
    seq = next(e.seq for e in happy.trace.events if e.path == "/token")
    detail = api(classroom, f"/api/flows/{happy.flow}/steps/{seq}").json()
    # Kept per exchange for every screen that asks again, numbered as asked.
    assert api(classroom, f"/api/flows/{happy.flow}/steps/{seq}").json() == detail
    assert detail["seq"] == seq and "code_verifier" in detail["note"]
    assert detail["request"]["method"] == "POST"
    form = {p["name"]: p for p in detail["request"]["form"]}
    assert form["code_verifier"]["secret"] and form["grant_type"]["value"] == "authorization_code"
    auth = next(h for h in detail["request"]["headers"] if h["name"] == "Authorization")
    assert auth["value"].startswith("Basic ") and auth["secret"]
    access = detail["jwt"]["access_token"]
    assert access["signature"].startswith("valid") and access["claims"]["client_id"]
    pkce = detail["pkce"]
    assert pkce["code_verifier"] == form["code_verifier"]["value"]
    assert pkce["matches"] is True and pkce["base64url"] == pkce["code_challenge_sent"]


def test_a_tampered_jwt_is_reported_invalid(classroom):
    from sim.console.inspect import fetch_jwks, verify_jwt

    result = classroom.run("client-credentials")
    token = next(v for e in result.trace for n, v in e.values if n == "access_token")
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-4]}AAAA"
    jwks = fetch_jwks(classroom.authorization_server_url)
    assert verify_jwt(token, jwks)["signature"].startswith("valid")
    assert verify_jwt(forged, jwks)["signature"].startswith("INVALID")


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("svg", b"<"), ("png", b"\x89PNG"), ("mermaid", b"sequenceDiagram"), ("json", b"{")],
)
def test_exports(classroom, happy, fmt, start):
    response = api(classroom, f"/api/flows/{happy.flow}/export/{fmt}")
    assert response.status_code == 200 and response.content.lstrip().startswith(start)
    assert happy.flow in response.headers["Content-Disposition"]


def test_plantuml_export(classroom, happy):
    assert "@startuml" in api(classroom, f"/api/flows/{happy.flow}/export/plantuml").text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/flows/not%20an%20id", 400),
        ("/api/flows/%3Cscript%3E", 400),
        ("/api/flows/login-0123456789ab", 404),
        ("/api/flows/{flow}/steps/x1", 400),
        ("/api/flows/{flow}/steps/9999", 404),
        ("/api/flows/{flow}/steps/0", 404),
        ("/api/flows/{flow}/export/docx", 404),
        ("/api/nothing", 404),
    ],
)
def test_bad_input_is_a_4xx_json_error(classroom, happy, path, status):
    response = api(classroom, path.format(flow=happy.flow))
    assert response.status_code == status
    body = response.json()
    assert body["error"] and "<" not in json.dumps(body)


@pytest.mark.parametrize("body", [None, "x", {"on": "yes"}, [1]])
def test_bad_pause_switch_is_a_400(classroom, body):
    response = api(classroom, "/api/pause", "POST", headers=POST, json=body)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_state_changes_need_the_console_header(classroom):
    for path in ("/api/clear", "/api/reset", "/api/pause"):
        response = api(classroom, path, "POST", json={"on": True})
        assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_the_stream_names_each_flow_as_it_is_recorded(classroom):
    received: list[dict] = []
    ready = threading.Event()

    def listen():
        with api(classroom, "/api/stream", stream=True) as response:
            ready.set()
            for line in response.iter_lines():
                if line.startswith(b"data:"):
                    received.append(json.loads(line[5:]))
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(10)
    result = classroom.run("happy-path")
    listener.join(30)
    assert received and received[0]["flows"] == [result.flow]


class Listener:
    """An open `GET /api/stream`, collecting its messages in a thread until closed."""

    def __init__(self, classroom, headers: dict | None = None) -> None:
        self.classroom = classroom
        self.messages: list[dict] = []
        self.ready = threading.Event()
        self.response = api(classroom, "/api/stream", stream=True, headers=headers)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self) -> None:
        try:
            for line in self.response.iter_lines():
                self.ready.set()
                if line.startswith(b"data:"):
                    self.messages.append(json.loads(line[5:]))
        except (requests.RequestException, AttributeError, ValueError):
            return  # closed by `close` (urllib3 drops the socket under the read)

    def wait_for(self, test) -> None:
        """Until a message passes `test` (a message is sent at most ~50 ms after a change)."""
        for _ in range(200):
            if any(test(m) for m in list(self.messages)):
                return
            time.sleep(0.05)
        raise AssertionError("no such message")

    def wait_for_flow(self, flow: str) -> None:
        """Until a message carries the flow's newest exchange among its steps."""
        newest = api(self.classroom, f"/api/flows/{flow}").json()["newest"]
        self.wait_for(lambda m: newest in m.get("steps", {}).get(flow, {}).get("order", ()))

    def close(self) -> None:
        self.response.close()
        self.thread.join(10)


def test_stream_messages_carry_the_new_steps_and_list_entries(classroom):
    listener = Listener(classroom)
    # Changes within 100 ms share a message: the second flow starts after the first's last.
    first = classroom.run("happy-path")
    listener.wait_for_flow(first.flow)
    second = classroom.run("public-client-pkce")
    listener.wait_for_flow(second.flow)
    listener.close()
    for result in (first, second):
        known, order, newest = {}, [], ""
        for message in listener.messages:
            carried = message["steps"].get(result.flow)
            if carried:
                known.update(carried["new"])
                order, newest = carried["order"], carried["newest"]
        answer = api(classroom, f"/api/flows/{result.flow}").json()
        # Outlined: the explanation comes with a step's inspection (the page shows one).
        explanation = ("note", "rfc", "rfc_cited")
        outlines = [{k: v for k, v in e.items() if k not in explanation} for e in answer["events"]]
        assert [{**known[e], "seq": n} for n, e in enumerate(order, 1)] == outlines
        assert newest == answer["newest"] and len(order) == len(result.trace.events)
        # The newest step inspected rides along while the flow is the one a page follows.
        last = next(
            m["steps"][result.flow]
            for m in reversed(listener.messages)
            if "detail" in m["steps"].get(result.flow, {})
        )
        seq = last["order"].index(last["newest"]) + 1
        detail = last["detail"]
        assert detail == api(classroom, f"/api/flows/{result.flow}/steps/{seq}").json()
        explained = answer["events"][seq - 1]
        assert [detail[k] for k in explanation] == [explained[k] for k in explanation]
        assert last["newest"] == newest
    # Only for that flow: the newest of the list not just browsing (console.js follows it).
    listing: list[str] = []
    for message in listener.messages:
        listing = message.get("list", listing)
        followed = next((f for f in listing if f != DEFAULT_FLOW), None)
        assert all(f == followed for f, s in message["steps"].items() if "detail" in s)
    # A step is carried once, in the message after its exchange was recorded.
    carried = [e for m in listener.messages for s in m["steps"].values() for e in s["new"]]
    assert len(carried) == len(set(carried))
    listed = api(classroom, "/api/flows").json()["flows"]
    summaries = {s["id"]: s for m in listener.messages for s in m["summaries"]}
    assert summaries[second.flow] == next(f for f in listed if f["id"] == second.flow)
    lists = [m["list"] for m in listener.messages if "list" in m]
    assert lists[-1] == [f["id"] for f in listed]
    # The list comes when the set of flows changed, only then.
    ids: set[str] | None = None
    for message in listener.messages:
        if "list" in message:
            assert ids is None or not ids.issuperset(message["flows"])
            ids = set(message["list"])
        else:
            assert ids is None or ids.issuperset(message["flows"])


def test_open_streams_share_one_poller_of_the_store(classroom):
    listeners = [Listener(classroom) for _ in range(3)]
    result = classroom.run("happy-path")
    for listener in listeners:
        listener.wait_for_flow(result.flow)
    pollers = [t for t in threading.enumerate() if t.name == "console-stream"]
    for listener in listeners:
        listener.close()
    assert len(pollers) == 1
    assert listeners[0].messages == listeners[2].messages  # the same message for every tab


def test_a_stream_resumed_from_before_the_kept_messages_names_the_flows_to_ask_for(classroom):
    result = classroom.run("happy-path")
    listener = Listener(classroom, headers={"Last-Event-ID": "0"})
    listener.wait_for(lambda m: True)
    listener.close()
    catch_up = listener.messages[0]
    assert result.flow in catch_up["flows"] and "steps" not in catch_up


def test_pause_mode_stops_a_real_browser_at_each_redirect(classroom):
    assert api(classroom, "/api/pause", "POST", headers=POST, json={"on": True}).json()["on"]
    try:
        agent = real_browser()
        page = agent.get(classroom.client_url + "/login")
        assert page.status_code == 200 and 'id="continue"' in page.text
        assert classroom.authorization_server_url + "/authorize?" in page.text
        assert "code_challenge" in page.text and "RFC 7636" in page.text
        assert "sim_client_session" in page.headers.get("Set-Cookie", "")
        flow = requests.get(classroom.client_url + "/trace", timeout=5).json()["events"][-1]
        assert flow["status"] == 302 and flow["url"].endswith("/login")
        evil = agent.get(
            classroom.authorization_server_url
            + "/authorize?response_type=code&client_id=demo-client&scope=profile"
            "&state=%3Cscript%3Ealert(1)%3C/script%3E&code_challenge_method=S256"
            "&code_challenge=" + "a" * 43
        )
        assert "<script>alert(1)" not in evil.text
        scripted = classroom.run("happy-path")  # a scripted browser is never paused
        assert scripted.outcome.get("logged_in", True)
        assert any(e.status == 302 for e in scripted.trace)
        agent.close()
    finally:
        api(classroom, "/api/pause", "POST", headers=POST, json={"on": False})
    again = real_browser()
    assert again.get(classroom.client_url + "/login").status_code == 302
    again.close()


def test_reset_demo_logs_everyone_out(classroom):
    agent = real_browser()
    log_in(classroom, agent)
    assert "Your photos" in agent.get(classroom.client_url + "/").text
    response = api(classroom, "/api/reset", "POST", headers=POST)
    assert response.status_code == 200, response.text
    assert "Log in with the authorization server" in agent.get(classroom.client_url + "/").text
    login = agent.get(classroom.client_url + "/login")
    assert 'name="password"' in agent.follow(login).text  # the authorization server forgot too
    agent.close()


def test_clear_forgets_every_flow(classroom):
    classroom.run("happy-path")
    assert api(classroom, "/api/clear", "POST", headers=POST).status_code == 200
    assert api(classroom, "/api/flows").json()["flows"] == []


def test_console_page_links_the_apps_and_serves_its_assets(classroom):
    page = api(classroom, "/")
    assert page.status_code == 200 and classroom.client_url in page.text
    assert "http" not in page.text.split("<script")[1].split(">")[0].replace("http-equiv", "")
    for asset in ("/static/console.js", "/static/console.css", "/favicon.ico"):
        assert api(classroom, asset).status_code == 200


@pytest.mark.parametrize(
    "party", ["client", "authorization-server", "resource-server", "attacker", "console"]
)
def test_every_app_serves_a_favicon(classroom, party):
    response = requests.get(classroom.urls[party] + "/favicon.ico", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(
        "image/svg+xml"
    )


@pytest.mark.parametrize("party", ["client", "authorization-server", "resource-server"])
def test_every_root_page_says_what_it_is_and_links_the_console(classroom, party):
    page = requests.get(classroom.urls[party] + "/", timeout=5)
    assert page.status_code == 200
    assert f'href="{classroom.urls["console"]}"' in page.text
    assert ("Photo API" if party == "resource-server" else "<h1>") in page.text


def test_the_photo_printer_says_what_just_happened_with_console_links(classroom):
    agent = real_browser()
    home = log_in(classroom, agent)
    events = requests.get(classroom.client_url + "/trace", timeout=5).json()["events"]
    flow = [e["flow"] for e in events if e["url"].endswith("/login")][-1]
    token = next(e for e in events if e["flow"] == flow and e["url"].endswith("/token"))
    access = dict(token["values"])["access_token"]
    assert 'id="what-just-happened"' in home.text
    console = classroom.urls["console"]
    assert f'href="{console}/#flow={flow}&amp;step=POST%20/token"' in home.text
    assert "GET /api/photos</code> → 200" in home.text
    code = next(v for n, v in token["values"] if n == "code")
    assert code[:10] in home.text  # the code came through the browser anyway
    assert access[:10] not in home.text  # a token never does, not even in part
    agent.close()


# -- attacks, live ------------------------------------------------------------------------


def all_defences(classroom, name: str) -> list[str]:
    listed = api(classroom, "/api/scenarios").json()["scenarios"]
    return next(s["defences"] for s in listed if s["name"] == name)


def test_scenarios_are_listed_with_their_defences(classroom):
    listed = {s["name"]: s for s in api(classroom, "/api/scenarios").json()["scenarios"]}
    assert "state" in listed["csrf-state"]["defences"] and listed["csrf-state"]["lure"]
    assert listed["happy-path"]["kind"] == "flow" and listed["happy-path"]["defences"] == []


def test_a_scenario_runs_from_the_console_with_its_defences_on_or_off(classroom):
    off = all_defences(classroom, "csrf-state")
    url = "/api/scenarios/csrf-state/run"
    safe = api(classroom, url, "POST", headers=POST, json={"off": []}).json()
    broken = api(classroom, url, "POST", headers=POST, json={"off": off}).json()
    assert safe["outcome"]["attack_succeeded"] is False
    assert broken["outcome"]["attack_succeeded"] is True
    flows = [f["id"] for f in api(classroom, "/api/flows").json()["flows"]]
    assert safe["flow"] in flows and broken["flow"] in flows


def test_compare_runs_both_ways_and_draws_them_side_by_side(classroom):
    answer = api(classroom, "/api/scenarios/csrf-state/compare", "POST", headers=POST, json={})
    body = answer.json()
    assert [o["attack_succeeded"] for o in body["outcomes"]] == [False, True]
    svg = api(classroom, "/api/compare/{}/{}".format(*body["flows"]))
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/api/scenarios/no-such/run", {}, 404, "unknown_scenario"),
        ("/api/scenarios/csrf-state/run", {"off": "state"}, 400, "invalid_request"),
        ("/api/scenarios/csrf-state/run", {"off": ["<b>nope</b>"]}, 400, "unknown_defence"),
        ("/api/scenarios/csrf-state/run", [1, 2], 400, "invalid_request"),
        ("/api/scenarios/happy-path/compare", {}, 400, "no_defence"),
        ("/api/lures/code-replay", {}, 404, "no_lure"),
    ],
)
def test_bad_scenario_requests_are_4xx_json(classroom, path, body, status, error):
    response = api(classroom, path, "POST", headers=POST, json=body)
    assert response.status_code == status and response.json()["error"] == error


def test_the_csrf_lure_is_refused_with_its_defences_on_and_works_with_them_off(classroom):
    def click(off: list[str]) -> str:
        answer = api(classroom, "/api/lures/csrf-state", "POST", headers=POST, json={"off": off})
        assert answer.status_code == 200, answer.text
        lure = answer.json()["lure"]
        assert lure.startswith(classroom.attacker_url)
        victim = real_browser()
        page = victim.open(lure)
        victim.close()
        return page.text

    assert "Login refused" in click([])
    assert "Scoop the digger" in click(all_defences(classroom, "csrf-state"))  # bob's photos


def test_the_mix_up_lure_follows_the_switches_for_logins_by_hand(classroom):
    from sim.scenarios.base import log_in_and_consent

    def click(off: list[str]):
        answer = api(classroom, "/api/lures/mix-up", "POST", headers=POST, json={"off": off})
        assert answer.status_code == 200, answer.text
        victim = real_browser()
        page = log_in_and_consent(victim, victim.get(answer.json()["lure"]))
        victim.close()
        return page

    try:
        assert "wrong issuer" in click([]).text
        events = requests.get(classroom.client_url + "/trace", timeout=5).json()["events"]
        assert not any(e["to"] == "attacker" and e["url"].endswith("/token") for e in events)
        click(all_defences(classroom, "mix-up"))
        events = requests.get(classroom.client_url + "/trace", timeout=5).json()["events"]
        stolen = [e for e in events if e["to"] == "attacker" and e["url"].endswith("/token")]
        assert stolen and stolen[-1]["from"] == "client" and "code=" in stolen[-1]["request_body"]
    finally:
        api(classroom, "/api/browser-defences", "POST", headers=POST, json={"off": []})


@pytest.mark.parametrize("body", [{"off": "iss"}, {"off": ["nope"]}, None])
def test_bad_browser_defence_switches_are_400(classroom, body):
    response = api(classroom, "/api/browser-defences", "POST", headers=POST, json=body)
    assert response.status_code == 400 and response.json()["error"] in (
        "invalid_request",
        "unknown_defence",
    )
