"""The browser-side clients the client app serves as static pages: the single-page app
(public client `demo-spa`, authorization code + PKCE from the browser) and the legacy
implicit-flow page (`demo-implicit`), kept only to show why it is deprecated.

The server's only job here is to deliver HTML and JavaScript with the configuration
(issuer, client id, redirect URI, API URL) written into the page. It never sees a token:
the SPA redeems its code from the browser with no secret, and the implicit flow's token
arrives in the URL fragment, which browsers never send to a server.

/spa                the app: makes the PKCE verifier and challenge with Web Crypto
                    (`?dpop=1` or its checkbox: also a non-extractable DPoP key, RFC 9449)
/spa/callback       the same app: checks state and iss, redeems the code with the verifier
/implicit/callback  the implicit flow's landing page: reads the token from the fragment
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from sim.parties import client_by_id

bp = Blueprint("spa", __name__)

SPA = client_by_id("demo-spa")
IMPLICIT = client_by_id("demo-implicit")


def _page(template: str, client_id: str, redirect_path: str | None, scope: str) -> str:
    config = current_app.config
    return render_template(
        template,
        issuer=config["ISSUER"],
        api=config["RESOURCE_SERVER_URL"],
        client_id=client_id,
        redirect_uri=config["BASE_URL"] + (redirect_path or ""),
        scope=scope,
    )


@bp.get("/spa")
@bp.get("/spa/callback")
def spa() -> str:
    """One page for both: a SPA handles its own callback. The code in the callback's URL
    is useless to anyone without the verifier, which never left the browser."""
    return _page("spa.html", SPA.client_id, SPA.redirect_path, SPA.scope)


@bp.get("/implicit/callback")
def implicit_callback() -> str:
    """The token is in the fragment (#access_token=…): this request reached the server
    without it, so only scripts on the page can read it."""
    return _page("implicit.html", IMPLICIT.client_id, IMPLICIT.redirect_path, IMPLICIT.scope)
