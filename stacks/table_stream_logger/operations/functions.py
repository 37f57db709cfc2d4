"""The function a batch is replayed to: the deployed one, or the logger's handler in this process
(``--local``), and how an invocation's answer is judged, as the event source mapping judges it."""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from .errors import Missing

# The logger's handler: the one --local runs (logger.HANDLER, not imported: it loads aws-cdk-lib;
# a test checks that the two agree).
LOGGER_HANDLER = "stream_logger.handler"
# The handler's ERROR line for a record: {"level":"ERROR",...,"sequence_number":...,"reason":...}.
ERROR_MESSAGE = "Record cannot be processed"


@dataclass
class Outcome:
    """What one invocation said about its batch."""

    # Sequence numbers the response lists in batchItemFailures.
    failed: list[str] = field(default_factory=list)
    # A function error, or a response that fails the whole batch.
    error: str | None = None
    # Why each failed record failed, from the invocation's ERROR lines.
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.error is None and not self.failed


def read_response(payload: Any, function_error: str | None, log_lines: Sequence[str]) -> Outcome:
    """Judge an invocation as the mapping does: a function error or batchItemFailures fail it."""
    reasons = error_reasons(log_lines)
    if function_error:
        detail = ""
        if isinstance(payload, dict) and payload.get("errorType"):
            detail = f": {payload['errorType']}: {payload.get('errorMessage', '')}"
        return Outcome(error=f"function error ({function_error}){detail}", reasons=reasons)
    if payload is None:
        return Outcome(reasons=reasons)
    if not isinstance(payload, dict):
        return Outcome(error="the response is not a partial batch response: the whole batch fails", reasons=reasons)
    failures = payload.get("batchItemFailures")
    if not failures:
        return Outcome(reasons=reasons)
    identifiers = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if not isinstance(failures, list) or not all(isinstance(item, str) and item for item in identifiers):
        return Outcome(error="the response's batchItemFailures fail the whole batch", reasons=reasons)
    return Outcome(failed=[str(item) for item in identifiers], reasons=reasons)


def error_reasons(lines: Sequence[str]) -> dict[str, str]:
    """``sequence_number -> reason`` from the handler's ERROR lines among log lines."""
    reasons = {}
    for line in lines:
        if ERROR_MESSAGE not in line:
            continue
        try:
            entry = json.loads(line[line.index("{") :])
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("sequence_number") and entry.get("reason"):
            reasons[str(entry["sequence_number"])] = str(entry["reason"])
    return reasons


class DeployedFunction:
    """The deployed function, invoked synchronously as the event source mapping invokes it."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def invoke(self, payload: str) -> Outcome:
        response = self.client.invoke(
            FunctionName=self.name,
            InvocationType="RequestResponse",
            # The last 4 KB of the invocation's log, for the reasons of the records that fail.
            LogType="Tail",
            Payload=payload.encode(),
        )
        body = response["Payload"].read()
        log = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
        try:
            result = json.loads(body) if body else None
        except ValueError:
            result = "not JSON"
        return read_response(result, response.get("FunctionError"), log.splitlines())


class LocalFunction:
    """The logger's handler of this package, run as Lambda runs it, on this machine (``--local``).

    In an execution environment of its own (lambda_runtime.py: AWS's runtime client, the
    reserved variables, the construct's JSON log format at INFO, its 30 s timeout), with the
    given environment as the function's own. The log lines it writes go to ``log``.
    """

    def __init__(self, environment: dict[str, str], log: TextIO, function_name: str) -> None:
        from .._core.handler_assets import handler_asset_dir
        from .lambda_environment import FunctionConfig
        from .lambda_runtime import LambdaRuntime

        for module, package in (
            ("awslambdaric", "'table-stream-logger[redrive]'"),
            ("aws_lambda_powertools", "aws-lambda-powertools"),
        ):
            if importlib.util.find_spec(module) is None:
                raise Missing(f"--local runs the handler, which needs {module}: pip install {package}")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        config = FunctionConfig(
            name=function_name,
            handler=LOGGER_HANDLER,
            code=handler_asset_dir(),
            memory_size=256,
            timeout=30,
            environment=environment,
            log_format="JSON",
            application_log_level="INFO",
            region=region,
        )
        self.runtime = LambdaRuntime(config)
        self.log = log
        self.name = "local handler"

    def invoke(self, payload: str) -> Outcome:
        result = self.runtime.invoke(json.loads(payload))
        self.log.writelines(line + "\n" for line in result.lines)
        if result.error is not None:
            return read_response(result.error, "Unhandled", result.lines)
        return read_response(result.response, None, result.lines)

    def close(self) -> None:
        self.runtime.close()
