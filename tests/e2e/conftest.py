"""Run ``python -m local`` in-process: moto's DynamoDB, the poller and the real handler.

Time is real, except that sleeping only moves the run's clock forward: the batching window
passes without the test waiting for it.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from local import cli


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The function's log lines, numbers as Decimal so that 0.8 stays 0.8."""
        return [json.loads(line, parse_float=Decimal) for line in self.stdout.splitlines()]

    @property
    def records(self) -> list[dict[str, Any]]:
        """The INFO lines that log a stream record."""
        return [line for line in self.lines if line.get("level") == "INFO" and "event_name" in line]

    def record_lines(self, sk: str) -> list[dict[str, Any]]:
        return [line for line in self.records if line["keys"]["SK"] == sk]


@pytest.fixture(scope="session")
def template_path(template: assertions.Template, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The InventoryStack's template, as `make synth` writes it, from the session's synthesis."""
    path = tmp_path_factory.mktemp("cdk.out") / "InventoryStack.template.json"
    path.write_text(json.dumps(template.to_json()))
    return path


@pytest.fixture(autouse=True)
def restore_environment() -> Iterator[None]:
    """The run sets the function's environment, as Lambda does; put the test's back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def run_local(template_path: Path, tmp_path: Path) -> Any:
    def run(*arguments: str, stdin: str = "") -> Result:
        offset = [0.0]

        def sleep(seconds: float) -> None:
            offset[0] += seconds

        stdout, stderr = io.StringIO(), io.StringIO()
        code = cli.main(
            [
                "--template",
                str(template_path),
                "--format",
                "json",
                "--failures",
                str(tmp_path / "failures"),
                *arguments,
            ],
            stdin=io.StringIO(stdin),
            stdout=stdout,
            stderr=stderr,
            clock=lambda: time.time() + offset[0],
            sleep=sleep,
        )
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run
