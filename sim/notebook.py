"""Helpers for the Jupyter walkthroughs: the step table as plain text, with the emoji
markers (🔑 secrets, 🛡 defences) spelled out, because a notebook's HTML shows empty boxes
where the reader's fonts have no colour emoji; and `ByHand`, which plays a login step by
step (so this module sits above the scenarios, beside the drill's runner)."""

from __future__ import annotations

import io
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from rich.console import Console
from rich.text import Text

from sim.parties import CLIENT
from sim.scenarios.attack_common import pkce_pair
from sim.scenarios.base import log_in_and_consent
from sim.teaching.report import step_table
from sim.tracing import Trace, party_session

#: Marker -> its text fallback.
MARKERS = {"🛡️": "[defence]", "🛡": "[defence]", "🔑": "[secrets]"}


def plain_markers(text: str) -> str:
    for marker, word in MARKERS.items():
        text = text.replace(marker, word)
    return text


def steps_text(trace: Trace, explain: bool = True, width: int = 130) -> str:
    """The step table (`oauth-sim run --explain`) as plain text with text markers."""

    table = step_table(trace, explain=explain)
    for column in table.columns:
        # Spell the markers out before layout, so the columns stay aligned (plain text
        # output: the cells' styles are not shown anyway).
        cells = getattr(column, "_cells", [])
        for index, cell in enumerate(cells):
            plain = str(cell)
            if any(marker in plain for marker in MARKERS):
                cells[index] = Text(plain_markers(plain))
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(table)
    return plain_markers(console.export_text())


def show_steps(trace: Trace, explain: bool = True, width: int = 130) -> None:
    print(steps_text(trace, explain, width))


class ByHand:
    """The confidential client's side of the protocol, played by hand in a notebook: each
    call goes over real HTTP, in its own traced flow, sent as the party that would send it
    (the browser for the front channel, the client or the resource server for the back)."""

    def __init__(self, sim, flow_name: str = "notebook") -> None:
        self.sim = sim
        self.flow = sim.new_flow(flow_name)
        self.redirect_uri = sim.client_url + "/callback"

    def authorize(self, challenge: str | None, method: str = "S256", **params: str):
        """Alice's browser through /authorize, login and consent; returns the Location the
        authorization server answered with (the callback, with a code or an error)."""

        query = {
            "response_type": "code",
            "client_id": "demo-client",
            "redirect_uri": self.redirect_uri,
            "scope": "profile photos:read",
            "state": secrets.token_urlsafe(12),
            **params,
        }
        if challenge is not None:
            query.update(code_challenge=challenge, code_challenge_method=method)
        browser = self.sim.user_agent(self.flow)
        first = browser.get(f"{self.sim.authorization_server_url}/authorize?{urlencode(query)}")
        location = first.headers.get("Location", "")
        if "error=" in location:
            return location
        return log_in_and_consent(browser, first, stop_at=self.sim.client_url).headers["Location"]

    def post(self, path: str, data: dict, auth=("demo-client", "demo-secret"), party: str = ""):
        """A back-channel POST to the authorization server, traced in this flow."""

        with party_session(party or CLIENT, self.sim.store, self.flow) as http:
            return http.post(self.sim.authorization_server_url + path, data=data, auth=auth)

    def redeem(self, code: str, verifier: str | None):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.post("/token", data)

    def tokens(self, **params: str) -> dict:
        """A full login: a fresh PKCE pair, a code, and the token response (as JSON)."""

        verifier, challenge = pkce_pair()
        location = self.authorize(challenge, **params)
        code = parse_qs(urlsplit(location).query)["code"][0]
        answer = self.redeem(code, verifier)
        answer.raise_for_status()
        return answer.json()

    def api(self, path: str, token: str):
        """The client calling the resource server with a bearer token, traced."""

        with party_session(CLIENT, self.sim.store, self.flow) as http:
            return http.get(
                self.sim.resource_server_url + path,
                headers={"Authorization": f"Bearer {token}"},
            )

    def trace(self):
        return self.sim.trace(self.flow, self.flow)
