"""The same poller on a table it did not create: a deployed stack's.

DynamoDB Local runs the story in test_story.py and has tests of its own in test_dynamodb_local.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local import backend
from local.template import load, read
from tests.e2e.conftest import Result


@pytest.fixture
def deployed(template_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A "deployed" table in moto, which CloudFormation would name for the stack's table.

    moto's CloudFormation needs extra packages, so the one lookup the stack mode makes,
    DescribeStackResource, is replaced here (it has a test of its own with botocore's Stubber).
    """
    model = read(load(template_path), "InventoryStack")
    with backend.embedded():
        dynamodb = boto3.client("dynamodb")
        backend.create_table(dynamodb, model.table, "InventoryStack-Table-1A2B3C")

        def deployed_table(cloudformation: Any, stack_name: str, logical_id: str) -> str:
            assert (stack_name, logical_id) == ("InventoryStack", model.table.logical_id)
            return "InventoryStack-Table-1A2B3C"

        monkeypatch.setattr(backend, "deployed_table", deployed_table)
        yield dynamodb


def put(dynamodb: Any, sk: str) -> None:
    dynamodb.put_item(TableName="InventoryStack-Table-1A2B3C", Item={"PK": {"S": "FRUIT"}, "SK": {"S": sk}})


def test_a_deployed_table_is_tailed_with_the_local_handler(deployed: Any, run_local: Any) -> None:
    put(deployed, "APPLE#WASHINGTON")
    put(deployed, "ORANGE#FLORIDA")

    result: Result = run_local(
        "--stack-name", "InventoryStack", "--starting-position", "TRIM_HORIZON", "--duration", "3"
    )

    assert result.code == 0, result.stderr
    assert [line["keys"]["SK"] for line in result.records] == ["APPLE#WASHINGTON", "ORANGE#FLORIDA"]
    assert [line["table"] for line in result.lines if "record_count" in line] == ["InventoryStack-Table-1A2B3C"]
    assert "reading InventoryStack-Table-1A2B3C of the deployed stack InventoryStack" in result.stderr


def test_a_deployed_table_is_read_from_latest_by_default(deployed: Any, run_local: Any, tmp_path: Path) -> None:
    put(deployed, "BEFORE")
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"op": "put", "item": {"PK": "FRUIT", "SK": "AFTER"}}))

    result: Result = run_local("--stack-name", "InventoryStack", "--items", str(items))

    assert result.code == 0, result.stderr
    assert [line["keys"]["SK"] for line in result.records] == ["AFTER"]
    assert "LATEST" in result.stderr


def test_the_deployed_stacks_failure_bucket_is_left_alone(deployed: Any, run_local: Any) -> None:
    # GIVEN an item too big for one log line in the deployed table
    deployed.put_item(
        TableName="InventoryStack-Table-1A2B3C",
        Item={"PK": {"S": "FRUIT"}, "SK": {"S": "JACKFRUIT#KERALA"}, "Notes": {"S": "x" * 300_000}},
    )

    result: Result = run_local(
        "--stack-name", "InventoryStack", "--starting-position", "TRIM_HORIZON", "--duration", "3"
    )

    # THEN the local handler copies it nowhere, and both its line and the run say so
    assert result.code == 0, result.stderr
    (line,) = result.records
    assert line["shortened"]["full_record"] is None
    assert (
        '# environment variable FAILURE_BUCKET is {"Ref": "InventoryLoggerFailureBucket5426844C"} at deploy time: '
        "left unset locally, as the local handler writes nothing to the deployed stack's bucket"
    ) in result.stderr.splitlines()
    assert "# oversized:" not in result.stderr
