"""Classroom run: many browsers log in at the same moment through the client of one
`oauth-sim up` (process mode), as a class does when the teacher says "now you".

Each browser is a fresh cookie jar that sends nothing a real browser would not (no party or
flow header), so the live trace must work out on its own which login each event belongs to.
A login is what a student clicks: the client's /login, the authorization server's login
page and consent page, the callback, and the client's page with the photos.

What is checked (the correctness half, also asserted by tests/test_classroom.py):
- no 5xx, neither in what a browser received nor anywhere in the trace;
- no lost or duplicated events: the trace grows by exactly (logins x the events of one
  login measured alone), and every flow holds exactly that many;
- one flow id per login: as many new flows as logins, each with exactly one GET /login.
What is measured (the speed half, benchmarks only): logins per second, p50/p95/p99 of a
login's wall time, and each party's resident memory (RSS) before and after.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.parties import FLOW_HEADER, PARTY_HEADER  # noqa: E402
from sim.scenarios.base import log_in_and_consent  # noqa: E402
from sim.user_agent import UserAgent  # noqa: E402

_BANNER_URL = re.compile(r"^\s*([a-z-]+)\s+(http://\S+)")


class Up:
    """`oauth-sim up --port-base 0` in a subprocess: its URLs from the banner, its party
    processes (children named by their command line) for memory readings."""

    def __init__(self, timeout: float = 60) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "up", "--port-base", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.urls: dict[str, str] = {}
        self.lines: list[str] = []
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.lines.append(line)
            match = _BANNER_URL.match(line)
            if match:
                self.urls[match.group(1)] = match.group(2)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        if "client" not in self.urls:
            self.stop()
            raise RuntimeError("oauth-sim up did not start:\n" + "".join(self.lines))
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def client_url(self) -> str:
        return self.urls["client"]

    def party_processes(self) -> dict[str, psutil.Process]:
        found = {}
        for child in psutil.Process(self.process.pid).children():
            argv = child.cmdline()
            if "sim.runtime.serve" in argv:
                found[argv[argv.index("sim.runtime.serve") + 1]] = child
        return found

    def rss_mb(self) -> dict[str, float]:
        return {p: c.memory_info().rss / 2**20 for p, c in self.party_processes().items()}

    def cpu_seconds(self) -> float:
        """User + system CPU of every party process so far."""
        total = 0.0
        for child in self.party_processes().values():
            times = child.cpu_times()
            total += times.user + times.system
        return total

    def trace(self) -> list[dict]:
        """The whole live trace once it has settled. A bounded answer is recorded before it
        is sent, so a finished login is already whole; reading until two reads agree also
        waits out an exchange still being streamed."""
        events: list[dict] = []
        for _ in range(50):
            response = requests.get(self.client_url + "/trace", timeout=120)
            response.raise_for_status()
            again = response.json()["events"]
            if events and len(again) == len(events):
                return again
            events = again
            time.sleep(0.1)
        return events

    def flow_sizes(self) -> dict[str, int]:
        """Every flow in the live trace and its number of events, from the console (which
        reads the store in its own process), once two reads agree."""
        sizes: dict[str, int] | None = None
        for _ in range(50):
            answer = requests.get(self.urls["console"] + "/api/flows", timeout=120)
            answer.raise_for_status()
            again = {f["id"]: f["events"] for f in answer.json()["flows"]}
            if again == sizes:
                return again
            sizes = again
            time.sleep(0.1)
        return sizes or {}

    def flow_events(self, flow: str) -> list[dict]:
        """One flow's events from the client's live trace (`?flow=`: only that flow is built)."""
        answer = requests.get(self.client_url + "/trace", params={"flow": flow}, timeout=60)
        answer.raise_for_status()
        return answer.json()["events"]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=30)
        if getattr(self, "_drain", None) is not None:
            self._drain.join(timeout=5)
        self.process.stdout.close()
        return code

    def __enter__(self) -> Up:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Login:
    """What one browser saw while logging in."""

    seconds: float = 0.0
    statuses: list[int] = field(default_factory=list)
    error: str = ""


def browser(name: str) -> UserAgent:
    """A scripted browser that looks like a real one: no party or flow header."""
    agent = UserAgent("unused")
    for header in (PARTY_HEADER, FLOW_HEADER):
        agent.session.headers.pop(header, None)
    agent.session.headers["User-Agent"] = f"Mozilla/5.0 (classroom {name})"
    return agent


def log_in(client_url: str, name: str) -> Login:
    """One student: a new browser, /login, login page, consent page, the photos."""
    result = Login()
    agent = browser(name)
    started = time.perf_counter()
    try:
        home = log_in_and_consent(agent, agent.get(client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            result.error = f"no photos page: {home.status_code} at {home.url}"
    except Exception as error:  # noqa: BLE001 - a failed login is a result, not a crash
        result.error = f"{type(error).__name__}: {error}"
    finally:
        result.seconds = time.perf_counter() - started
        result.statuses = [hop.status_code for hop in agent.hops]
        agent.close()
    return result


@dataclass
class Check:
    """The correctness half of a run: every number that must be zero or equal."""

    logins: int
    failed: int
    browser_5xx: int
    trace_5xx: int
    events_expected: int
    events_new: int
    flows_new: int
    flows_wrong_size: int
    flows_without_one_login: int
    problems: list[str] = field(default_factory=list)

    COUNTS = (
        "logins",
        "failed",
        "browser_5xx",
        "trace_5xx",
        "events_expected",
        "events_new",
        "flows_new",
        "flows_wrong_size",
        "flows_without_one_login",
    )

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    logins: list[Login], before: list[dict], after: list[dict], per_login: int, client_url: str
) -> Check:
    """Compare the trace before and after a batch of logins (nothing else running); a
    login starts at the client's /login."""
    seen = Counter(event_key(e) for e in before)
    new = []
    for event in after:
        key = event_key(event)
        if seen[key]:
            seen[key] -= 1
        else:
            new.append(event)
    by_flow: dict[str, list[dict]] = defaultdict(list)
    for event in new:
        by_flow[event.get("flow") or ""].append(event)
    login_starts = {
        flow: sum(
            1
            for e in events
            if e["from"] == "user-agent" and e["url"].split("?")[0] == client_url + "/login"
        )
        for flow, events in by_flow.items()
    }
    result = Check(
        logins=len(logins),
        failed=sum(1 for login in logins if login.error),
        browser_5xx=sum(1 for login in logins for s in login.statuses if s >= 500),
        trace_5xx=sum(1 for e in new if e["status"] >= 500),
        events_expected=per_login * len(logins),
        events_new=len(new),
        flows_new=len(by_flow),
        flows_wrong_size=sum(1 for events in by_flow.values() if len(events) != per_login),
        flows_without_one_login=sum(1 for n in login_starts.values() if n != 1),
    )
    if result.failed:
        first = next(login.error for login in logins if login.error)
        result.problems.append(f"{result.failed} logins failed (first: {first})")
    if result.browser_5xx or result.trace_5xx:
        result.problems.append(f"5xx: {result.browser_5xx} seen, {result.trace_5xx} traced")
    if result.events_new != result.events_expected:
        result.problems.append(
            f"{result.events_new} new events, expected {result.events_expected} "
            f"({per_login} per login)"
        )
    if result.flows_new != result.logins:
        result.problems.append(f"{result.flows_new} new flow ids for {result.logins} logins")
    if result.flows_wrong_size or result.flows_without_one_login:
        result.problems.append(
            f"{result.flows_wrong_size} flows not of {per_login} events, "
            f"{result.flows_without_one_login} without exactly one /login"
        )
    return result


