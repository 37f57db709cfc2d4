"""The Makefile's targets as a user runs them from a shell, pipes included.

Each `make local` synthesizes the app (several seconds), so there are few of these, and only the
first synthesizes: the others read the session's template (`--template`), which changes nothing
of what reaches the pipe.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import cx_api

from tests.conftest import ROOT
from tests.e2e.conftest import assembly_with

# The filter of the docs (Run it locally): the change lines only (the invocation, metrics and alerts lines have no
# event_name). jq when the machine has it, else a stand-in that fails on a line that is not JSON,
# as jq does.
JQ_EVENT_NAME = (
    "jq -c 'select(.event_name) | .event_name'"
    if shutil.which("jq")
    else f"{sys.executable} -c 'import json, sys; "
    '[print(json.dumps(e)) for e in (json.loads(line).get("event_name") for line in sys.stdin) if e]\''
)


def shell(command: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def template_file(cloud_assembly: cx_api.CloudAssembly) -> Path:
    """The InventoryStack's template in the session's cloud assembly, beside its assets, as `make synth` writes it."""
    return Path(cloud_assembly.directory) / "InventoryStack.template.json"


def test_make_local_piped_to_jq_gives_jq_only_json(tmp_path: Path) -> None:
    assert "`make local | jq -c 'select(.event_name) | .event_name'`" in (ROOT / "docs" / "local.md").read_text()
    result = shell(f'make local ARGS="--failures {tmp_path}" | {JQ_EVENT_NAME}')

    assert result.returncode == 0, result.stderr
    names = [json.loads(line) for line in result.stdout.splitlines()]
    assert names == [
        "INSERT", "INSERT", "MODIFY", "MODIFY", "MODIFY", "REMOVE", "INSERT", "INSERT", "INSERT",
        "INSERT", "MODIFY",  # the chair: out of stock, then restocked
        "INSERT", "REMOVE",  # the mango: listed until ExpiresAt, then removed by DynamoDB's TTL (simulated)
    ]  # fmt: skip
    assert "# nothing lost" in result.stderr
    assert not list(tmp_path.rglob("*"))


def test_make_local_piped_to_head_stops_cleanly(tmp_path: Path, template_file: Path) -> None:
    arguments = f"--failures {tmp_path} --template {template_file}"
    result = shell(f'make local ARGS="{arguments}" | head -1; echo "make exited ${{PIPESTATUS[0]}}" >&2')

    (line,) = result.stdout.splitlines()
    assert isinstance(json.loads(line), dict)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    # Any reader's progress: the logger's lines start "# ", the other functions' "# <logical id>: ".
    assert not re.search(r"^# (\S+: )?(function error|retry|parked)", result.stderr, re.MULTILINE)
    assert not list(tmp_path.rglob("*"))
    # head may take every line before it exits; then the run did end with all of them shown.
    if "stopped: the output was closed" in result.stderr:
        assert "nothing lost" not in result.stderr
        assert "make exited 2" in result.stderr
    else:
        assert "# nothing lost" in result.stderr
        assert "make exited 0" in result.stderr


def test_make_local_into_a_closed_pipe_stops_with_one_line(tmp_path: Path, template_file: Path) -> None:
    # `true` exits at once: the first log line already finds the pipe closed.
    arguments = f"--failures {tmp_path} --template {template_file}"
    result = shell(f'make local ARGS="{arguments}" | true; echo "make exited ${{PIPESTATUS[0]}}" >&2')

    ours = [line for line in result.stderr.splitlines() if not line.startswith(("#", "make"))]
    assert ours == [
        "stopped: the output was closed (broken pipe); the records not shown yet were neither retried nor parked"
    ]
    assert "make exited 2" in result.stderr
    assert not list(tmp_path.rglob("*"))


def test_make_diff_without_credentials_says_how_to_give_them(tmp_path: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run(["make", "diff"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)

    assert result.returncode != 0
    assert result.stdout == ""
    (hint,) = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert "AWS_PROFILE" in hint and "AWS_REGION" in hint
    assert "Unable to resolve AWS account" not in result.stderr


def test_make_help_aligns_every_target() -> None:
    result = shell("make help")

    columns = {line.index(line.split()[2]) for line in result.stdout.splitlines()}
    assert len(columns) == 1, result.stdout
    assert "make deploy-local" in result.stdout


def test_sigterm_ends_a_run_like_ctrl_c_with_the_invocation_in_flight_reported(
    tmp_path: Path, template_file: Path
) -> None:
    # GIVEN a run whose logger is in the middle of an invocation (a handler that sleeps)
    slow = "import time as _time\n\n_fast = handler\n\ndef handler(event, context):\n    _time.sleep(600)\n"
    template = assembly_with(template_file, tmp_path / "cdk.out", {"stream_logger.py": slow})
    run = subprocess.Popen(
        [sys.executable, "-m", "local", "--interactive", "--template", str(template), "--failures", str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stdin is not None and run.stderr is not None
    run.stdin.write("put FRUIT KIWI#NZ Stocks=3\n")
    run.stdin.flush()
    seen: list[str] = []
    while not any("# invocation 1: 1 record(s)" in line for line in seen):  # after the prompt, "local> "
        line = run.stderr.readline()
        assert line, "".join(seen)
        seen.append(line)

    # WHEN it gets SIGTERM, as from `kill` or a CI job's stop
    run.send_signal(signal.SIGTERM)
    _, rest = run.communicate(timeout=60)

    # THEN it stops as on Ctrl-C: the summary, the record in flight pending, and the exit status of SIGTERM
    assert run.returncode == 143, rest
    assert "# terminated (SIGTERM)" in rest
    assert "1 record(s) read: 0 delivered, 0 filtered, 0 parked, 1 pending; 1 invocation(s)" in rest
    assert "stopped with 1 record(s) read but not yet delivered: not logged, not parked" in rest
    assert "Traceback" not in rest
