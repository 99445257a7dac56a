"""What the benchmarks read from the machine: its description (so two JSON results can be
compared knowing where each ran) and the CPU time of a whole process tree, from the
kernel's own accounting.

CPU per flow is read from /proc/<pid>/task/*/schedstat on Linux: nanoseconds on a CPU, per
thread, summed over every process of the tree. The usual user + system figures count in
clock ticks (10 ms), coarser than one flow; where schedstat is missing we fall back to
them (psutil), and per-flow figures are then only good as averages over many flows.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = (
    "authlib",
    "flask",
    "werkzeug",
    "sqlalchemy",
    "flask-sqlalchemy",
    "waitress",
    "requests",
    "jinja2",
)


def machine_info() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    try:
        node = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        node = None
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
        "node": node,
        "packages": {name: _version(name) for name in PACKAGES},
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _schedstat_ns(pid: int) -> int | None:
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a thread that ended between the listing and the read
    except OSError:
        return None
    return total


def _tree(pid: int) -> list[psutil.Process]:
    """The process `pid` and all its descendants (none if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _ticks_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) spent so far by the process `pid` and all its
    descendants, threads included: its live threads' nanosecond counters where the kernel
    has them (fine enough for one flow), else clock ticks."""
    total = 0.0
    for process in _tree(pid):
        ns = _schedstat_ns(process.pid)
        total += ns / 1e9 if ns is not None else _ticks_seconds(process)
    return total


def whole_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of the process `pid` and its descendants, including
    threads that have ended (the kernel adds their time to their process), in clock ticks
    (1/100 s): for totals over a whole run, where `tree_cpu_seconds`'s live threads alone
    would miss a thread that came and went, and per-flow readings would miss work a server
    does in the background between flows."""
    return sum(_ticks_seconds(process) for process in _tree(pid))


def own_cpu_seconds() -> float:
    """CPU seconds of this process alone (the benchmark's driver), all its threads."""
    return time.process_time()
