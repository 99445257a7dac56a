"""Pause mode: every redirect through a real browser stops at a page that shows where the
browser is being sent, the parameters it carries and what each is for, with a Continue
button. The lecturer's "stop here and look" moment.

A WSGI wrapper around each party's app (outside its tracing middleware, so the trace still
records the real 3xx). It acts only on requests of real browsers (no party header: scripted
runs are never paused) and only while the console's pause switch is on.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from sim.console.glossary import purpose
from sim.console.settings import KEY
from sim.parties import PARTY_HEADER

PARTY_KEY = "HTTP_" + PARTY_HEADER.upper().replace("-", "_")
DROPPED = {"location", "content-length", "content-type"}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Paused: a redirect</title>
<style>
body {{ font: 20px/1.5 system-ui, sans-serif; margin: 0; background: #fff8e1; color: #111; }}
header {{ background: #8a4b00; color: #fff; padding: .5em 1em; font-weight: 700; }}
main {{ max-width: 60em; margin: 1em auto; padding: 0 1em; }}
code {{ word-break: break-all; }}
table {{ border-collapse: collapse; width: 100%; }}
td {{ border-top: 1px solid #cba; padding: .2em .4em; vertical-align: top; }}
td:first-child {{ font-weight: 700; white-space: nowrap; word-break: normal; }}
.secret {{ background: #ffe0e0; border: 2px solid #b00020; }}
a.continue {{ display: inline-block; font-size: 24px; padding: .3em 1.4em; margin: .6em 0;
  background: #0b3a66; color: #fff; border-radius: 6px; text-decoration: none; }}
</style></head>
<body><header>Paused by the classroom console: the {party} answered {status}, a redirect</header>
<main>
<p>The browser is being sent to:</p>
<p><code id="target">{target}</code></p>
<p>{where}</p>
{button}
{params}
<p>Pause mode is switched on in the classroom console; the trace records the redirect
exactly as it was sent.</p>
</main></body></html>
"""


def interstitial(party: str, status: str, target: str) -> bytes:
    parts = urlsplit(target)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + parse_qsl(
        parts.fragment, keep_blank_values=True
    )
    rows = []
    for name, value in pairs:
        meaning, secret = purpose(name)
        cls = ' class="secret"' if secret else ""
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td><code{cls}>{html.escape(value)}</code>"
            f"<br>{html.escape(meaning)}</td></tr>"
        )
    params = (
        "<p>The parameters it carries, decoded:</p><table>" + "".join(rows) + "</table>"
        if rows
        else "<p>No parameters.</p>"
    )
    safe = parts.scheme in ("http", "https")
    button = (
        f'<a class="continue" id="continue" href="{html.escape(target, quote=True)}">Continue</a>'
        if safe
        else "<p>This is not a web address, so there is no Continue button.</p>"
    )
    where = html.escape(f"That is {parts.scheme}://{parts.netloc}{parts.path}")
    return PAGE.format(
        party=html.escape(party),
        status=html.escape(status),
        target=html.escape(target),
        where=where,
        params=params,
        button=button,
    ).encode()


class PauseAtRedirects:
    def __init__(self, app: Callable, store: Any, party: str) -> None:
        self.app, self.store, self.party = app, store, party

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        # The console's pause switch (`sim.console.settings.paused`), asked of the store's
        # in-memory copy directly: this runs on every request of every party.
        if environ.get(PARTY_KEY) or not self.store.flow_option(KEY, "pause"):
            return self.app(environ, start_response)
        held: dict[str, Any] = {}

        def hold(status, headers, exc_info=None):
            location = next((v for k, v in headers if k.lower() == "location"), None)
            if status[:1] == "3" and location:
                held.update(status=status, headers=headers, location=location)
                return lambda data: None
            return start_response(status, headers, exc_info)

        result = self.app(environ, hold)
        if not held:
            return result
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()
        here = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        target = urljoin(here + environ.get("PATH_INFO", "/"), held["location"])
        body = interstitial(self.party, held["status"], target)
        headers = [(k, v) for k, v in held["headers"] if k.lower() not in DROPPED]
        headers += [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
        ]
        start_response("200 OK", headers)
        return [body]
