"""Party names, the demo registry and how parties identify themselves.

Shared by every party package, so none of them needs to import another: this module is the
whole of what the four parties agree on before any HTTP is exchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

# Party names and identifying headers are the trace's vocabulary, defined in tracing (the
# bottom layer) and re-exported here beside the registry, where the parties look for them.
from sim.tracing.names import (
    ATTACKER,
    AUTHORIZATION_SERVER,
    CLIENT,
    CONSOLE,
    EXCHANGE_HEADER,
    FLOW_HEADER,
    PARENT_HEADER,
    PARTY_HEADER,
    PARTY_ORDER,
    RESOURCE_SERVER,
    USER_AGENT,
)

#: Ports of `oauth-sim up` (contract): each app at the port base plus its offset.
DEFAULT_PORT_BASE = 9000
PORT_OFFSETS = {CLIENT: 0, AUTHORIZATION_SERVER: 1, RESOURCE_SERVER: 2, ATTACKER: 3, CONSOLE: 4}
LOOPBACK = "127.0.0.1"
#: The attacker is another site: another host name than the victims' apps (both resolve to
#: loopback), so a browser never sends it the victims' cookies.
ATTACKER_HOST = "localhost"


def host_of(app: str) -> str:
    """The host name an app is reached at."""
    return ATTACKER_HOST if app == ATTACKER else LOOPBACK


def app_urls(port_base: int = DEFAULT_PORT_BASE) -> dict[str, str]:
    """Every app's URL for a port base (the one place that spells them)."""
    return {
        app: f"http://{host_of(app)}:{port_base + offset}" for app, offset in PORT_OFFSETS.items()
    }


#: Where the apps are with the default ports: what an app assumes when built on its own.
DEFAULT_URLS = app_urls()

#: Another resource server the authorization server issues tokens for (RFC 8707 resource
#: indicator), which the simulator does not run: a token meant for it exists to show the
#: photo API refusing a token whose `aud` names someone else (RFC 9068 §4).
PRINT_SHOP_API = "https://print-shop.example/api"

SCOPES = {
    "openid": "Sign you in to the app: tell it who you are (OpenID Connect)",
    "profile": "Read your name",
    "photos:read": "See your photos",
    "photos:write": "Add photos",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    name: str


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    secret: str | None
    name: str
    redirect_path: str | None
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    scope: str
    auth_method: str
    #: Also registered for scope `openid` (OpenID Connect sign-in), asked for only when the
    #: app wants to know who logged in, so its plain OAuth flows stay as they were.
    openid: bool = False
    #: Where the authorization server may send the browser back after ending the user's
    #: login there (OIDC RP-Initiated Logout's post_logout_redirect_uri), if anywhere.
    post_logout_path: str | None = None

    def redirect_uri(self, base: str) -> str | None:
        """The registered redirect URI: a path of the client app at `base`, or, for a native
        app, a whole URI of its own private-use scheme (RFC 8252 §7.1), which no web origin
        serves: the operating system hands it to the app that claimed the scheme."""
        if self.redirect_path is None:
            return None
        return self.redirect_path if ":" in self.redirect_path else base + self.redirect_path


USERS = (
    DemoUser("alice", "wonderland", "Alice Liddell"),
    DemoUser("bob", "builder", "Bob the Builder"),
)

ALL_SCOPES = "profile photos:read photos:write"

#: Each user's photos when the resource server starts (the protected resource itself).
#: Scenarios recognise a victim's data on a page by these titles.
PHOTOS = {
    "alice": ("Tea party", "The White Rabbit"),
    "bob": ("Scoop the digger",),
}

CLIENTS = (
    DemoClient(
        "demo-client",
        "demo-secret",
        "Photo Printer (confidential web app)",
        "/callback",
        ("authorization_code", "refresh_token"),
        ("code",),
        ALL_SCOPES,
        "client_secret_basic",
        openid=True,
        post_logout_path="/logged-out",
    ),
    DemoClient(
        "demo-spa",
        None,
        "Photo Viewer (single-page app, public client)",
        "/spa/callback",
        ("authorization_code", "refresh_token"),
        ("code",),
        ALL_SCOPES,
        "none",
        openid=True,
    ),
    DemoClient(
        # Not in the simulator's web app: a phone app, used by code-interception only. Its
        # redirect URI uses a private-use URI scheme, reverse domain order (RFC 8252 §7.1).
        "demo-native",
        None,
        "Photo Printer for phones (native app, public client)",
        "com.example.photoprinter:/callback",
        ("authorization_code", "refresh_token"),
        ("code",),
        ALL_SCOPES,
        "none",
    ),
    DemoClient(
        "demo-service",
        "service-secret",
        "Nightly Backup (machine client)",
        None,
        ("client_credentials",),
        (),
        "photos:read",
        "client_secret_basic",
    ),
    DemoClient(
        "demo-rs",
        "rs-secret",
        "Photo API (resource server, introspection only)",
        None,
        (),
        (),
        "",
        "client_secret_basic",
    ),
    DemoClient(
        "demo-implicit",
        None,
        "Legacy Gallery (implicit flow, deprecated)",
        "/implicit/callback",
        ("implicit",),
        ("token",),
        "profile photos:read",
        "none",
    ),
    DemoClient(
        "demo-tv",
        None,
        "Living-room TV (device flow, public client)",
        None,
        ("urn:ietf:params:oauth:grant-type:device_code",),
        (),
        "profile photos:read",
        "none",
    ),
)


def client_by_id(client_id: str) -> DemoClient:
    return next(c for c in CLIENTS if c.client_id == client_id)


def registry_lines() -> list[str]:
    """The demo registry as printed at start-up (demo-only values)."""
    lines = [f"user {u.username} / {u.password}" for u in USERS]
    for c in CLIENTS:
        secret = f"secret {c.secret}" if c.secret else "no secret (public)"
        lines.append(
            f"client {c.client_id}: {secret}; {', '.join(c.grant_types) or 'introspection'}"
        )
    return lines


__all__ = [
    "ALL_SCOPES",
    "ATTACKER",
    "ATTACKER_HOST",
    "AUTHORIZATION_SERVER",
    "CLIENT",
    "CLIENTS",
    "CONSOLE",
    "DEFAULT_URLS",
    "DEFAULT_PORT_BASE",
    "EXCHANGE_HEADER",
    "FLOW_HEADER",
    "PARENT_HEADER",
    "PARTY_HEADER",
    "PARTY_ORDER",
    "LOOPBACK",
    "PORT_OFFSETS",
    "PRINT_SHOP_API",
    "RESOURCE_SERVER",
    "SCOPES",
    "USERS",
    "USER_AGENT",
    "app_urls",
    "host_of",
    "DemoClient",
    "DemoUser",
    "client_by_id",
    "registry_lines",
]
