"""The function's environment is read once, at import, as Lambda does it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EVENTS

LAMBDA_DIR = Path(__file__).resolve().parents[3] / "lambda"
SCRIPT = """
import json, sys
from types import SimpleNamespace
import stream_logger
context = SimpleNamespace(
    function_name="f",
    memory_limit_in_mb=128,
    invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
    aws_request_id="r",
)
print(json.dumps(stream_logger.handler(json.load(open(sys.argv[1])), context)))
"""


def _run(env: dict[str, str], event: str = "tutorial_modify") -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("LOG_IMAGES", "REDACT", "KEY_"))}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(EVENTS / f"{event}.json")],
        env={**clean, "PYTHONPATH": str(LAMBDA_DIR), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_environment_sets_mode_redaction_and_key_order() -> None:
    process = _run({"LOG_IMAGES": "CHANGES", "REDACT_ATTRIBUTES": '["Stocks"]', "KEY_ATTRIBUTES": '["SK", "PK"]'})

    assert process.returncode == 0, process.stderr
    record_line = json.loads(next(line for line in process.stdout.splitlines() if '"event_name"' in line))
    assert record_line["changes"] == {"Stocks": {"old": "[REDACTED]", "new": "[REDACTED]"}}
    assert record_line["message"] == "MODIFY APPLE#WASHINGTON / FRUIT: Stocks"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOG_IMAGES": "EVERYTHING"}, "LOG_IMAGES must be one of NEW_AND_OLD, NEW, CHANGES"),
        ({"REDACT_ATTRIBUTES": '"email"'}, "REDACT_ATTRIBUTES must be a JSON array of non-empty strings"),
        ({"KEY_ATTRIBUTES": '["PK", 1]'}, "KEY_ATTRIBUTES must be a JSON array of non-empty strings"),
    ],
)
def test_bad_setting_fails_at_init_with_a_clear_message(env: dict[str, str], message: str) -> None:
    process = _run(env)

    assert process.returncode != 0
    assert message in process.stderr
