"""oauth-sim benchmarks: one command, one table (`python benchmarks/run.py`).

Machines here differ about 2x in speed, so every speed is reported next to a ratio measured
in the same run: our flow against the peer (node-oidc-provider driven by the same kind of
hop-by-hop requests driver), tracing on against tracing off, a flow against one trivial
request. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from flask import Flask
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import Simulation  # noqa: E402
from sim.runtime.servers import ServerThread, bind  # noqa: E402
from sim.scenarios import get_scenario  # noqa: E402
from sim.user_agent import parse_forms  # noqa: E402

console = Console(highlight=False)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def flow_times(sim: Simulation, n: int, warmup: int = 3) -> list[float]:
    """Full happy path as a learner's browser does it: authorize, login, consent, code
    exchange, the client's page (two API calls, each introspected), refresh; trace built."""
    scenario = get_scenario("happy-path")
    for _ in range(warmup):
        scenario.run(sim)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        scenario.run(sim)
        times.append((time.perf_counter() - started) * 1000)
    return times


def as_only_flow(sim: Simulation) -> None:
    """Exactly the peer's steps against our authorization server, driven the peer driver's
    way (a plain requests session, hop by hop): authorize, login, consent, code exchange,
    refresh. Nine exchanges, no client app, no API call: a like-for-like comparison."""
    base, redirect_uri = sim.authorization_server_url, sim.client_url + "/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "demo-client",
            "redirect_uri": redirect_uri,
            "scope": "profile photos:read",
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    with requests.Session() as http:

        def hop(response):
            while response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
                if target.startswith(redirect_uri):
                    return target
                response = http.get(target, allow_redirects=False)
            return response

        def submit(page, values):
            form = parse_forms(page.text)[0]
            data = dict(form.fields) | values
            return http.post(urljoin(page.url, form.action), data=data, allow_redirects=False)

        page = hop(http.get(f"{base}/authorize?{query}", allow_redirects=False))
        page = hop(submit(page, {"username": "alice", "password": "wonderland"}))
        callback = hop(submit(page, {"decision": "approve", "grant_scope": "profile"}))
        code = parse_qs(urlsplit(callback).query)["code"][0]
        auth = ("demo-client", "demo-secret")
        tokens = http.post(
            f"{base}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=auth,
        ).json()
        refreshed = http.post(
            f"{base}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=auth,
        )
        if refreshed.status_code != 200:
            raise RuntimeError(f"refresh failed: {refreshed.text}")


