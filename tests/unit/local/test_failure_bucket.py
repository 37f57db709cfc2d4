"""The failure bucket, locally: moto's S3, copied into the failure folder under each object's key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.backend import EMBEDDED_ENVIRONMENT, BackendError, environment
from local.failure_bucket import FailureBucket

KEY = "oversized/Inventory/2026-12-01/1100000000017454423009.json"


@pytest.fixture
def s3() -> Iterator[Any]:
    with environment(EMBEDDED_ENVIRONMENT), mock_aws():
        yield boto3.client("s3")


def test_what_the_function_writes_is_copied_under_its_key(s3: Any, tmp_path: Path) -> None:
    # GIVEN the bucket, and the function writing two objects, one of them multi-byte
    bucket = FailureBucket(s3, "inventorystack-failures-local", tmp_path)
    s3.put_object(Bucket=bucket.name, Key=KEY, Body='{"note":"€"}'.encode())
    s3.put_object(Bucket=bucket.name, Key="oversized/Inventory/2026-12-01/2.json", Body=b"{}")

    # WHEN the invocation ends
    bucket.copy_new()

    # THEN each is a file of the same bytes under the same key, in the order S3 lists them
    first = tmp_path / "oversized" / "Inventory" / "2026-12-01" / "1100000000017454423009.json"
    assert first.read_bytes() == '{"note":"€"}'.encode()
    assert bucket.copied == [first, tmp_path / "oversized" / "Inventory" / "2026-12-01" / "2.json"]


def test_only_what_is_new_or_rewritten_is_copied_again(s3: Any, tmp_path: Path) -> None:
    bucket = FailureBucket(s3, "inventorystack-failures-local", tmp_path)
    s3.put_object(Bucket=bucket.name, Key=KEY, Body=b"1")
    bucket.copy_new()
    copy = tmp_path / KEY
    copy.write_bytes(b"changed here")  # a copy made before is not read back from the bucket

    bucket.copy_new()
    assert copy.read_bytes() == b"changed here"

    s3.put_object(Bucket=bucket.name, Key=KEY, Body=b"2")  # the same record's copy, written again
    bucket.copy_new()
    assert copy.read_bytes() == b"2"
    assert bucket.copied == [copy]
    assert bucket.replaced == set()  # its own copy, not an earlier run's


def test_a_different_file_of_an_earlier_run_is_replaced_and_told(s3: Any, tmp_path: Path) -> None:
    # GIVEN a file an earlier run copied under the same key (moto's sequence numbers start again)
    (tmp_path / "oversized" / "Inventory" / "2026-12-01").mkdir(parents=True)
    (tmp_path / KEY).write_bytes(b"an earlier run")
    (tmp_path / "same.json").write_bytes(b"same")
    bucket = FailureBucket(s3, "inventorystack-failures-local", tmp_path)
    s3.put_object(Bucket=bucket.name, Key=KEY, Body=b"this run")
    s3.put_object(Bucket=bucket.name, Key="same.json", Body=b"same")

    bucket.copy_new()

    assert (tmp_path / KEY).read_bytes() == b"this run"
    assert bucket.replaced == {tmp_path / KEY}


def test_a_key_that_climbs_out_of_the_folder_is_refused(s3: Any, tmp_path: Path) -> None:
    bucket = FailureBucket(s3, "inventorystack-failures-local", tmp_path / "failures")
    s3.put_object(Bucket=bucket.name, Key="../outside.json", Body=b"{}")

    with pytest.raises(BackendError, match="no path inside"):
        bucket.copy_new()
    assert not (tmp_path / "outside.json").exists()
