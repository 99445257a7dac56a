"""A class logging in at the same moment: 100 browsers through the client of one
`oauth-sim up` (process mode, real loopback). The correctness half of the classroom
benchmark (`benchmarks/classroom.py`); its speed half stays in the benchmark."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from benchmarks.classroom import Up, check, events_of_one_login, log_in

pytestmark = pytest.mark.slow

BROWSERS = 100
#: Every request of the scripted browser has a 15 s timeout; this bounds the whole class.
CLASS_TIMEOUT = 180


def test_a_hundred_browsers_log_in_at_once_and_the_trace_keeps_every_event():
    with Up() as up:
        per_login = events_of_one_login(up)
        before = up.trace()
        with ThreadPoolExecutor(max_workers=BROWSERS) as pool:
            futures = [pool.submit(log_in, up.client_url, f"s{i}") for i in range(BROWSERS)]
            _, late = wait(futures, timeout=CLASS_TIMEOUT)
            assert not late, f"{len(late)} logins still running after {CLASS_TIMEOUT} s"
        logins = [f.result() for f in futures]
        verdict = check(logins, before, up.trace(), per_login, up.client_url)
    assert per_login >= 10  # browser hops, the code exchange, the API calls
    assert verdict.failed == 0, verdict.problems
    assert verdict.browser_5xx == 0 and verdict.trace_5xx == 0, verdict.problems
    assert verdict.events_new == BROWSERS * per_login, verdict.problems  # none lost, none twice
    assert verdict.flows_new == BROWSERS, verdict.problems  # one flow id per login...
    assert verdict.flows_wrong_size == 0, verdict.problems  # ...holding all its events
    assert verdict.flows_without_one_login == 0, verdict.problems