def timed(function, n: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def startup_times(mode: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        simulation = Simulation(mode=mode)
        started = time.perf_counter()
        simulation.start()
        times.append((time.perf_counter() - started) * 1000)
        simulation.stop()
    return times


def trivial_request_ms(n: int = 300) -> float:
    """One trivial Flask request on the same server we use: the unit of comparison."""
    app = Flask("trivial")
    app.get("/")(lambda: "ok")
    sock = bind(0, "trivial")
    server = ServerThread(app, sock, "trivial")
    server.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    with requests.Session() as http:
        http.trust_env = False
        for _ in range(30):
            http.get(url)
        started = time.perf_counter()
        for _ in range(n):
            http.get(url)
        elapsed = (time.perf_counter() - started) * 1000 / n
    server.stop()
    return elapsed


def traced_vs_untraced(n: int) -> tuple[list[float], list[float]]:
    """Interleave batches so both see the same machine load."""
    on, off = [], []
    with Simulation(tracing=True) as traced, Simulation(tracing=False) as plain:
        flow_times(traced, 0), flow_times(plain, 0)
        for _ in range(max(1, n // 5)):
            on += flow_times(traced, 5, warmup=0)
            off += flow_times(plain, 5, warmup=0)
    return on, off


def console_subscribed_vs_not(n: int) -> tuple[list[float], list[float]]:
    """Happy paths in process mode (what `oauth-sim up` runs) with the classroom console
    open and following (its event stream, and the flow fetched at each event, as the page
    does) against the same simulation with nobody watching; batches interleaved."""
    watched, alone = [], []
    with Simulation(mode="process", console=True) as sim:
        flow_times(sim, 0)
        console_url = sim.urls["console"]
        watching = threading.Event()

        def subscribe() -> None:
            with (
                requests.Session() as http,
                http.get(console_url + "/api/stream", stream=True, timeout=60) as stream,
            ):
                for line in stream.iter_lines():
                    if not watching.is_set():
                        return
                    if line.startswith(b"data:"):
                        for flow in json.loads(line[5:])["flows"]:
                            http.get(f"{console_url}/api/flows/{flow}", timeout=10)

        for _ in range(max(1, n // 5)):
            watching.set()
            subscriber = threading.Thread(target=subscribe, daemon=True)
            subscriber.start()
            watched += flow_times(sim, 5, warmup=1)
            watching.clear()
            subscriber.join(timeout=20)
            alone += flow_times(sim, 5, warmup=1)
    return watched, alone


def concurrent_flows(sim: Simulation, count: int = 50) -> tuple[int, int, float]:
    expected = len(get_scenario("happy-path").run(sim).trace)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(lambda _: sim.run("happy-path"), range(count)))
    elapsed = (time.perf_counter() - started) * 1000
    recorded = sum(len(r.trace) for r in results)
    return recorded, expected * count, elapsed


def diagram_times(sim: Simulation) -> tuple[float, float]:
    trace = sim.run("happy-path").trace.redacted()
    trace.to_svg()
    warm = []
    for _ in range(20):
        started = time.perf_counter()
        trace.to_svg()
        warm.append((time.perf_counter() - started) * 1000)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(trace.to_json(detail=True))
    code = (
        "import json,sys,time; from sim.tracing import Event, Trace;"
        f"t=Trace([Event.from_dict(d) for d in json.load(open({handle.name!r}))]);"
        "s=time.perf_counter(); t.to_svg(); print((time.perf_counter()-s)*1000)"
    )
    cold = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return statistics.median(warm), float(cold.strip().splitlines()[-1])


def peer_flows(n: int) -> list[float] | str:
    """node-oidc-provider from npm, installed into a temporary folder for this run."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "peer"))
    try:
        import peer  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix="oauth-sim-peer-") as workdir:
            peer.install(Path(workdir))
            with peer.PeerServer(Path(workdir)) as server:
                return peer.time_flows(server.base_url, n)
    except Exception as error:  # noqa: BLE001 - report and carry on: the peer is optional
        return f"skipped ({str(error).splitlines()[0][:60]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=40, help="flows per measurement")
    parser.add_argument("--no-peer", action="store_true", help="skip node-oidc-provider")
    args = parser.parse_args()
    n = args.flows

    rows: list[tuple[str, str, str]] = []
    with console.status("trivial request…"):
        trivial = trivial_request_ms()
    rows.append(("one trivial Flask request (waitress)", ms(trivial), "unit"))

    with console.status("start-up…"):
        threads_start = startup_times("threads", 5)
        process_start = startup_times("process", 3)
    rows.append(
        (
            "start to all-healthy, threads mode",
            ms(statistics.median(threads_start)),
            "target < 500 ms",
        )
    )
    rows.append(("start to all-healthy, process mode", ms(statistics.median(process_start)), ""))

    with console.status(f"{n} happy-path flows, tracing on and off…"):
        on, off = traced_vs_untraced(n)
    med_on, med_off = statistics.median(on), statistics.median(off)
    rows.append(
        (
            "happy path, threads, tracing on: median / p95",
            f"{ms(med_on)} / {ms(pct(on, 95))}",
            f"{med_on / trivial:.0f}x trivial request",
        )
    )
    rows.append(
        (
            "happy path, threads, tracing off: median",
            ms(med_off),
            f"tracing overhead {100 * (med_on / med_off - 1):+.0f}%",
        )
    )

    with console.status("process mode flows…"), Simulation(mode="process") as sim:
        proc = flow_times(sim, n)
        as_only = timed(lambda: as_only_flow(sim), n)
    rows.append(
        (
            "happy path, process mode: median / p95",
            f"{ms(statistics.median(proc))} / {ms(pct(proc, 95))}",
            "",
        )
    )

    with console.status("happy paths with the console subscribed and not…"):
        watched, alone = console_subscribed_vs_not(n)
    med_watched, med_alone = statistics.median(watched), statistics.median(alone)
    rows.append(
        (
            "happy path, process mode, console subscribed / not: median",
            f"{ms(med_watched)} / {ms(med_alone)}",
            f"console cost {100 * (med_watched / med_alone - 1):+.0f}% (target <= +10%)",
        )
    )

    if not args.no_peer:
        with console.status("node-oidc-provider (npm install + flows)…"):
            peer = peer_flows(n)
        if isinstance(peer, list):
            med_peer = statistics.median(peer)
            rows.append(
                (
                    "ours, authorization server only, the peer's 9 steps (process mode)",
                    f"{ms(statistics.median(as_only))} / {ms(pct(as_only, 95))}",
                    f"ours/peer: {statistics.median(as_only) / med_peer:.2f}",
                )
            )
            rows.append(
                (
                    "peer: node-oidc-provider flow (no API call): median / p95",
                    f"{ms(med_peer)} / {ms(pct(peer, 95))}",
                    f"ours/peer: threads {med_on / med_peer:.2f}, "
                    f"process {statistics.median(proc) / med_peer:.2f} (target <= 0.6)",
                )
            )
        else:
            rows.append(("peer: node-oidc-provider", peer, ""))

    with Simulation() as sim:
        with console.status("diagrams…"):
            warm, cold = diagram_times(sim)
        rows.append(("happy-path diagram to SVG, warm", ms(warm), "target < 50 ms"))
        rows.append(("happy-path diagram to SVG, cold (new process)", ms(cold), "target < 1500 ms"))
        with console.status("50 concurrent flows…"):
            recorded, expected, elapsed = concurrent_flows(sim)
        rows.append(
            (
                "50 concurrent flows: events recorded / expected",
                f"{recorded} / {expected}",
                f"all in {ms(elapsed)}",
            )
        )

    table = Table(
        title=f"oauth-sim benchmarks ({n} flows each, {threading.active_count()} "
        "threads alive at end)"
    )
    table.add_column("measurement")
    table.add_column("value", justify="right")
    table.add_column("ratio / target")
    for row in rows:
        table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    main()
