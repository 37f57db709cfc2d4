"""A copy of an oversized record ends before the function's time does, and nothing is logged twice.

A copy that outlasted the function's timeout would make Lambda retry the whole batch, and the
lines written before it would be written again. A stalled S3 here is a local socket that accepts
connections and never answers.
"""

from __future__ import annotations

import copy
import socket
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

import oversized

from .conftest import FAKE_AWS, DeadlineContext, Invocation, connections, invoke, load_event

BUCKET = "inventory-failures"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(oversized, "FAILURE_BUCKET", BUCKET)
    monkeypatch.setattr(oversized, "_s3_client", None)


@pytest.fixture
def stalled_s3(stalled_server: socket.socket, monkeypatch: pytest.MonkeyPatch) -> socket.socket:
    """S3 at a socket that the kernel connects and nobody ever reads; a copy may take 2 s."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{stalled_server.getsockname()[1]}")
    # Shorter than the handler's limits, so that the test takes seconds; the test below
    # checks that the real limits fit the function's timeout.
    monkeypatch.setattr(oversized, "COPY_CONNECT_TIMEOUT", 1)
    monkeypatch.setattr(oversized, "COPY_READ_TIMEOUT", 1)
    return stalled_server


def _batch() -> list[dict[str, Any]]:
    """A record, an oversized one, a record: sequence numbers 100, 200, 300."""
    records = []
    for sequence_number, stocks in (("100", {"N": "1"}), ("200", {"S": "x" * 300_000}), ("300", {"N": "3"})):
        record = copy.deepcopy(load_event("tutorial_modify")["Records"][0])
        record["dynamodb"]["SequenceNumber"] = sequence_number
        record["dynamodb"]["NewImage"]["Stocks"] = stocks
        records.append(record)
    return records


def _logged(*results: Invocation) -> list[str]:
    return [line["sequence_number"] for result in results for line in result.records]


def test_a_stalled_copy_fails_the_record_in_time_and_the_retry_logs_nothing_twice(
    stalled_s3: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a batch with an oversized record, S3 that never answers, and 4 s left (a copy: 2 s)
    records = _batch()
    context = DeadlineContext(seconds=4)

    # WHEN the handler runs
    started = time.monotonic()
    result = invoke({"Records": records}, context)
    elapsed = time.monotonic() - started

    # THEN it returns before the function's time is up, the copy having been tried and given up
    assert 1 <= elapsed < 3
    assert connections(stalled_s3) == 1
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    (error,) = result.level("ERROR")
    assert error["reason"].endswith(f"could not be written to s3://{BUCKET}/oversized/ (ReadTimeoutError)")
    assert _logged(result) == ["100"]  # fail fast: nothing after the record that failed
    assert len(result.metrics) == 1

    # WHEN Lambda redelivers from that record, and S3 answers this time
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setattr(oversized, "_s3_client", None)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        retry = invoke({"Records": records[1:]}, DeadlineContext())

    # THEN every record is logged, and each once across the two invocations
    assert retry.response == {"batchItemFailures": []}
    assert _logged(result, retry) == ["100", "200", "300"]


def test_a_copy_that_cannot_end_in_time_is_not_started(stalled_s3: socket.socket) -> None:
    # GIVEN 2.5 s left: less than a copy may take (2 s) and the margin after it (1 s)
    started = time.monotonic()
    result = invoke({"Records": _batch()}, DeadlineContext(seconds=2.5))

    # THEN the record fails at once, without a connection to S3
    assert time.monotonic() - started < 1
    assert connections(stalled_s3) == 0
    assert result.response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    (error,) = result.level("ERROR")
    assert "could not be written to s3://inventory-failures/oversized/ in the time left" in error["reason"]
    assert _logged(result) == ["100"]


def test_a_copy_ends_well_within_the_default_timeout() -> None:
    # The construct's default timeout is 30 s; a copy and the margin after it take at most 8 s.
    assert oversized._copy_ms() + oversized.COPY_MARGIN_MS <= 8_000
    config = oversized._s3().meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries["total_max_attempts"] == 1
