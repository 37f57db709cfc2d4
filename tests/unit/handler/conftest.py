"""Invoke the handler the way Lambda does: module imported from lambda/, stdout captured."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local.lambda_context import LambdaContext

# The function's environment, as the construct sets it; set, not defaulted, so that a caller's
# environment (e.g. `make bench` running `make test`) cannot change what the tests assert.
os.environ.update(
    POWERTOOLS_SERVICE_NAME="inventory",
    POWERTOOLS_METRICS_NAMESPACE="InventoryStream",
    POWERTOOLS_LOG_LEVEL="INFO",
)

import dynamo_json
import line_render
import oversized
import stream_logger

EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "events"
# Credentials and a region for moto's or a stand-in's S3, never a real account's.
FAKE_AWS = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def DeadlineContext(seconds: float = 30.0) -> LambdaContext:
    """A context whose remaining time counts down from ``seconds``, as Lambda's does."""
    return LambdaContext(timeout=seconds)


@pytest.fixture
def stalled_server() -> Iterator[socket.socket]:
    """A local endpoint that stalls: the kernel accepts connections, nobody reads or answers."""
    server = socket.create_server(("127.0.0.1", 0), backlog=8)
    server.setblocking(False)
    with server:
        yield server


def connections(server: socket.socket) -> int:
    """How many connections the stalled server has had since the last call."""
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


class _Stdout(io.StringIO):
    """stdout that also keeps each write, to check how the handler writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        text.encode()  # strict UTF-8, as Lambda's stdout: a lone surrogate raises here too
        self.writes.append(text)
        return super().write(text)


@dataclass
class Invocation:
    response: dict[str, Any]
    output: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    def level(self, level: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("level") == level]

    @property
    def records(self) -> list[dict[str, Any]]:
        """The INFO lines that log a stream record."""
        return [line for line in self.level("INFO") if "event_name" in line]

    @property
    def invocation_line(self) -> dict[str, Any]:
        """The one line per invocation with the Lambda context."""
        (line,) = [line for line in self.lines if "record_count" in line]
        return line

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if "_aws" in line]


@contextmanager
def configured(
    log_images: str = "NEW_AND_CHANGES", redact: list[str] | None = None, key_attributes: list[str] | None = None
) -> Iterator[None]:
    """Set what the rendering (line_render, which reads them) takes from the environment at import."""
    saved = (line_render.LOG_IMAGES, line_render.REDACT, line_render.KEY_ATTRIBUTES)
    line_render.LOG_IMAGES = log_images
    line_render.REDACT = dynamo_json.redaction_tree(redact or [])
    line_render.KEY_ATTRIBUTES = ["PK", "SK"] if key_attributes is None else key_attributes
    try:
        yield
    finally:
        line_render.LOG_IMAGES, line_render.REDACT, line_render.KEY_ATTRIBUTES = saved


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # json.loads accepts NaN and Infinity otherwise


def invoke(event: Any, context: Any = None) -> Invocation:
    """Call the handler; every line it prints must be JSON (numbers parsed as Decimal)."""
    buffer = _Stdout()
    log_handler = stream_logger.logger.registered_handler
    previous_stream = log_handler.setStream(buffer)  # type: ignore[attr-defined]
    previous_stdout, sys.stdout = sys.stdout, buffer
    try:
        response = stream_logger.handler(event, context or LambdaContext())
    finally:
        sys.stdout = previous_stdout
        log_handler.setStream(previous_stream)  # type: ignore[attr-defined]
    output = buffer.getvalue()
    lines = [json.loads(line, parse_float=Decimal, parse_constant=_not_json) for line in output.splitlines()]
    for line in output.splitlines():
        assert len(line.encode()) <= oversized.MAX_LINE_BYTES, "no line is longer than the limit"
    return Invocation(response, output, lines, buffer.writes)


@pytest.fixture(autouse=True)
def default_config() -> Iterator[None]:
    """Every test starts from the defaults the construct sets (keys PK, SK)."""
    with configured():
        yield
