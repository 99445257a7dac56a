"""Short participant ids for the text formats, since party names contain dashes."""

from __future__ import annotations

from sim.diagrams.layout import parties
from sim.tracing import Trace

ALIASES = {
    "user-agent": "UA",
    "client": "C",
    "authorization-server": "AS",
    "resource-server": "RS",
    "attacker": "ATT",
}


def participants(trace: Trace) -> list[tuple[str, str]]:
    """(alias, party) in column order; a party outside the contract gets `P1`, `P2`, ..."""
    out = []
    extra = 0
    for party in parties(trace):
        alias = ALIASES.get(party)
        if alias is None:
            extra += 1
            alias = f"P{extra}"
        out.append((alias, party))
    return out
