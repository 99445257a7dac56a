"""Entry point of one party's process in process mode (`python -m sim.serve PARTY JSON`).

The manager starts one of these per app, passing the whole configuration as JSON, and
prefixes its output with the party name.
"""

from __future__ import annotations

import json
import signal
import sys


def main(argv: list[str]) -> int:
    party, config = argv[0], json.loads(argv[1])
    from sim.manager import build_app  # noqa: PLC0415
    from sim.servers import PortInUse, bind, serve_forever  # noqa: PLC0415
    from sim.tracing import TraceStore  # noqa: PLC0415

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    store = TraceStore(config["trace_path"]) if config.get("trace_path") else None
    try:
        sock = bind(config["port"], party)
    except PortInUse as error:
        print(error, file=sys.stderr, flush=True)
        return 2
    app = build_app(party, config["urls"], store, config["options"])
    print(f"serving on {config['urls'][party]}", flush=True)
    try:
        serve_forever(app, sock, party)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
