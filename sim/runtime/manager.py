"""The process manager: starts the parties' apps on loopback, checks they are healthy,
and stops every one of them cleanly. The only module that imports all the apps.

Threads mode (the default for `Simulation`) serves each app from a waitress server in a
thread of this process: start to all-healthy takes a fraction of a second, good for tests
and notebooks. Process mode (what `oauth-sim up` uses) runs each app in its own Python
process, with its output prefixed by the party name; events reach one SQLite trace store.

Faults in process mode: each child runs in its own session (a terminal's Ctrl-C reaches only
the manager, which stops the children in order) and exits when its stdin pipe closes, so
even a manager killed with SIGKILL leaves no orphan serving on a port. `fault()` says
which child died on its own and why, so the caller can stop the others.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from sim.defences import FlowSwitches, Switchboard
from sim.drawing import DrawnTrace
from sim.parties import (
    ATTACKER,
    AUTHORIZATION_SERVER,
    CLIENT,
    CONSOLE,
    PORT_OFFSETS,
    RESOURCE_SERVER,
    USER_AGENT,
    host_of,
)
from sim.result import ScenarioResult
from sim.runtime.servers import CONSOLE_THREADS, THREADS, PortInUse, ServerThread, bind
from sim.scenarios import get_scenario
from sim.teaching.explain import annotate
from sim.tracing import TraceStore, build_trace, trace_session
from sim.tracing.hooks import release
from sim.tracing.store import MemoryTraceStore
from sim.user_agent import UserAgent, close_idle_connections

PARTIES = (CLIENT, AUTHORIZATION_SERVER, RESOURCE_SERVER)
#: Every app the manager starts: the three main parties and the attacker's server, which
#: gets port_base+3 (the contract's fixed ports are only for the three main parties), and
#: the console on port_base+4 when asked for.
ALL_APPS = (*PARTIES, ATTACKER)
HEALTH_TIMEOUT = 20.0


class StartupError(RuntimeError):
    """A party did not come up; the message says which and why."""


class IssuerError(StartupError):
    """The external issuer cannot be used (no answer, no metadata, an endpoint missing)."""


def build_app(
    party: str,
    urls: dict[str, str],
    store: TraceStore | None,
    options: dict,
    switches: Switchboard | None = None,
):
    """App factory dispatch: the one place that knows every party's app. Every app honours
    the per-flow defence switches; with live tracing (real browsers), each party's app can
    pause at redirects (console switch).

    Each app is imported where it is built, not at the top: in process mode every child
    (`sim.runtime.serve`) loads only its own party's app and its libraries."""
    app = _build_app(party, urls, store, options)
    if party == CONSOLE:
        app.config["SWITCHES"] = switches  # it runs scenarios with defences off
    if party != CONSOLE:
        from sim.front_door import install

        install(app, party, urls.get(CONSOLE))
    app.wsgi_app = FlowSwitches(app.wsgi_app, switches)
    if party != CONSOLE and store is not None and getattr(store, "live", False):
        from sim.console.pause import PauseAtRedirects
        from sim.console.settings import switch_new_flows
        from sim.tracing.live import LiveFlows

        app.wsgi_app = LiveFlows(app.wsgi_app, party, store, switch_new_flows(store, switches))
        app.wsgi_app = PauseAtRedirects(app.wsgi_app, store, party)
    return app


