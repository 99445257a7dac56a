"""The names a trace is written in: the parties' contract names and the headers by which each
request says who sent it, in which flow, as which exchange.

They live here, at the bottom of the house, because the tracer needs them and must depend on
nothing else of ours; `sim.parties` re-exports them beside the demo registry.
"""

from __future__ import annotations

USER_AGENT = "user-agent"
CLIENT = "client"
AUTHORIZATION_SERVER = "authorization-server"
RESOURCE_SERVER = "resource-server"
ATTACKER = "attacker"

#: The classroom console is no party of the protocol, but an app of ours whose own calls
#: (fetching the JWKS to verify a token it shows) are traced like any other.
CONSOLE = "console"

#: Column order in diagrams and tables.
PARTY_ORDER = (USER_AGENT, CLIENT, AUTHORIZATION_SERVER, RESOURCE_SERVER, ATTACKER)

#: Header each party's own HTTP client sets so a trace knows who sent a request.
#: A request without it comes from a real browser, that is from the user agent.
PARTY_HEADER = "X-Sim-Party"
#: Header carrying the flow id, so concurrent flows never mix in a trace.
FLOW_HEADER = "X-Sim-Flow"
#: Header carrying one exchange's id, so the sender's and receiver's records merge.
EXCHANGE_HEADER = "X-Sim-Exchange"
#: Header naming the exchange a server was handling when it made this call (nesting).
PARENT_HEADER = "X-Sim-Parent"
