"""Where a happy path's CPU goes, by layer: a sampler thread inside a threads-mode
simulation (all four parties and the scripted browser in one process) looks at every
thread's stack every few milliseconds and charges the CPU time that thread used since the
last look (the kernel's per-thread count, /proc/self/task/<tid>/schedstat) to the innermost
frame that belongs to a known layer. Authlib calling SQLAlchemy is SQLAlchemy's time; the
standard library is charged to whoever called it, so http.client's header parsing is
requests' and html.parser is the scripted browser's.

Why not py-spy: its `--gil` mode charged a thread blocked in recv() as if it held the GIL,
and without it, threads waiting on a lock counted as busy in this container; weighting by
the kernel's CPU count per thread avoids both. Without schedstat (not Linux) samples are
weighted equally, which measures wall time, not CPU; the output says which.
`python benchmarks/layers.py [--flows N]` prints the table; run.py includes it.
"""

from __future__ import annotations

import argparse
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
    ("tracing (sim/tracing)", ("sim/tracing/",)),
    ("scripted browser: HTML parsing", ("html/parser.py", "_markupbase.py", "sim/user_agent.py")),
    ("Jinja", ("jinja2/", "markupsafe/")),
    ("SQLAlchemy + sqlite3", ("sqlalchemy/", "flask_sqlalchemy/", "sqlite3/")),
    ("crypto (JWT, hashing)", ("cryptography/", "joserfc/", "jwt/", "hashlib", "hmac.py")),
    ("Authlib", ("authlib/",)),
    ("Flask + Werkzeug", ("flask/", "werkzeug/", "itsdangerous/", "click/")),
    ("waitress", ("waitress/",)),
    (
        "requests (+ urllib3, http.client)",
        ("requests/", "urllib3/", "http/client.py", "http/cookiejar.py", "email/"),
    ),
    ("scenario driver", ("sim/scenarios/", "sim/runtime/", "sim/teaching/")),
    ("our party code", ("sim/",)),
)
OTHER = "other (interpreter, stdlib)"
PARTIES = ("authorization_server", "client", "resource_server")


def layer_of(paths: list[str]) -> str:
    """`paths`: the stack's file names, innermost first."""
    for path in paths:
        path = path.replace("\\", "/")
        for name, fragments in LAYERS:
            if any(fragment in path for fragment in fragments):
                return name
    return OTHER


def party_of(paths: list[str], thread: threading.Thread) -> str:
    if thread is threading.main_thread():
        return "scripted browser + driver"
    for path in paths:
        for party in PARTIES:
            if f"sim/{party}/" in path.replace("\\", "/"):
                return party.replace("_", "-")
    return "server plumbing (waitress, Flask, tracing)"


def _thread_cpu_ns(native_id: int) -> int | None:
    try:
        with open(f"/proc/self/task/{native_id}/schedstat") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


#: Where a thread waits (its innermost Python frame): CPU charged while a thread sits here
#: belongs to what it did just before, its previous stack.
IDLE = {
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("socket.py", "readinto"),
    ("wasyncore.py", "poll"),
    ("selectors.py", "select"),
}


def _idle(frame) -> bool:
    code = frame.f_code
    return (Path(code.co_filename).name, code.co_name) in IDLE


class CpuSampler(threading.Thread):
    """Charge each thread's CPU time, as the kernel counts it, to the stack it is on (or,
    when it is now waiting, to the stack it was on at the previous look)."""

    def __init__(self, interval: float = 0.001) -> None:
        super().__init__(name="cpu-sampler", daemon=True)
        self.interval = interval
        self.layers: Counter[str] = Counter()
        self.parties: Counter[str] = Counter()
        self.weighted_by_cpu = _thread_cpu_ns(threading.get_native_id()) is not None
        self._halt = threading.Event()
        self._last: dict[int, tuple[int, list[str] | None]] = {}

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            threads = {t.ident: t for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                thread = threads.get(ident)
                if thread is None or thread is self:
                    continue
                paths = None if _idle(frame) else _paths(frame)
                now = _thread_cpu_ns(thread.native_id) if self.weighted_by_cpu else 0
                before, previous = self._last.get(ident, (now, None))
                self._last[ident] = (now, paths)
                weight = (now - before) if self.weighted_by_cpu else (paths is not None)
                charged = previous or paths
                if weight <= 0 or charged is None:
                    continue
                self.layers[layer_of(charged)] += weight
                self.parties[party_of(charged, thread)] += weight

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _paths(frame) -> list[str]:
    paths = []
    while frame is not None:
        paths.append(frame.f_code.co_filename)
        frame = frame.f_back
    return paths


def shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {name: round(100 * n / total, 1) for name, n in counts.most_common()}


def profile(flows: int = 100) -> dict:
    """Run `flows` happy paths (threads mode) under the sampler; shares of CPU by layer and
    by party, and the flow time with the sampler on (it costs a little)."""
    from sim import Simulation  # noqa: PLC0415
    from sim.scenarios import get_scenario  # noqa: PLC0415

    flow = get_scenario("happy-path")
    with Simulation() as sim:
        for _ in range(5):
            flow.run(sim)
        sampler = CpuSampler()
        sampler.start()
        started = time.perf_counter()
        for _ in range(flows):
            flow.run(sim)
        elapsed = time.perf_counter() - started
        sampler.stop()
    return {
        "flows": flows,
        "flow_ms_while_sampled": round(elapsed * 1000 / flows, 1),
        "weighted_by": "thread CPU time (schedstat)" if sampler.weighted_by_cpu else "samples",
        "layers_percent": shares(sampler.layers),
        "parties_percent": shares(sampler.parties),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100)
    result = profile(parser.parse_args().flows)
    print(f"{result['flow_ms_while_sampled']} ms per flow; weighted by {result['weighted_by']}")
    for key in ("layers_percent", "parties_percent"):
        for name, share in result[key].items():
            print(f"{share:5.1f} %  {name}")
        print()


if __name__ == "__main__":
    main()