def _build_app(party: str, urls: dict[str, str], store: TraceStore | None, options: dict):
    if party == AUTHORIZATION_SERVER:
        from sim.authorization_server import create_app

        return create_app(
            {
                "ISSUER": urls[AUTHORIZATION_SERVER],
                "CLIENT_BASE_URL": urls[CLIENT],
                "RESOURCE_AUDIENCE": urls[RESOURCE_SERVER],
                "TRACE_STORE": store,
                "ACCESS_TOKEN_LIFETIME": options.get("access_token_lifetime", 300),
                "PASSWORD_HASH_ROUNDS": options.get("password_rounds", 1000),
                "DATABASE": options.get("database"),
            }
        )
    if party == RESOURCE_SERVER:
        from sim.resource_server import create_app

        return create_app(
            {
                "AUTHORIZATION_SERVER_URL": urls[AUTHORIZATION_SERVER],
                "AUDIENCE": urls[RESOURCE_SERVER],
                "TRACE_STORE": store,
            }
        )
    if party == CLIENT:
        from sim.client import create_app

        return create_app(
            {
                "BASE_URL": urls[CLIENT],
                "ISSUER": urls[AUTHORIZATION_SERVER],
                "RESOURCE_SERVER_URL": urls[RESOURCE_SERVER],
                "TRACE_STORE": store,
                "OTHER_AUTHORIZATION_SERVERS": _other_authorization_servers(urls),
                "EXTERNAL_SERVER": options.get("external_server"),
            }
        )
    if party == ATTACKER:
        from sim.attacker import create_app

        return create_app(
            {
                "BASE_URL": urls[ATTACKER],
                "HONEST_ISSUER": urls[AUTHORIZATION_SERVER],
                "TRACE_STORE": store,
            }
        )
    if party == CONSOLE:
        from sim.console import create_app
        from sim.runtime.scenario_runner import ScenarioRunner

        return create_app(
            {
                "URLS": urls,
                "TRACE_STORE": store,
                "RUNNER": ScenarioRunner(urls, store, Simulation.attach),
                **options.get("console", {}),
            }
        )
    raise ValueError(f"unknown party {party!r}")


def _other_authorization_servers(urls: dict[str, str]) -> dict[str, dict[str, str]]:
    """The client also knows the attacker's authorization server (mix-up scenario)."""
    if ATTACKER not in urls:
        return {}
    from sim.attacker import authorization_server_registration

    return {"attacker": authorization_server_registration(urls[ATTACKER])}


def dispose_database(app) -> None:
    """Close an app's database connections now, not whenever the garbage collector runs."""
    database = getattr(app, "extensions", {}).get("sqlalchemy")
    if database is not None:
        with app.app_context():
            database.engine.dispose()


