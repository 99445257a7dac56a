"""Peer benchmark: a mature OAuth 2.0 server (node-oidc-provider) driven like our simulator.

Why this exists: absolute timings of oauth-sim mean little on their own. To put them in
context we run a real, widely used authorization server, panva's ``oidc-provider`` for
Node.js, through the very same authorization code flow with PKCE (S256), driven the same
way our simulator's scripted user agent drives it: one hop at a time with
``allow_redirects=False``, like a browser following 303s, a fresh cookie jar per flow, and
plain form posts for the login and consent prompts. Both sides run on the same machine in
the same benchmark run, so the comparison is side by side rather than against numbers
from somewhere else.

One flow is::

    GET  /auth?...&code_challenge=...   -> 303 /interaction/<uid>         (login prompt)
    GET  /interaction/<uid>             -> 200 HTML login form
    POST /interaction/<uid>             -> 303 /auth/<uid> -> 303 /interaction/<uid2>
    GET  /interaction/<uid2>            -> 200 HTML consent form
    POST /interaction/<uid2>            -> 303 /auth/<uid2> -> 303 redirect_uri?code=...
    POST /token  grant_type=authorization_code (client_secret_basic + code_verifier)
    POST /token  grant_type=refresh_token

The login and consent pages are oidc-provider's built-in ``devInteractions`` (any login
and password are accepted). The redirect to the client's ``redirect_uri`` is not fetched;
the code is read from its query string, as a client would.

Only the standard library and ``requests`` are used on the Python side; ``node`` and
``npm`` must be on PATH. Run ``python benchmarks/peer/peer.py [--flows N]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import math
import pathlib
import queue
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

OIDC_PROVIDER_VERSION = "9.13.3"

HERE = pathlib.Path(__file__).resolve().parent
SERVER_SCRIPT = HERE / "server.mjs"

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
REDIRECT_URI = "http://127.0.0.1:1/cb"
SCOPE = "openid offline_access"

MAX_HOPS = 10
HTTP_TIMEOUT = 10.0

_FORM_ACTION = re.compile(r'<form\b[^>]*\baction="([^"]*)"', re.IGNORECASE)


def install(workdir: pathlib.Path) -> None:
    """Install oidc-provider (pinned) and the server script into ``workdir``."""
    workdir = pathlib.Path(workdir)
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"peer benchmark needs `{tool}` on PATH")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "package.json").write_text(
        '{"name": "oauth-sim-peer-bench", "private": true, "type": "module"}\n'
    )
    # ESM imports resolve relative to the script, not the cwd: the script must live here.
    shutil.copyfile(SERVER_SCRIPT, workdir / "server.mjs")
    cmd = [
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--no-progress",
        "--loglevel=error",
        f"oidc-provider@{OIDC_PROVIDER_VERSION}",
    ]
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"npm install failed: {exc}") from exc
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        detail = lines[-1] if lines else f"exit code {proc.returncode}"
        raise RuntimeError(f"npm install oidc-provider@{OIDC_PROVIDER_VERSION} failed: {detail}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PeerServer:
    """Run ``node server.mjs`` from an :func:`install`-ed workdir; ``base_url`` once ready."""

    def __init__(self, workdir: pathlib.Path, port: int | None = None, timeout: float = 20.0):
        self.workdir = pathlib.Path(workdir)
        self.port = port or _free_port()
        self.timeout = timeout
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr_path = self.workdir / "server.stderr.log"
        self._stderr = None

    def _pump_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:  # also keeps the pipe drained
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _stderr_tail(self) -> str:
        try:
            lines = self._stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def __enter__(self) -> PeerServer:
        self._stderr = open(self._stderr_path, "w")  # closed in __exit__
        self._proc = subprocess.Popen(
            ["node", "server.mjs", str(self.port)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"peer server not READY within {self.timeout:.0f}s")
                try:
                    line = self._lines.get(timeout=remaining)
                except queue.Empty:
                    continue
                if line is None:
                    raise RuntimeError(f"peer server exited early: {self._stderr_tail()}")
                if line.startswith("READY"):
                    return self
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def __exit__(self, *exc_info: object) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def _follow(session: requests.Session, resp: requests.Response) -> requests.Response | str:
    """Follow 3xx hops one at a time. Returns the final response, or the callback URL."""
    for _ in range(MAX_HOPS):
        if not resp.is_redirect:
            return resp
        url = urljoin(resp.url, resp.headers["Location"])
        if url.startswith(REDIRECT_URI):
            return url  # the browser would now load the client; the code is in the URL
        resp = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    raise RuntimeError(f"more than {MAX_HOPS} redirects")


def _submit_prompt(
    session: requests.Session, page: requests.Response | str, prompt: str, fields: dict[str, str]
) -> requests.Response:
    """Post the devInteractions form of ``page``, checking it is the expected prompt."""
    if isinstance(page, str):
        raise RuntimeError(f"expected {prompt} page, got redirect to client: {page}")
    marker = f'name="prompt" value="{prompt}"'
    if page.status_code != 200 or marker not in page.text:
        raise RuntimeError(
            f"expected {prompt} page, got HTTP {page.status_code}: {page.text[:200]}"
        )
    match = _FORM_ACTION.search(page.text)
    if match is None:
        raise RuntimeError(f"no form on {prompt} page")
    action = urljoin(page.url, html.unescape(match.group(1)))
    data = {"prompt": prompt, **fields}
    return session.post(action, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)


def _token(session: requests.Session, base_url: str, data: dict[str, str]) -> dict:
    resp = session.post(
        f"{base_url}/token",
        data=data,
        auth=(CLIENT_ID, CLIENT_SECRET),  # client_secret_basic
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if resp.status_code != 200:
        raise RuntimeError(f"token ({data['grant_type']}) HTTP {resp.status_code}: {resp.text}")
    body = resp.json()
    if not body.get("access_token"):
        raise RuntimeError(f"token ({data['grant_type']}) without access_token: {body}")
    return body


def run_flow(base_url: str) -> None:
    """One complete authorization code + PKCE flow plus a refresh; raises on failure."""
    base_url = base_url.rstrip("/")
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            # offline_access is only honoured together with prompt=consent
            "scope": SCOPE,
            "prompt": "consent",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    with requests.Session() as session:
        resp = session.get(f"{base_url}/auth?{query}", allow_redirects=False, timeout=HTTP_TIMEOUT)
        page = _follow(session, resp)
        resp = _submit_prompt(
            session, page, "login", {"login": "bench-user", "password": "bench-pass"}
        )
        page = _follow(session, resp)
        resp = _submit_prompt(session, page, "consent", {})
        callback = _follow(session, resp)
        if not isinstance(callback, str):
            raise RuntimeError(f"expected redirect to client, got HTTP {callback.status_code}")
        params = parse_qs(urlsplit(callback).query)
        if "error" in params:
            raise RuntimeError(f"authorization error: {callback}")
        if params.get("state") != [state] or not params.get("code"):
            raise RuntimeError(f"bad authorization response: {callback}")

        tokens = _token(
            session,
            base_url,
            {
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        refresh_token = tokens.get("refresh_token")
        if not refresh_token:
            raise RuntimeError(f"no refresh_token issued: {tokens}")
        _token(
            session,
            base_url,
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
        )


def time_flows(base_url: str, n: int, warmup: int = 5) -> list[float]:
    """Run ``warmup`` untimed flows, then ``n`` timed ones; durations in milliseconds."""
    for _ in range(warmup):
        run_flow(base_url)
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        run_flow(base_url)
        durations.append((time.perf_counter() - start) * 1000.0)
    return durations


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="oauth-sim-peer-") as tmp:
        workdir = pathlib.Path(tmp)
        start = time.perf_counter()
        install(workdir)
        install_s = time.perf_counter() - start
        print(f"npm install oidc-provider@{OIDC_PROVIDER_VERSION}: {install_s:.1f} s")
        with PeerServer(workdir) as server:
            durations = time_flows(server.base_url, args.flows, args.warmup)
    print(
        f"oidc-provider {OIDC_PROVIDER_VERSION}: {len(durations)} flows, "
        f"median {statistics.median(durations):.2f} ms, "
        f"p95 {_percentile(durations, 95):.2f} ms per flow"
    )


if __name__ == "__main__":
    main()
