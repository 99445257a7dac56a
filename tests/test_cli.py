"""The `oauth-sim` command as a user meets it: output, files, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from sim.cli import main
from tests.conftest import free_port_base

CONTRACT_KEYS = ["seq", "from", "to", "method", "url", "status", "location", "kind", "note", "rfc"]


@pytest.fixture
def runner():
    return CliRunner()


def test_run_json_follows_the_contract(runner):
    result = runner.invoke(main, ["run", "happy-path", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenario"] == "happy-path" and data["insecure"] is False
    assert data["outcome"]["logged_in"] is True
    assert [e["seq"] for e in data["events"]] == list(range(1, len(data["events"]) + 1))
    for event in data["events"]:
        assert list(event) == CONTRACT_KEYS
        assert event["url"].startswith("http://")


def test_run_redact_hides_secrets_everywhere(runner, tmp_path):
    result = runner.invoke(main, ["run", "happy-path", "--json", "--redact"])
    data = json.loads(result.output)
    text = json.dumps(data)
    assert "wonderland" not in text and "<code-1>" in text
    assert "demo-secret" not in text


def test_run_prints_a_step_table_and_writes_diagrams(runner, tmp_path):
    svg, mmd, puml = tmp_path / "f.svg", tmp_path / "f.mmd", tmp_path / "f.puml"
    result = runner.invoke(
        main,
        [
            "run",
            "happy-path",
            "--explain",
            "--svg",
            str(svg),
            "--mermaid",
            str(mmd),
            "--plantuml",
            str(puml),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "user-agent" in result.output and "RFC 6749" in result.output
    assert svg.read_text().count("<svg") >= 1
    assert mmd.read_text().startswith("sequenceDiagram")
    assert puml.read_text().startswith("@startuml")


def test_scenarios_lists_every_contract_name(runner):
    result = runner.invoke(main, ["scenarios"])
    assert result.exit_code == 0
    assert "happy-path" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "no-such-scenario"], "unknown scenario"),
        (["run", "happy-path", "--insecure"], "no defence to switch off"),
        (["run", "happy-path", "--bogus"], "No such option"),
        (["up", "--port-base", "-5"], "Invalid value"),
    ],
)
def test_user_mistakes_exit_2_with_one_clear_line(runner, args, message):
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"events": [{"seq": 1}]}', "\xff"])
def test_malformed_trace_file_is_one_line_exit_2(runner, tmp_path, content):
    path = tmp_path / "trace.json"
    path.write_bytes(content.encode("latin-1"))
    result = runner.invoke(main, ["trace", "--file", str(path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_saved_json_trace_reads_back(runner, tmp_path):
    saved = runner.invoke(main, ["run", "happy-path", "--json"]).output
    path = tmp_path / "trace.json"
    path.write_text(saved)
    result = runner.invoke(main, ["trace", "--file", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["events"][0]["from"] == "user-agent"


def test_trace_of_nothing_running_is_a_clear_error(runner):
    result = runner.invoke(main, ["trace", "--url", "http://127.0.0.1:1"])
    assert result.exit_code == 2 and "oauth-sim up" in result.output


@pytest.mark.slow
def test_up_with_a_busy_port_says_so_and_exits_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "sim.cli", "up", "--port-base", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 2
    assert f"port {port} (client) is already in use" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.slow
def test_up_serves_until_terminated_and_frees_its_ports():
    base = free_port_base(5)
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "up", "--port-base", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{base}" in output and "alice / wonderland" in output
        home = requests.get(f"http://127.0.0.1:{base}/", timeout=5)
        assert "Log in with the authorization server" in home.text
        # The page's exchange is recorded when its response closes, which may come just
        # after the browser has the page: ask again until it is there.
        for _ in range(100):
            trace = requests.get(f"http://127.0.0.1:{base}/trace", timeout=5).json()
            if trace["events"]:
                break
            time.sleep(0.05)
        assert trace["events"][0]["from"] == "user-agent"
        assert f"console                http://127.0.0.1:{base + 4}" in output
        console = requests.get(f"http://127.0.0.1:{base + 4}/api/flows", timeout=5)
        assert console.status_code == 200 and "flows" in console.json()
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    for offset in range(3):
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", base + offset))  # ports are free again


@pytest.mark.parametrize("flag", ["--svg", "--png", "--mermaid"])
def test_unwritable_output_path_is_one_line_exit_2(runner, tmp_path, flag):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(main, ["run", "happy-path", flag, str(blocker / "x.out")])
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_diagrams_into_an_unwritable_folder_is_one_line_exit_2(runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(main, ["diagrams", "--out", str(blocker / "sub")])
    assert result.exit_code == 2 and "cannot write" in result.output
