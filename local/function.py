"""The function as the local run invokes it: in Lambda's runtime, its lines shown as each invocation ends.

The function runs in an execution environment of its own (``table_stream_logger.operations.lambda_runtime``:
AWS's runtime interface client, the environment Lambda derives from the template, the asset
of the cloud assembly). What its process writes is what Lambda would send to its log stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stacks.table_stream_logger.operations.lambda_runtime import FunctionError, LambdaRuntime


class LoggedFunction:
    """Invokes the function and hands what it wrote to ``sink``, one list of lines per invocation.

    A function error (an uncaught exception, an init error, a timeout) is raised as
    ``FunctionError`` after its lines are shown: the event source mapping fails the batch.

    ``unlogged`` holds the records the mapping delivered (``settle``) that the function did not
    log at INFO, so that the run can check that each delivered record shows in the logs. Only
    what is not matched yet is kept: a long run's memory does not grow with what it logged.

    :param before_lines: Called before each invocation's lines are shown (e.g. to copy what it
        wrote to the failure bucket, so that a line never names a file not there yet).
    """

    # The runtime stops an invocation at its deadline: the poller need not judge it afterwards.
    enforces_timeout = True

    def __init__(
        self,
        runtime: LambdaRuntime,
        sink: Callable[[list[str]], None],
        before_lines: Callable[[], None] = lambda: None,
    ) -> None:
        self.runtime = runtime
        self.sink = sink
        self.before_lines = before_lines
        # Logged and not yet delivered (the mapping delivers when the invocation returns).
        self.logged: set[str] = set()
        self.unlogged: set[str] = set()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        result = self.runtime.invoke(event, request_id=getattr(context, "aws_request_id", None))
        self._note(result.lines)
        self.before_lines()
        self.sink(result.lines)
        if result.error is not None:
            raise FunctionError(result.error)
        return result.response

    def settle(self, delivered: list[str]) -> None:
        """Match the records the mapping counts as delivered with the ones the function logged."""
        for number in delivered:
            if number in self.logged:
                self.logged.remove(number)
            else:
                self.unlogged.add(number)

    def _note(self, lines: list[str]) -> None:
        for line in lines:
            if '"sequence_number"' not in line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("level") == "INFO" and entry.get("sequence_number"):
                self.logged.add(str(entry["sequence_number"]))
