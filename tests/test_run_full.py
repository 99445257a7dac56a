"""`oauth-sim run NAME --json --full`: headers and bodies, in the live trace's shape."""

from __future__ import annotations

import base64
import json

import requests
from click.testing import CliRunner

from sim.cli import main


def run_json(*args):
    result = CliRunner().invoke(main, ["run", "happy-path", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_full_adds_headers_and_bodies_in_the_live_trace_shape(sim):
    full = run_json("--full")
    token = next(e for e in full["events"] if "grant_type=authorization_code" in e["request_body"])
    basic = token["request_headers"]["Authorization"].split()[1]
    assert base64.b64decode(basic).decode() == "demo-client:demo-secret"
    assert "client_secret" in token["secrets"] and "code_verifier" in token["secrets"]
    assert json.loads(token["response_body"])["token_type"] == "Bearer"
    assert token["response_headers"]["Cache-Control"] == "no-store"
    # The same keys as a running simulation's GET /trace on the client.
    sim.run("happy-path")
    live = requests.get(sim.client_url + "/trace", timeout=10).json()["events"]
    assert set(full["events"][0]) == set(live[0])


def test_without_full_the_contract_shape_and_with_redact_no_secret():
    plain = run_json()
    assert set(plain["events"][0]) == {
        "seq", "from", "to", "method", "url", "status", "location", "kind", "note", "rfc",
    }  # fmt: skip
    text = json.dumps(run_json("--full", "--redact"))
    assert "demo-secret" not in text and "wonderland" not in text
    assert "Basic <credentials>" in text and "<code-1>" in text


def test_full_without_json_is_one_line_exit_2():
    result = CliRunner().invoke(main, ["run", "happy-path", "--full"])
    assert result.exit_code == 2 and "add --json" in result.output
