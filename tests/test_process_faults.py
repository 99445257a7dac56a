"""`oauth-sim up` when things go wrong: a party's process dies, the manager is signalled in
the background, twice, or killed outright. Each test checks what a user would: the message,
the exit code, that no child process is left, and that the ports are free again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port_base

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc (Linux)"
    ),
]


class Up:
    """`oauth-sim up` in a subprocess, its output collected by a thread as it comes."""

    def __init__(self, base: int, shell_prefix: str = "") -> None:
        command = [sys.executable, "-m", "sim.cli", "up", "--port-base", str(base)]
        if shell_prefix:  # e.g. "trap '' INT;" as a shell does for a background job
            quoted = " ".join(f"'{part}'" for part in command)
            command = ["bash", "-c", f"{shell_prefix} exec {quoted}"]
        self.base = base
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None or text in self.output, self.output
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output}"
            time.sleep(0.05)

    def children(self) -> dict[str, int]:
        """Party name -> pid of each `sim.runtime.serve` child of the manager."""
        pid = self.process.pid
        found = {}
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if b"sim.runtime.serve" in argv:
                found[argv[argv.index(b"sim.runtime.serve") + 1].decode()] = int(child)
        return found

    def finish(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        self.process.stdout.close()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie serves nothing; its new parent reaps it


def assert_gone_and_ports_free(pids, base: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)], "orphaned child processes"
    for offset in range(4):
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", base + offset))


def test_a_party_killed_is_named_the_others_stop_and_up_exits_1():
    up = Up(free_port_base(6))
    try:
        up.wait_for("Press Ctrl-C")
        children = up.children()
        assert {"client", "authorization-server", "resource-server"} <= set(children)
        os.kill(children["resource-server"], signal.SIGKILL)
        assert up.finish() == 1, up.output
    finally:
        up.kill()
    assert "Error: resource-server was killed by SIGKILL; stopping the other parties" in up.output
    assert "Traceback" not in up.output
    assert_gone_and_ports_free(children.values(), up.base)


def test_a_party_that_exits_with_an_error_is_reported_with_its_code():
    up = Up(free_port_base(6))
    try:
        up.wait_for("Press Ctrl-C")
        children = up.children()
        # SIGTERM makes a child exit 0 as if asked to stop, yet nobody asked: still a fault
        os.kill(children["authorization-server"], signal.SIGTERM)
        assert up.finish() == 1, up.output
    finally:
        up.kill()
    assert "Error: authorization-server exited with code 0" in up.output
    assert_gone_and_ports_free(children.values(), up.base)


def test_in_the_background_sigint_is_ignored_and_sigterm_stops_even_when_sent_twice():
    up = Up(free_port_base(6), shell_prefix="trap '' INT;")
    try:
        up.wait_for("Press Ctrl-C")
        children = up.children()
        up.process.send_signal(signal.SIGINT)  # the shell made a background job ignore it
        time.sleep(1)
        assert up.process.poll() is None and all(alive(pid) for pid in children.values())
        up.process.send_signal(signal.SIGTERM)
        up.wait_for("Stopping every party")
        # Impatient: signals keep coming until the very end, through the stop and past it,
        # into the interpreter's own exit (where Python resets the handlers it set).
        # None of them may cut the stop short or turn a clean exit into death by signal.
        deadline = time.monotonic() + 30
        while up.process.poll() is None and time.monotonic() < deadline:
            for again in (signal.SIGTERM, signal.SIGHUP):
                try:
                    up.process.send_signal(again)
                except ProcessLookupError:
                    break
            time.sleep(0.005)
        assert up.finish() == 0, up.output
    finally:
        up.kill()
    assert "Stopped." in up.output and "Traceback" not in up.output
    assert_gone_and_ports_free(children.values(), up.base)


def test_children_of_a_manager_killed_outright_stop_on_their_own():
    up = Up(free_port_base(6))
    try:
        up.wait_for("Press Ctrl-C")
        children = up.children()
        up.process.kill()  # SIGKILL: the manager gets no chance to stop anyone
        up.finish()
    finally:
        up.kill()
    assert_gone_and_ports_free(children.values(), up.base)
