"""Where a happy path's CPU goes, by layer: every thread of a threads-mode simulation (all
four parties and the scripted browser in one process) runs under its own cProfile, timed by
that thread's own CPU clock, while it runs happy-path flows. Each function's own time goes
to its layer (the HTTP client, the HTTP server, Flask, Authlib, SQLAlchemy, Jinja, tracing,
the scripted browser's HTML parsing...); standard-library time goes to the layer that called it, so
http.client's header parsing is the HTTP client's and html.parser is the scripted browser's.

Why per-thread CPU clocks and not a sampler: threads share one interpreter lock, so an
in-process sampler only runs when another thread has let go of it, in a socket or SQLite
call, and found those calls everywhere (we measured that bias: SQLite looked like 46 % of
the authorization server). The cost: the profiler slows every call, so call-heavy layers
look a little heavier than they are. Shares, not times; good for where to cut.
`python benchmarks/layers.py [--flows N]` prints the table; run.py includes it.
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: (layer, path fragments of its frames), innermost match wins, checked in this order.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Our HTTP client's wire lives in sim/tracing (tracing's adapter is built on it) but is
    # the client side of HTTP, as requests and urllib3 were before it.
    (
        "HTTP client (requests, http.client, sim wire)",
        (
            "sim/tracing/wire.py",
            "sim/tracing/http11.py",
            "requests/",
            "urllib3/",
            "http/client.py",
            "http/cookiejar.py",
            "email/",
        ),
    ),
    ("tracing (sim/tracing)", ("sim/tracing/",)),
    ("scripted browser: HTML parsing", ("html/parser.py", "_markupbase.py", "sim/user_agent.py")),
    ("Jinja", ("jinja2/", "markupsafe/")),
    (
        "SQLAlchemy + sqlite3",
        ("sqlalchemy/", "flask_sqlalchemy/", "sqlite3/", "sim/authorization_server/plain_sql.py"),
    ),
    ("crypto (JWT, hashing)", ("cryptography/", "joserfc/", "jwt/", "hashlib", "hmac.py")),
    ("Authlib", ("authlib/",)),
    # The AS's Flask subclass is Flask's plumbing, trimmed: counted with Flask.
    (
        "Flask + Werkzeug",
        (
            "flask/",
            "werkzeug/",
            "itsdangerous/",
            "click/",
            "sim/authorization_server/flask_app.py",
        ),
    ),
    ("HTTP server (sim.runtime + waitress)", ("waitress/", "sim/runtime/connections.py")),
    ("scenario driver", ("sim/scenarios/", "sim/runtime/", "sim/teaching/")),
    ("our party code", ("sim/",)),
)
OTHER = "other (interpreter, stdlib)"


def layer_of(paths: list[str]) -> str:
    """`paths`: the stack's file names, innermost first."""
    for path in paths:
        path = path.replace("\\", "/")
        for name, fragments in LAYERS:
            if any(fragment in path for fragment in fragments):
                return name
    return OTHER


def _stdlib(path: str) -> bool:
    return path.startswith(("<", "~")) or ("site-packages" not in path and "/sim/" not in path)


class ThreadProfiles:
    """A cProfile per thread (CPU clock), started in every thread that starts later and in
    the current one; `stop()` gathers the layer totals."""

    def __init__(self) -> None:
        self.profiles: list[tuple[threading.Thread, cProfile.Profile]] = []
        self._lock = threading.Lock()

    def _start_here(self, *_args) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self.profiles.append((threading.current_thread(), profile))
        profile.enable()

    def start(self) -> None:
        threading.setprofile(self._start_here)

    def enable_current(self) -> cProfile.Profile:
        self._start_here()
        return self.profiles[-1][1]

    def stop(self) -> None:
        threading.setprofile(None)

    def clear(self) -> None:
        for _, profile in self.profiles:
            profile.clear()

    def totals(self) -> Counter[str]:
        """CPU seconds by layer, over every thread."""
        by_layer: Counter[str] = Counter()
        for _, profile in self.profiles:
            profile.snapshot_stats()  # from any thread, unlike create_stats()
            stats = profile.stats  # {func: (cc, nc, own time, cumulative, callers)}
            memo: dict = {}
            for func, (_, _, own, _, _) in stats.items():
                for layer, share in _layer_shares(func, stats, memo).items():
                    by_layer[layer] += own * share
        return by_layer


def _layer_shares(func, stats, memo, depth: int = 0) -> dict[str, float]:
    """A function's layer; for the standard library, its callers' layers in proportion to
    the time each call path spent in it."""
    if func in memo:
        return memo[func]
    path = func[0]
    if not _stdlib(path) or depth > 12:
        found = {layer_of([path]): 1.0}
    else:
        memo[func] = {OTHER: 1.0}  # breaks cycles
        callers = stats[func][4] if func in stats else {}
        weights = {c: v[2] + 1e-12 for c, v in callers.items()}
        total = sum(weights.values())
        found: dict[str, float] = {}
        for caller, weight in weights.items():
            for layer, share in _layer_shares(caller, stats, memo, depth + 1).items():
                found[layer] = found.get(layer, 0.0) + share * weight / total
        found = found or {OTHER: 1.0}
    memo[func] = found
    return found


def shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {name: round(100 * n / total, 1) for name, n in counts.most_common()}


def profile(flows: int = 60) -> dict:
    """Run `flows` happy paths (threads mode) with every thread profiled; shares of CPU by
    layer, and the flow time while profiled (the profiler slows it several times)."""
    from sim import Simulation  # noqa: PLC0415
    from sim.scenarios import get_scenario  # noqa: PLC0415

    flow = get_scenario("happy-path")
    profiles = ThreadProfiles()
    profiles.start()  # before the servers' threads start
    try:
        with Simulation() as sim:
            main = profiles.enable_current()
            for _ in range(5):
                flow.run(sim)
            profiles.clear()  # start-up and warm-up are not part of a flow
            started = time.perf_counter()
            for _ in range(flows):
                flow.run(sim)
            elapsed = time.perf_counter() - started
            main.disable()
            by_layer = profiles.totals()
    finally:
        profiles.stop()
    return {
        "flows": flows,
        "flow_ms_while_profiled": round(elapsed * 1000 / flows, 1),
        "cpu_ms_per_flow_profiled": round(1000 * sum(by_layer.values()) / flows, 1),
        "layers_percent": shares(by_layer),
    }


def profile_server(flow, flows: int = 60, tracing: bool = True) -> dict:
    """`flow(sim)` run `flows` times on a threads-mode simulation, profiling every thread but
    this one (the driver): for a flow that talks to one party only (the peer's nine steps
    talk to the authorization server alone), that party's CPU by layer, tracing included."""
    from sim import Simulation  # noqa: PLC0415

    profiles = ThreadProfiles()
    profiles.start()  # before the servers' threads start
    try:
        with Simulation(tracing=tracing) as sim:
            for _ in range(5):
                flow(sim)
            profiles.clear()
            for _ in range(flows):
                flow(sim)
            by_layer = profiles.totals()
    finally:
        profiles.stop()
    return {
        "flows": flows,
        "cpu_ms_per_flow_profiled": round(1000 * sum(by_layer.values()) / flows, 1),
        "layers_percent": shares(by_layer),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100)
    result = profile(parser.parse_args().flows)
    print(f"{result['flow_ms_while_profiled']} ms per flow while profiled")
    for name, share in result["layers_percent"].items():
        print(f"{share:5.1f} %  {name}")


if __name__ == "__main__":
    main()
