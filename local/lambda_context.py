"""The handler's ``context`` and the function it is told about, for a handler called in this process.

``LambdaContext`` is the project's one stand-in for Lambda's context object: the mapping
emulation (local/poller.py) gives it to in-process handlers, and the benchmark and the
handlers' unit tests use it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class LambdaContext:
    """The handler's ``context`` for a handler called in this process, with what Lambda's Python
    runtime (awslambdaric's ``LambdaContext``) provides; a function run through
    ``operations.lambda_runtime.LambdaRuntime`` gets awslambdaric's own. The one stand-in of the project:
    the mapping emulation's in-process handlers, the benchmark and the handler's unit tests use it.

    ``deadline`` is on ``clock``; left out, it is the function's ``timeout`` from now.
    """

    function_name: str = "inventory-stream-logger"
    invoked_function_arn: str = ""  # left out: the function's ARN in us-east-1 of account 123456789012
    # Text, as Lambda's runtime gives it (awslambdaric reads AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
    memory_limit_in_mb: str = "256"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    deadline: float | None = None
    clock: Callable[[], float] = time.monotonic
    timeout: float = 30.0
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        if self.deadline is None:
            self.deadline = self.clock() + self.timeout

    def get_remaining_time_in_millis(self) -> int:
        assert self.deadline is not None  # set when made
        return max(0, int((self.deadline - self.clock()) * 1000))


@dataclass(frozen=True)
class FunctionIdentity:
    name: str
    region: str
    account: str = "123456789012"
    memory_mb: int = 128
    timeout: float = 3.0

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"
