"""The attacker as an actor in a scenario: a browser of their own, a plain HTTP client for
direct calls, and a look at what their server collected.

The attacker knows only what reached the attacker's server over HTTP (`loot`): a code in a
redirect delivered to a malicious app, a token an injected script sent to the drop box, a
request a log shipper forwarded. Nothing here reads the trace store or another party's
memory.
"""

from __future__ import annotations

from typing import Any

import requests

from sim.parties import ATTACKER
from sim.scenarios.stage import Stage

#: Where the attacker's server serves its private notes (sim.attacker.NOTES_PATH).
NOTES_PATH = "/loot"


class Attacker:
    def __init__(self, stage: Stage, flow: str) -> None:
        self.flow = flow
        self.server_url = stage.attacker_url
        self.browser = stage.user_agent(flow, ATTACKER)
        self.http = stage.http(flow, ATTACKER)

    def lure(self, target: str) -> str:
        """A link to the attacker's page that sends the victim's browser on to `target`."""
        return requests.Request("GET", self.server_url + "/go", params={"to": target}).prepare().url

    def drop_box(self, **params: str) -> str:
        """A URL on the attacker's server that records `params` when a browser loads it
        (how a script injected into a page sends what it stole)."""
        return requests.Request("GET", self.server_url + "/steal", params=params).prepare().url

    def loot(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What the attacker's server recorded in this flow (optionally of one kind)."""
        with requests.Session() as plain:
            plain.trust_env = False
            answer = plain.get(self.server_url + NOTES_PATH, params={"flow": self.flow}, timeout=10)
        items = answer.json()["loot"]
        return [i for i in items if kind is None or i["kind"] == kind]

    def plan(self, **params: str) -> None:
        """Tell the attacker's own server what to do in this flow (its private notes)."""
        with requests.Session() as plain:
            plain.trust_env = False
            plain.post(
                self.server_url + NOTES_PATH, params={"flow": self.flow}, json=params, timeout=10
            )

    def last(self, kind: str, name: str) -> str:
        """The newest value of parameter `name` the server recorded in items of `kind`."""
        for item in reversed(self.loot(kind)):
            if item["params"].get(name):
                return item["params"][name]
        return ""

    def close(self) -> None:
        self.browser.close()
        self.http.close()
