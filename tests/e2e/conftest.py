"""Run ``python -m local`` in-process: moto's DynamoDB, the poller and the real handler.

The run's clock starts at the real time and then stands still, except that sleeping moves it
forward: the batching window and the retries pass without the test waiting for them, and a
slow machine or a slower backend cannot split what the story writes within one window.

``run_on_each`` runs a test on moto and again on AWS's DynamoDB Local (one for the whole
session, see dynamodb_local.py).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import cx_api

from local import cli
from tests.conftest import ROOT
from tests.e2e import dynamodb_local
from tests.needs import skip_or_fail


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
def template_path(cloud_assembly: cx_api.CloudAssembly) -> Path:
    """The InventoryStack's template in the session's cloud assembly, beside its assets, as `make synth` writes it."""
    return Path(cloud_assembly.directory) / "InventoryStack.template.json"


def assembly_with(template_path: Path, folder: Path, handler_code: dict[str, str]) -> Path:
    """A copy of the cloud assembly whose function assets have code appended to their handler files.

    ``handler_code`` maps a handler file (``stream_logger.py``) to the code appended to it in every
    asset that has it, as a library user's own handler would differ: the run must run what the
    asset holds. Returns the copy's template.
    """
    shutil.copytree(template_path.parent, folder)
    for name, code in handler_code.items():
        files = list(folder.glob(f"asset.*/{name}"))
        assert files, f"no asset of {folder} has {name}"
        for path in files:
            path.write_text(path.read_text() + "\n" + code)
    return folder / template_path.name


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
        started, offset = time.time(), [0.0]

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
            clock=lambda: started + offset[0],
            sleep=sleep,
        )
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DynamoDB Local's URL, for the whole session; skipped without Java (a failure under CI=true)."""
    try:
        java, jar = dynamodb_local.java(), dynamodb_local.jar(ROOT)
    except dynamodb_local.Unavailable as missing:
        skip_or_fail(str(missing))
    with dynamodb_local.running(java, jar, tmp_path_factory.mktemp("dynamodb-local")) as endpoint:
        yield endpoint


@pytest.fixture
def run_on_dynamodb_local(dynamodb_local_endpoint: str, run_local: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``run_local`` against DynamoDB Local, on a table of the test's own."""
    # DynamoDB Local keeps a database per key and region: the same ones for every test,
    # whatever the developer's AWS settings.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    table_name = f"e2e-{uuid.uuid4().hex[:12]}"

    def run(*arguments: str, stdin: str = "") -> Result:
        result: Result = run_local(
            "--endpoint-url", dynamodb_local_endpoint, "--table-name", table_name, *arguments, stdin=stdin
        )
        return result

    return run


@pytest.fixture(params=["moto", "dynamodb-local"])
def run_on_each(request: pytest.FixtureRequest, run_local: Any) -> Any:
    """``run_local`` on moto, then on DynamoDB Local: the same test, the same assertions."""
    return run_local if request.param == "moto" else request.getfixturevalue("run_on_dynamodb_local")