def event_key(event: dict) -> tuple:
    return (event.get("flow"), event["method"], event["url"], event["status"])


def events_of_one_login(up: Up) -> int:
    """How many events one login adds to the live trace when it runs alone."""
    before = len(up.trace())
    login = log_in(up.client_url, "alone")
    if login.error:
        raise RuntimeError(f"a login alone failed: {login.error}")
    return len(up.trace()) - before


@dataclass
class Level:
    """One load level: `browsers` at once, `logins` in all."""

    browsers: int
    logins: int
    seconds: float = 0.0
    results: list[Login] = field(default_factory=list)
    server_cpu: float = 0.0
    driver_cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return self.logins / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(r.seconds for r in self.results)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    def to_dict(self) -> dict:
        return {
            "browsers": self.browsers,
            "logins": self.logins,
            "seconds": round(self.seconds, 2),
            "logins_per_second": round(self.per_second, 2),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "failed": sum(1 for r in self.results if r.error),
            "browser_5xx": sum(1 for r in self.results for s in r.statuses if s >= 500),
            "server_cpu_ms_per_login": round(1000 * self.server_cpu / self.logins, 1),
            "driver_cpu_ms_per_login": round(1000 * self.driver_cpu / self.logins, 1),
        }


def run_batch(up: Up, level: Level, logins: int) -> None:
    """`logins` more logins by `level.browsers` students at once (a new browser each)."""
    names = [f"b{level.browsers}-{len(level.results) + i}" for i in range(logins)]
    cpu, driver = up.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level.browsers) as pool:
        level.results += pool.map(lambda name: log_in(up.client_url, name), names)
    level.seconds += time.perf_counter() - started
    level.server_cpu += up.cpu_seconds() - cpu
    level.driver_cpu += time.process_time() - driver
    level.logins += logins


