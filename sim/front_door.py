"""What every app's front door has when the simulator serves it: a favicon (so a class can
tell the tabs apart), a root page that says what the app is, and a link to the classroom
console. Installed on each app by the manager; the party packages only show the link."""

from __future__ import annotations

import html

from flask import Flask, Response

from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER

#: (letter, colour) of each app's icon; the colours match the apps' own headers.
ICONS = {
    CLIENT: ("C", "#1f5f99"),
    AUTHORIZATION_SERVER: ("A", "#7a4b12"),
    RESOURCE_SERVER: ("R", "#2d6a2d"),
    ATTACKER: ("!", "#b00020"),
}

ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="{colour}"/>'
    '<text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="700" '
    'fill="#fff" text-anchor="middle">{letter}</text></svg>'
)

#: Root pages for apps that have none of their own.
ROOT_PAGES = {
    RESOURCE_SERVER: (
        "Photo API — the resource server",
        "This server holds the users' photos. It answers only requests that carry an access "
        "token from the authorization server, in the Authorization header (RFC 6750 §2.1), "
        "and asks the authorization server whether each token is still active (token "
        "introspection, RFC 7662).",
        [
            "GET /api/profile (scope profile)",
            "GET /api/photos (scope photos:read)",
            "POST /api/photos (scope photos:write)",
        ],
    ),
}

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><link rel="icon" href="/favicon.ico" type="image/svg+xml"></head>
<body style="font: 20px/1.5 system-ui, sans-serif; max-width: 44em; margin: 2em auto">
<h1>{title}</h1><p>{text}</p><ul>{items}</ul>{console}</body></html>"""


def console_link(console_url: str | None) -> str:
    if not console_url:
        return ""
    url = html.escape(console_url, quote=True)
    return f'<p>Watch every message on the <a href="{url}">classroom console</a>.</p>'


def install(app: Flask, party: str, console_url: str | None) -> None:
    app.config["CONSOLE_URL"] = console_url
    letter, colour = ICONS.get(party, ("?", "#444"))
    icon = ICON.format(letter=letter, colour=colour)

    def favicon() -> Response:
        response = Response(icon, mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    app.add_url_rule("/favicon.ico", "favicon", favicon)
    if party in ROOT_PAGES and not any(r.rule == "/" for r in app.url_map.iter_rules()):
        title, text, endpoints = ROOT_PAGES[party]
        page = PAGE.format(
            title=html.escape(title),
            text=html.escape(text),
            items="".join(f"<li><code>{html.escape(e)}</code></li>" for e in endpoints),
            console=console_link(console_url),
        )
        app.add_url_rule("/", "front_door", lambda: Response(page, mimetype="text/html"))
