"""Entry point of one party's process in process mode (`python -m sim.runtime.serve PARTY JSON`).

The manager binds the port, starts one of these per app with the listening socket (an
inherited file descriptor) and the configuration as JSON, and
prefixes its output with the party name. The child's stdin is a pipe from the manager that
nobody writes to: when it closes, the manager is gone (even killed with SIGKILL), and the
child stops too rather than serve on as an orphan.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import sys
import threading

from sim.defences import Switchboard
from sim.runtime.manager import build_app
from sim.runtime.servers import CONSOLE_THREADS, THREADS, serve_forever
from sim.tracing import TraceStore


def _exit_when_orphaned() -> None:
    """Block on stdin until the manager's end of the pipe closes, then stop this process."""
    sys.stdin.read()
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    party, config = argv[0], json.loads(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=_exit_when_orphaned, name="orphan-watch", daemon=True).start()
    trace_path = config.get("trace_path")
    store = TraceStore(trace_path, live=config.get("live", False)) if trace_path else None
    sock = socket.socket(fileno=config["fd"])  # bound and listening, by the manager
    switches = Switchboard(config["switches_path"]) if config.get("switches_path") else None
    app = build_app(party, config["urls"], store, config["options"], switches)
    # What exists now (modules, the app, its keys and templates) lives as long as the process.
    # Frozen, it is out of the cyclic collector's sight: each full collection no longer walks
    # ~90,000 objects that can never be garbage (about 5 % of the server's CPU per flow).
    gc.collect()
    gc.freeze()
    print(f"serving on {config['urls'][party]}", flush=True)
    try:
        serve_forever(app, sock, party, CONSOLE_THREADS if party == "console" else THREADS)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