#: (browsers at once, logins per round); rounds alternate the levels so that all of them
#: see the same machine (two cores shared with whatever else runs): 5 rounds, 1,000 logins.
LEVELS = ((10, 40), (30, 60), (100, 100))
ROUNDS = 5


def check_round(up: Up, logins: list[Login], before: dict[str, int], per_login: int) -> Check:
    """A round's logins against the live trace: its new flows read one by one (a read of
    the whole trace would cost the client more memory than the class does), and any
    older flow that grew counts as events gone astray."""
    after = up.flow_sizes()
    new_events = [e for flow in after if flow not in before for e in up.flow_events(flow)]
    result = check(logins, [], new_events, per_login, up.client_url)
    grown = {flow: after[flow] - n for flow, n in before.items() if after.get(flow, n) > n}
    if grown:
        result.problems.append(f"{sum(grown.values())} events added to {len(grown)} older flows")
    return result


def combine(checks: list[Check]) -> Check:
    """The checks of every round as one: counts added, problems listed."""
    total = Check(**{k: sum(getattr(c, k) for c in checks) for k in Check.COUNTS})
    total.problems = [problem for c in checks for problem in c.problems]
    return total


def classroom(levels: tuple[tuple[int, int], ...] = LEVELS, rounds: int = ROUNDS) -> dict:
    """The whole run on one `oauth-sim up`: rounds of every level, each round checked
    against the live trace right after it (a round's 200 logins stay well inside the
    store's cap of flows, which drops the oldest); RSS before the first round and after
    the last, and again after one read of the whole live trace (streamed by the client:
    a teacher's cost, not the class's)."""
    with Up() as up:
        per_login = events_of_one_login(up)
        for _ in range(5):
            log_in(up.client_url, "warm-up")
        sizes = up.flow_sizes()
        rss_before = up.rss_mb()
        done = [Level(browsers, 0) for browsers, _ in levels]
        checks = []
        for _ in range(rounds):
            first = [len(level.results) for level in done]
            for level, (_, logins) in zip(done, levels, strict=True):
                run_batch(up, level, logins)
            logins = [r for level, n in zip(done, first, strict=True) for r in level.results[n:]]
            checks.append(check_round(up, logins, sizes, per_login))
            sizes = up.flow_sizes()
        rss_after = up.rss_mb()
        up.trace()  # what a teacher's `oauth-sim trace` without --flow reads
        rss_after_reads = up.rss_mb()
    verdict = combine(checks)
    return {
        "events_per_login": per_login,
        "logins": verdict.logins,
        "levels": [level.to_dict() for level in done],
        "throughput_ratio_most_to_fewest": round(done[-1].per_second / done[0].per_second, 2),
        "rss_mb_before": {p: round(v, 1) for p, v in rss_before.items()},
        "rss_mb_after": {p: round(v, 1) for p, v in rss_after.items()},
        "rss_growth_mb": {p: round(rss_after[p] - rss_before[p], 1) for p in rss_before},
        "rss_growth_mb_after_a_whole_trace_read": {
            p: round(rss_after_reads[p] - rss_before[p], 1) for p in rss_before
        },
        "check": {k: v for k, v in vars(verdict).items() if k != "problems"},
        "problems": verdict.problems,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(classroom(), indent=2))
