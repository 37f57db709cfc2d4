"""Waiting for a query: ``history`` starts its Logs Insights and Athena queries, then polls them."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from .errors import RedriveError

# How long a history query may run before the command gives up on it (and stops it).
QUERY_TIMEOUT = 120.0
POLL_INTERVAL = 1.0
T = TypeVar("T")


def poll_until(
    poll: Callable[[Callable[[], float]], tuple[str, T]],
    *,
    done: str,
    failed: Collection[str],
    service: str,
    query_id: str,
    stop: Callable[[], None],
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    reason: Callable[[T], str] = lambda answer: "",
) -> T:
    """Poll a started query until its state is ``done``, and return the service's last answer.

    ``poll`` is given the seconds since polling began (for its progress line) and returns the
    query's state and the answer. A ``failed`` state raises, with ``reason(answer)``; past
    ``timeout`` seconds the query is stopped, so that it costs no more, and that raises too.
    """
    began = clock()

    def elapsed() -> float:
        return clock() - began

    while True:
        state, answer = poll(elapsed)
        if state == done:
            return answer
        if state in failed:
            raise RedriveError(f"the {service} query {query_id} ended {state}{reason(answer)}")
        if elapsed() >= timeout:
            stop()
            raise RedriveError(
                f"the {service} query took more than {timeout:.0f} s and was stopped: narrow --since/--until"
            )
        sleep(POLL_INTERVAL)
