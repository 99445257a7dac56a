"""The version counter every process of a simulation maps, and the answers kept while it
stays unmoved (flow options in the trace store, defence switches)."""

from __future__ import annotations

import multiprocessing
import threading

from sim.tracing.counter import KeptWhileUnmoved, SharedCounter


def _bump(path: str, times: int) -> None:
    counter = SharedCounter(path)
    for _ in range(times):
        counter.bump()
    counter.close()


def test_counts_from_other_processes_are_all_seen(tmp_path):
    path = str(tmp_path / "version")
    mine = SharedCounter(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_bump, args=(path, 200)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert mine.value() == 600  # no count lost between processes
    mine.close()


def test_an_answer_is_kept_until_the_counter_moves():
    counter, reads = SharedCounter(), []
    kept: KeptWhileUnmoved[str] = KeptWhileUnmoved(counter, threading.Lock(), limit=2)

    def read(key: str) -> str:
        reads.append(key)
        return f"{key}@{counter.value()}"

    assert kept.get("a", read) == "a@0"
    assert kept.get("a", read) == "a@0" and reads == ["a"]  # memory only
    counter.bump()
    assert kept.get("a", read) == "a@1" and reads == ["a", "a"]  # moved: read again
    kept.get("b", read)
    kept.get("c", read)  # past the limit the memory starts again
    assert kept.get("a", read) == "a@1" and reads == ["a", "a", "b", "c", "a"]
