"""The function's environment is read once, at import, as Lambda does it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EVENTS

ROOT = Path(__file__).resolve().parents[3]
LAMBDA_DIR = ROOT / "lambda"
SCRIPT = """
import json, sys
import stream_logger
from local.lambda_context import LambdaContext
print(json.dumps(stream_logger.handler(json.load(open(sys.argv[1])), LambdaContext(function_name="f"))))
"""


def _run(env: dict[str, str], event: str | Path = "tutorial_modify") -> subprocess.CompletedProcess[str]:
    """The handler in a fresh process: ``event`` is a fixture's name or a file."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("LOG_IMAGES", "REDACT", "KEY_"))}
    path = event if isinstance(event, Path) else EVENTS / f"{event}.json"
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)],
        env={**clean, "PYTHONPATH": os.pathsep.join([str(LAMBDA_DIR), str(ROOT)]), **env},
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
    assert record_line["message"] == "MODIFY APPLE#WASHINGTON / FRUIT"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOG_IMAGES": "EVERYTHING"}, "LOG_IMAGES must be one of NEW_AND_CHANGES, NEW_AND_OLD, NEW, CHANGES"),
        ({"REDACT_ATTRIBUTES": '"email"'}, "REDACT_ATTRIBUTES must be a JSON array of non-empty strings"),
        ({"KEY_ATTRIBUTES": '["PK", 1]'}, "KEY_ATTRIBUTES must be a JSON array of non-empty strings"),
    ],
)
def test_bad_setting_fails_at_init_with_a_clear_message(env: dict[str, str], message: str) -> None:
    process = _run(env)

    assert process.returncode != 0
    assert message in process.stderr


def test_the_first_record_of_a_fresh_environment_is_logged_whole(tmp_path: Path) -> None:
    # GIVEN a record whose values could be taken for "nothing seen yet" by a cache
    event = json.loads((EVENTS / "tutorial_modify.json").read_text())
    record = event["Records"][0]
    record["eventSourceARN"] = ""
    record["dynamodb"]["ApproximateCreationDateTime"] = 0
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))

    # WHEN it is the first record a fresh execution environment handles
    process = _run({}, path)

    # THEN its line is whole JSON with its own values
    assert process.returncode == 0, process.stderr
    line = json.loads(next(line for line in process.stdout.splitlines() if '"event_name"' in line))
    invocation = json.loads(next(line for line in process.stdout.splitlines() if '"record_count"' in line))
    assert invocation["table"] is None
    assert line["approximate_creation_time"] == "1970-01-01T00:00:00Z"