def describe_exit(code: int) -> str:
    """A child's return code in words: Popen reports death by signal N as -N."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"was killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"was killed by signal {-code}"


class Simulation:
    """All parties on loopback. Use as a context manager::

    with Simulation() as sim:
        result = sim.run("happy-path")
    """

    def __init__(
        self,
        mode: str = "threads",
        port_base: int = 0,
        tracing: bool = True,
        access_token_lifetime: int = 300,
        password_rounds: int = 1000,
        log=None,
        console: bool = False,
        live: bool | None = None,
        pause: bool = False,
        issuer: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
    ) -> None:
        if mode not in ("threads", "process"):
            raise ValueError("mode must be 'threads' or 'process'")
        self.mode = mode
        self.console = console
        #: Live mode: requests of real browsers are grouped into flows (sim.tracing.live).
        self.live = live if live is not None else (mode == "process" or console)
        self.pause = pause
        self.port_base = port_base
        self.tracing = tracing
        self.options = {
            "access_token_lifetime": access_token_lifetime,
            "password_rounds": password_rounds,
        }
        self.log = log or (lambda line: None)
        #: An external authorization server for the client (`oauth-sim up --issuer`).
        self.external = (
            {
                "issuer": issuer,
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": scope,
            }
            if issuer
            else None
        )
        self.urls: dict[str, str] = {}
        self.store: TraceStore | None = None
        self.switches: Switchboard | None = None
        self._workdir: Path | None = None
        self._threads: list[ServerThread] = []
        self._processes: dict[str, subprocess.Popen] = {}
        self._pumps: list[threading.Thread] = []
        self._tails: dict[str, collections.deque[str]] = {}
        #: Set (from a signal handler, say) to abandon a start still waiting for health.
        self.stop_requested = False
        self.started_in: float = 0.0
        self._agents: dict[str, list[UserAgent]] = {}
        self._agents_lock = threading.Lock()
        self._apps: list = []

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> Simulation:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> Simulation:
        began = time.perf_counter()
        if self.external is not None:
            self.options["external_server"] = self._discover(self.external)
        self._workdir = Path(tempfile.mkdtemp(prefix="oauth-sim-"))
        self.options["database"] = str(self._workdir / "authorization-server.sqlite")
        try:
            if self.mode == "threads":
                self._start_threads()
            else:
                self._start_processes()
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.perf_counter() - began
        return self

    @staticmethod
    def _discover(external: dict) -> dict:
        """The external issuer's checked metadata, with this client's registration there."""
        from sim.client.discovery import DiscoveryError, discover  # noqa: PLC0415

        if not external.get("client_id"):
            raise IssuerError("an external issuer needs the client's --client-id there")
        try:
            metadata = discover(external["issuer"])
        except DiscoveryError as error:
            raise IssuerError(str(error)) from None
        return {**metadata, **{k: v for k, v in external.items() if k != "issuer"}}

    @property
    def external_issuer(self) -> str | None:
        """The external authorization server's issuer the client logs in at, if any."""
        return self.external["issuer"] if self.external else None

    @property
    def apps(self) -> tuple[str, ...]:
        return (*ALL_APPS, CONSOLE) if self.console else ALL_APPS

    def _ports(self) -> dict[str, int]:
        if self.port_base == 0:
            return {p: 0 for p in self.apps}
        return {p: self.port_base + PORT_OFFSETS[p] for p in self.apps}

    def _bind_all(self) -> dict[str, socket.socket]:
        """Bind every party's port before any app starts: a taken port fails here, once,
        and port 0 picks a free port that nothing can take before the app serves on it."""
        sockets: dict[str, socket.socket] = {}
        try:
            for party, port in self._ports().items():
                sockets[party] = bind(port, party)
        except PortInUse:
            for sock in sockets.values():
                sock.close()
            raise
        return sockets

    def _start_threads(self) -> None:
        self.store = MemoryTraceStore(live=self.live) if self.tracing else None
        self.switches = Switchboard()
        sockets = self._bind_all()
        self.urls = self._urls(sockets)
        for party in self._start_order():
            app = build_app(party, self.urls, self.store, self.options, self.switches)
            self._apps.append(app)
            threads = CONSOLE_THREADS if party == CONSOLE else THREADS
            server = ServerThread(app, sockets[party], party, threads)
            server.start()
            self._threads.append(server)

    def _start_processes(self) -> None:
        trace_path = str(self._workdir / "trace.sqlite") if self.tracing else None
        self.store = TraceStore(trace_path, live=self.live) if trace_path else None
        switches_path = str(self._workdir / "switches.sqlite")
        self.switches = Switchboard(switches_path)
        sockets = self._bind_all()
        self.urls = self._urls(sockets)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for party in self._start_order():
            sock = sockets[party]
            config = {
                "fd": sock.fileno(),  # the child serves on the socket bound here
                "urls": self.urls,
                "trace_path": trace_path,
                "switches_path": switches_path,
                "live": self.live,
                "options": self.options,
            }
            process = subprocess.Popen(
                [sys.executable, "-m", "sim.runtime.serve", party, json.dumps(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # A pipe nobody writes to: the child exits when it closes (manager gone).
                stdin=subprocess.PIPE,
                text=True,
                env=env,
                pass_fds=(sock.fileno(),),
                start_new_session=True,  # Ctrl-C goes to the manager only
            )
            sock.close()  # the child holds its own copy
            self._processes[party] = process
            pump = threading.Thread(
                target=self._pump, args=(party, process), name=f"pump-{party}", daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def _start_order(self) -> list[str]:
        order = [AUTHORIZATION_SERVER, RESOURCE_SERVER, CLIENT, ATTACKER]
        return [*order, CONSOLE] if self.console else order

    def _urls(self, sockets: dict[str, socket.socket]) -> dict[str, str]:
        """Every app's URL (and the console's options, which need to know them)."""
        urls = {p: f"http://{host_of(p)}:{s.getsockname()[1]}" for p, s in sockets.items()}
        self.options["console"] = {"PAUSE": self.pause, "MODE": self.mode}
        return urls

    def _pump(self, party: str, process: subprocess.Popen) -> None:
        tail = self._tails.setdefault(party, collections.deque(maxlen=3))
        for line in process.stdout:  # type: ignore[union-attr]
            tail.append(line.rstrip())
            self.log(f"[{party}] {line.rstrip()}")

    def fault(self) -> str | None:
        """Process mode: None while every child runs; else which party's process ended on
        its own and why (the signal that killed it, or its exit code and last output)."""
        for party, process in self._processes.items():
            code = process.poll()
            if code is None:
                continue
            for pump in self._pumps:
                if pump.name == f"pump-{party}":
                    pump.join(timeout=1)  # its last words, if it had any
            how = describe_exit(code)
            last = next((line for line in reversed(self._tails.get(party, ())) if line), "")
            if code > 0 and last:  # a crash's last line is usually the exception
                how += f" (last output: {last})"
            return f"{party} {how}"
        return None

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        pending = list(self.apps)
        with requests.Session() as http:
            while pending:
                party = pending[0]
                process = self._processes.get(party)
                if process is not None and process.poll() is not None:
                    raise StartupError(self.fault() or f"{party} exited")
                if self.stop_requested:
                    raise StartupError("stopped while starting")
                try:
                    if http.get(self.urls[party] + "/healthz", timeout=1).status_code == 200:
                        pending.pop(0)
                        continue
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise StartupError(f"{party} did not answer at {self.urls[party]}/healthz")
                time.sleep(0.02)

    def stop(self) -> None:
        for server in self._threads:
            server.stop()
        self._threads.clear()
        for app in self._apps:
            dispose_database(app)
        self._apps.clear()
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pump in self._pumps:
            pump.join(timeout=2)
        for process in self._processes.values():
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        self._processes.clear()
        self._pumps.clear()
        release(self.store)
        for agents in self._agents.values():
            for agent in agents:
                agent.close()
        self._agents.clear()
        close_idle_connections()
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.switches is not None:
            self.switches.close()
            self.switches = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    @classmethod
    def attach(cls, urls: dict[str, str], store: Any, switches: Any = None) -> Simulation:
        """A Simulation over apps already running (started by another manager), to run
        scenarios against them: what the classroom console does. It starts and stops
        nothing of those apps."""
        attached = cls()
        attached.urls, attached.store = dict(urls), store
        if switches is not None:
            attached.switches = switches
        return attached

    # -- flows ---------------------------------------------------------------------------
    @property
    def client_url(self) -> str:
        return self.urls[CLIENT]

    @property
    def authorization_server_url(self) -> str:
        return self.urls[AUTHORIZATION_SERVER]

    @property
    def resource_server_url(self) -> str:
        return self.urls[RESOURCE_SERVER]

    @property
    def attacker_url(self) -> str:
        return self.urls[ATTACKER]

    def new_flow(self, name: str = "flow", off: Iterable[str] = (), **settings: Any) -> str:
        """A fresh flow id; the defences in `off` and the `settings` hold for this flow
        only, until `end_flow` (sim.defences: their own channel, not the trace store)."""
        flow = f"{name}-{uuid.uuid4().hex[:12]}"
        if (off or settings) and self.switches is not None:
            self.switches.set(flow, off, **settings)
        return flow

    def update_flow(self, flow: str, **settings: Any) -> None:
        """Change some of a running flow's settings (e.g. move its clock on), keeping the
        others and its switches."""
        if self.switches is not None:
            current = self.switches.get(flow)
            self.switches.set(flow, current.pop("off", ()), **{**current, **settings})

    def user_agent(self, flow: str, party: str = USER_AGENT) -> UserAgent:
        agent = UserAgent(flow, party)
        with self._agents_lock:
            self._agents.setdefault(flow, []).append(agent)
        return agent

    def end_flow(self, flow: str) -> None:
        """Close the flow's browsers: their keep-alive connections would otherwise stay
        open on every server (and a busy server's loop walks all of them on each wake-up)."""
        with self._agents_lock:
            agents = self._agents.pop(flow, [])
        for agent in agents:
            agent.close()
        if self.switches is not None:
            self.switches.clear(flow)

    def http(
        self, flow: str, party: str, session: requests.Session | None = None
    ) -> requests.Session:
        """An HTTP client for `party` in this flow (`session`, e.g. Authlib's, or a plain
        one), traced like the parties' own."""
        return trace_session(session or requests.Session(), party, self.store, flow)

    def trace(self, flow: str, title: str = "") -> DrawnTrace:
        """The flow's events, in order, annotated with notes and RFC references."""
        if self.store is None:
            return DrawnTrace([], title)
        self.store.wait_settled(flow)
        return build_trace(self.store.snapshot(flow), title, annotate, DrawnTrace)

    def run(self, name: str, off: Iterable[str] = (), insecure: bool = False) -> ScenarioResult:
        """Run scenario `name` with the defences in `off` switched off for this run only
        (`insecure=True`: all of the scenario's defences)."""
        return get_scenario(name).run(self, off=off, insecure=insecure)
